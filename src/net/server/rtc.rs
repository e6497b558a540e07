//! WebRTC data channels on the STUN port, for a browser's UDP test.
//!
//! A browser cannot send STUN requests of its own, but it can open a WebRTC
//! data channel: `POST /__rtc` with its SDP offer gets an answer from an
//! ICE-lite peer on the same UDP port as the STUN server (datagrams told apart
//! by their first byte, RFC 7983). On an unordered channel without retransmits
//! the browser sends the same call-like pattern as the CLI's STUN stream, each
//! message carrying a test id; every message is echoed unchanged, within the
//! same per-sender budget as the STUN stream, and counted per test id
//! (received, answered, refused; `GET /__rtc?test=…`), so the server's own
//! refusals never look like loss on the browser's line.
//!
//! This table is sans-IO: datagrams and the time go in, datagrams to send come
//! out (`server::stun_loop` owns the socket). Admission keeps it bounded:
//! peer connections per address and in all, an idle timeout, and a time limit
//! for connecting. ICE checks carry MESSAGE-INTEGRITY with the password of
//! one answer, so only the holder of an answer is answered, within the STUN
//! per-source budget; data flows only after the DTLS handshake, which needs
//! the peer to receive at its address.
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::channel::{ChannelId, Reliability};
use str0m::config::{CryptoProvider, DtlsCert};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcConfig};

use super::admission::address_key;
use super::stun_tests::TestTable;
use crate::net::stun::TAG_LEN;

/// A test message: the test id, a sequence number, then any padding.
pub const MIN_MESSAGE: usize = TAG_LEN + 4;
/// Larger messages are not echoed (a call's packets are smaller; this keeps
/// an echo from ever needing more than one datagram).
pub const MAX_MESSAGE: usize = 1_200;
/// Addresses one peer connection is routed from (a browser checks from each
/// of its candidates; the rest of its traffic comes from one).
const MAX_ADDRS_PER_PEER: usize = 8;
/// Largest SDP offer read (a browser's data-channel offer is about 1 kB).
pub const MAX_OFFER_BYTES: usize = 16 * 1024;

/// Limits on peer connections.
#[derive(Debug, Clone, Copy)]
pub struct PeerLimits {
    /// Peer connections open at once.
    pub max_peers: usize,
    /// Peer connections one address (an IPv6 /64) may hold.
    pub per_address: usize,
    /// A peer connection that sends nothing for this long is closed.
    pub idle: Duration,
    /// A peer connection whose DTLS handshake has not finished by then is closed.
    pub connect_within: Duration,
    /// A full table may close a peer connection still connecting after this
    /// long to make room (a real browser connects within a few round trips).
    pub evict_connecting_after: Duration,
    /// Any peer connection is closed after this long.
    pub lifetime: Duration,
    /// Most bytes a peer connection sends before its DTLS handshake is done
    /// (ICE replies, the DTLS server's flights and their resends: a real
    /// handshake needs about 2 kB). str0m's DTLS has no cookie exchange (it
    /// counts on ICE for return routability, which an ICE-lite peer does not
    /// check), so this bounds what a holder of one answer's ICE password can
    /// have sent to an address it names in its checks.
    pub unverified_bytes: usize,
}

impl Default for PeerLimits {
    fn default() -> Self {
        PeerLimits {
            max_peers: 128,
            per_address: 6,
            idle: Duration::from_secs(15),
            connect_within: Duration::from_secs(10),
            evict_connecting_after: Duration::from_secs(2),
            lifetime: Duration::from_secs(120),
            unverified_bytes: 8 * 1024,
        }
    }
}

/// Why an offer was not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferRefused {
    /// Not an SDP offer str0m can answer; the reason is for the message.
    BadOffer(String),
    /// The offer has no data channel (`m=application`).
    NoDataChannel,
    /// This address holds as many peer connections as allowed.
    AddressShare,
    /// Every slot is taken by a connected or recent peer.
    Full,
    /// No DTLS certificate could be made.
    NoCertificate,
}

/// Whether the server may echo a message: the STUN stream's per-sender budget.
pub trait EchoBudget {
    fn may_echo(&mut self, from: SocketAddr, now: Instant) -> bool;
}

impl<F: FnMut(SocketAddr, Instant) -> bool> EchoBudget for F {
    fn may_echo(&mut self, from: SocketAddr, now: Instant) -> bool {
        self(from, now)
    }
}

struct Peer {
    rtc: Rtc,
    /// Where the browser was told to send (our candidate).
    local: SocketAddr,
    key: IpAddr,
    created: Instant,
    last_heard: Instant,
    /// The DTLS handshake finished: the peer receives at its address.
    connected: bool,
    /// Bytes sent before that (at most `PeerLimits::unverified_bytes`).
    sent_unverified: usize,
    /// The one channel echoed (unordered, no retransmits).
    channel: Option<ChannelId>,
    /// Where the peer's last datagram came from (its echoes' budget is kept per sender).
    last_from: SocketAddr,
    /// Our ICE username fragment in its answer: its checks name it.
    ufrag: String,
    /// Addresses it has sent from (its DTLS is routed by them), a few at most.
    addrs: Vec<SocketAddr>,
    next_timeout: Instant,
}

/// Counters for the server's statistics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PeerStats {
    pub answered_offers: u64,
    pub closed_idle: u64,
    pub closed_connecting: u64,
    pub evicted: u64,
    /// Channels refused for being ordered or retransmitting.
    pub refused_channels: u64,
    /// Datagrams not sent: the peer connection had sent its share before DTLS.
    pub withheld_unverified: u64,
}

/// All peer connections of one server.
pub struct Peers {
    limits: PeerLimits,
    provider: Arc<CryptoProvider>,
    cert: Option<DtlsCert>,
    peers: HashMap<u64, Peer>,
    /// Routing without trying every peer: ICE checks by our username
    /// fragment, DTLS by the sender's address.
    by_ufrag: HashMap<String, u64>,
    by_addr: HashMap<SocketAddr, u64>,
    next_id: u64,
    tests: TestTable,
    /// Datagrams to send: (destination, bytes).
    outbox: Vec<(SocketAddr, Vec<u8>)>,
    pub stats: PeerStats,
}

impl Peers {
    pub fn new(limits: PeerLimits) -> Self {
        Peers {
            limits,
            provider: Arc::new(str0m::crypto::from_feature_flags()),
            cert: None,
            peers: HashMap::new(),
            by_ufrag: HashMap::new(),
            by_addr: HashMap::new(),
            next_id: 0,
            tests: TestTable::default(),
            outbox: Vec::new(),
            stats: PeerStats::default(),
        }
    }

    /// Peer connections open now.
    pub fn open(&self) -> usize {
        self.peers.len()
    }

    /// One certificate for the server's lifetime, made at the first offer
    /// (`cert_maker`, then `set_cert`, off the async threads): a key per offer would hand every
    /// offer a slice of CPU, and making it at start would hold up the server
    /// (and its first probe) for nothing when no browser comes.
    fn cert(&self) -> Result<DtlsCert, OfferRefused> {
        self.cert.clone().ok_or(OfferRefused::NoCertificate)
    }

    /// What makes the certificate, while none is made yet.
    pub fn cert_maker(&self) -> Option<Arc<CryptoProvider>> {
        self.cert.is_none().then(|| self.provider.clone())
    }

    pub fn set_cert(&mut self, cert: DtlsCert) {
        self.cert.get_or_insert(cert);
    }

    /// Answer `offer` from the client at `client` with a peer reachable at
    /// `local` (the address the client reached us on, at the STUN port).
    pub fn offer(
        &mut self,
        offer: &str,
        client: IpAddr,
        local: SocketAddr,
        now: Instant,
    ) -> Result<String, OfferRefused> {
        let offer = str0m::change::SdpOffer::from_sdp_string(offer)
            .map_err(|e| OfferRefused::BadOffer(parse_error(&e.to_string())))?;
        let text = offer.to_sdp_string();
        if !text.contains("m=application") {
            return Err(OfferRefused::NoDataChannel);
        }
        // This server is always the DTLS server: it sends DTLS only in answer
        // to a ClientHello, and at most `unverified_bytes` before the handshake is done.
        if text.lines().any(|l| l.trim() == "a=setup:passive") {
            return Err(OfferRefused::BadOffer(
                "it asks this server to start DTLS (a=setup:passive); offer a=setup:actpass as \
                 browsers do"
                    .to_string(),
            ));
        }
        let key = address_key(client);
        if self.peers.values().filter(|p| p.key == key).count() >= self.limits.per_address.max(1) {
            return Err(OfferRefused::AddressShare);
        }
        let cert = self.cert()?;
        let mut rtc = RtcConfig::new()
            .set_ice_lite(true)
            .set_crypto_provider(self.provider.clone())
            .set_dtls_cert(cert)
            .clear_codecs()
            .build(now);
        let candidate = Candidate::host(local, "udp")
            .map_err(|e| OfferRefused::BadOffer(format!("no candidate for {local}: {e}")))?;
        rtc.add_local_candidate(candidate);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| OfferRefused::BadOffer(e.to_string()))?;
        // Room is made only for an offer that has its answer.
        if self.peers.len() >= self.limits.max_peers.max(1) {
            self.evict_one_connecting(now)?;
        }
        let answer = answer.to_sdp_string();
        let ufrag = answer
            .lines()
            .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
            .unwrap_or_default()
            .trim()
            .to_string();
        let id = self.next_id;
        self.next_id += 1;
        self.by_ufrag.insert(ufrag.clone(), id);
        self.peers.insert(
            id,
            Peer {
                rtc,
                local,
                key,
                created: now,
                last_heard: now,
                connected: false,
                sent_unverified: 0,
                channel: None,
                last_from: local,
                ufrag,
                addrs: Vec::new(),
                next_timeout: now,
            },
        );
        self.stats.answered_offers += 1;
        // Every change to a peer is followed by draining its output.
        self.drain(id, now, &mut |_: SocketAddr, _: Instant| false);
        Ok(answer)
    }

    /// Make room: close the peer connection that has been connecting longest,
    /// if longer than `evict_connecting_after`.
    fn evict_one_connecting(&mut self, now: Instant) -> Result<(), OfferRefused> {
        let victim = self
            .peers
            .iter()
            .filter(|(_, p)| {
                !p.connected
                    && now.saturating_duration_since(p.created)
                        >= self.limits.evict_connecting_after
            })
            .min_by_key(|(_, p)| p.created)
            .map(|(id, _)| *id);
        match victim {
            Some(id) => {
                self.forget(id);
                self.stats.evicted += 1;
                Ok(())
            }
            None => Err(OfferRefused::Full),
        }
    }

    /// Whether a STUN message is an ICE check (it names a username), which
    /// belongs to a peer connection and never to the plain STUN server.
    pub fn is_ice_check(datagram: &[u8]) -> bool {
        ice_username(datagram).is_some()
    }

    /// Close a peer connection and forget its routes.
    fn forget(&mut self, id: u64) {
        if let Some(peer) = self.peers.remove(&id) {
            self.by_ufrag.remove(&peer.ufrag);
            for addr in peer.addrs {
                // The address may since route to a newer peer connection.
                if self.by_addr.get(&addr) == Some(&id) {
                    self.by_addr.remove(&addr);
                }
            }
        }
    }

    /// A datagram from `from` (an ICE check or DTLS). Returns false when no
    /// peer connection takes it.
    pub fn receive(
        &mut self,
        datagram: &[u8],
        from: SocketAddr,
        now: Instant,
        budget: &mut dyn EchoBudget,
    ) -> bool {
        let Some((id, input)) = self.route(datagram, from, now) else {
            return false;
        };
        let Some(peer) = self.peers.get_mut(&id) else {
            return false;
        };
        peer.last_heard = now;
        peer.last_from = from;
        if !peer.addrs.contains(&from) && peer.addrs.len() < MAX_ADDRS_PER_PEER {
            peer.addrs.push(from);
            self.by_addr.insert(from, id);
        }
        if peer.rtc.handle_input(input).is_err() {
            self.forget(id);
            return true;
        }
        self.drain(id, now, budget);
        true
    }

    /// The peer connection that takes this datagram: an ICE check by the
    /// username fragment it names, anything else by its sender's address;
    /// the peer connection itself has the last word (`accepts`: a check must
    /// carry MESSAGE-INTEGRITY with its password).
    fn route<'a>(
        &self,
        datagram: &'a [u8],
        from: SocketAddr,
        now: Instant,
    ) -> Option<(u64, Input<'a>)> {
        let id = match ice_username(datagram) {
            Some(username) => {
                let ours = username.split(|b| *b == b':').next()?;
                *self.by_ufrag.get(std::str::from_utf8(ours).ok()?)?
            }
            None => *self.by_addr.get(&from)?,
        };
        let peer = self.peers.get(&id)?;
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source: from,
                destination: peer.local,
                contents: datagram.try_into().ok()?,
            },
        );
        peer.rtc.accepts(&input).then_some((id, input))
    }

    /// The earliest time a peer connection needs attention.
    pub fn next_timeout(&self) -> Option<Instant> {
        let limits = &self.limits;
        self.peers
            .values()
            .map(|p| {
                let closing = if p.connected {
                    p.created + limits.lifetime
                } else {
                    p.created + limits.connect_within
                };
                p.next_timeout.min(p.last_heard + limits.idle).min(closing)
            })
            .min()
    }

    /// Move every peer connection's clock to `now`, and close those that are
    /// idle, still connecting too late, or past their lifetime.
    pub fn tick(&mut self, now: Instant, budget: &mut dyn EchoBudget) {
        let limits = self.limits;
        let mut closing = Vec::new();
        for (id, p) in &self.peers {
            let idle = now.saturating_duration_since(p.last_heard) >= limits.idle;
            let late =
                !p.connected && now.saturating_duration_since(p.created) >= limits.connect_within;
            let old = now.saturating_duration_since(p.created) >= limits.lifetime;
            if idle {
                self.stats.closed_idle += 1;
            } else if late {
                self.stats.closed_connecting += 1;
            }
            if idle || late || old || !p.rtc.is_alive() {
                closing.push(*id);
            }
        }
        for id in closing {
            self.forget(id);
        }
        let due: Vec<u64> = self
            .peers
            .iter()
            .filter(|(_, p)| p.next_timeout <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(peer) = self.peers.get_mut(&id) else {
                continue;
            };
            if peer.rtc.handle_input(Input::Timeout(now)).is_err() {
                self.forget(id);
                continue;
            }
            self.drain(id, now, budget);
        }
    }

    /// Datagrams waiting to be sent.
    pub fn take_outbox(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        std::mem::take(&mut self.outbox)
    }

    /// What the server did with one test's messages.
    pub fn report(&self, test: &[u8; TAG_LEN]) -> Option<super::stun_tests::Counts> {
        self.tests.report(test).map(|r| r.stream)
    }

    /// Poll one peer connection until it has nothing more to do now: send
    /// what it sends, echo what arrives on its channel.
    fn drain(&mut self, id: u64, now: Instant, budget: &mut dyn EchoBudget) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        let mut close = false;
        loop {
            match peer.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    peer.next_timeout = at;
                    break;
                }
                Ok(Output::Transmit(t)) => {
                    if !peer.connected {
                        peer.sent_unverified += t.contents.len();
                        if peer.sent_unverified > self.limits.unverified_bytes {
                            self.stats.withheld_unverified += 1;
                            continue;
                        }
                    }
                    self.outbox.push((t.destination, t.contents.to_vec()));
                }
                Ok(Output::Event(event)) => match event {
                    Event::Connected => peer.connected = true,
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        close = true;
                    }
                    Event::ChannelOpen(channel, _) => {
                        let config = peer.rtc.channel(channel).and_then(|c| c.config().cloned());
                        // Retransmitted or reordered echoes would hide loss and jitter.
                        let lossy = config.is_some_and(|c| {
                            !c.ordered
                                && c.reliability == Reliability::MaxRetransmits { retransmits: 0 }
                        });
                        if lossy && peer.channel.is_none() {
                            peer.channel = Some(channel);
                        } else {
                            self.stats.refused_channels += 1;
                            peer.rtc.direct_api().close_data_channel(channel);
                        }
                    }
                    Event::ChannelData(data) => {
                        if Some(data.id) != peer.channel
                            || !(MIN_MESSAGE..=MAX_MESSAGE).contains(&data.data.len())
                        {
                            continue;
                        }
                        let mut test = [0u8; TAG_LEN];
                        test.copy_from_slice(&data.data[..TAG_LEN]);
                        let answered = budget.may_echo(peer.last_from, now)
                            && peer
                                .rtc
                                .channel(data.id)
                                .is_some_and(|mut c| c.write(true, &data.data).unwrap_or(false));
                        self.tests.record_stream(test, answered);
                    }
                    _ => {}
                },
                Err(_) => {
                    close = true;
                    break;
                }
            }
        }
        if close {
            self.forget(id);
        }
    }
}

/// The parser's complaint on one line, without its internal positions.
fn parse_error(full: &str) -> String {
    let said: Vec<&str> = full
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("PointerOffset"))
        .collect();
    let mut said = said.join("; ");
    if said.is_empty() {
        said = "it could not be read as SDP".to_string();
    }
    said.chars().take(200).collect()
}

/// The USERNAME of a STUN message, found by a scan of the attribute headers
/// (every STUN datagram passes here, so nothing is decoded or allocated).
fn ice_username(datagram: &[u8]) -> Option<&[u8]> {
    const HEADER: usize = 20;
    if datagram.len() < HEADER || datagram[4..8] != [0x21, 0x12, 0xA4, 0x42] {
        return None;
    }
    let mut at = HEADER;
    while at + 4 <= datagram.len() {
        let kind = u16::from_be_bytes([datagram[at], datagram[at + 1]]);
        let len = usize::from(u16::from_be_bytes([datagram[at + 2], datagram[at + 3]]));
        if kind == crate::net::stun::ATTR_USERNAME {
            return datagram.get(at + 4..at + 4 + len);
        }
        at += 4 + len.div_ceil(4) * 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::stun::{self, Class, Encoder, METHOD_BINDING};

    #[test]
    fn ice_checks_are_told_from_plain_stun_by_their_username() {
        let txid = [7u8; 12];
        let check = Encoder::new(Class::Request, METHOD_BINDING, &txid)
            .attribute(0x0024, &[0, 0, 0, 1])
            .attribute(stun::ATTR_USERNAME, b"abcd:efgh")
            .finish(true);
        assert!(Peers::is_ice_check(&check));
        assert_eq!(ice_username(&check), Some(&b"abcd:efgh"[..]));
        assert!(!Peers::is_ice_check(&stun::binding_request(&txid, true)));
        assert!(!Peers::is_ice_check(&stun::test_request(
            &txid, &[1; 8], &[2; 8]
        )));
        // Truncated or not STUN at all.
        assert!(!Peers::is_ice_check(&check[..19]));
        assert!(!Peers::is_ice_check(&[22u8; 40]));
    }

    #[test]
    fn a_bad_offer_is_explained_on_one_line() {
        let mut peers = Peers::new(PeerLimits::default());
        let local = "127.0.0.1:3478".parse().unwrap();
        let ip = "127.0.0.1".parse().unwrap();
        let Err(OfferRefused::BadOffer(why)) = peers.offer("hello", ip, local, Instant::now())
        else {
            panic!("a greeting is no offer");
        };
        assert!(
            !why.contains('\n') && !why.contains("PointerOffset"),
            "{why}"
        );
        assert!(why.contains("Expected `v`"), "{why}");
    }
}
