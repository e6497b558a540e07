//! What `check` uses once the command-line flags are laid over the clinic
//! file (`--clinic FILE`, read by [`crate::clinic`]): a flag always wins.
use crate::cli::CheckArgs;
use crate::clinic::ClinicConfig;
use crate::error::InputError;
use crate::report::model::ClinicInfo;

/// What `check` uses once command-line flags are laid over the clinic file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// age recipient for the clinician copy: `--encrypt-to`, else the file's `recipient`.
    pub recipient: Option<String>,
    /// `--server`, else the file's `server`.
    pub server: Option<String>,
    /// `--stun`, else the file's `stun` (unless `--server` replaced the file's server).
    pub stun: Option<String>,
    /// `--region`, else the file's `region` (normalised, e.g. "uk" → "GB").
    pub region: Option<String>,
    /// Clinic name and dropped-call number for the report.
    pub clinic: Option<ClinicInfo>,
}

/// Lay the command-line flags over the clinic file: a flag always wins.
/// `--encrypt-to` is checked here too, so a mistyped key is caught before the
/// client answers any question.
pub fn lay_flags_over(
    file: Option<&ClinicConfig>,
    args: &CheckArgs,
) -> Result<Settings, InputError> {
    if let Some(flag) = &args.encrypt_to {
        crate::report::encrypt::parse_recipient(flag)
            .map_err(|why| InputError::Usage(format!("--encrypt-to: {why}.")))?;
    }
    let from_file = |f: fn(&ClinicConfig) -> &Option<String>| file.and_then(|c| f(c).clone());
    Ok(Settings {
        recipient: args
            .encrypt_to
            .as_ref()
            .map(|s| s.trim().to_string())
            .or_else(|| from_file(|c| &c.recipient)),
        server: args
            .probe
            .server
            .clone()
            .or_else(|| from_file(|c| &c.server)),
        // The file's STUN server belongs with the file's server: a --server of
        // one's own goes without it (the probe then asks that server).
        stun: args.probe.stun.clone().or_else(|| {
            args.probe
                .server
                .is_none()
                .then(|| from_file(|c| &c.stun))
                .flatten()
        }),
        region: args
            .region
            .as_deref()
            .and_then(crate::crisis::normalise_region)
            .or_else(|| from_file(|c| &c.region)),
        clinic: file.and_then(ClinicConfig::report_info),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    const PUBLIC: &str = "age1uje8etukzlupjjg5mx4t6ctfdsd6rjsun2522rka9x84mtst6fvsxmlkeh";

    fn args(extra: &[&str]) -> CheckArgs {
        let mut argv = vec!["session-ready", "check"];
        argv.extend_from_slice(extra);
        match crate::cli::Cli::parse_from(argv).command {
            crate::cli::Command::Check(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn flags_override_the_clinic_file() {
        let file = ClinicConfig {
            name: Some("Riverside".into()),
            recipient: Some(PUBLIC.into()),
            server: Some("https://clinic.example".into()),
            stun: Some("clinic.example:3478".into()),
            dropped_call_phone: Some("020 7946 0000".into()),
            region: Some("GB".into()),
            ..Default::default()
        };
        let s = lay_flags_over(Some(&file), &args(&[])).unwrap();
        assert_eq!(s.recipient.as_deref(), Some(PUBLIC));
        assert_eq!(s.server.as_deref(), Some("https://clinic.example"));
        assert_eq!(s.region.as_deref(), Some("GB"));

        let other = crate::report::encrypt::generate_identity().1;
        let s = lay_flags_over(
            Some(&file),
            &args(&[
                "--encrypt-to",
                &other,
                "--server",
                "http://127.0.0.1:8080",
                "--stun",
                "127.0.0.1:8080",
                "--region",
                "ie",
            ]),
        )
        .unwrap();
        assert_eq!(s.recipient.as_deref(), Some(other.as_str()));
        assert_eq!(s.server.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(s.stun.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(s.region.as_deref(), Some("IE"));
        assert_eq!(s.clinic.unwrap().name.as_deref(), Some("Riverside"));

        let s = lay_flags_over(Some(&file), &args(&["--server", "http://127.0.0.1:8080"])).unwrap();
        assert_eq!(
            s.stun, None,
            "the file's STUN server goes with the file's server"
        );

        assert_eq!(
            lay_flags_over(None, &args(&[])).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn a_bad_encrypt_to_flag_is_caught_before_any_question() {
        let msg = lay_flags_over(None, &args(&["--encrypt-to", "age1typo"]))
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("--encrypt-to:"), "{msg}");
    }
}
