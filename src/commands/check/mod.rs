//! `session-ready check`: the whole flow. Device, connection, questions, then
//! the report. `--answers FILE` runs it without prompts (intake coordinators);
//! otherwise the client is walked through it interactively.
mod browser;
mod interactive;
mod settings;

use crate::cli::{CheckArgs, ProbeArgs};
use crate::error::{Exit, InputError};
use crate::net::NetworkReport;
use crate::net::probe::ProbeConfig;
use crate::questionnaire::{answers_file, bank};
use crate::report::Format;
use crate::report::deliver::{Delivery, deliver};
use crate::report::model::{NetworkSource, QuestionnaireStatus, Report, ReportParts};
use crate::term::{OutputFormat, Style};

use settings::Settings;

pub fn run(args: CheckArgs, style: Style) -> anyhow::Result<Exit> {
    if args.list_questions {
        let bytes = list_questions(args.format, style)?;
        crate::fsutil::emit(args.output.as_deref(), &bytes)?;
        return Ok(Exit::Done);
    }
    if args.device {
        let report = device_report(&args).unwrap_or_else(crate::device::collect);
        let format = match args.format {
            Format::Json => OutputFormat::Json,
            _ => OutputFormat::Terminal,
        };
        let bytes = crate::device::render(&report, format, style)?;
        crate::fsutil::emit(args.output.as_deref(), &bytes)?;
        return Ok(Exit::Done);
    }
    let setup = Setup::new(&args)?;
    match &args.answers {
        Some(path) => {
            let file = answers_file::load(path, bank())?;
            if args.browser {
                return browser::whole_check(&args, style, &setup, Some(file));
            }
            let region = setup.region(file.region.clone());
            let device = device_report(&args);
            let (network, network_reason) = measure(&args, &setup, style, true);
            let mut report = Report::build(ReportParts {
                answers: file.answers,
                questionnaire_status: QuestionnaireStatus::Completed,
                session_plan: file.session_plan,
                network,
                network_reason,
                device,
                region,
                clinic: setup.settings.clinic.clone(),
                // --client-ref wins over the file's.
                client_ref: setup.client_ref.clone().or(file.client_ref),
            });
            if let Some((_, source)) = &setup.saved_network {
                report.network_source = Some(source.clone());
            }
            if !report.unasked_answers.is_empty() {
                // Said, never dropped quietly: the coordinator may have
                // typed an answer on the wrong line.
                let ids: Vec<&str> = report.unasked_answers.keys().map(String::as_str).collect();
                eprintln!(
                    "{}",
                    crate::safe_text::printable(&format!(
                        "Note: {}: {} answered, though the questionnaire would not have asked \
                         {} after the answers before. Kept apart in the clinician copy (\"{}\"); \
                         a yes about risk still counts.",
                        path.display(),
                        ids.join(", "),
                        if ids.len() == 1 { "it" } else { "them" },
                        crate::report::document::UNASKED_TITLE
                    ))
                );
            }
            deliver(&report, &setup.delivery(&args, style))?;
            Ok(Exit::Done)
        }
        // The whole check in the page: the questions are asked there.
        None if args.browser => browser::whole_check(&args, style, &setup, None),
        None => {
            if !crate::term::interactive() {
                return Err(InputError::NoTerminal.into());
            }
            interactive::run(&args, style, &setup)
        }
    }
}

/// The device section: with `--browser`, the camera, microphone and speakers
/// as tested in the local page; otherwise what the system shows.
fn device_report(args: &CheckArgs) -> Option<crate::device::DeviceReport> {
    if args.no_device {
        return None;
    }
    if !args.browser {
        return Some(crate::device::collect());
    }
    // The page first, so it is ready at once; the system is read afterwards.
    let media = browser::media_test(args);
    let mut facts = crate::device::collect::facts();
    facts.media = media;
    Some(crate::device::rules::rate(&facts))
}

/// What the flags and the clinic file decide before anything is asked; a
/// mistake in either is reported now, before the client answers anything.
pub(crate) struct Setup {
    /// Flags laid over the clinic file.
    settings: Settings,
    /// Where the region can come from, apart from an answers file or draft.
    regions: crate::crisis::RegionSources,
    /// `--client-ref`, checked.
    pub(crate) client_ref: Option<String>,
    /// `--network FILE`: the client's saved connection test, checked.
    saved_network: Option<(NetworkReport, NetworkSource)>,
}

impl Setup {
    fn new(args: &CheckArgs) -> Result<Setup, InputError> {
        if let Some(code) = args.region.as_deref()
            && crate::crisis::normalise_region(code).is_none()
        {
            return Err(InputError::Usage(format!(
                "--region: {}",
                crate::crisis::unknown_region(code)
            )));
        }
        super::refuse_existing(args.output.as_deref(), args.force)?;
        let clinic = args
            .clinic
            .as_deref()
            .map(crate::clinic::load)
            .transpose()?;
        let settings = settings::lay_flags_over(clinic.as_ref(), args)?;
        super::network::validate(&Self::probe_args(&settings, args))?;
        let from_flag = args.region.is_some();
        let regions = crate::crisis::RegionSources {
            flag: settings.region.clone().filter(|_| from_flag),
            clinic: settings.region.clone().filter(|_| !from_flag),
            locale: crate::crisis::region_from_env(),
        };
        Ok(Setup {
            settings,
            regions,
            client_ref: flag_client_ref(args.client_ref.as_deref())?,
            saved_network: args.network.as_deref().map(saved_network).transpose()?,
        })
    }

    fn probe_args(settings: &Settings, args: &CheckArgs) -> ProbeArgs {
        ProbeArgs {
            server: settings.server.clone(),
            stun: settings.stun.clone(),
            max_seconds: args.probe.max_seconds,
        }
    }

    /// --region, then the answers file or draft, then the clinic file, then
    /// the locale, then the international fallback.
    fn region(&self, saved: Option<String>) -> String {
        self.known_region(saved)
            .unwrap_or_else(|| crate::crisis::FALLBACK_REGION.to_string())
    }

    /// The region when something names it (--region, the answers file or
    /// draft, the clinic file, a locale with a country we hold numbers for);
    /// `None` means the interactive check asks the client.
    fn known_region(&self, saved: Option<String>) -> Option<String> {
        self.regions.choose(saved.as_deref())
    }

    /// The connection test's settings; `shown` is false when it runs in the
    /// background behind the questions (no progress bar or step lines then).
    fn probe(&self, args: &CheckArgs, style: Style, shown: bool) -> ProbeConfig {
        let mut config =
            super::network::probe_config(&Self::probe_args(&self.settings, args), style);
        config.progress &= shown;
        config.announce &= shown;
        config
    }

    /// The servers the connection test talks to, as named in the opening. A
    /// session-ready server answers STUN itself, so only a chosen or default
    /// STUN server is named separately.
    fn contacts(&self) -> Vec<String> {
        use crate::net::probe::server_list;
        use crate::net::probe::{DEFAULT_SERVER, DEFAULT_STUN, server_host};
        let mut hosts: Vec<String> =
            server_list(self.settings.server.as_deref().unwrap_or(DEFAULT_SERVER))
                .iter()
                .map(|s| server_host(s))
                .collect();
        let stun = match (&self.settings.stun, &self.settings.server) {
            (Some(stun), _) => Some(stun.as_str()),
            (None, None) => Some(DEFAULT_STUN),
            (None, Some(_)) => None,
        };
        if let Some(stun) = stun
            && !hosts.iter().any(|h| h == stun)
        {
            hosts.push(stun.to_string());
        }
        hosts
    }

    fn encrypt_to(&self) -> Option<&str> {
        self.settings.recipient.as_deref()
    }

    fn delivery<'a>(&'a self, args: &'a CheckArgs, style: Style) -> Delivery<'a> {
        Delivery {
            format: args.format,
            view: args.view,
            output: args.output.as_deref(),
            encrypt_to: self.encrypt_to(),
            style,
        }
    }
}

/// `--network FILE`: the saved result and how old it is.
fn saved_network(path: &std::path::Path) -> Result<(NetworkReport, NetworkSource), InputError> {
    let (network, age) = crate::net::saved::load(path, chrono::Utc::now())?;
    let source = NetworkSource {
        stale: age.stale(),
        measured_at: age.measured_at,
        age_days: age.days,
    };
    Ok((network, source))
}

/// `--client-ref TEXT`, checked (shared with `report`).
pub(crate) fn flag_client_ref(text: Option<&str>) -> Result<Option<String>, InputError> {
    text.map(|t| {
        crate::safe_text::client_ref(t)
            .map_err(|why| InputError::Usage(format!("--client-ref \"{t}\": {why}.")))
    })
    .transpose()
}

/// Why the connection was not measured when --no-network is given.
const NOT_TESTED: &str = "not tested, because --no-network was given";

/// Run the connection test (or not), never failing: what could not be
/// measured carries a reason.
fn measure(args: &CheckArgs, setup: &Setup, style: Style, shown: bool) -> Measured {
    if let Some((network, _)) = &setup.saved_network {
        return (Some(network.clone()), None);
    }
    if args.no_network {
        return (None, Some(NOT_TESTED.to_string()));
    }
    run_probe(&setup.probe(args, style, shown))
}

type Measured = (Option<NetworkReport>, Option<String>);

fn run_probe(config: &ProbeConfig) -> Measured {
    match super::run_probe(config) {
        Ok(report) => (Some(report), None),
        Err(e) => (
            None,
            Some(format!("the connection test could not start ({e})")),
        ),
    }
}

/// `check --list-questions`: every question with its id, section, text, why
/// we ask, and option ids (the ids scripts and answers files use).
fn list_questions(format: Format, style: Style) -> anyhow::Result<Vec<u8>> {
    let bank = bank();
    if format == Format::Json {
        let questions: Vec<serde_json::Value> = bank
            .questions
            .iter()
            .map(|q| {
                serde_json::json!({
                    "id": q.id,
                    "section": q.section,
                    "text": q.text,
                    "why": q.why,
                    "options": q.options.iter().map(|o| &o.id).collect::<Vec<_>>(),
                    "option_labels": q
                        .options
                        .iter()
                        .map(|o| (o.id.clone(), serde_json::Value::from(o.label.as_str())))
                        .collect::<serde_json::Map<_, _>>(),
                    "skippable": true,
                    "ask_if": q.ask_if,
                    "source": bank.source(&q.source).map(|s| &s.cite),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "schema": "session-ready/questions/v1",
            "version": bank.version,
            "sections": bank.sections,
            "questions": questions,
            "session_plan": bank.plan.prompts,
            "sources": bank.sources,
        });
        return Ok(crate::term::json_document(&doc)?);
    }
    let mut out = style.heading("The questions");
    out.push_str(
        "Every question can be skipped; a skip is recorded as \"skipped\", never as no.\n\n",
    );
    for section in &bank.sections {
        out.push_str(&style.heading(&section.title));
        for q in bank.in_section(&section.id) {
            out.push_str(&format!("{} {}\n", style.bold(&q.id), q.text));
            out.push_str(&format!("    why: {}\n", q.why));
            let options: Vec<String> = q
                .options
                .iter()
                .map(|o| format!("{} ({})", o.id, o.label))
                .collect();
            out.push_str(&format!("    options: {}, skipped\n", options.join(", ")));
            if let Some(cond) = &q.ask_if {
                let when: Vec<String> = cond
                    .any
                    .iter()
                    .map(|c| format!("{} is {}", c.question, c.is.join(" or ")))
                    .collect();
                out.push_str(&format!("    asked only when: {}\n", when.join("; or ")));
            }
        }
        out.push('\n');
    }
    out.push_str(&style.heading(&bank.plan.title));
    for p in &bank.plan.prompts {
        out.push_str(&format!("{} {} (free text)\n", style.bold(&p.id), p.text));
    }
    out.push_str("\nSources:\n");
    for s in &bank.sources {
        out.push_str(&format!("{} {} {}\n", style.bullet(), s.cite, s.url));
    }
    Ok(out.into_bytes())
}
