//! age encryption of the clinician copy. The clinic holds the private key; the
//! client's machine only ever sees the public recipient (`age1…`), so a saved
//! clinician copy is unreadable to anyone else who uses the computer.
//!
//! Output is ASCII-armored (`-----BEGIN AGE ENCRYPTED FILE-----`): it survives
//! being pasted into an email and is still opened by the standard `age` tool.
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use age::secrecy::ExposeSecret;

use crate::error::InputError;

/// First line of an armored age file.
pub const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
/// First bytes of a binary age file.
const BINARY_MAGIC: &[u8] = b"age-encryption.org/";

/// Parse an age public key, explaining what is expected when it is not one.
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient, String> {
    let trimmed = text.trim();
    age::x25519::Recipient::from_str(trimmed).map_err(|_| {
        let shown: String = trimmed.chars().take(24).collect();
        let shown = if trimmed.chars().count() > 24 {
            format!("{shown}…")
        } else {
            shown
        };
        if trimmed.starts_with("AGE-SECRET-KEY-") {
            // Never echo a private key back to the screen.
            "this is a private key (AGE-SECRET-KEY-…). Use the clinic's public key, which \
             starts with age1; keep the private key with the clinic only"
                .to_string()
        } else {
            format!(
                "\"{shown}\" is not an age public key; one starts with age1 and is 62 characters \
                 long, like the \"public key\" line that `session-ready keygen` prints"
            )
        }
    })
}

/// Encrypt `plaintext` to `recipient`, armored.
pub fn encrypt(plaintext: &[u8], recipient: &age::x25519::Recipient) -> anyhow::Result<Vec<u8>> {
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))?;
    let armored = ArmoredWriter::wrap_output(Vec::new(), ArmorFormat::AsciiArmor)?;
    let mut writer = encryptor.wrap_output(armored)?;
    writer.write_all(plaintext)?;
    Ok(writer.finish()?.finish()?)
}

/// True when `bytes` look like an age file (armored or binary).
pub fn looks_encrypted(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let rest = &bytes[start..];
    rest.starts_with(ARMOR_BEGIN.as_bytes()) || rest.starts_with(BINARY_MAGIC)
}

/// Read the identities (private keys) in an age identity file, as written by
/// `session-ready keygen` or `age-keygen`.
pub fn load_identities(
    identity_path: &Path,
) -> Result<Vec<Box<dyn age::Identity + Send + Sync>>, InputError> {
    if !identity_path.exists() {
        return Err(InputError::file(
            identity_path,
            "the key file could not be opened (there is no file there). Check the path given \
             to --identity; it is the file `session-ready keygen` (or `age-keygen`) wrote for \
             the clinic.",
        ));
    }
    let bytes = crate::fsutil::read_input(identity_path, crate::fsutil::MAX_INPUT_BYTES)?;
    warn_if_others_can_read(identity_path);
    let parsed = age::IdentityFile::from_buffer(BufReader::new(&bytes[..])).map_err(|e| {
        InputError::file(
            identity_path,
            format!(
                "it is not an age key file ({e}). A key file has a line starting with \
                 AGE-SECRET-KEY-; check that --identity names the clinic's private key file, \
                 not the public key or the report."
            ),
        )
    })?;
    let identities = parsed.into_identities().map_err(|e| {
        InputError::file(identity_path, format!("its keys could not be used ({e})."))
    })?;
    if identities.is_empty() {
        return Err(InputError::file(
            identity_path,
            "it holds no key. A key file has a line starting with AGE-SECRET-KEY-; check that \
             --identity names the clinic's private key file.",
        ));
    }
    Ok(identities)
}

/// A file locked with a passphrase (`age -p`) rather than to the clinic's key.
fn passphrase_locked(file: &Path) -> InputError {
    InputError::file(
        file,
        "it is locked with a passphrase, not with the clinic's key, so --identity cannot open \
         it. The file was not changed. Open it with `age --decrypt` and the passphrase, or ask \
         for it to be saved again encrypted for the clinic (session-ready check --encrypt-to).",
    )
}

/// Decrypt an age file read from `file` with the keys in `identity_path`.
/// Every failure names the file and what to do; the encrypted file is never changed.
pub fn decrypt(
    ciphertext: &[u8],
    file: &Path,
    identity_path: &Path,
) -> Result<Vec<u8>, InputError> {
    let identities = load_identities(identity_path)?;
    let damaged = |detail: &str| {
        InputError::file(
            file,
            format!(
                "it is encrypted, but it could not be opened because it seems damaged or \
                 incomplete ({detail}). The file itself was not changed. Ask for it to be \
                 sent or saved again."
            ),
        )
    };
    let reader = BufReader::new(ArmoredReader::new(ciphertext));
    let decryptor = age::Decryptor::new_buffered(reader).map_err(|e| match e {
        age::DecryptError::UnknownFormat => InputError::file(
            file,
            "it is encrypted with a newer age format than this version understands. \
             The file was not changed; update session-ready, or open it with the `age` tool.",
        ),
        other => damaged(&other.to_string()),
    })?;
    if decryptor.is_scrypt() {
        return Err(passphrase_locked(file));
    }
    let reader = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => InputError::file(
                file,
                format!(
                    "it is encrypted to a different key than the one in {}. The file was not \
                     changed. Check that --identity names the key of the clinic this report was \
                     encrypted for.",
                    identity_path.display()
                ),
            ),
            other => damaged(&other.to_string()),
        })?;
    let mut plaintext = Vec::new();
    let limit = crate::fsutil::MAX_INPUT_BYTES;
    reader
        .take(limit + 1)
        .read_to_end(&mut plaintext)
        .map_err(|e| damaged(&e.to_string()))?;
    if plaintext.len() as u64 > limit {
        return Err(InputError::file(
            file,
            "once opened, it is larger than the limit of 1 MB for reports. Nothing was \
             changed; check that this is the right file.",
        ));
    }
    Ok(plaintext)
}

/// A new identity file (same layout as `age-keygen`) and its public key.
pub fn generate_identity() -> (String, String) {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let file = format!(
        "# created: {created}\n# public key: {public}\n{}\n",
        identity.to_string().expose_secret()
    );
    (file, public)
}

/// Like ssh, say so when a private key file can be read by other accounts on
/// this computer (group or world bits): anyone who can read it can open every
/// report encrypted to it. Said once per run, however many reports are opened.
fn warn_if_others_can_read(path: &Path) {
    if let Some(mode) = others_can_read(path) {
        static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            eprintln!(
                "{}",
                crate::safe_text::printable(&format!(
                    "Note: the key file {} can be read by other accounts on this computer \
                     (permissions {mode:o}). Anyone who can read it can open the reports \
                     encrypted to it. To keep it private: chmod 600 {}",
                    path.display(),
                    path.display()
                ))
            );
        }
    }
}

/// The file's permission bits when group or others may read it.
#[cfg(unix)]
pub fn others_can_read(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
pub fn others_can_read(_path: &Path) -> Option<u32> {
    // Windows files in the user's profile are private by default ACLs.
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_file(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
        let (text, public) = generate_identity();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        (path, public)
    }

    #[test]
    fn round_trip_is_armored_and_detected() {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = key_file(dir.path(), "key.txt");
        let recipient = parse_recipient(&public).unwrap();
        let sealed = encrypt(b"{\"schema\":1}", &recipient).unwrap();
        assert!(String::from_utf8_lossy(&sealed).starts_with(ARMOR_BEGIN));
        assert!(looks_encrypted(&sealed));
        assert!(!looks_encrypted(b"{\"schema\":1}"));
        let opened = decrypt(&sealed, Path::new("r.json.age"), &key).unwrap();
        assert_eq!(opened, b"{\"schema\":1}");
    }

    /// Issue 24, item 14: a passphrase file was called "encrypted to a
    /// different key".
    #[test]
    fn a_passphrase_file_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = key_file(dir.path(), "key.txt");
        let encryptor = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
            "correct horse".to_string(),
        ));
        let mut sealed = Vec::new();
        let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
        writer.write_all(b"{}").unwrap();
        writer.finish().unwrap();
        let msg = decrypt(&sealed, Path::new("r.age"), &key)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("locked with a passphrase, not with the clinic's key"),
            "{msg}"
        );
        assert!(!msg.contains("different key"), "{msg}");
    }

    #[test]
    fn wrong_key_names_both_files_calmly() {
        let dir = tempfile::tempdir().unwrap();
        let (_, public) = key_file(dir.path(), "right.txt");
        let (wrong, _) = key_file(dir.path(), "wrong.txt");
        let sealed = encrypt(b"x", &parse_recipient(&public).unwrap()).unwrap();
        let msg = decrypt(&sealed, Path::new("r.age"), &wrong)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("r.age") && msg.contains("wrong.txt"), "{msg}");
        assert!(
            msg.contains("different key") && msg.contains("not changed"),
            "{msg}"
        );
    }

    #[test]
    fn damaged_and_truncated_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = key_file(dir.path(), "key.txt");
        let sealed = encrypt(&[7u8; 5000], &parse_recipient(&public).unwrap()).unwrap();
        let text = String::from_utf8(sealed).unwrap();
        // Flip one character in the middle of the base64 body.
        let mid = text.len() / 2;
        let mut chars: Vec<char> = text.chars().collect();
        chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
        let flipped: String = chars.into_iter().collect();
        let truncated = &text[..text.len() / 2];
        for broken in [flipped.as_str(), truncated] {
            let msg = decrypt(broken.as_bytes(), Path::new("r.age"), &key)
                .unwrap_err()
                .to_string();
            assert!(msg.contains("damaged or incomplete"), "{msg}");
            assert!(msg.contains("r.age"), "{msg}");
        }
    }

    #[test]
    fn missing_and_wrong_kind_of_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = decrypt(b"x", Path::new("r.age"), &dir.path().join("nope.txt"))
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("nope.txt") && missing.contains("no file there"),
            "{missing}"
        );
        let not_key = dir.path().join("report.json");
        std::fs::write(&not_key, "{\"schema\": \"x\"}").unwrap();
        let msg = decrypt(b"x", Path::new("r.age"), &not_key)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not an age key file"), "{msg}");
    }

    #[test]
    fn recipient_errors_never_echo_private_keys() {
        let (file, _) = generate_identity();
        let secret = file.lines().last().unwrap();
        let msg = parse_recipient(secret).unwrap_err();
        assert!(!msg.contains(&secret[16..]), "{msg}");
        assert!(msg.contains("private key"));
        assert!(parse_recipient("age1nope").unwrap_err().contains("age1"));
    }
}
