//! WebRTC data channels on `serve`'s STUN port (issue 25, item 4), with
//! str0m as the browser: offer → answer over HTTP, ICE-lite and DTLS on the
//! same UDP port as STUN, echoes counted per test id, and the admission caps.
//! Every loop here is bounded by a deadline.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::net_support::{http_client, serve, serve_with};
use session_ready::net::server::{PeerLimits, RunningServer, ServerConfig};
use session_ready::net::stun;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::channel::{ChannelConfig, ChannelId, Reliability};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};
use tokio::net::UdpSocket;

/// A browser's peer connection, driven by hand.
struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    channel: ChannelId,
    open: bool,
    echoes: Vec<Vec<u8>>,
    /// Sizes of the ICE checks sent and of the STUN datagrams that came back.
    checks_sent: Vec<usize>,
    stun_received: Vec<usize>,
}

impl Peer {
    /// An offer with one data channel, as the page makes it.
    async fn offer(config: ChannelConfig) -> (Peer, String, SdpPendingOffer) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let local = socket.local_addr().unwrap();
        let mut rtc = RtcConfig::new().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        let mut api = rtc.sdp_api();
        let channel = api.add_channel_with_config(config);
        let (offer, pending) = api.apply().unwrap();
        let peer = Peer {
            rtc,
            socket,
            local,
            channel,
            open: false,
            echoes: Vec::new(),
            checks_sent: Vec::new(),
            stun_received: Vec::new(),
        };
        (peer, offer.to_sdp_string(), pending)
    }

    fn accept(&mut self, answer: &str, pending: SdpPendingOffer) {
        let answer = SdpAnswer::from_sdp_string(answer).expect("an SDP answer");
        self.rtc.sdp_api().accept_answer(pending, answer).unwrap();
    }

    /// Send what str0m has to send, note events; the time it next wants.
    async fn drain(&mut self) -> Instant {
        loop {
            match self.rtc.poll_output().unwrap() {
                Output::Timeout(at) => return at,
                Output::Transmit(t) => {
                    if t.contents.first().is_some_and(|b| *b < 4) {
                        self.checks_sent.push(t.contents.len());
                    }
                    let _ = self.socket.send_to(&t.contents, t.destination).await;
                }
                Output::Event(Event::ChannelOpen(id, _)) if id == self.channel => self.open = true,
                Output::Event(Event::ChannelData(d)) => self.echoes.push(d.data),
                Output::Event(_) => {}
            }
        }
    }

    /// Run the peer connection until `deadline` or until `done` holds.
    async fn run_until(&mut self, deadline: Instant, done: impl Fn(&Peer) -> bool) {
        let mut buf = vec![0u8; 2048];
        loop {
            let next = self.drain().await;
            if done(self) || Instant::now() >= deadline {
                return;
            }
            let wait = next
                .min(deadline)
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            let input = match tokio::time::timeout(wait, self.socket.recv_from(&mut buf)).await {
                Ok(Ok((n, source))) => {
                    if buf[0] < 4 {
                        self.stun_received.push(n);
                    }
                    Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: self.local,
                            contents: buf[..n].try_into().unwrap(),
                        },
                    )
                }
                _ => Input::Timeout(Instant::now()),
            };
            self.rtc.handle_input(input).unwrap();
        }
    }

    /// Send `count` test messages in groups of four every 5 ms (800 a
    /// second, the CLI's call-like pattern), then wait for the last echoes.
    async fn send_pattern(&mut self, test: [u8; 8], count: u32) {
        for seq in 0..count {
            let mut message = test.to_vec();
            message.extend_from_slice(&seq.to_be_bytes());
            message.resize(44, 0);
            let mut channel = self.rtc.channel(self.channel).expect("the open channel");
            assert!(channel.write(true, &message).unwrap());
            if seq % 4 == 3 {
                let until = Instant::now() + Duration::from_millis(5);
                self.run_until(until, |_| false).await;
            }
        }
        let until = Instant::now() + Duration::from_millis(500);
        self.run_until(until, |p| p.echoes.len() as u32 >= count)
            .await;
    }
}

fn lossy() -> ChannelConfig {
    ChannelConfig {
        label: "session-ready".into(),
        ordered: false,
        reliability: Reliability::MaxRetransmits { retransmits: 0 },
        ..Default::default()
    }
}

async fn post_offer(client: &reqwest::Client, server: SocketAddr, body: String) -> (u16, String) {
    let res = client
        .post(format!("http://{server}/__rtc"))
        .header("content-type", "application/sdp")
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Offer, answer, connect and open the channel.
async fn connect(server: &RunningServer, client: &reqwest::Client) -> Peer {
    let (mut peer, offer, pending) = Peer::offer(lossy()).await;
    let (status, answer) = post_offer(client, server.addr, offer).await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer.contains("a=ice-lite"), "{answer}");
    assert!(
        answer.contains(&format!(" {} typ host", server.addr.port())),
        "the peer is on the STUN port: {answer}"
    );
    peer.accept(&answer, pending);
    peer.run_until(Instant::now() + Duration::from_secs(10), |p| p.open)
        .await;
    assert!(peer.open, "the data channel opened");
    peer
}

async fn counts(client: &reqwest::Client, server: SocketAddr, test: [u8; 8]) -> serde_json::Value {
    let hex: String = test.iter().map(|b| format!("{b:02x}")).collect();
    let res = client
        .get(format!("http://{server}/__rtc?test={hex}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_channel_is_echoed_and_counted_beside_plain_stun() {
    let server = serve().await;
    let client = http_client();
    let mut peer = connect(&server, &client).await;
    let test: [u8; 8] = rand::random();
    peer.send_pattern(test, 200).await;
    // Echoes come back unchanged, each once (no retransmits, no duplicates).
    let mut seqs: Vec<u32> = peer
        .echoes
        .iter()
        .map(|e| {
            assert_eq!(e.len(), 44);
            assert_eq!(e[..8], test);
            u32::from_be_bytes(e[8..12].try_into().unwrap())
        })
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), peer.echoes.len());
    assert!(
        peer.echoes.len() >= 190,
        "{} of 200 on loopback",
        peer.echoes.len()
    );
    let c = counts(&client, server.addr, test).await;
    assert_eq!(c["received"], 200, "{c}");
    assert_eq!(c["refused"], 0, "{c}");
    assert_eq!(c["answered"], 200, "{c}");
    // The plain STUN server on the same port still answers.
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let txid: stun::TransactionId = rand::random();
    socket
        .send_to(&stun::binding_request(&txid, false), server.addr)
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let (n, _) = tokio::time::timeout(Duration::from_secs(2), socket.recv_from(&mut buf))
        .await
        .expect("a STUN reply")
        .unwrap();
    let reply = stun::parse(&buf[..n]).unwrap();
    assert_eq!(reply.transaction_id, txid);
    // Unknown test ids are not found; malformed ones are explained.
    let res = client
        .get(format!(
            "http://{}/__rtc?test=0000000000000000",
            server.addr
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = client
        .get(format!("http://{}/__rtc?test=zz", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("16 hex digits"));
    server.shutdown().await;
}

/// Messages the server withholds (over the per-sender budget) are counted
/// as refused, so a page never takes them for loss on its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoes_over_the_budget_are_counted_as_refused() {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.stun_verified_per_s = 50.0;
    let server = serve_with(config).await;
    let client = http_client();
    let mut peer = connect(&server, &client).await;
    let test: [u8; 8] = rand::random();
    peer.send_pattern(test, 400).await;
    let c = counts(&client, server.addr, test).await;
    let refused = c["refused"].as_u64().unwrap();
    let answered = c["answered"].as_u64().unwrap();
    assert_eq!(c["received"], 400, "{c}");
    assert!(refused >= 200, "{c}");
    assert_eq!(answered + refused, 400, "{c}");
    // Every echo the page got was one the server counted as answered.
    assert!(peer.echoes.len() as u64 <= answered, "{c}");
    server.shutdown().await;
}

/// A channel that retransmits or keeps order would hide loss: it is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reliable_channel_is_not_echoed() {
    let server = serve().await;
    let client = http_client();
    let (mut peer, offer, pending) = Peer::offer(ChannelConfig {
        label: "reliable".into(),
        ..Default::default()
    })
    .await;
    let (status, answer) = post_offer(&client, server.addr, offer).await;
    assert_eq!(status, 201, "{answer}");
    peer.accept(&answer, pending);
    peer.run_until(Instant::now() + Duration::from_secs(10), |p| p.open)
        .await;
    let test: [u8; 8] = rand::random();
    if peer.open {
        let mut message = test.to_vec();
        message.resize(44, 0);
        if let Some(mut channel) = peer.rtc.channel(peer.channel) {
            let _ = channel.write(true, &message);
        }
        peer.run_until(Instant::now() + Duration::from_millis(500), |p| {
            !p.echoes.is_empty()
        })
        .await;
    }
    assert!(peer.echoes.is_empty());
    let res = client
        .get(format!(
            "http://{}/__rtc?test={}",
            server.addr,
            test.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "nothing was counted for it");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_offers_get_400_with_a_reason_and_large_ones_413() {
    let server = serve().await;
    let client = http_client();
    let (status, body) = post_offer(&client, server.addr, "hello".into()).await;
    assert_eq!(status, 400);
    assert!(body.contains("not an SDP offer"), "{body}");
    assert!(
        body.contains("send the browser's RTCPeerConnection offer"),
        "{body}"
    );
    // An offer with audio only has nothing to echo on.
    let mut rtc = RtcConfig::new().build(Instant::now());
    let mut api = rtc.sdp_api();
    api.add_media(
        str0m::media::MediaKind::Audio,
        str0m::media::Direction::SendRecv,
        None,
        None,
        None,
    );
    let (offer, _) = api.apply().unwrap();
    let (status, body) = post_offer(&client, server.addr, offer.to_sdp_string()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("no data channel"), "{body}");
    // The server is always the DTLS server (it sends a small cookie exchange
    // first, never a certificate to an address that has not proved itself).
    let (_, offer, _) = Peer::offer(lossy()).await;
    let passive = offer.replace("a=setup:actpass", "a=setup:passive");
    assert_ne!(passive, offer);
    let (status, body) = post_offer(&client, server.addr, passive).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("a=setup:actpass"), "{body}");
    let (status, body) = post_offer(&client, server.addr, "v=0\r\n".repeat(5_000)).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("16 kB"), "{body}");
    server.shutdown().await;
}

fn limited(limits: PeerLimits) -> ServerConfig {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.rtc = limits;
    config
}

/// A client whose connections come from `ip` (127.0.0.0/8 is all loopback on Linux).
#[cfg(target_os = "linux")]
fn client_from(ip: &str) -> reqwest::Client {
    http_client();
    reqwest::Client::builder()
        .no_proxy()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// Per-address and global caps: 429 and 503 with Retry-After; a peer
/// connection that never connects makes room for a newcomer once it is
/// older than a real browser needs, and is closed after `connect_within`.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_connections_are_capped_per_address_and_in_all() {
    let server = serve_with(limited(PeerLimits {
        max_peers: 2,
        per_address: 1,
        evict_connecting_after: Duration::from_secs(30),
        ..PeerLimits::default()
    }))
    .await;
    let a = client_from("127.0.0.1");
    let (_, offer, _) = Peer::offer(lossy()).await;
    assert_eq!(post_offer(&a, server.addr, offer.clone()).await.0, 201);
    let res = a
        .post(format!("http://{}/__rtc", server.addr))
        .body(offer.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This address has as many WebRTC connections")
    );
    // Offers without ICE from other addresses fill the rest; then 503.
    let b = client_from("127.0.0.2");
    assert_eq!(post_offer(&b, server.addr, offer.clone()).await.0, 201);
    let c = client_from("127.0.0.3");
    let (status, body) = post_offer(&c, server.addr, offer.clone()).await;
    assert_eq!(status, 503);
    assert!(body.contains("busy; try again shortly"), "{body}");
    server.shutdown().await;

    // Half-open peer connections older than a browser needs give way.
    let server = serve_with(limited(PeerLimits {
        max_peers: 1,
        per_address: 1,
        evict_connecting_after: Duration::from_millis(200),
        ..PeerLimits::default()
    }))
    .await;
    assert_eq!(post_offer(&b, server.addr, offer.clone()).await.0, 201);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let real = connect(&server, &c).await;
    assert!(real.open);
    server.shutdown().await;
}

/// Idle and never-connected peer connections are closed, freeing the
/// address's share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_open_peer_connections_are_closed() {
    let server = serve_with(limited(PeerLimits {
        per_address: 1,
        idle: Duration::from_millis(600),
        connect_within: Duration::from_millis(300),
        ..PeerLimits::default()
    }))
    .await;
    let client = http_client();
    // Half-open: an offer whose browser never sends a check.
    let (_, offer, _) = Peer::offer(lossy()).await;
    assert_eq!(post_offer(&client, server.addr, offer.clone()).await.0, 201);
    assert_eq!(post_offer(&client, server.addr, offer.clone()).await.0, 429);
    tokio::time::sleep(Duration::from_millis(800)).await;
    // Connected, then silent.
    let peer = connect(&server, &client).await;
    assert_eq!(post_offer(&client, server.addr, offer.clone()).await.0, 429);
    drop(peer);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(post_offer(&client, server.addr, offer).await.0, 201);
    server.shutdown().await;
}

/// Junk on the WebRTC side of the port (DTLS-looking datagrams, ICE checks
/// naming no answer of ours) from other senders is dropped without trying
/// every peer connection, and a real test beside it still gets its echoes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_dtls_and_stray_ice_checks_do_not_disturb_a_test() {
    let server = serve().await;
    let client = http_client();
    // Half-open peer connections, as a flood of offers without ICE leaves.
    for _ in 0..4 {
        let (_, offer, _) = Peer::offer(lossy()).await;
        assert_eq!(post_offer(&client, server.addr, offer).await.0, 201);
    }
    let mut peer = connect(&server, &client).await;
    let target = server.addr;
    let flood = tokio::spawn(async move {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let txid = [9u8; 12];
        let check = stun::Encoder::new(stun::Class::Request, stun::METHOD_BINDING, &txid)
            .attribute(stun::ATTR_USERNAME, b"nobody:here")
            .attribute(stun::ATTR_MESSAGE_INTEGRITY, &[0; 20])
            .finish(true);
        let mut dtls = vec![22u8, 254, 253];
        dtls.resize(120, 0);
        for k in 0..6_000u32 {
            let datagram = if k % 2 == 0 { &dtls } else { &check };
            let _ = socket.send_to(datagram, target).await;
            if k % 100 == 99 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    let test: [u8; 8] = rand::random();
    peer.send_pattern(test, 200).await;
    flood.await.unwrap();
    assert!(peer.echoes.len() >= 190, "{} of 200", peer.echoes.len());
    let c = counts(&client, server.addr, test).await;
    assert_eq!(c["refused"], 0, "{c}");
    // None of it was answered, as plain STUN or otherwise: the junk was set
    // aside, the stray checks beyond the sender's STUN budget dropped.
    let stats = &server.stats;
    let ignored = stats.stun_ignored.load(Ordering::Relaxed);
    let dropped = stats.stun_dropped.load(Ordering::Relaxed);
    assert!(ignored + dropped >= 3_000, "{ignored} + {dropped}");
    assert_eq!(stats.stun_replies.load(Ordering::Relaxed), 0);
    server.shutdown().await;
}

/// Before its DTLS handshake is done a peer connection sends at most
/// `unverified_bytes`: with too small a share the handshake cannot finish
/// (a real one needs about 2 kB; the default share is 8 kB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_connection_sends_little_before_its_handshake() {
    let server = serve_with(limited(PeerLimits {
        unverified_bytes: 600,
        ..PeerLimits::default()
    }))
    .await;
    let client = http_client();
    let (mut peer, offer, pending) = Peer::offer(lossy()).await;
    let (status, answer) = post_offer(&client, server.addr, offer).await;
    assert_eq!(status, 201, "{answer}");
    peer.accept(&answer, pending);
    peer.run_until(Instant::now() + Duration::from_secs(3), |p| p.open)
        .await;
    assert!(
        !peer.open,
        "the handshake needs more than 600 bytes from the server"
    );
    // ICE replies still came (they are within the share).
    assert!(!peer.stun_received.is_empty());
    server.shutdown().await;
}
