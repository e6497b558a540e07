//! The hosted check's connection-test calls over HTTP (issue 23, item 3):
//! the browser is untrusted, so what it sends is refused calmly (400, 409,
//! 413, 422 naming the field), never taken as a figure, and the server goes
//! on serving the visit.
use crate::host_invite::{Client, Hosted, repo};
use crate::page_support::{Reply, request};
use crate::walk_support::{Site, walk_http};

fn post_json(client: &Client, path: &str, body: &str) -> Reply {
    let addr = client.hosted.addr.to_string();
    // The page's scripts send the visit's form token as a header (leave.js).
    let token = client.form_token().unwrap_or_default();
    request(
        client.hosted.addr,
        "POST",
        path,
        &[
            ("Host", &addr),
            ("Origin", &format!("http://{addr}")),
            ("Cookie", &client.cookie()),
            ("Content-Type", "application/json"),
            ("X-CSRF-Token", &token),
        ],
        body,
    )
}

/// A plausible sample set: 20 ms idle, 50 Mbit/s down, 10 up, no data channel.
fn samples() -> serde_json::Value {
    let counter: Vec<[f64; 2]> = (1..=60)
        .map(|i| [f64::from(i) * 0.05, f64::from(i) * 312_500.0])
        .collect();
    let completions: Vec<[f64; 3]> = (1..=30)
        .flat_map(|k| (0..4).map(move |s| [f64::from(s), f64::from(k) * 0.1, 31_250.0]))
        .collect();
    serde_json::json!({
        "duration_s": 9.0,
        "idle_ms": vec![20.0; 20],
        "download": {"streams": 4, "counter": counter, "loaded": [[1.0, 40.0]], "bytes": 18_750_000},
        "upload": {"streams": 4, "completions": completions, "loaded": [[1.0, 45.0]], "bytes": 3_750_000},
        "udp": {"failed": "no-channel"}
    })
}

#[test]
fn the_browsers_samples_are_checked_and_only_sense_becomes_the_report() {
    let hosted = Hosted::start();
    let client = Client::new(&hosted, &hosted.invite("case 11"));
    let good = samples().to_string();
    // The first page gives the visit's form token.
    client.screen();
    // Before the visit waits for its measurements: nothing to take.
    let early = post_json(&client, "/api/network", &good);
    assert_eq!(early.status, 409, "{early:?}");
    let early = post_json(&client, "/api/network-plan", r#"{"rtt_ms": 20}"#);
    assert_eq!(early.status, 409, "{early:?}");

    walk_http(&client, &repo("examples/answers/video-suitable.json"));
    // The media step is part of the hosted check; its numbers go to the
    // check, not to "this computer". Past it without scripts, to the waiting page.
    let media = client.get("media");
    assert!(media.body.contains("id=\"start-camera\""), "{}", media.body);
    assert!(media.body.contains("go to the check"), "{}", media.body);
    assert!(!media.body.contains("on this computer"), "{}", media.body);
    client.get("next");
    let waiting = client.get("finish");
    assert!(
        waiting.body.contains("id=\"browser-test\""),
        "{}",
        waiting.body
    );
    assert!(
        waiting.body.contains("src=\"measure.js\""),
        "{}",
        waiting.body
    );

    let plan = post_json(&client, "/api/network-plan", r#"{"rtt_ms": 20}"#);
    assert_eq!(plan.status, 200, "{plan:?}");
    let plan: serde_json::Value = serde_json::from_str(&plan.body).unwrap();
    assert!(plan["download_s"].as_f64().unwrap() >= 3.0, "{plan}");
    assert!(plan["streams"].as_u64().unwrap() <= 4, "{plan}");
    let bad = post_json(&client, "/api/network-plan", r#"{"rtt": "fast"}"#);
    assert_eq!(bad.status, 400, "{bad:?}");

    for (body, status, named) in [
        ("{not json".to_string(), 400, ""),
        (r#"{"duration_s": "NaN"}"#.to_string(), 400, ""),
        (
            {
                let mut v = samples();
                v["idle_ms"][3] = (-5.0).into();
                v.to_string()
            },
            422,
            "idle_ms",
        ),
        (
            {
                let mut v = samples();
                v["upload"]["bytes"] = 1e300.into();
                v.to_string()
            },
            422,
            "upload.bytes",
        ),
        (
            {
                let mut v = samples();
                v["download"]["counter"] = serde_json::json!(
                    (0..4_001)
                        .map(|i| [f64::from(i) * 0.01, 1.0])
                        .collect::<Vec<_>>()
                );
                v.to_string()
            },
            422,
            "at most",
        ),
        ("x".repeat(300 * 1024), 413, ""),
    ] {
        let r = post_json(&client, "/api/network", &body);
        assert_eq!(r.status, status, "{}: {r:?}", &body[..body.len().min(80)]);
        assert!(r.body.contains(named), "{r:?}");
    }
    // Still waiting, and still serving: sense is taken.
    let ok = post_json(&client, "/api/network", &good);
    assert_eq!(ok.status, 200, "{ok:?}");
    // Once taken, no second set replaces it.
    let again = post_json(&client, "/api/network", &good);
    assert_eq!(again.status, 409, "{again:?}");
    let mut report = client.get("finish");
    for _ in 0..3 {
        if report.status != 303 {
            break;
        }
        report = client.get(crate::walk_support::location(&report).trim_start_matches('/'));
    }
    assert!(
        report.body.contains("50 Mbit/s") && !report.body.contains("connection was not measured"),
        "{}",
        report.body
    );
    assert!(
        report
            .body
            .contains("The audio-like test could not run in this browser"),
        "{}",
        report.body
    );
}
