//! Load generator for `session-ready serve` (the documented load test; the
//! quick version runs in `cargo test` as tests/integration/net_serve_load.rs).
//!
//!   session-ready serve --listen 127.0.0.1:8080 --max-connections 256 &
//!   cargo run --release --example serve_load -- --url http://127.0.0.1:8080 \
//!       --pid $! --seconds 20 --downloaders 200 --slow 100 --oversized 50
//!
//! For the whole run it keeps: `--downloaders` clients fetching 1 MB again and
//! again; `--slow` clients that open a connection and send half a request
//! head, over and over; `--oversized` clients posting bodies bigger than the
//! server accepts, over and over; and a few clients that ask for 100 MB and
//! never read. A latency ping every 100 ms on its own connection records how
//! long the server takes to answer. With `--pid` it reports the server's
//! peak memory and CPU use from /proc, and how much its memory grew from
//! before the load to a second after it ended; `--max-growth-mb N` makes a
//! growth above N MB a failure (exit 1). This is the memory check for serve:
//! it measures the server's own process, not a test binary shared with other
//! tests (tests/integration/net_serve_load.rs checks the behaviour only).
//!
//! With `--attack slowloris|never-read|greedy|keepalive|trickle|silent
//! --count N --from 127.0.0.X [--addresses A]` it runs one attack instead,
//! N connections from each of A loopback addresses counting up from X, for
//! bench/attackbench.py (which runs real connection tests meanwhile).
//! `--attack rtc-offer|rtc-half-open` holds N WebRTC peer connections from
//! each address (offers never followed, or ICE done and DTLS never
//! started); `--attack rtc-junk` sends N junk ICE/DTLS datagrams a second
//! from each address to the STUN port.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[cfg(target_os = "linux")]
fn proc_status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(target_os = "linux")]
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks as f64 / hz)
}

// Without /proc the server's memory and CPU are not reported.
#[cfg(not(target_os = "linux"))]
fn proc_status_kb(_pid: u32, _key: &str) -> Option<u64> {
    None
}

#[cfg(not(target_os = "linux"))]
fn cpu_seconds(_pid: u32) -> Option<f64> {
    None
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(kind) = args
        .iter()
        .position(|a| a == "--attack")
        .and_then(|i| args.get(i + 1))
    {
        return attack(&args, kind).await;
    }
    let url: String = arg(&args, "--url", "http://127.0.0.1:8080".to_string());
    let seconds: f64 = arg(&args, "--seconds", 20.0);
    let downloaders: usize = arg(&args, "--downloaders", 200);
    let slow: usize = arg(&args, "--slow", 100);
    let oversized: usize = arg(&args, "--oversized", 50);
    let pid: u32 = arg(&args, "--pid", 0);
    let max_growth_mb: f64 = arg(&args, "--max-growth-mb", f64::INFINITY);
    let rss_before_kb = proc_status_kb(pid, "VmRSS:");
    session_ready::net::probe::ensure_crypto_provider();
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(downloaders)
        .build()
        .expect("client");
    let host = url.trim_start_matches("http://").to_string();
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let downloaded = Arc::new(AtomicU64::new(0));
    let completed = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let problems = Arc::new(AtomicU64::new(0));
    let cpu_before = cpu_seconds(pid);
    let mut tasks = tokio::task::JoinSet::new();

    for _ in 0..downloaders {
        let downloads = Downloads {
            client: client.clone(),
            url: url.clone(),
            size: 1_000_000,
            end,
            received: downloaded.clone(),
            unanswered: problems.clone(),
            pause: Duration::ZERO,
        };
        let completed = completed.clone();
        tasks.spawn(downloads.run(
            |_| {},
            move || {
                completed.fetch_add(1, Ordering::Relaxed);
            },
        ));
    }
    for _ in 0..slow {
        let host = host.clone();
        tasks.spawn(async move {
            while Instant::now() < end {
                if let Ok(mut s) = tokio::net::TcpStream::connect(&host).await {
                    let _ = s
                        .write_all(b"GET /__down?bytes=0 HTTP/1.1\r\nhost: x\r\n")
                        .await;
                    let mut buf = [0u8; 256];
                    let _ = tokio::time::timeout_at(
                        end.into(),
                        tokio::io::AsyncReadExt::read(&mut s, &mut buf),
                    )
                    .await;
                }
            }
        });
    }
    for _ in 0..oversized {
        let (client, url, refused, problems) = (
            client.clone(),
            url.clone(),
            refused.clone(),
            problems.clone(),
        );
        tasks.spawn(async move {
            while Instant::now() < end {
                let body = futures_util::stream::repeat_with(|| {
                    Ok::<_, std::io::Error>(bytes::Bytes::from(vec![0u8; 65536]))
                });
                match client
                    .post(format!("{url}/__up"))
                    .body(reqwest::Body::wrap_stream(body))
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 413 => refused.fetch_add(1, Ordering::Relaxed),
                    _ => problems.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    for _ in 0..4 {
        let host = host.clone();
        tasks.spawn(async move {
            if let Ok(mut s) = tokio::net::TcpStream::connect(&host).await {
                let _ = s
                    .write_all(b"GET /__down?bytes=100000000 HTTP/1.1\r\nhost: x\r\n\r\n")
                    .await;
                tokio::time::sleep_until(end.into()).await;
            }
        });
    }

    let pinger = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let mut pings: Vec<f64> = Vec::new();
    let mut unanswered = 0;
    let mut peak_rss_kb = 0;
    while Instant::now() < end {
        let started = Instant::now();
        match tokio::time::timeout(
            Duration::from_secs(10),
            pinger.get(format!("{url}/__down?bytes=0")).send(),
        )
        .await
        {
            Ok(Ok(r)) if r.status().is_success() => {
                pings.push(started.elapsed().as_secs_f64() * 1000.0)
            }
            _ => unanswered += 1,
        }
        if pid != 0 {
            peak_rss_kb = peak_rss_kb.max(proc_status_kb(pid, "VmRSS:").unwrap_or(0));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tasks.abort_all();
    pings.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        pings
            .get(((pings.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "{seconds:.0} s with {downloaders} downloaders, {slow} slow clients, {oversized} oversized uploaders, 4 non-readers"
    );
    println!(
        "downloads: {} completed, {:.1} MB/s; oversized uploads refused with 413: {}; other client-side problems: {}",
        completed.load(Ordering::Relaxed),
        downloaded.load(Ordering::Relaxed) as f64 / 1e6 / seconds,
        refused.load(Ordering::Relaxed),
        problems.load(Ordering::Relaxed)
    );
    println!(
        "latency pings: {} answered, {unanswered} unanswered; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pings.len(),
        pct(0.5),
        pct(0.99),
        pings.last().copied().unwrap_or(f64::NAN)
    );
    if pid != 0 {
        let cpu = match (cpu_before, cpu_seconds(pid)) {
            (Some(a), Some(b)) => format!("{:.2} cores on average", (b - a) / seconds),
            _ => "unknown".into(),
        };
        println!(
            "server: peak RSS during the run {:.1} MB (VmHWM {:.1} MB), CPU {cpu}",
            peak_rss_kb as f64 / 1024.0,
            proc_status_kb(pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0
        );
        // Let the server close what the aborted clients left, then compare.
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let (Some(before), Some(after)) = (rss_before_kb, proc_status_kb(pid, "VmRSS:")) {
            let growth = (after as f64 - before as f64) / 1024.0;
            println!(
                "server: RSS {:.1} MB before the load, {:.1} MB a second after it: grew {growth:.1} MB",
                before as f64 / 1024.0,
                after as f64 / 1024.0
            );
            if growth > max_growth_mb {
                eprintln!(
                    "server memory grew by {growth:.1} MB, more than --max-growth-mb {max_growth_mb}"
                );
                std::process::exit(1);
            }
        } else if max_growth_mb.is_finite() {
            eprintln!("--max-growth-mb needs --pid and /proc (Linux) to read the server's memory");
            std::process::exit(1);
        }
    } else if max_growth_mb.is_finite() {
        eprintln!("--max-growth-mb needs --pid, the server's process id");
        std::process::exit(1);
    }
}

/// One client's download loop: `GET {url}/__down?bytes={size}` again and
/// again until `end`, reading every body as fast as it comes and adding its
/// length to `received`. A request that gets no answer is counted in
/// `unanswered`, and the next waits `pause`.
struct Downloads {
    client: reqwest::Client,
    url: String,
    size: u64,
    end: Instant,
    received: Arc<AtomicU64>,
    unanswered: Arc<AtomicU64>,
    pause: Duration,
}

impl Downloads {
    /// `answered` is told each status as it arrives, `finished` each body
    /// read to its end.
    async fn run(self, answered: impl Fn(u16), finished: impl Fn()) {
        while Instant::now() < self.end {
            match self
                .client
                .get(format!("{}/__down?bytes={}", self.url, self.size))
                .send()
                .await
            {
                Ok(mut r) => {
                    answered(r.status().as_u16());
                    while let Ok(Some(chunk)) = r.chunk().await {
                        self.received
                            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    }
                    finished();
                }
                Err(_) => {
                    self.unanswered.fetch_add(1, Ordering::Relaxed);
                    if !self.pause.is_zero() {
                        tokio::time::sleep(self.pause).await;
                    }
                }
            }
        }
    }
}

/// `--attack KIND --count N --from ADDR --seconds S`: one attack for
/// bench/attackbench.py, from the loopback address ADDR (so the server sees
/// another client than the probe), until S seconds pass or SIGTERM. Prints
/// one summary line.
async fn attack(args: &[String], kind: &str) {
    let url: String = arg(args, "--url", "http://127.0.0.1:8080".to_string());
    let host = url.trim_start_matches("http://").to_string();
    let target: std::net::SocketAddr = host.parse().expect("--url must be http://IP:PORT");
    let from: std::net::Ipv4Addr = arg(args, "--from", "127.0.0.2".parse().expect("address"));
    let addresses: u32 = arg(args, "--addresses", 1u32).max(1);
    let froms: Vec<std::net::IpAddr> = (0..addresses)
        .map(|i| std::net::Ipv4Addr::from(u32::from(from) + i).into())
        .collect();
    let count: usize = arg(args, "--count", 100);
    let seconds = arg::<f64>(args, "--seconds", 20.0).min(600.0);
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let opened = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicU64::new(0));
    let statuses = Arc::new(std::sync::Mutex::new(
        std::collections::BTreeMap::<u16, u64>::new(),
    ));
    let bytes = Arc::new(AtomicU64::new(0));
    let connect = move |from: std::net::IpAddr| async move {
        let socket = tokio::net::TcpSocket::new_v4().ok()?;
        socket.bind(std::net::SocketAddr::new(from, 0)).ok()?;
        socket.connect(target).await.ok()
    };
    let mut tasks = tokio::task::JoinSet::new();
    match kind {
        // Connect and send a request head one line every 2 s, never finishing it.
        "slowloris" => {
            for from in froms
                .iter()
                .copied()
                .flat_map(|f| std::iter::repeat_n(f, count))
            {
                let (opened, closed) = (opened.clone(), closed.clone());
                tasks.spawn(async move {
                    while Instant::now() < end {
                        let Some(mut s) = connect(from).await else {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        };
                        opened.fetch_add(1, Ordering::Relaxed);
                        let mut line: &[u8] = b"GET /__down?bytes=0 HTTP/1.1\r\nhost: x\r\n";
                        loop {
                            if s.write_all(line).await.is_err() {
                                break;
                            }
                            line = b"x-slow: 1\r\n";
                            let mut buf = [0u8; 512];
                            // Anything back (a 429, or the close) ends this connection.
                            if tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
                                .await
                                .is_ok()
                            {
                                break;
                            }
                        }
                        closed.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        }
        // Ask for 256 MB and never read; poke the socket to notice the server closing it.
        "never-read" => {
            for from in froms
                .iter()
                .copied()
                .flat_map(|f| std::iter::repeat_n(f, count))
            {
                let (opened, closed) = (opened.clone(), closed.clone());
                tasks.spawn(async move {
                    while Instant::now() < end {
                        let Some(mut s) = connect(from).await else {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        };
                        opened.fetch_add(1, Ordering::Relaxed);
                        if s.write_all(b"GET /__down?bytes=256000000 HTTP/1.1\r\nhost: x\r\n\r\n")
                            .await
                            .is_ok()
                        {
                            while Instant::now() < end {
                                tokio::time::sleep(Duration::from_millis(500)).await;
                                if s.write_all(b" ").await.is_err() {
                                    break;
                                }
                            }
                        }
                        closed.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        }
        // Many parallel downloads from one address, read as fast as possible,
        // retrying at once whatever the answer (Retry-After ignored).
        "greedy" => {
            session_ready::net::probe::ensure_crypto_provider();
            let client = reqwest::Client::builder()
                .no_proxy()
                .local_address(froms[0])
                .pool_max_idle_per_host(count)
                .build()
                .expect("client");
            for _ in 0..count {
                let downloads = Downloads {
                    client: client.clone(),
                    url: url.clone(),
                    size: 10_000_000,
                    end,
                    received: bytes.clone(),
                    unanswered: closed.clone(),
                    pause: Duration::from_millis(20),
                };
                let statuses = statuses.clone();
                tasks.spawn(downloads.run(
                    move |status| *statuses.lock().unwrap().entry(status).or_default() += 1,
                    || {},
                ));
            }
        }
        // Connections that look busy but move nothing, or say nothing: a
        // keep-alive pinging every 2 s, an upload trickling a byte every
        // 0.5 s, a silent socket. Each records how it ended (the status of a
        // refusal, or closed without a reply) and reconnects.
        "keepalive" | "trickle" | "silent" => {
            for from in froms
                .iter()
                .copied()
                .flat_map(|f| std::iter::repeat_n(f, count))
            {
                let (opened, closed, statuses) = (opened.clone(), closed.clone(), statuses.clone());
                let kind = kind.to_string();
                tasks.spawn(async move {
                    while Instant::now() < end {
                        let Some(mut s) = connect(from).await else {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        };
                        opened.fetch_add(1, Ordering::Relaxed);
                        let ended = match kind.as_str() {
                            "keepalive" => hold_pinging(&mut s).await,
                            "trickle" => hold_trickling(&mut s).await,
                            _ => hold_silent(&mut s).await,
                        };
                        *statuses.lock().unwrap().entry(ended).or_default() += 1;
                        closed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                });
            }
        }
        "rtc-offer" | "rtc-half-open" | "rtc-junk" => {
            return rtc_attack(kind, target, &froms, count, end).await;
        }
        other => panic!(
            "unknown attack {other:?}: slowloris, never-read, greedy, keepalive, trickle, silent, \
             rtc-offer, rtc-half-open or rtc-junk"
        ),
    }
    tokio::select! {
        _ = tokio::time::sleep_until(end.into()) => {}
        _ = terminated() => {}
    }
    tasks.abort_all();
    println!(
        "attack {kind} x{count} from {addresses} address(es) from {from}: {} connections opened, \
         {} ended by the server, statuses {:?} (0: closed without a reply, 1: reset), {:.0} MB received",
        opened.load(Ordering::Relaxed),
        closed.load(Ordering::Relaxed),
        statuses.lock().unwrap(),
        bytes.load(Ordering::Relaxed) as f64 / 1e6
    );
}

/// Counts of a WebRTC flood, for its summary line.
#[derive(Default)]
struct RtcCounts {
    /// Offers posted, by the status of the reply (0: no reply).
    statuses: std::sync::Mutex<std::collections::BTreeMap<u16, u64>>,
    /// Peer connections whose ICE checks the server answered.
    ice_answered: AtomicU64,
    /// Datagrams sent to the STUN port, and any that came back.
    datagrams_sent: AtomicU64,
    datagrams_back: AtomicU64,
}

/// The WebRTC data-channel floods (issue 25), `count` at a time from each
/// address: `rtc-offer` posts offers and never follows them with anything
/// (no ICE); `rtc-half-open` posts offers and completes ICE, but never
/// starts DTLS, so each peer connection stays half-open until the server
/// closes it; `rtc-junk` sends `count` datagrams a second from each address
/// to the STUN port that look like ICE checks (a username, no valid
/// integrity) or DTLS records but are neither. Offers refused are tried
/// again after half a second, answered ones after the server has let them go.
async fn rtc_attack(
    kind: &str,
    target: std::net::SocketAddr,
    froms: &[std::net::IpAddr],
    count: usize,
    end: Instant,
) {
    session_ready::net::probe::ensure_crypto_provider();
    let counts = Arc::new(RtcCounts::default());
    let mut tasks = tokio::task::JoinSet::new();
    for from in froms.iter().copied() {
        if kind == "rtc-junk" {
            tasks.spawn(junk_datagrams(target, from, count, end, counts.clone()));
            continue;
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .local_address(from)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        for _ in 0..count {
            tasks.spawn(half_open_peers(
                kind == "rtc-half-open",
                client.clone(),
                target,
                from,
                end,
                counts.clone(),
            ));
        }
    }
    tokio::select! {
        _ = tokio::time::sleep_until(end.into()) => {}
        _ = terminated() => {}
    }
    tasks.abort_all();
    println!(
        "attack {kind} x{count} from {} address(es) from {}: offers by status {:?} (0: no reply), \
         {} peer connections with ICE answered, {} datagrams sent, {} came back",
        froms.len(),
        froms[0],
        counts.statuses.lock().unwrap(),
        counts.ice_answered.load(Ordering::Relaxed),
        counts.datagrams_sent.load(Ordering::Relaxed),
        counts.datagrams_back.load(Ordering::Relaxed),
    );
}

/// One attacker's peer connections, one after another: an offer as a
/// browser makes it; with `ice`, the ICE checks str0m sends, and never its DTLS.
async fn half_open_peers(
    ice: bool,
    client: reqwest::Client,
    target: std::net::SocketAddr,
    from: std::net::IpAddr,
    end: Instant,
    counts: Arc<RtcCounts>,
) {
    use str0m::change::SdpAnswer;
    use str0m::channel::{ChannelConfig, Reliability};
    use str0m::net::{Protocol, Receive};
    use str0m::{Candidate, Input, Output, RtcConfig};

    let Ok(socket) = tokio::net::UdpSocket::bind(std::net::SocketAddr::new(from, 0)).await else {
        return;
    };
    let local = socket.local_addr().expect("bound");
    let mut offered = None;
    while Instant::now() < end {
        // A refused offer is posted again as it is; an answered one needs a new peer.
        let (mut rtc, offer, pending) = match offered.take() {
            Some(o) => o,
            None => {
                let mut rtc = RtcConfig::new().build(Instant::now());
                rtc.add_local_candidate(Candidate::host(local, "udp").expect("candidate"));
                let mut api = rtc.sdp_api();
                api.add_channel_with_config(ChannelConfig {
                    label: "session-ready".into(),
                    ordered: false,
                    reliability: Reliability::MaxRetransmits { retransmits: 0 },
                    ..Default::default()
                });
                let (offer, pending) = api.apply().expect("an offer");
                (rtc, offer.to_sdp_string(), pending)
            }
        };
        let posted = client
            .post(format!("http://{target}/__rtc"))
            .header("content-type", "application/sdp")
            .body(offer.clone())
            .send()
            .await;
        let (status, answer) = match posted {
            Ok(res) => (res.status().as_u16(), res.text().await.unwrap_or_default()),
            Err(_) => (0, String::new()),
        };
        *counts.statuses.lock().unwrap().entry(status).or_default() += 1;
        if status != 201 {
            offered = Some((rtc, offer, pending));
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        // Held until the server lets it go (10 s to connect at most), then again.
        let hold_until = (Instant::now() + Duration::from_secs(11)).min(end);
        let Ok(answer) = SdpAnswer::from_sdp_string(&answer) else {
            continue;
        };
        if !ice || rtc.sdp_api().accept_answer(pending, answer).is_err() {
            tokio::time::sleep_until(hold_until.into()).await;
            continue;
        }
        let mut answered = false;
        let mut buf = vec![0u8; 2048];
        while Instant::now() < hold_until {
            let mut next = hold_until;
            while let Ok(output) = rtc.poll_output() {
                match output {
                    Output::Timeout(at) => {
                        next = at.min(hold_until);
                        break;
                    }
                    // ICE checks go out; the DTLS ClientHello never does.
                    Output::Transmit(t) if t.contents.first().is_some_and(|b| *b < 4) => {
                        let _ = socket.send_to(&t.contents, t.destination).await;
                    }
                    _ => {}
                }
            }
            let wait = next
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            let input = match tokio::time::timeout(wait, socket.recv_from(&mut buf)).await {
                Ok(Ok((n, source))) => {
                    if buf[0] < 4 && !answered {
                        answered = true;
                        counts.ice_answered.fetch_add(1, Ordering::Relaxed);
                    }
                    let Ok(contents) = buf[..n].try_into() else {
                        continue;
                    };
                    Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: local,
                            contents,
                        },
                    )
                }
                _ => Input::Timeout(Instant::now()),
            };
            if rtc.handle_input(input).is_err() {
                break;
            }
        }
        tokio::time::sleep_until(hold_until.into()).await;
    }
}

/// `per_second` junk datagrams a second from `from` to the STUN port, in
/// turn: a STUN request naming an ICE username with a made-up integrity, a
/// DTLS ClientHello-like record, and random bytes in DTLS's first-byte range.
async fn junk_datagrams(
    target: std::net::SocketAddr,
    from: std::net::IpAddr,
    per_second: usize,
    end: Instant,
    counts: Arc<RtcCounts>,
) {
    let Ok(socket) = tokio::net::UdpSocket::bind(std::net::SocketAddr::new(from, 0)).await else {
        return;
    };
    let every = Duration::from_secs_f64(1.0 / per_second.max(1) as f64);
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut buf = [0u8; 2048];
    let mut n: u64 = 0;
    while Instant::now() < end {
        tokio::select! {
            _ = ticker.tick() => {
                let datagram = junk(n);
                n += 1;
                if socket.send_to(&datagram, target).await.is_ok() {
                    counts.datagrams_sent.fetch_add(1, Ordering::Relaxed);
                }
            }
            got = socket.recv_from(&mut buf) => {
                if got.is_ok() {
                    counts.datagrams_back.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

/// The `n`th junk datagram (see [`junk_datagrams`]).
fn junk(n: u64) -> Vec<u8> {
    let noise = |len: usize| (0..len).map(|_| rand::random::<u8>()).collect::<Vec<u8>>();
    match n % 3 {
        0 => {
            // Binding request: USERNAME "ufrag:ufrag", MESSAGE-INTEGRITY of noise.
            let username = format!(
                "{:08x}:{:08x}",
                rand::random::<u32>(),
                rand::random::<u32>()
            );
            let mut attrs = Vec::new();
            attrs.extend_from_slice(&0x0006u16.to_be_bytes());
            attrs.extend_from_slice(&(username.len() as u16).to_be_bytes());
            attrs.extend_from_slice(username.as_bytes());
            while attrs.len() % 4 != 0 {
                attrs.push(0);
            }
            attrs.extend_from_slice(&0x0008u16.to_be_bytes());
            attrs.extend_from_slice(&20u16.to_be_bytes());
            attrs.extend_from_slice(&noise(20));
            let mut m = Vec::new();
            m.extend_from_slice(&0x0001u16.to_be_bytes());
            m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
            m.extend_from_slice(&0x2112_A442u32.to_be_bytes());
            m.extend_from_slice(&noise(12));
            m.extend_from_slice(&attrs);
            m
        }
        // A DTLS 1.2 handshake record header, then noise.
        1 => {
            let mut m = vec![22, 0xfe, 0xfd, 0, 0];
            m.extend_from_slice(&noise(6));
            m.extend_from_slice(&200u16.to_be_bytes());
            m.extend_from_slice(&noise(200));
            m
        }
        _ => {
            let mut m = noise(120);
            m[0] = 20 + (rand::random::<u8>() % 44);
            m
        }
    }
}

/// How a held connection ended: the status of the reply that ended it, 0 when
/// closed without a reply, 1 when reset.
fn ended(read: std::io::Result<usize>, buf: &[u8]) -> u16 {
    match read {
        Ok(0) => 0,
        Ok(n) => std::str::from_utf8(&buf[..n])
            .ok()
            .and_then(|t| t.get(9..12))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0),
        Err(_) => 1,
    }
}

/// A latency ping every 2 s on one keep-alive connection until it is refused or closed.
async fn hold_pinging(s: &mut tokio::net::TcpStream) -> u16 {
    let mut buf = [0u8; 2048];
    loop {
        if s.write_all(b"GET /__down?bytes=0 HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .is_err()
        {
            return 1;
        }
        let read = s.read(&mut buf).await;
        let status = ended(read, &buf);
        if status != 200 {
            return status;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// An upload of 1 MB sent a byte every 0.5 s until the server answers or closes.
async fn hold_trickling(s: &mut tokio::net::TcpStream) -> u16 {
    let head = b"POST /__up HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n\r\n";
    if s.write_all(head).await.is_err() {
        return 1;
    }
    let mut buf = [0u8; 2048];
    loop {
        if s.write_all(b"x").await.is_err() {
            return 1;
        }
        if let Ok(read) = tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await {
            return ended(read, &buf);
        }
    }
}

/// A socket that says nothing, until the server answers or closes it.
async fn hold_silent(s: &mut tokio::net::TcpStream) -> u16 {
    let mut buf = [0u8; 2048];
    let read = s.read(&mut buf).await;
    ended(read, &buf)
}

/// SIGTERM ends an attack early (Unix only; elsewhere it runs its full time).
#[cfg(unix)]
async fn terminated() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    term.recv().await;
}

#[cfg(not(unix))]
async fn terminated() {
    std::future::pending::<()>().await
}
