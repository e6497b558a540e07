//! The STUN parser and the server's reply logic must never panic, whatever
//! arrives on the UDP port, and what they accept must survive a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_ready::net::stun;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = stun::parse(data) {
        // Anything accepted has a consistent header and attributes.
        assert_eq!(data.len() % 4, 0);
        let _ = message.mapped_address();
        let _ = message.unknown_required();
    }
    let from = "192.0.2.1:3478".parse().unwrap();
    if let Some(reply) = stun::respond(data, from, Some("fuzz")) {
        // Our own replies always parse, and answer the same transaction.
        let parsed = stun::parse(&reply).expect("replies we build are valid STUN");
        let request = stun::parse(data).expect("only valid requests are answered");
        assert_eq!(parsed.transaction_id, request.transaction_id);
    }
});
