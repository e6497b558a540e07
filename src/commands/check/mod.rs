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
use crate::report::model::{QuestionnaireStatus, Report, ReportParts};
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
            let region = setup.region(file.region.clone());
            let device = device_report(&args);
            let (network, network_reason) = measure(&args, &setup, style, true);
            let report = Report::build(ReportParts {
                answers: file.answers,
                questionnaire_status: QuestionnaireStatus::Completed,
                session_plan: file.session_plan,
                network,
                network_reason,
                device,
                region,
                clinic: setup.settings.clinic.clone(),
            });
            deliver(&report, &setup.delivery(&args, style))?;
            Ok(Exit::Done)
        }
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
    /// `settings.region` came from `--region`, which beats a region saved in
    /// an answers file or draft (the clinic file's does not).
    region_from_flag: bool,
}

impl Setup {
    fn new(args: &CheckArgs) -> Result<Setup, InputError> {
        if let Some(code) = args.region.as_deref()
            && crate::crisis::normalise_region(code).is_none()
        {
            return Err(InputError::Usage(format!(
                "--region \"{code}\" is not a two-letter country code such as GB, US or IE."
            )));
        }
        let clinic = args
            .clinic
            .as_deref()
            .map(crate::clinic::load)
            .transpose()?;
        let settings = settings::lay_flags_over(clinic.as_ref(), args)?;
        super::network::validate(&Self::probe_args(&settings, args))?;
        Ok(Setup {
            settings,
            region_from_flag: args.region.is_some(),
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
        let flag_or_clinic = self.settings.region.clone();
        let chosen = if self.region_from_flag {
            flag_or_clinic
        } else {
            saved.or(flag_or_clinic)
        };
        chosen
            .or_else(crate::crisis::region_from_env)
            .unwrap_or_else(|| crate::crisis::FALLBACK_REGION.to_string())
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
        use crate::net::probe::{DEFAULT_SERVER, DEFAULT_STUN, server_host};
        let host = server_host(self.settings.server.as_deref().unwrap_or(DEFAULT_SERVER));
        let stun = match (&self.settings.stun, &self.settings.server) {
            (Some(stun), _) => Some(stun.as_str()),
            (None, None) => Some(DEFAULT_STUN),
            (None, Some(_)) => None,
        };
        match stun {
            Some(stun) if stun != host => vec![host, stun.to_string()],
            _ => vec![host],
        }
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

/// Why the connection was not measured when --no-network is given.
const NOT_TESTED: &str = "not tested, because --no-network was given";

/// Run the connection test (or not), never failing: what could not be
/// measured carries a reason.
fn measure(args: &CheckArgs, setup: &Setup, style: Style, shown: bool) -> Measured {
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
