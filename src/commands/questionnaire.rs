//! `session-ready questionnaire`: the questions themselves, for clinics and
//! record systems: on screen, as JSON (`session-ready/questions/v1`, as
//! `check --list-questions --format json`), or as the HL7 FHIR R4
//! Questionnaire that the FHIR reports answer (schema/questionnaire.fhir.json).

use crate::cli::{QuestionnaireArgs, QuestionsFormat};
use crate::error::{Exit, InputError};
use crate::questionnaire::bank;
use crate::report::Format;
use crate::term::Style;

pub fn run(args: QuestionnaireArgs, style: Style) -> anyhow::Result<Exit> {
    super::refuse_existing(args.output.as_deref(), false, args.force)?;
    let bytes = render(args.format, style)?;
    crate::fsutil::emit(args.output.as_deref(), &bytes)?;
    Ok(Exit::Done)
}

/// What `check --list-questions --format F` writes: the listing has a
/// terminal (or plain text), JSON and FHIR form; Markdown and PDF are refused
/// (exit 2) rather than filled with terminal text.
pub fn list_format(format: Format) -> Result<QuestionsFormat, InputError> {
    match format {
        Format::Terminal | Format::Text => Ok(QuestionsFormat::Terminal),
        Format::Json => Ok(QuestionsFormat::Json),
        Format::Fhir => Ok(QuestionsFormat::Fhir),
        Format::Markdown | Format::Pdf => Err(InputError::Usage(format!(
            "The list of questions has no {} form, so nothing was written. It can be written \
             as terminal, text, json or fhir (the FHIR Questionnaire), for example \
             `session-ready questionnaire --format fhir --output questionnaire.fhir.json`.",
            if format == Format::Pdf {
                "PDF"
            } else {
                "Markdown"
            }
        ))),
    }
}

/// Every question with its id, section, text, why we ask, and option ids
/// (the ids scripts and answers files use), or the FHIR Questionnaire.
pub fn render(format: QuestionsFormat, style: Style) -> anyhow::Result<Vec<u8>> {
    let bank = bank();
    if format == QuestionsFormat::Fhir {
        return Ok(crate::term::json_document(
            &crate::report::fhir::questionnaire(),
        )?);
    }
    if format == QuestionsFormat::Json {
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
