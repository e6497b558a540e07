//! `session-ready check`: the whole flow. Device, connection, questions, then
//! the report. `--answers FILE` runs it without prompts (intake coordinators);
//! otherwise the client is walked through it interactively.
mod interactive;

use std::process::ExitCode;

use crate::cli::{CheckArgs, Format, NetworkFormat, ProbeArgs};
use crate::error::InputError;
use crate::net::NetworkReport;
use crate::questionnaire::{answers_file, bank};
use crate::report::deliver::{Delivery, deliver};
use crate::report::model::{QuestionnaireStatus, Report, ReportParts};
use crate::term::Style;

pub fn run(args: CheckArgs, style: Style) -> anyhow::Result<ExitCode> {
    if args.list_questions {
        let bytes = list_questions(args.format, style)?;
        super::emit(args.output.as_deref(), &bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.device {
        let report = crate::device::collect();
        let format = match args.format {
            Format::Json => NetworkFormat::Json,
            _ => NetworkFormat::Terminal,
        };
        let bytes = crate::device::render(&report, format, style)?;
        super::emit(args.output.as_deref(), &bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    let flag_region = match args.region.as_deref() {
        Some(code) => Some(crate::crisis::normalise_region(code).ok_or_else(|| {
            InputError::Usage(format!(
                "--region \"{code}\" is not a two-letter country code such as GB, US or IE."
            ))
        })?),
        None => None,
    };
    match &args.answers {
        Some(path) => {
            let file = answers_file::load(path, bank())?;
            let region = resolve_region(flag_region, file.region.clone());
            let device = (!args.no_device).then(crate::device::collect);
            let (network, network_reason) = measure(&args, style.progress());
            let report = Report::build(ReportParts {
                answers: file.answers,
                questionnaire_status: QuestionnaireStatus::Completed,
                session_plan: file.session_plan,
                network,
                network_reason,
                device,
                region,
                clinic: None,
            });
            deliver(&report, &delivery(&args, style))?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            if !crate::term::interactive() {
                return Err(InputError::NoTerminal.into());
            }
            interactive::run(&args, style, flag_region)
        }
    }
}

fn delivery(args: &CheckArgs, style: Style) -> Delivery<'_> {
    Delivery {
        format: args.format,
        view: args.view,
        output: args.output.as_deref(),
        encrypt_to: args.encrypt_to.as_deref(),
        style,
    }
}

/// --region, then the answers file or draft, then the locale, then the international fallback.
fn resolve_region(flag: Option<String>, saved: Option<String>) -> String {
    flag.or(saved)
        .or_else(crate::crisis::region_from_env)
        .unwrap_or_else(|| crate::crisis::FALLBACK_REGION.to_string())
}

/// Why the connection was not measured when --no-network is given.
const NOT_TESTED: &str = "not tested, because --no-network was given";

/// Run the connection test (or not), never failing: what could not be
/// measured carries a reason.
fn measure(args: &CheckArgs, progress: bool) -> (Option<NetworkReport>, Option<String>) {
    if args.no_network {
        return (None, Some(NOT_TESTED.to_string()));
    }
    run_probe(&args.probe, progress)
}

pub(crate) fn run_probe(
    probe: &ProbeArgs,
    progress: bool,
) -> (Option<NetworkReport>, Option<String>) {
    let config = crate::net::probe::ProbeConfig {
        server: probe
            .server
            .clone()
            .unwrap_or_else(|| crate::net::probe::DEFAULT_SERVER.to_string()),
        stun: probe.stun.clone(),
        max_seconds: probe.max_seconds,
        progress,
    };
    match super::runtime() {
        Ok(rt) => (Some(rt.block_on(crate::net::probe::run(&config))), None),
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
        let mut out = serde_json::to_vec_pretty(&doc)?;
        out.push(b'\n');
        return Ok(out);
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
