//! Invitations to a hosted check: a link a clinic sends to one client.
//!
//! The token in the link is signed (HMAC-SHA256, `ring`) with the clinic's
//! secret and carries everything the server needs: a random id (so each
//! invitation is used once), the client reference and the expiry. Nothing
//! is stored when an invitation is made, so `invite` and `serve` share only
//! the secret. The format is `v1.ID.EXPIRES.REF.MAC`, all URL-safe: ID 32
//! hex digits (128 random bits), EXPIRES Unix seconds, REF the reference as
//! hex (empty when none), MAC 64 hex digits over everything before it.
//!
//! Pure: no clock and no files; the caller passes the time and the secret.
use ring::hmac;

/// The version prefix of every token.
const VERSION: &str = "v1";

/// The longest client reference: a case number or initials, not a story.
pub const MAX_REF_CHARS: usize = 64;

/// The longest an invitation may stay open.
pub const MAX_EXPIRY_SECS: i64 = 90 * 24 * 3600;

/// The shortest signing secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// 32 hex digits, random: what "used once" is kept against.
    pub id: String,
    /// The clinic's own reference for the client, if it gave one.
    pub client_ref: Option<String>,
    /// Unix seconds after which the link opens nothing.
    pub expires: i64,
}

/// Why a link opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a token this clinic made (changed, cut short, or another secret).
    Altered,
    /// Made here, but past its expiry.
    Expired,
}

/// A new invitation with a random id.
pub fn new(client_ref: Option<String>, expires: i64) -> Invitation {
    let bits: u128 = rand::random();
    Invitation {
        id: format!("{bits:032x}"),
        client_ref,
        expires,
    }
}

/// A client reference is short, printable text (it is shown to the clinic,
/// never to the client).
pub fn check_ref(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("--client-ref is empty; give a short reference or leave the flag out.".into());
    }
    if text.chars().count() > MAX_REF_CHARS {
        return Err(format!(
            "--client-ref is longer than {MAX_REF_CHARS} characters; a short case number or \
             initials is enough."
        ));
    }
    crate::safe_text::check_field("--client-ref", text, false)
}

/// The signed token for `invitation`.
pub fn sign(invitation: &Invitation, secret: &[u8]) -> String {
    let body = format!(
        "{VERSION}.{}.{}.{}",
        invitation.id,
        invitation.expires,
        hex(invitation.client_ref.as_deref().unwrap_or("").as_bytes())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mac = hmac::sign(&key, body.as_bytes());
    format!("{body}.{}", hex(mac.as_ref()))
}

/// What `token` says, if this clinic signed it and it has not expired at
/// `now` (Unix seconds). The signature is checked in constant time before
/// anything in the token is believed.
pub fn verify(token: &str, secret: &[u8], now: i64) -> Result<Invitation, Refusal> {
    let (body, mac) = token.rsplit_once('.').ok_or(Refusal::Altered)?;
    let mac = unhex(mac).ok_or(Refusal::Altered)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body.as_bytes(), &mac).map_err(|_| Refusal::Altered)?;
    let mut parts = body.split('.');
    let (Some(VERSION), Some(id), Some(expires), Some(client_ref), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(Refusal::Altered);
    };
    let expires: i64 = expires.parse().map_err(|_| Refusal::Altered)?;
    let client_ref = String::from_utf8(unhex(client_ref).ok_or(Refusal::Altered)?)
        .map_err(|_| Refusal::Altered)?;
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Refusal::Altered);
    }
    if now >= expires {
        return Err(Refusal::Expired);
    }
    Ok(Invitation {
        id: id.to_string(),
        client_ref: (!client_ref.is_empty()).then_some(client_ref),
        expires,
    })
}

/// How long an invitation stays open: a number and a unit (`m`, `h` or
/// `d`), e.g. `30m`, `48h`, `7d`; at most [`MAX_EXPIRY_SECS`].
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "--expires: {text:?} should be a number and a unit, for example 30m, 48h or 7d \
             (at most 90 days)."
        )
    };
    let text = text.trim();
    let unit = text.chars().last().ok_or_else(bad)?;
    let scale = match unit {
        'm' => 60,
        'h' => 3600,
        'd' => 24 * 3600,
        _ => return Err(bad()),
    };
    let n: i64 = text[..text.len() - 1].parse().map_err(|_| bad())?;
    let secs = n.checked_mul(scale).ok_or_else(bad)?;
    if secs <= 0 || secs > MAX_EXPIRY_SECS {
        return Err(bad());
    }
    Ok(secs)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    fn invitation() -> Invitation {
        new(Some("case 42".into()), NOW + 3600)
    }

    #[test]
    fn a_signed_token_verifies_and_carries_id_reference_and_expiry() {
        let inv = invitation();
        let token = sign(&inv, SECRET);
        assert_eq!(verify(&token, SECRET, NOW), Ok(inv.clone()));
        assert!(token.contains(&inv.id));
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.')
        );
        let plain = new(None, NOW + 60);
        assert_eq!(verify(&sign(&plain, SECRET), SECRET, NOW), Ok(plain));
    }

    #[test]
    fn ids_are_random() {
        assert_ne!(invitation().id, invitation().id);
    }

    #[test]
    fn an_altered_token_is_refused() {
        let token = sign(&invitation(), SECRET);
        // Every single character changed, one at a time.
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'1' { b'2' } else { b'1' };
            let altered = String::from_utf8(bytes).unwrap();
            if altered != token {
                assert_eq!(verify(&altered, SECRET, NOW), Err(Refusal::Altered), "{i}");
            }
        }
        // A later expiry, re-using the old signature.
        let (body, mac) = token.rsplit_once('.').unwrap();
        let later = body.replace(&(NOW + 3600).to_string(), &(NOW + 99_999).to_string());
        assert_eq!(
            verify(&format!("{later}.{mac}"), SECRET, NOW),
            Err(Refusal::Altered)
        );
        assert_eq!(
            verify(&token[..token.len() - 2], SECRET, NOW),
            Err(Refusal::Altered)
        );
        assert_eq!(verify("", SECRET, NOW), Err(Refusal::Altered));
        assert_eq!(verify("v1", SECRET, NOW), Err(Refusal::Altered));
    }

    #[test]
    fn another_secret_is_refused() {
        let token = sign(&invitation(), SECRET);
        assert_eq!(
            verify(&token, b"another secret, 32 bytes long...", NOW),
            Err(Refusal::Altered)
        );
    }

    #[test]
    fn an_expired_token_is_refused_from_its_expiry_on() {
        let inv = invitation();
        let token = sign(&inv, SECRET);
        assert!(verify(&token, SECRET, inv.expires - 1).is_ok());
        assert_eq!(verify(&token, SECRET, inv.expires), Err(Refusal::Expired));
        assert_eq!(
            verify(&token, SECRET, inv.expires + 1),
            Err(Refusal::Expired)
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("48h"), Ok(48 * 3600));
        assert_eq!(parse_duration("7d"), Ok(7 * 24 * 3600));
        for bad in [
            "",
            "7",
            "d",
            "0d",
            "-1h",
            "91d",
            "7w",
            "1.5h",
            "99999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn references() {
        assert!(check_ref("case 42").is_ok());
        assert!(check_ref(" ").is_err());
        assert!(check_ref(&"x".repeat(65)).is_err());
        assert!(check_ref("a\u{202e}b").is_err());
    }
}
