//! Randomized properties of the STUN codec (the cargo-fuzz target in fuzz/
//! explores the parser further; these run in every `cargo test`).
use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;
use session_ready::net::stun;

fn any_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::new(IpAddr::from(ip), port)),
        (any::<[u8; 16]>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::new(IpAddr::from(ip), port)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = stun::parse(&bytes);
        let _ = stun::respond(&bytes, "192.0.2.1:1".parse().unwrap(), None);
    }

    #[test]
    fn parse_never_panics_on_stun_shaped_input(
        kind in any::<u16>(),
        attrs in proptest::collection::vec(any::<u8>(), 0..120),
        txid in any::<[u8; 12]>(),
    ) {
        // A valid header around random attributes reaches deep into the parser.
        let mut msg = Vec::new();
        msg.extend_from_slice(&(kind & 0x3FFF).to_be_bytes());
        msg.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        msg.extend_from_slice(&stun::MAGIC_COOKIE.to_be_bytes());
        msg.extend_from_slice(&txid);
        msg.extend_from_slice(&attrs);
        let _ = stun::parse(&msg);
    }

    #[test]
    fn success_responses_round_trip(
        txid in any::<[u8; 12]>(),
        addr in any_addr(),
        software in "[ -~]{0,40}",
        fingerprint in any::<bool>(),
    ) {
        let bytes = stun::binding_success(&txid, addr, Some(&software), fingerprint);
        let msg = stun::parse(&bytes).unwrap();
        prop_assert_eq!(msg.transaction_id, txid);
        prop_assert_eq!(msg.mapped_address(), Some(addr));
        prop_assert_eq!(msg.has_fingerprint(), fingerprint);
        prop_assert!(msg.attributes.contains(&stun::Attribute::Software(software)));
    }

    #[test]
    fn a_single_bit_flip_never_passes_as_a_fingerprinted_message(
        txid in any::<[u8; 12]>(),
        addr in any_addr(),
        bit in 0usize..(8 * 60),
    ) {
        let mut bytes = stun::binding_success(&txid, addr, Some("x"), true);
        let bit = bit % (bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        match stun::parse(&bytes) {
            Err(_) => {}
            // A flip can still parse when it hides the FINGERPRINT (its type changed,
            // or a length grew to swallow it), but never as a fingerprinted message.
            Ok(msg) => prop_assert!(!msg.has_fingerprint(), "bit {}", bit),
        }
    }

    #[test]
    fn the_server_answers_every_binding_request_with_its_id(
        txid in any::<[u8; 12]>(),
        from in any_addr(),
        fingerprint in any::<bool>(),
    ) {
        let reply = stun::respond(&stun::binding_request(&txid, fingerprint), from, Some("t")).unwrap();
        let msg = stun::parse(&reply).unwrap();
        prop_assert_eq!(msg.class, stun::Class::SuccessResponse);
        prop_assert_eq!(msg.transaction_id, txid);
        prop_assert_eq!(msg.mapped_address(), Some(from));
    }
}
