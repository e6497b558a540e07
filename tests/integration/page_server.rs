//! The local page server of `check --browser`, from the outside: only the
//! printed address works, nothing is served to another site or host, only
//! numbers are accepted, and the server stops by itself and says why.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::page_support::{Page, Reply, request};

const CAMERA_LIT: &str = r#"{"access":"granted","frames":90,"width":640,"height":480,"fps":30,
    "luma_mean":120,"luma_stddev":40,"centre_luma":125,"surround_luma":118}"#;

fn device_json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).expect("the device report is JSON")
}

fn item<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no {id} item in {report}"))
}

#[test]
fn the_address_is_loopback_with_a_128_bit_token() {
    let page = Page::start(&["--device", "--format", "json"]);
    assert!(page.addr.ip().is_loopback(), "{}", page.url);
    assert_eq!(page.token.len(), 32, "{}", page.url);
    assert!(page.token.bytes().all(|b| b.is_ascii_hexdigit()));
    // The first load trades the address for a cookie no script can read
    // and no other site's page can send.
    let first = request(
        page.addr,
        "GET",
        &format!("/{}/", page.token),
        &[("Host", &page.host())],
        "",
    );
    assert_eq!(first.status, 303, "{first:?}");
    let set = first
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("a session cookie: {first:?}"));
    for part in ["httponly", "samesite=strict", "path=/"] {
        assert!(set.contains(part), "{part} in {set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    assert!(cookie.starts_with(&format!("session-ready-{}=", page.addr.port())));
    let reply = request(
        page.addr,
        "GET",
        "/",
        &[("Host", &page.host()), ("Cookie", &cookie)],
        "",
    );
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("<html lang=\"en\">"));
    for header in [
        "content-security-policy: default-src 'none'",
        "x-content-type-options: nosniff",
        "referrer-policy: same-origin",
        "x-frame-options: deny",
    ] {
        assert!(
            reply.headers.contains(header),
            "{header} missing: {}",
            reply.headers
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn it_listens_only_on_loopback() {
    let page = Page::start(&["--device", "--format", "json"]);
    let port = format!("{:04X}", page.addr.port());
    let listening: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| t.lines().skip(1).map(str::to_string).collect::<Vec<_>>())
        .filter(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            // State 0A is LISTEN.
            cols.get(3) == Some(&"0A") && cols[1].ends_with(&format!(":{port}"))
        })
        .collect();
    assert_eq!(listening.len(), 1, "{listening:?}");
    // 127.0.0.1, little-endian hex.
    assert!(
        listening[0]
            .split_whitespace()
            .nth(1)
            .unwrap()
            .starts_with("0100007F:")
    );
}

#[test]
fn without_the_token_nothing_is_served() {
    let page = Page::start(&["--device", "--format", "json"]);
    let host = page.host();
    let wrong = "0".repeat(32);
    let cookie = page.cookie();
    for path in [
        "/".to_string(),
        "/walk".to_string(),
        "/api/finish".to_string(),
        "/media.js".to_string(),
        "/favicon.ico".to_string(),
        format!("/{wrong}/"),
        format!("/{wrong}/media.js"),
        format!("/{}/", &page.token[..31]),
        format!("/{}x/", page.token),
        format!("/{}/", page.token.to_uppercase()),
    ] {
        let reply = request(page.addr, "GET", &path, &[("Host", &host)], "");
        assert_eq!(reply.status, 403, "{path}: {reply:?}");
        assert!(!reply.body.contains("<html"), "{path}");
        assert!(reply.headers.contains("content-security-policy"));
        // A cookie with another value is no better.
        let (name, value) = cookie.split_once('=').unwrap();
        // Another first digit (a value may itself start with "f").
        let other = if value.starts_with('f') { "0" } else { "f" };
        let forged = format!("{name}={other}{}", &value[1..]);
        let reply = request(
            page.addr,
            "GET",
            &path,
            &[("Host", &host), ("Cookie", &forged)],
            "",
        );
        assert_eq!(reply.status, 403, "{path} with {forged}: {reply:?}");
    }
    let reply = request(
        page.addr,
        "POST",
        "/api/finish",
        &[("Host", &host), ("Origin", &page.origin())],
        "{}",
    );
    assert_eq!(reply.status, 403);
}

#[test]
fn the_printed_address_opens_the_check_once_only() {
    let page = Page::start(&["--no-network", "--region", "GB"]);
    let cookie = page.cookie();
    let path = format!("/{}/", page.token);
    // Read from `ps` or the history by someone else: a calm page, never the check.
    for again in [path.clone(), path.trim_end_matches('/').to_string()] {
        let reply = request(page.addr, "GET", &again, &[("Host", &page.host())], "");
        assert_eq!(reply.status, 403, "{reply:?}");
        assert!(reply.body.contains("already opened"), "{}", reply.body);
        assert!(!reply.headers.contains("set-cookie"), "{}", reply.headers);
        for part_of_the_check in ["<form", "Leave quickly", "question", "safe"] {
            assert!(
                !reply.body.contains(part_of_the_check),
                "{part_of_the_check}: {}",
                reply.body
            );
        }
        assert!(reply.headers.contains("content-security-policy"));
    }
    // The browser that opened it may load it again and goes on where it was.
    let reply = request(
        page.addr,
        "GET",
        &path,
        &[("Host", &page.host()), ("Cookie", &cookie)],
        "",
    );
    assert_eq!(reply.status, 303);
    assert!(reply.headers.contains("location: /\r\n") || reply.headers.ends_with("location: /"));
    assert!(page.get("walk").body.contains("<form"));
}

#[test]
fn a_request_naming_two_hosts_is_refused() {
    let page = Page::start(&["--device", "--format", "json"]);
    let cookie = page.cookie();
    let reply = request(
        page.addr,
        "GET",
        "/",
        &[
            ("Host", &page.host()),
            ("Host", "attacker.example"),
            ("Cookie", &cookie),
        ],
        "",
    );
    assert_eq!(reply.status, 403, "{reply:?}");
    let reply = request(
        page.addr,
        "GET",
        "/",
        &[
            ("Host", &page.host()),
            ("Host", &page.host()),
            ("Cookie", &cookie),
        ],
        "",
    );
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(reply.headers.contains("content-security-policy"));
}

/// What came back on `stream` (until it closed), as a reply.
fn read_reply(mut stream: TcpStream) -> Reply {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Reply {
        status: headers
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        headers: headers.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

fn raw(page: &Page, bytes: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(page.addr).unwrap();
    stream
        .set_read_timeout(Some(crate::page_support::WAIT))
        .unwrap();
    stream.write_all(bytes).unwrap();
    read_reply(stream)
}

#[test]
fn replies_hyper_writes_itself_carry_the_security_headers_too() {
    let page = Page::start(&["--device", "--format", "json"]);
    let host = page.host();
    let long_path = format!("/{}", "a".repeat(70_000));
    let many_headers: String = (0..200).map(|i| format!("X-Filler-{i}: x\r\n")).collect();
    for (status, request) in [
        (400, "GARBAGE\r\n\r\n".to_string()),
        (400, "GET / HTTP/1.1\r\nHost: a b\0\r\n\r\n".to_string()),
        (
            414,
            format!("GET {long_path} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        ),
        (
            431,
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n{many_headers}\r\n"),
        ),
    ] {
        let reply = raw(&page, request.as_bytes());
        assert_eq!(reply.status, status, "{reply:?}");
        for header in [
            "content-security-policy: default-src 'none'",
            "x-content-type-options: nosniff",
            "x-frame-options: deny",
            "cache-control: no-store",
        ] {
            assert!(
                reply.headers.contains(header),
                "{header}: {}",
                reply.headers
            );
        }
    }
}

#[test]
fn a_body_announced_and_not_sent_times_out_and_a_large_one_is_refused_at_once() {
    let page = Page::start(&["--no-network", "--region", "GB"]);
    let cookie = page.cookie();
    let head = |length: u64| {
        format!(
            "POST /walk HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nCookie: {cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n",
            page.host(),
            page.origin()
        )
    };
    let started = Instant::now();
    let reply = raw(&page, head(1_000_000_000).as_bytes());
    assert_eq!(reply.status, 413, "{reply:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let started = Instant::now();
    let reply = raw(&page, head(1000).as_bytes());
    assert_eq!(reply.status, 408, "{reply:?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(reply.headers.contains("content-security-policy"));
    // The check goes on.
    assert!(page.get("walk").body.contains("<form"));
}

/// 1,000 requests that never finish their head, against a page server
/// limited to 1,024 open files: the page's own requests still get through,
/// and the check does not end as "page closed".
#[cfg(unix)]
#[test]
fn half_sent_requests_do_not_starve_the_page() {
    let page = Page::start_with_file_limit(
        1024,
        &[
            "--device",
            "--format",
            "json",
            "--page-closed-seconds",
            "20",
        ],
    );
    // The page's script has said it is there: silence from now on would end it.
    assert_eq!(page.post("alive", "{}").status, 204);
    let started = Instant::now();
    let mut held = Vec::new();
    for _ in 0..1000 {
        // Connections the kernel queues beyond the server's are as good as open.
        let Ok(mut stream) = TcpStream::connect_timeout(&page.addr, Duration::from_secs(2)) else {
            break;
        };
        let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        held.push(stream);
    }
    // The page server holds at most 768 connections (`page::serve`); the
    // rest wait in the kernel's queue. With the whole suite running at load
    // 9, connecting timed out after 897 (twice this stop): every slot of the
    // server is taken either way, which is the attack.
    assert!(held.len() >= 850, "only {} connections opened", held.len());
    // Heartbeats, as the page sends them, keep getting answers.
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(25) {
        let before = Instant::now();
        let reply = page.post("alive", "{}");
        assert_eq!(reply.status, 204, "{reply:?}");
        assert!(
            before.elapsed() < Duration::from_secs(15),
            "a heartbeat waited {:?}",
            before.elapsed()
        );
        answered += 1;
        std::thread::sleep(Duration::from_secs(2));
    }
    assert!(answered >= 5, "{answered}");
    assert_eq!(page.post("finish", "{}").status, 204);
    let (ok, out, err) = page.finish();
    assert!(ok, "{err}");
    assert!(err.contains("The browser test is finished"), "{err}");
    assert!(!out.is_empty());
    drop(held);
}

#[test]
fn another_host_or_origin_is_refused_against_dns_rebinding() {
    let page = Page::start(&["--device", "--format", "json"]);
    let cookie = page.cookie();
    let path = "/".to_string();
    let port = page.addr.port();
    for host in [
        format!("attacker.example:{port}"),
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("192.168.1.10:{port}"),
    ] {
        let reply = request(
            page.addr,
            "GET",
            &path,
            &[("Host", &host), ("Cookie", &cookie)],
            "",
        );
        assert_eq!(reply.status, 403, "Host {host}");
    }
    let reply = request(page.addr, "GET", &path, &[("Cookie", &cookie)], "");
    assert_eq!(reply.status, 403, "no Host at all");
    // localhost is the same computer and is answered.
    let reply = request(
        page.addr,
        "GET",
        &path,
        &[("Host", &format!("localhost:{port}")), ("Cookie", &cookie)],
        "",
    );
    assert_eq!(reply.status, 200);
    for origin in [
        format!("http://attacker.example:{port}"),
        "null".to_string(),
        format!("https://127.0.0.1:{port}"),
    ] {
        let reply = request(
            page.addr,
            "POST",
            "/api/camera",
            &[
                ("Host", &page.host()),
                ("Origin", &origin),
                ("Cookie", &cookie),
            ],
            CAMERA_LIT,
        );
        assert_eq!(reply.status, 403, "Origin {origin}");
    }
    // The API is for the page only: a POST without any Origin is refused too.
    let reply = request(
        page.addr,
        "POST",
        "/api/camera",
        &[("Host", &page.host()), ("Cookie", &cookie)],
        CAMERA_LIT,
    );
    assert_eq!(reply.status, 403);
    // Nothing refused reached the report.
    assert_eq!(page.post("finish", "{}").status, 204);
    let (ok, out, _) = page.finish();
    assert!(ok);
    assert_eq!(item(&device_json(&out), "camera")["result"], "not-tested");
}

#[test]
fn only_numbers_in_range_are_accepted() {
    let page = Page::start(&["--device", "--format", "json"]);
    for (api, body) in [
        ("camera", r#"{"access":"granted"}"#.to_string()),
        ("camera", CAMERA_LIT.replace("120", "1e9")),
        (
            "camera",
            CAMERA_LIT.replace("\"fps\":30", "\"fps\":30,\"note\":\"hello\""),
        ),
        ("camera", CAMERA_LIT.replace("granted", "<script>")),
        (
            "microphone",
            r#"{"access":"granted","noise_floor_dbfs":-60,"speech_dbfs":12,"clipped_pct":0}"#
                .to_string(),
        ),
        ("speakers", r#"{"heard":"maybe"}"#.to_string()),
        ("speakers", "x".repeat(10_000)),
    ] {
        let reply = page.post(api, &body);
        assert!(
            reply.status == 400 || reply.status == 413,
            "{api} {body}: {reply:?}"
        );
    }
    let reply = page.post("camera", CAMERA_LIT);
    assert_eq!(reply.status, 200, "{reply:?}");
    let rated: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(rated["result"], "tested-ok");
    let reply = page.post(
        "microphone",
        r#"{"access":"granted","noise_floor_dbfs":-30,"speech_dbfs":-20,"clipped_pct":0}"#,
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&reply.body).unwrap()["result"],
        "noisy"
    );
    assert_eq!(page.post("speakers", r#"{"heard":"not-sure"}"#).status, 200);
    assert_eq!(page.post("finish", "{}").status, 204);
    let (ok, out, err) = page.finish();
    assert!(ok, "{err}");
    assert!(err.contains("The browser test is finished"), "{err}");
    let report = device_json(&out);
    assert_eq!(item(&report, "camera")["result"], "tested-ok");
    assert_eq!(item(&report, "microphone")["result"], "noisy");
    assert_eq!(item(&report, "speakers")["result"], "not-sure");
    assert_eq!(report["facts"]["media"]["camera"]["frames"], 90);
}

#[test]
fn it_stops_when_the_page_is_left_idle() {
    let page = Page::start(&["--device", "--format", "json", "--page-idle-seconds", "1"]);
    let (ok, out, err) = page.finish();
    assert!(ok, "{err}");
    assert!(
        err.contains("Nothing happened on the browser page"),
        "{err}"
    );
    let report = device_json(&out);
    for id in ["camera", "microphone", "speakers"] {
        assert_eq!(item(&report, id)["result"], "not-tested", "{id}");
    }
}

#[test]
fn it_stops_when_the_page_stops_answering() {
    let page = Page::start(&["--device", "--format", "json", "--page-closed-seconds", "1"]);
    assert_eq!(page.post("speakers", r#"{"heard":"yes"}"#).status, 200);
    // No more heartbeats: the page was closed.
    let (ok, out, err) = page.finish();
    assert!(ok, "{err}");
    assert!(err.contains("seems to have been closed"), "{err}");
    let report = device_json(&out);
    assert_eq!(item(&report, "speakers")["result"], "heard");
    assert_eq!(item(&report, "camera")["result"], "not-tested");
}

#[test]
fn browser_cannot_be_combined_with_no_device() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_session-ready"))
        .args(["check", "--browser", "--no-device"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_session-ready"))
        .args(["check", "--no-open"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_first_page_offers_a_private_window_that_takes_the_check_with_it() {
    let page = Page::start(&["--no-network", "--region", "GB"]);
    let first = page.get("walk");
    assert!(first.body.contains("private window"), "{}", first.body);
    let at =
        first.body.find("<code class=\"address\">").unwrap() + "<code class=\"address\">".len();
    let address = &first.body[at..at + first.body[at..].find('<').unwrap()];
    let code = address
        .strip_prefix(&format!("http://{}/", page.addr))
        .unwrap_or_else(|| panic!("{address}"))
        .trim_end_matches('/');
    assert_eq!(code.len(), 32);
    assert_ne!(code, page.token);
    // Opened in the private window: the check goes there, and the first
    // window's cookie opens nothing any more.
    let moved = crate::page_support::open(page.addr, code);
    let reply = request(
        page.addr,
        "GET",
        "/walk",
        &[("Host", &page.host()), ("Cookie", &moved)],
        "",
    );
    assert!(reply.body.contains("<form"), "{reply:?}");
    assert!(
        !reply.body.contains("private window"),
        "offered once: {}",
        reply.body
    );
    assert_eq!(page.get("walk").status, 403);
    // It opens once, like the first address.
    let again = request(
        page.addr,
        "GET",
        &format!("/{code}/"),
        &[("Host", &page.host())],
        "",
    );
    assert!(again.body.contains("already opened"));
}
