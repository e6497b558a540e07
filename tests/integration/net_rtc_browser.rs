//! A real browser's UDP test against `serve` (issue 25, item 4): headless
//! Chromium runs the page's own src/page/assets/rtc.js, opens a WebRTC data
//! channel to a loopback `serve` (`--allow-loopback-in-peer-connection` lets
//! it use 127.0.0.1), sends the call-like pattern and returns its samples;
//! the figures come from the same Rust rules as the CLI's
//! (`probe::browser_udp`), with the server's own count.
//!
//! Needs `chromium` and `chromedriver`, as the page tests do (browser_support.rs).

use crate::browser_support::{Browser, ONE_BROWSER, Options, browser_tests_wanted};
use crate::net_support::serve;
use session_ready::net::model::ServerCounts;
use session_ready::net::probe::{self, StreamSamples};

const RTC_JS: &str = include_str!("../../src/page/assets/rtc.js");

#[test]
fn chromium_measures_loss_jitter_and_round_trip_over_a_data_channel_to_serve() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = serve().await;
        let b = Browser::launch(Options {
            javascript: true,
            extra_args: vec!["--allow-loopback-in-peer-connection".into()],
            ..Options::default()
        })
        .await;
        // The server's own plain page: the same origin as /__rtc.
        b.client
            .goto(&format!("http://{}/", server.addr))
            .await
            .unwrap();
        let script = format!(
            "{RTC_JS}\nconst done = arguments[arguments.length - 1];\n\
             sessionReadyRtc.measure(location.origin, {{ seconds: 1.5 }})\
             .then(done, (e) => done({{ error: String(e) }}));"
        );
        let measured = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            b.client.execute_async(&script, vec![]),
        )
        .await
        .expect("the browser's test ends")
        .unwrap();
        b.close().await;
        assert!(measured.get("error").is_none(), "{measured}");
        let samples: StreamSamples =
            serde_json::from_value(measured["samples"].clone()).expect("samples");
        let counts: ServerCounts =
            serde_json::from_value(measured["server_counts"].clone()).expect("the server's count");
        // 1.5 s of one message every 5 ms: a busy machine's timers send fewer.
        assert!(samples.sent >= 60, "{samples:?}");
        assert!(samples.packets_per_s > 40.0, "{samples:?}");
        assert_eq!(samples.ignored_replies, 0);
        assert_eq!(counts.received, u64::from(samples.sent), "{counts:?}");
        assert_eq!(counts.refused, 0, "{counts:?}");
        let udp = probe::browser_udp(&samples, Some(counts)).expect("figures");
        assert!(
            udp.received as usize == samples.rtts_ms.len() && udp.received > 0,
            "{udp:?}"
        );
        // Loopback loses nothing, and the interval is the Wilson one.
        assert_eq!(udp.loss_pct, 0.0, "{udp:?}");
        let [lo, hi] = udp.loss_ci_pct.expect("an interval");
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 7.0, "{hi}");
        assert!(udp.rtt_ms > 0.0 && udp.rtt_ms < 200.0, "{udp:?}");
        assert!(udp.jitter_ms >= 0.0);
        server.shutdown().await;
    });
}
