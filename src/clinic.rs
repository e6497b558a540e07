//! Clinic settings file read by `check --clinic FILE` (TOML, see
//! examples/clinic.toml). A clinic presets where encrypted clinician copies go,
//! which measurement server to use, the phone number for dropped calls and the
//! region for crisis numbers. Command-line flags always override the file.
use std::path::Path;

pub mod hours;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::report::model::ClinicInfo;

/// What a clinic can preset for its clients.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicConfig {
    /// Clinic name shown on reports.
    pub name: Option<String>,
    /// age recipient (age1…) to encrypt clinician copies to.
    pub recipient: Option<String>,
    /// Measurement server URL (a session-ready `serve`), or a list of them
    /// (a clinic network): the nearest one answers the test.
    #[serde(default, deserialize_with = "one_or_many")]
    #[schemars(with = "Option<ServerField>")]
    pub server: Option<String>,
    /// STUN server HOST:PORT.
    pub stun: Option<String>,
    /// The clinic's number to ring if a video call drops.
    pub dropped_call_phone: Option<String>,
    /// Default region for crisis resources.
    pub region: Option<String>,
    /// When the clinic reads reports (the hosted check tells the client).
    pub office_hours: Option<hours::OfficeHoursFile>,
}

/// `server = "https://…"` or `server = ["https://…", "https://…"]`.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum ServerField {
    One(String),
    Many(Vec<String>),
}

/// A list is kept as one comma-separated text, as `--server` takes it.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(
        Option::<ServerField>::deserialize(d)?.map(|field| match field {
            ServerField::One(url) => url,
            ServerField::Many(urls) => urls.join(", "),
        }),
    )
}

/// The fields a clinic file may hold, for messages.
const FIELDS: [&str; 7] = [
    "name",
    "recipient",
    "server",
    "stun",
    "dropped_call_phone",
    "region",
    "office_hours",
];

/// Read and check a clinic file. Every problem is reported at once, naming the
/// field and what was expected, so the file can be fixed in one go.
pub fn load(path: &Path) -> Result<ClinicConfig, InputError> {
    let bytes = crate::fsutil::read_input(path, crate::fsutil::MAX_INPUT_BYTES)?;
    let text = crate::fsutil::input_text(path, bytes)?;
    parse(path, &text)
}

/// Check the text of a clinic file; `path` is only used in messages.
pub fn parse(path: &Path, text: &str) -> Result<ClinicConfig, InputError> {
    let mut config: ClinicConfig = toml::from_str(text).map_err(|e| {
        // toml's message names the field and shows the line; add the known fields.
        let detail = e.message().trim_end_matches('.').to_string();
        let line = e
            .span()
            .map(|span| format!(" (line {})", text[..span.start].matches('\n').count() + 1))
            .unwrap_or_default();
        // toml already lists the fields for an unknown one; otherwise list them here.
        let fields = if detail.contains("expected one of") {
            String::new()
        } else {
            format!(" The fields, all optional, are: {}.", FIELDS.join(", "))
        };
        InputError::file(
            path,
            format!("{detail}{line}. A clinic file is TOML, like examples/clinic.toml.{fields}"),
        )
    })?;
    let problems = config.normalise();
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(InputError::file(path, problems.join(" ")))
    }
}

impl ClinicConfig {
    /// Check each field and tidy it (trim, upper-case the region); returns the
    /// problems found, each naming the field.
    fn normalise(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        for (field, value) in [
            ("name", &mut self.name),
            ("recipient", &mut self.recipient),
            ("server", &mut self.server),
            ("stun", &mut self.stun),
            ("dropped_call_phone", &mut self.dropped_call_phone),
            ("region", &mut self.region),
        ] {
            if let Some(v) = value {
                *v = v.trim().to_string();
                if v.is_empty() {
                    problems.push(format!("Field \"{field}\" is empty; leave it out instead."));
                    *value = None;
                } else if let Err(problem) =
                    // Invisible characters would reach addresses and printed reports.
                    crate::safe_text::check_field(
                        &format!("Field \"{field}\""),
                        v,
                        false,
                    )
                {
                    problems.push(problem);
                }
            }
        }
        if let Some(r) = &self.recipient
            && let Err(why) = crate::report::encrypt::parse_recipient(r)
        {
            problems.push(format!("Field \"recipient\": {why}."));
        }
        if let Some(s) = &self.server {
            let servers = crate::net::probe::server_list(s);
            if servers.is_empty() {
                problems.push("Field \"server\" lists no web address.".to_string());
            }
            for server in servers {
                if let Err(why) = check_server(&server) {
                    problems.push(format!("Field \"server\": {why}."));
                }
            }
        }
        if let Some(s) = &self.stun
            && let Err(why) = check_host_port(s)
        {
            problems.push(format!("Field \"stun\": {why}."));
        }
        if let Some(p) = &self.dropped_call_phone
            && !p.chars().any(|c| c.is_ascii_digit())
        {
            problems.push(format!(
                "Field \"dropped_call_phone\": \"{p}\" has no digits; expected a phone number \
                 such as \"+44 20 7946 0000\"."
            ));
        }
        if let Some(r) = &self.region {
            match crate::crisis::normalise_region(r) {
                Some(code) => self.region = Some(code),
                None => problems.push(format!(
                    "Field \"region\": {}",
                    crate::crisis::unknown_region(r)
                )),
            }
        }
        if let Some(Err(mut found)) = self
            .office_hours
            .as_ref()
            .map(hours::OfficeHoursFile::parse)
        {
            problems.append(&mut found);
        }
        problems
    }

    /// The office hours, checked when the file was read.
    pub fn office_hours(&self) -> Option<hours::OfficeHours> {
        self.office_hours.as_ref().and_then(|h| h.parse().ok())
    }

    /// What reports show about the clinic, if anything.
    pub fn report_info(&self) -> Option<ClinicInfo> {
        (self.name.is_some() || self.dropped_call_phone.is_some()).then(|| ClinicInfo {
            name: self.name.clone(),
            dropped_call_phone: self.dropped_call_phone.clone(),
        })
    }
}

fn check_server(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(format!(
            "\"{url}\" is not a web address; expected one like \
             \"https://speedtest.example.org:8080\""
        )),
    }
}

fn check_host_port(value: &str) -> Result<(), String> {
    let ok = value
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{value}\" is not HOST:PORT; expected one like \"stun.example.org:3478\""
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "age1uje8etukzlupjjg5mx4t6ctfdsd6rjsun2522rka9x84mtst6fvsxmlkeh";

    #[test]
    fn a_full_file_is_read_and_tidied() {
        let text = format!(
            "name = \"Riverside\"\nrecipient = \"{PUBLIC}\"\nserver = \"https://a.example:8080\"\n\
             stun = \"a.example:3478\"\ndropped_call_phone = \" 020 7946 0000 \"\nregion = \"uk\"\n"
        );
        let c = parse(Path::new("clinic.toml"), &text).unwrap();
        assert_eq!(c.region.as_deref(), Some("GB"));
        assert_eq!(c.dropped_call_phone.as_deref(), Some("020 7946 0000"));
        assert_eq!(c.report_info().unwrap().name.as_deref(), Some("Riverside"));
    }

    #[test]
    fn a_clinic_network_lists_its_servers_and_each_is_checked() {
        let c = parse(
            Path::new("clinic.toml"),
            "server = [\"https://north.example\", \"https://south.example:8080\"]\n",
        )
        .unwrap();
        assert_eq!(
            crate::net::probe::server_list(c.server.as_deref().unwrap()),
            ["https://north.example", "https://south.example:8080"]
        );
        let msg = parse(
            Path::new("clinic.toml"),
            "server = [\"https://north.example\", \"ftp://south\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("\"ftp://south\" is not a web address"),
            "{msg}"
        );
        let msg = parse(Path::new("clinic.toml"), "server = []\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("\"server\" is empty"), "{msg}");
        let msg = parse(Path::new("clinic.toml"), "server = \" , \"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("lists no web address"), "{msg}");
    }

    #[test]
    fn unknown_field_is_named_with_the_known_ones() {
        let msg = parse(
            Path::new("clinic.toml"),
            "name = \"x\"\nrecepient = \"age1x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("clinic.toml"), "{msg}");
        assert!(msg.contains("recepient"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains("`recipient`, `server`"), "{msg}");
    }

    #[test]
    fn every_bad_value_is_reported_at_once() {
        let text = "recipient = \"age1notakey\"\nserver = \"ftp://x\"\nstun = \"nohost\"\n\
                    dropped_call_phone = \"call us\"\nregion = \"Britain\"\nname = \"  \"\n";
        let msg = parse(Path::new("c.toml"), text).unwrap_err().to_string();
        for field in [
            "\"recipient\"",
            "\"server\"",
            "\"stun\"",
            "\"dropped_call_phone\"",
            "\"region\"",
            "\"name\" is empty",
        ] {
            assert!(msg.contains(field), "{field} missing from {msg}");
        }
    }

    #[test]
    fn invisible_characters_are_refused() {
        let err = parse(
            Path::new("clinic.toml"),
            "server = \"\\u0001http://x.example\"\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("\"server\" contains an invisible"),
            "{err}"
        );
    }

    #[test]
    fn not_toml_is_explained() {
        let msg = parse(Path::new("c.toml"), "{\"name\": \"x\"}")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("A clinic file is TOML"), "{msg}");
        assert!(msg.contains("recipient, server"), "{msg}");
    }

    #[test]
    fn the_example_clinic_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clinic.toml");
        let c = load(&path).unwrap();
        assert!(c.recipient.is_some() && c.server.is_some() && c.region.is_some());
    }
}
