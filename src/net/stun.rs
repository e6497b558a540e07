//! STUN binding codec (RFC 8489), as pure functions over bytes.
//!
//! The probe sends Binding requests and reads the replies to time an
//! audio-like UDP stream; `serve` answers them. Only what those two need is
//! implemented: the header (magic cookie, transaction id), MAPPED-ADDRESS,
//! XOR-MAPPED-ADDRESS, SOFTWARE, ERROR-CODE, UNKNOWN-ATTRIBUTES and FINGERPRINT.
//! `parse` never panics on any input (checked by a randomized test and the
//! cargo-fuzz target in `fuzz/`).
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The fixed value in every RFC 5389/8489 header; tells STUN apart from other UDP.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// STUN header length in bytes.
pub const HEADER_LEN: usize = 20;
/// The Binding method (the only one defined by RFC 8489 itself).
pub const METHOD_BINDING: u16 = 0x001;

pub const ATTR_MAPPED_ADDRESS: u16 = 0x0001;
pub const ATTR_USERNAME: u16 = 0x0006;
pub const ATTR_MESSAGE_INTEGRITY: u16 = 0x0008;
pub const ATTR_ERROR_CODE: u16 = 0x0009;
pub const ATTR_UNKNOWN_ATTRIBUTES: u16 = 0x000A;
pub const ATTR_XOR_MAPPED_ADDRESS: u16 = 0x0020;
pub const ATTR_SOFTWARE: u16 = 0x8022;
pub const ATTR_FINGERPRINT: u16 = 0x8028;
/// session-ready's own comprehension-optional attributes (other STUN servers
/// ignore them, RFC 8489 §14): the probe's per-test id, 8 bytes ...
pub const ATTR_TEST_ID: u16 = 0xC5E1;
/// ... and the return-routability cookie: all zeros in a request asks for
/// one; a `serve` reply carries one bound to the address it was sent to; a
/// request echoing it proves the sender receives at its source address.
pub const ATTR_ECHO_COOKIE: u16 = 0xC5E2;
/// Length of both values.
pub const TAG_LEN: usize = 8;
/// FINGERPRINT is the CRC-32 of the message XOR this value ("STUN" in ASCII).
const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// The 96-bit id that pairs a response with its request.
pub type TransactionId = [u8; 12];

/// The four message classes encoded in the type field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Request,
    Indication,
    SuccessResponse,
    ErrorResponse,
}

/// One decoded attribute. Unknown ones are kept by type so a server can
/// report comprehension-required attributes it does not understand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    XorMappedAddress(SocketAddr),
    MappedAddress(SocketAddr),
    Software(String),
    ErrorCode { code: u16, reason: String },
    UnknownAttributes(Vec<u16>),
    Fingerprint(u32),
    TestId([u8; TAG_LEN]),
    EchoCookie([u8; TAG_LEN]),
    Other { kind: u16, len: u16 },
}

/// A decoded STUN message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub class: Class,
    pub method: u16,
    pub transaction_id: TransactionId,
    pub attributes: Vec<Attribute>,
}

impl Message {
    /// The address the server saw us from: XOR-MAPPED-ADDRESS, else the legacy MAPPED-ADDRESS.
    pub fn mapped_address(&self) -> Option<SocketAddr> {
        let xor = self.attributes.iter().find_map(|a| match a {
            Attribute::XorMappedAddress(addr) => Some(*addr),
            _ => None,
        });
        xor.or_else(|| {
            self.attributes.iter().find_map(|a| match a {
                Attribute::MappedAddress(addr) => Some(*addr),
                _ => None,
            })
        })
    }

    /// True when a FINGERPRINT attribute was present (and, since `parse` succeeded, valid).
    pub fn has_fingerprint(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| matches!(a, Attribute::Fingerprint(_)))
    }

    /// The probe's test id, when the request carries one.
    pub fn test_id(&self) -> Option<[u8; TAG_LEN]> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::TestId(id) => Some(*id),
            _ => None,
        })
    }

    /// The echo cookie, when present (all zeros: a request asking for one).
    pub fn echo_cookie(&self) -> Option<[u8; TAG_LEN]> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::EchoCookie(c) => Some(*c),
            _ => None,
        })
    }

    /// Comprehension-required attribute types (0x0000–0x7FFF) this codec does not understand.
    pub fn unknown_required(&self) -> Vec<u16> {
        self.attributes
            .iter()
            .filter_map(|a| match a {
                Attribute::Other { kind, .. } if *kind < 0x8000 => Some(*kind),
                _ => None,
            })
            .collect()
    }
}

/// Why some bytes are not a valid STUN message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StunError {
    #[error("shorter than a STUN header")]
    TooShort,
    #[error("the first two bits are not zero, so this is not STUN")]
    NotStun,
    #[error("wrong magic cookie")]
    BadCookie,
    #[error("the length field does not match the datagram")]
    BadLength,
    #[error("an attribute runs past the end of the message")]
    TruncatedAttribute,
    #[error("an attribute value is malformed")]
    BadAttribute,
    #[error("the FINGERPRINT does not match the message")]
    BadFingerprint,
    #[error("an attribute follows FINGERPRINT")]
    AttributeAfterFingerprint,
}

fn class_bits(class: Class) -> u16 {
    match class {
        Class::Request => 0b00,
        Class::Indication => 0b01,
        Class::SuccessResponse => 0b10,
        Class::ErrorResponse => 0b11,
    }
}

/// Interleave method and class bits into the 14-bit type field (RFC 8489 §5).
pub fn message_type(class: Class, method: u16) -> u16 {
    let c = class_bits(class);
    (method & 0x000F)
        | ((method & 0x0070) << 1)
        | ((method & 0x0F80) << 2)
        | ((c & 0b01) << 4)
        | ((c & 0b10) << 7)
}

fn split_type(kind: u16) -> (Class, u16) {
    let method = (kind & 0x000F) | ((kind >> 1) & 0x0070) | ((kind >> 2) & 0x0F80);
    let class = match ((kind >> 4) & 0b01) | ((kind >> 7) & 0b10) {
        0b00 => Class::Request,
        0b01 => Class::Indication,
        0b10 => Class::SuccessResponse,
        _ => Class::ErrorResponse,
    };
    (class, method)
}

fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn padded(len: usize) -> usize {
    (len + 3) & !3
}

/// Decode a STUN message. Never panics; rejects anything that is not a
/// well-formed RFC 5389/8489 message (classic RFC 3489 messages lack the cookie).
pub fn parse(bytes: &[u8]) -> Result<Message, StunError> {
    if bytes.len() < HEADER_LEN {
        return Err(StunError::TooShort);
    }
    let kind = read_u16(bytes, 0);
    if kind & 0xC000 != 0 {
        return Err(StunError::NotStun);
    }
    let body_len = read_u16(bytes, 2) as usize;
    if read_u32(bytes, 4) != MAGIC_COOKIE {
        return Err(StunError::BadCookie);
    }
    if !body_len.is_multiple_of(4) || HEADER_LEN + body_len != bytes.len() {
        return Err(StunError::BadLength);
    }
    let mut transaction_id = [0u8; 12];
    transaction_id.copy_from_slice(&bytes[8..20]);
    let (class, method) = split_type(kind);

    let mut attributes = Vec::new();
    let mut at = HEADER_LEN;
    let mut seen_fingerprint = false;
    while at < bytes.len() {
        if seen_fingerprint {
            return Err(StunError::AttributeAfterFingerprint);
        }
        if at + 4 > bytes.len() {
            return Err(StunError::TruncatedAttribute);
        }
        let attr_type = read_u16(bytes, at);
        let len = read_u16(bytes, at + 2) as usize;
        let value_start = at + 4;
        let next = value_start + padded(len);
        if next > bytes.len() {
            return Err(StunError::TruncatedAttribute);
        }
        let value = &bytes[value_start..value_start + len];
        let attribute = match attr_type {
            ATTR_XOR_MAPPED_ADDRESS => {
                Attribute::XorMappedAddress(decode_address(value, Some(&transaction_id))?)
            }
            ATTR_MAPPED_ADDRESS => Attribute::MappedAddress(decode_address(value, None)?),
            ATTR_SOFTWARE => Attribute::Software(String::from_utf8_lossy(value).into_owned()),
            ATTR_ERROR_CODE => {
                if len < 4 {
                    return Err(StunError::BadAttribute);
                }
                let class = u16::from(value[2] & 0x07);
                let number = u16::from(value[3]);
                if !(3..=6).contains(&class) || number > 99 {
                    return Err(StunError::BadAttribute);
                }
                Attribute::ErrorCode {
                    code: class * 100 + number,
                    reason: String::from_utf8_lossy(&value[4..]).into_owned(),
                }
            }
            ATTR_UNKNOWN_ATTRIBUTES => {
                if !len.is_multiple_of(2) {
                    return Err(StunError::BadAttribute);
                }
                Attribute::UnknownAttributes(
                    value
                        .chunks_exact(2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]))
                        .collect(),
                )
            }
            ATTR_TEST_ID | ATTR_ECHO_COOKIE => {
                let tag: [u8; TAG_LEN] = value.try_into().map_err(|_| StunError::BadAttribute)?;
                if attr_type == ATTR_TEST_ID {
                    Attribute::TestId(tag)
                } else {
                    Attribute::EchoCookie(tag)
                }
            }
            ATTR_FINGERPRINT => {
                if len != 4 {
                    return Err(StunError::BadAttribute);
                }
                let expected = crc32fast::hash(&bytes[..at]) ^ FINGERPRINT_XOR;
                let found = read_u32(value, 0);
                if found != expected {
                    return Err(StunError::BadFingerprint);
                }
                seen_fingerprint = true;
                Attribute::Fingerprint(found)
            }
            other => Attribute::Other {
                kind: other,
                len: len as u16,
            },
        };
        attributes.push(attribute);
        at = next;
    }
    Ok(Message {
        class,
        method,
        transaction_id,
        attributes,
    })
}

fn decode_address(value: &[u8], xor_with: Option<&TransactionId>) -> Result<SocketAddr, StunError> {
    if value.len() < 4 {
        return Err(StunError::BadAttribute);
    }
    let family = value[1];
    let mut port = read_u16(value, 2);
    let cookie = MAGIC_COOKIE.to_be_bytes();
    if xor_with.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    let ip = match (family, value.len()) {
        (0x01, 8) => {
            let mut octets = [value[4], value[5], value[6], value[7]];
            if xor_with.is_some() {
                for (o, k) in octets.iter_mut().zip(cookie) {
                    *o ^= k;
                }
            }
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        (0x02, 20) => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&value[4..20]);
            if let Some(txid) = xor_with {
                let key = cookie.iter().chain(txid.iter());
                for (o, k) in octets.iter_mut().zip(key) {
                    *o ^= k;
                }
            }
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return Err(StunError::BadAttribute),
    };
    Ok(SocketAddr::new(ip, port))
}

fn encode_address(addr: SocketAddr, txid: &TransactionId) -> Vec<u8> {
    let port = addr.port() ^ (MAGIC_COOKIE >> 16) as u16;
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let mut out = vec![0u8];
    match addr.ip() {
        IpAddr::V4(v4) => {
            out.push(0x01);
            out.extend_from_slice(&port.to_be_bytes());
            out.extend(v4.octets().iter().zip(cookie).map(|(o, k)| o ^ k));
        }
        IpAddr::V6(v6) => {
            out.push(0x02);
            out.extend_from_slice(&port.to_be_bytes());
            let key = cookie.iter().chain(txid.iter());
            out.extend(v6.octets().iter().zip(key).map(|(o, k)| o ^ k));
        }
    }
    out
}

/// Builds a message attribute by attribute, then fixes up the length (and FINGERPRINT).
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub fn new(class: Class, method: u16, txid: &TransactionId) -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&message_type(class, method).to_be_bytes());
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        buf.extend_from_slice(txid);
        Encoder { buf }
    }

    fn set_length(&mut self, body_len: usize) {
        let len = (body_len as u16).to_be_bytes();
        self.buf[2..4].copy_from_slice(&len);
    }

    pub fn attribute(mut self, kind: u16, value: &[u8]) -> Self {
        self.buf.extend_from_slice(&kind.to_be_bytes());
        self.buf
            .extend_from_slice(&(value.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(padded(self.buf.len()), 0);
        self
    }

    /// Finish; with `fingerprint`, append a FINGERPRINT computed over everything before it.
    pub fn finish(mut self, fingerprint: bool) -> Vec<u8> {
        let body = self.buf.len() - HEADER_LEN;
        if fingerprint {
            // The length field must already count the FINGERPRINT attribute (8 bytes).
            self.set_length(body + 8);
            let crc = crc32fast::hash(&self.buf) ^ FINGERPRINT_XOR;
            self.buf.extend_from_slice(&ATTR_FINGERPRINT.to_be_bytes());
            self.buf.extend_from_slice(&4u16.to_be_bytes());
            self.buf.extend_from_slice(&crc.to_be_bytes());
        } else {
            self.set_length(body);
        }
        self.buf
    }
}

/// A Binding request with no attributes (20 bytes; 28 with FINGERPRINT).
pub fn binding_request(txid: &TransactionId, fingerprint: bool) -> Vec<u8> {
    Encoder::new(Class::Request, METHOD_BINDING, txid).finish(fingerprint)
}

/// A Binding request of one test of `serve`'s call-like stream: its test id
/// and an echo cookie (zeros to ask for one). 44 bytes, so a reply carrying
/// a cookie stays within 1.6 times its size for IPv4 and IPv6 clients alike.
pub fn test_request(txid: &TransactionId, test: &[u8; TAG_LEN], cookie: &[u8; TAG_LEN]) -> Vec<u8> {
    Encoder::new(Class::Request, METHOD_BINDING, txid)
        .attribute(ATTR_TEST_ID, test)
        .attribute(ATTR_ECHO_COOKIE, cookie)
        .finish(false)
}

/// A Binding success response with a fresh echo cookie for the requester.
pub fn binding_success_with_cookie(
    txid: &TransactionId,
    mapped: SocketAddr,
    cookie: &[u8; TAG_LEN],
    fingerprint: bool,
) -> Vec<u8> {
    Encoder::new(Class::SuccessResponse, METHOD_BINDING, txid)
        .attribute(ATTR_XOR_MAPPED_ADDRESS, &encode_address(mapped, txid))
        .attribute(ATTR_ECHO_COOKIE, cookie)
        .finish(fingerprint)
}

/// A Binding success response carrying the requester's address.
pub fn binding_success(
    txid: &TransactionId,
    mapped: SocketAddr,
    software: Option<&str>,
    fingerprint: bool,
) -> Vec<u8> {
    let mut enc = Encoder::new(Class::SuccessResponse, METHOD_BINDING, txid)
        .attribute(ATTR_XOR_MAPPED_ADDRESS, &encode_address(mapped, txid));
    if let Some(name) = software {
        enc = enc.attribute(ATTR_SOFTWARE, name.as_bytes());
    }
    enc.finish(fingerprint)
}

/// A Binding error response (e.g. 420 with the attribute types we did not understand).
pub fn binding_error(
    txid: &TransactionId,
    code: u16,
    reason: &str,
    unknown: &[u16],
    fingerprint: bool,
) -> Vec<u8> {
    let mut value = vec![0, 0, (code / 100) as u8, (code % 100) as u8];
    value.extend_from_slice(reason.as_bytes());
    let mut enc =
        Encoder::new(Class::ErrorResponse, METHOD_BINDING, txid).attribute(ATTR_ERROR_CODE, &value);
    if !unknown.is_empty() {
        let list: Vec<u8> = unknown.iter().flat_map(|t| t.to_be_bytes()).collect();
        enc = enc.attribute(ATTR_UNKNOWN_ATTRIBUTES, &list);
    }
    enc.finish(fingerprint)
}

/// What a server sends back for one datagram from `source`, or `None` to stay
/// silent: only well-formed Binding requests are answered (not other methods,
/// responses or indications, nor anything that is not STUN), so the server
/// never answers traffic it did not ask for with something larger.
/// Replies mirror the request's use of FINGERPRINT. Without `software`, a
/// reply is at most 24 bytes longer than its request: 20 → 32 bytes for an
/// IPv4 client (1.6×), 20 → 44 for IPv6 (2.2×), and a 420 for unknown
/// comprehension-required attributes carries no reason text.
pub fn respond(datagram: &[u8], source: SocketAddr, software: Option<&str>) -> Option<Vec<u8>> {
    let request = parse(datagram).ok()?;
    if request.class != Class::Request || request.method != METHOD_BINDING {
        return None;
    }
    let fingerprint = request.has_fingerprint();
    let txid = &request.transaction_id;
    let unknown = request.unknown_required();
    if !unknown.is_empty() {
        return Some(binding_error(txid, 420, "", &unknown, fingerprint));
    }
    Some(binding_success(txid, source, software, fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TXID: TransactionId = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

    /// RFC 5769 §2.1 sample request: checks our FINGERPRINT and parsing against
    /// a vector built by others (its MESSAGE-INTEGRITY is kept as an opaque attribute).
    #[test]
    fn parses_rfc5769_sample_request_with_fingerprint() {
        let hex = "000100582112a442b7e7a701bc34d686fa87dfae\
                   802200105354554e207465737420636c69656e74\
                   002400046e0001ff80290008932ff9b151263b36\
                   000600096576746a3a68367659202020\
                   000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2\
                   80280004e57a3bcf";
        let bytes = from_hex(hex);
        let msg = parse(&bytes).expect("RFC 5769 sample parses");
        assert_eq!(msg.class, Class::Request);
        assert_eq!(msg.method, METHOD_BINDING);
        assert!(msg.has_fingerprint());
        assert_eq!(msg.transaction_id[..3], [0xb7, 0xe7, 0xa7]);
        assert!(
            msg.attributes
                .contains(&Attribute::Software("STUN test client".into()))
        );
        // USERNAME and MESSAGE-INTEGRITY are comprehension-required and not understood here.
        assert!(msg.unknown_required().contains(&ATTR_USERNAME));
        assert!(msg.unknown_required().contains(&ATTR_MESSAGE_INTEGRITY));
    }

    /// RFC 5769 §2.2 sample IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853.
    #[test]
    fn parses_rfc5769_sample_ipv4_response() {
        let hex = "0101003c2112a442b7e7a701bc34d686fa87dfae\
                   8022000b7465737420766563746f7220\
                   002000080001a147e112a643\
                   000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7\
                   80280004c07d4c96";
        let msg = parse(&from_hex(hex)).expect("RFC 5769 response parses");
        assert_eq!(msg.class, Class::SuccessResponse);
        assert_eq!(
            msg.mapped_address(),
            Some("192.0.2.1:32853".parse().unwrap())
        );
    }

    /// RFC 5769 §2.3 sample IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853.
    #[test]
    fn parses_rfc5769_sample_ipv6_response() {
        let hex = "010100482112a442b7e7a701bc34d686fa87dfae\
                   8022000b7465737420766563746f7220\
                   00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9\
                   00080014a382954e4be67bf11784c97c8292c275bfe3ed41\
                   80280004c8fb0b4c";
        let msg = parse(&from_hex(hex)).expect("RFC 5769 IPv6 response parses");
        assert_eq!(
            msg.mapped_address(),
            Some(
                "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
                    .parse()
                    .unwrap()
            )
        );
    }

    #[test]
    fn type_field_round_trips_every_class() {
        for class in [
            Class::Request,
            Class::Indication,
            Class::SuccessResponse,
            Class::ErrorResponse,
        ] {
            for method in [0x001, 0x003, 0x00A, 0xFFF] {
                assert_eq!(split_type(message_type(class, method)), (class, method));
            }
        }
        assert_eq!(message_type(Class::Request, METHOD_BINDING), 0x0001);
        assert_eq!(message_type(Class::SuccessResponse, METHOD_BINDING), 0x0101);
        assert_eq!(message_type(Class::ErrorResponse, METHOD_BINDING), 0x0111);
    }

    #[test]
    fn success_response_round_trips_v4_and_v6_with_and_without_fingerprint() {
        for addr in ["203.0.113.7:40000", "[2001:db8::1]:5349"] {
            let addr: SocketAddr = addr.parse().unwrap();
            for fp in [false, true] {
                let bytes = binding_success(&TXID, addr, Some("session-ready"), fp);
                let msg = parse(&bytes).unwrap();
                assert_eq!(msg.class, Class::SuccessResponse);
                assert_eq!(msg.transaction_id, TXID);
                assert_eq!(msg.mapped_address(), Some(addr));
                assert_eq!(msg.has_fingerprint(), fp);
            }
        }
    }

    #[test]
    fn server_answers_binding_requests_and_ignores_the_rest() {
        let from: SocketAddr = "198.51.100.2:6000".parse().unwrap();
        for fp in [false, true] {
            let reply = respond(&binding_request(&TXID, fp), from, None).unwrap();
            let msg = parse(&reply).unwrap();
            assert_eq!(msg.transaction_id, TXID);
            assert_eq!(msg.mapped_address(), Some(from));
            assert_eq!(
                msg.has_fingerprint(),
                fp,
                "reply mirrors the request's FINGERPRINT"
            );
        }
        // A response is never answered (no reflection loops); garbage is ignored.
        let response = binding_success(&TXID, from, None, false);
        assert!(respond(&response, from, None).is_none());
        // Nor is an indication, or a request for another method.
        let indication = Encoder::new(Class::Indication, METHOD_BINDING, &TXID).finish(false);
        assert!(respond(&indication, from, None).is_none());
        let allocate = Encoder::new(Class::Request, 0x003, &TXID).finish(false);
        assert!(respond(&allocate, from, None).is_none());
        assert!(respond(b"GET / HTTP/1.1\r\n\r\n", from, None).is_none());
        assert!(respond(&[], from, None).is_none());
    }

    #[test]
    fn unknown_required_attribute_gets_a_420_listing_it() {
        let request = Encoder::new(Class::Request, METHOD_BINDING, &TXID)
            .attribute(0x0024, &[0, 0, 0, 1])
            .finish(false);
        let reply =
            parse(&respond(&request, "192.0.2.9:1".parse().unwrap(), None).unwrap()).unwrap();
        assert_eq!(reply.class, Class::ErrorResponse);
        assert!(reply.attributes.contains(&Attribute::ErrorCode {
            code: 420,
            reason: String::new()
        }));
        assert!(
            reply
                .attributes
                .contains(&Attribute::UnknownAttributes(vec![0x0024]))
        );
        // Comprehension-optional attributes (>= 0x8000) are simply ignored.
        let optional = Encoder::new(Class::Request, METHOD_BINDING, &TXID)
            .attribute(0x8055, b"hi")
            .finish(false);
        let ok = parse(&respond(&optional, "192.0.2.9:1".parse().unwrap(), None).unwrap()).unwrap();
        assert_eq!(ok.class, Class::SuccessResponse);
    }

    /// The reflection bound documented on `respond` and in README.md.
    #[test]
    fn replies_are_at_most_24_bytes_longer_than_requests() {
        let v4: SocketAddr = "203.0.113.7:40000".parse().unwrap();
        let v6: SocketAddr = "[2001:db8::1]:40000".parse().unwrap();
        for fp in [false, true] {
            let request = binding_request(&TXID, fp);
            assert_eq!(
                respond(&request, v4, None).unwrap().len(),
                request.len() + 12
            );
            assert_eq!(
                respond(&request, v6, None).unwrap().len(),
                request.len() + 24
            );
        }
        assert_eq!(binding_request(&TXID, false).len(), 20);
        for unknown in 1..6u16 {
            let mut enc = Encoder::new(Class::Request, METHOD_BINDING, &TXID);
            for k in 0..unknown {
                enc = enc.attribute(0x0030 + k, &[]);
            }
            let request = enc.finish(false);
            let reply = respond(&request, v6, None).unwrap();
            assert!(
                reply.len() <= request.len() + 24,
                "{} vs {}",
                reply.len(),
                request.len()
            );
        }
    }

    /// A cookie-carrying reply to a test request stays within 1.6 times the
    /// request for IPv4 and IPv6 clients (the reflection rule for unverified addresses).
    #[test]
    fn cookie_replies_stay_within_the_reflection_bound_and_round_trip() {
        let test = [7u8; TAG_LEN];
        let cookie = [9u8; TAG_LEN];
        let request = test_request(&TXID, &test, &[0; TAG_LEN]);
        assert_eq!(request.len(), 44);
        let msg = parse(&request).unwrap();
        assert_eq!(msg.test_id(), Some(test));
        assert_eq!(msg.echo_cookie(), Some([0; TAG_LEN]));
        assert!(msg.unknown_required().is_empty());
        for addr in ["203.0.113.7:40000", "[2001:db8::1]:40000"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let reply = binding_success_with_cookie(&TXID, addr, &cookie, false);
            assert!(
                reply.len() * 5 <= request.len() * 8,
                "{} vs {}",
                reply.len(),
                request.len()
            );
            let back = parse(&reply).unwrap();
            assert_eq!(back.mapped_address(), Some(addr));
            assert_eq!(back.echo_cookie(), Some(cookie));
        }
        // A cookie of the wrong size is malformed, not silently accepted.
        let bad = Encoder::new(Class::Request, METHOD_BINDING, &TXID)
            .attribute(ATTR_ECHO_COOKIE, &[1, 2, 3])
            .finish(false);
        assert_eq!(parse(&bad), Err(StunError::BadAttribute));
    }

    #[test]
    fn malformed_messages_are_rejected_with_the_right_reason() {
        let good = binding_success(&TXID, "192.0.2.1:1".parse().unwrap(), None, true);
        assert_eq!(parse(&good[..19]), Err(StunError::TooShort));

        let mut not_stun = good.clone();
        not_stun[0] |= 0x80;
        assert_eq!(parse(&not_stun), Err(StunError::NotStun));

        let mut cookie = good.clone();
        cookie[4] ^= 1;
        assert_eq!(parse(&cookie), Err(StunError::BadCookie));

        let mut longer = good.clone();
        longer.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(parse(&longer), Err(StunError::BadLength));

        let mut corrupted = good.clone();
        let n = corrupted.len();
        corrupted[n - 9] ^= 0xFF; // inside XOR-MAPPED-ADDRESS: the CRC no longer matches
        assert_eq!(parse(&corrupted), Err(StunError::BadFingerprint));

        // An attribute claiming more bytes than the message has.
        let mut truncated = binding_request(&TXID, false);
        truncated.extend_from_slice(&[0x80, 0x22, 0x00, 0x10]);
        truncated[3] = 4;
        assert_eq!(parse(&truncated), Err(StunError::TruncatedAttribute));

        // An IPv4 address attribute of the wrong size.
        let bad_addr = Encoder::new(Class::SuccessResponse, METHOD_BINDING, &TXID)
            .attribute(ATTR_XOR_MAPPED_ADDRESS, &[0, 1, 0, 0, 1])
            .finish(false);
        assert_eq!(parse(&bad_addr), Err(StunError::BadAttribute));

        // Nothing may follow FINGERPRINT.
        let mut after = binding_request(&TXID, true);
        after.extend_from_slice(&[0x80, 0x22, 0, 0]);
        let len = (after.len() - HEADER_LEN) as u16;
        after[2..4].copy_from_slice(&len.to_be_bytes());
        assert!(parse(&after).is_err());
    }

    fn from_hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }
}
