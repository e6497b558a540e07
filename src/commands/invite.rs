//! `session-ready invite`: print a signed, expiring link to the hosted check.
use std::path::{Path, PathBuf};

use crate::cli::InviteArgs;
use crate::error::{Exit, InputError};
use crate::invite;

/// Where the signing secret lives unless `--secret` says otherwise.
fn default_secret() -> Option<PathBuf> {
    dirs::data_local_dir().map(|d| d.join("session-ready").join("invitation-secret"))
}

/// The clinic's signing secret: read, or created owner-only on first use
/// (`create`; `serve` only reads it, so a typo there makes no new secret
/// that would refuse every link).
pub(super) fn secret(given: Option<&Path>, create: bool) -> anyhow::Result<Vec<u8>> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => default_secret().ok_or_else(|| {
            InputError::Usage(
                "There is no data folder for this user to keep the invitation secret in; \
                 name a file with --secret FILE."
                    .into(),
            )
        })?,
    };
    if create && std::fs::symlink_metadata(&path).is_err() {
        if given.is_none()
            && let Some(dir) = path.parent()
        {
            std::fs::create_dir_all(dir)?;
        }
        let bits: [u8; 32] = rand::random();
        let text: String = bits.iter().map(|b| format!("{b:02x}")).collect();
        crate::fsutil::write_private(&path, format!("{text}\n").as_bytes())?;
        eprintln!(
            "A new invitation secret was made at {} (only your user account can read it). \
             `serve --clinic` needs the same file; anyone who has it can make invitations.",
            path.display()
        );
    }
    let bytes = crate::fsutil::read_input(&path, 4096)?;
    let text = crate::fsutil::input_text(&path, bytes)?;
    #[cfg(unix)]
    if !crate::fsutil::is_owner_only(&path).unwrap_or(false) {
        return Err(InputError::file(
            &path,
            "other users can read it, and anyone who reads it can make invitations. Make it \
             yours alone (chmod 600) and run the command again.",
        )
        .into());
    }
    let key = text.trim();
    if key.len() < 2 * invite::MIN_SECRET_BYTES {
        return Err(InputError::file(
            &path,
            format!(
                "an invitation secret is at least {} characters; this one is shorter. Remove \
                 the file to have a new one made (links made with the old one stop working).",
                2 * invite::MIN_SECRET_BYTES
            ),
        )
        .into());
    }
    Ok(key.as_bytes().to_vec())
}

/// The clinic file, which hosting needs a recipient in.
pub(super) fn clinic(path: &Path) -> anyhow::Result<crate::clinic::ClinicConfig> {
    let clinic = crate::clinic::load(path)?;
    if clinic.recipient.is_none() {
        return Err(InputError::file(
            path,
            "a hosted check encrypts every report to the clinic's key, and this file has no \
             `recipient`. Add the public key (age1…) that `session-ready keygen` printed.",
        )
        .into());
    }
    Ok(clinic)
}

/// Seconds since 1970.
pub(super) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn run(args: InviteArgs) -> anyhow::Result<Exit> {
    clinic(&args.clinic)?;
    let base = args.url.trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) || base.contains(['?', '#']) {
        return Err(InputError::Usage(format!(
            "--url: {:?} should be the address clients reach `serve` at, for example \
             https://check.example.org.",
            args.url
        ))
        .into());
    }
    let expires = invite::parse_duration(&args.expires).map_err(InputError::Usage)?;
    if let Some(r) = &args.client_ref {
        invite::check_ref(r).map_err(InputError::Usage)?;
    }
    let key = secret(args.secret.as_deref(), true)?;
    let invitation = invite::new(args.client_ref, now() + expires);
    let token = invite::sign(&invitation, &key);
    let until = chrono::DateTime::from_timestamp(invitation.expires, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    eprintln!("This link opens one check, once, until {until}:");
    crate::fsutil::emit(None, format!("{base}/c/{token}\n").as_bytes())?;
    Ok(Exit::Done)
}
