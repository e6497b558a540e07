//! The local page server of `check --browser`, from the outside: only the
//! printed address works, nothing is served to another site or host, only
//! numbers are accepted, and the server stops by itself and says why.
use crate::page_support::{Page, request};

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
    let reply = page.get("");
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
    for path in [
        "/".to_string(),
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
    }
    let reply = request(
        page.addr,
        "POST",
        &format!("/{wrong}/api/finish"),
        &[("Host", &host), ("Origin", &page.origin())],
        "{}",
    );
    assert_eq!(reply.status, 403);
}

#[test]
fn another_host_or_origin_is_refused_against_dns_rebinding() {
    let page = Page::start(&["--device", "--format", "json"]);
    let path = format!("/{}/", page.token);
    let port = page.addr.port();
    for host in [
        format!("attacker.example:{port}"),
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("192.168.1.10:{port}"),
    ] {
        let reply = request(page.addr, "GET", &path, &[("Host", &host)], "");
        assert_eq!(reply.status, 403, "Host {host}");
    }
    let reply = request(page.addr, "GET", &path, &[], "");
    assert_eq!(reply.status, 403, "no Host at all");
    // localhost is the same computer and is answered.
    let reply = request(
        page.addr,
        "GET",
        &path,
        &[("Host", &format!("localhost:{port}"))],
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
            &format!("/{}/api/camera", page.token),
            &[("Host", &page.host()), ("Origin", &origin)],
            CAMERA_LIT,
        );
        assert_eq!(reply.status, 403, "Origin {origin}");
    }
    // The API is for the page only: a POST without any Origin is refused too.
    let reply = request(
        page.addr,
        "POST",
        &format!("/{}/api/camera", page.token),
        &[("Host", &page.host())],
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
