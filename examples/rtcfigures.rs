//! The figures of a browser's data-channel test, for bench/netbench.py's
//! browser row: reads what `sessionReadyRtc.measure` (src/page/assets/rtc.js)
//! returned, as JSON on standard input, and prints the UDP result JSON that
//! `net::probe::browser_udp` makes of it (the same rules as the CLI's STUN
//! stream), or `{"error": "…"}`.
use std::io::Read;

use session_ready::net::model::ServerCounts;
use session_ready::net::probe::{self, StreamSamples};

#[derive(serde::Deserialize)]
struct Measured {
    samples: StreamSamples,
    server_counts: Option<ServerCounts>,
}

fn main() {
    let mut input = String::new();
    if std::io::stdin().read_to_string(&mut input).is_err() {
        eprintln!("rtcfigures: standard input could not be read.");
        std::process::exit(2);
    }
    let measured: Measured = match serde_json::from_str(&input) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("rtcfigures: that is not what rtc.js returns ({e}).");
            std::process::exit(2);
        }
    };
    let out = match probe::browser_udp(&measured.samples, measured.server_counts) {
        Ok(udp) => serde_json::to_value(udp).unwrap_or_default(),
        Err(reason) => serde_json::json!({ "error": reason }),
    };
    println!("{out}");
}
