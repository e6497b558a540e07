//! The readiness summary as a format-neutral document: one ordered list of
//! blocks that every renderer draws. Two layouts: [`build`], the full
//! summary that Markdown, plain text and PDF draw, and [`screen`], the shorter
//! one the terminal draws at the end of a check. Deciding the content here
//! keeps the product rules in one place for both: crisis resources first when
//! urgent and always present, which device findings and plan entries are
//! shown, how many questions were skipped, the headline and closing sentence
//! in the words of whoever the copy is for, skips shown
//! as "skipped", risk answers only in the clinician copy, ASQ and UCLA-3
//! wording attributed.
use crate::assessment::{ASQ_NAME, RiskScreen, Status};
use crate::crisis::CrisisResource;
use crate::device::{DeviceItem, DeviceRating, DeviceReport};
use crate::net::NetworkReport;
use crate::questionnaire::{SKIPPED, bank};
use crate::report::View;
use crate::term::Tone;

use super::Report;
use super::model::QuestionnaireStatus;
use crate::questionnaire::SessionPlan;

/// A run of text, optionally emphasised (bold in print).
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub text: String,
    pub strong: bool,
    /// What a colour would mean here, for formats with colour (the screen
    /// layout sets it); the words carry the meaning without it.
    pub tone: Option<Tone>,
}

/// A line or paragraph made of spans.
pub type Inline = Vec<Span>;

pub fn plain(text: impl Into<String>) -> Span {
    Span {
        text: text.into(),
        strong: false,
        tone: None,
    }
}

pub fn strong(text: impl Into<String>) -> Span {
    Span {
        text: text.into(),
        strong: true,
        tone: None,
    }
}

/// Plain text whose colour, where there is colour, repeats `tone`.
pub fn toned(text: impl Into<String>, tone: Tone) -> Span {
    Span {
        text: text.into(),
        strong: false,
        tone: Some(tone),
    }
}

/// One list item, with optional detail lines beneath it (e.g. evidence).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub text: Inline,
    /// A sentence on its own line under the text, before the details. Only
    /// the screen layout sets it (a criterion's summary); [`build`] keeps
    /// the summary in the text.
    pub summary: Option<String>,
    pub details: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The document title ("Video-session readiness summary — <date>").
    Title(String),
    /// Small lines under the title: which copy, when, which version.
    Meta(Vec<String>),
    Heading(String),
    Subheading(String),
    Paragraph(Inline),
    Bullets(Vec<Item>),
    /// Framed so it stands out in black-and-white print (crisis resources).
    Callout {
        title: String,
        lines: Vec<Inline>,
    },
    /// Small print: attributions, what a copy leaves out.
    Note(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

/// Heading of the crisis resources in every format.
pub const CRISIS_TITLE: &str = "If you need support now";

/// "Video-session readiness summary — 2026-11-24 (AEDT)". The date is the
/// day the report was made where it is read (`crate::when`), in ISO form so
/// it reads the same in every country, with its zone so no one takes it for
/// another place's day.
pub fn title(report: &Report) -> String {
    format!("Video-session readiness summary — {}", report_date(report))
}

/// The local day the report was made, YYYY-MM-DD, with its zone.
pub fn report_date(report: &Report) -> String {
    match crate::when::local(&report.generated_at) {
        Some(local) => local.date_with_zone(),
        None => report.generated_at.chars().take(10).collect(),
    }
}

/// "2026-11-24 02:16 AEDT (UTC+11:00, Australia/Sydney)", or the stored text
/// if it is not RFC 3339.
fn report_time(report: &Report) -> String {
    match crate::when::local(&report.generated_at) {
        Some(local) => local.full(),
        None => report.generated_at.clone(),
    }
}

/// "Clinician" or "Client", for footers and labels.
pub fn view_word(view: View) -> &'static str {
    match view {
        View::Clinician => "Clinician",
        View::Client => "Client",
    }
}

/// Lay out `report` (already in the view to be shown).
pub fn build(report: &Report) -> Document {
    let clinician = report.view == View::Clinician;
    let mut blocks = Vec::new();
    blocks.push(Block::Meta(meta_lines(report)));

    blocks.extend(clinician_alert(report));

    blocks.push(Block::Heading("Recommendation".into()));
    blocks.push(Block::Paragraph(vec![strong(crate::term::capitalise(
        report.outcome.words(),
    ))]));
    // One paragraph, so the ASQ result reads as part of the recommendation.
    let screen_line = risk_screen_line(report);
    let mut recommendation = vec![plain(if screen_line.is_empty() {
        headline(report)
    } else {
        format!("{} ", headline(report))
    })];
    recommendation.extend(screen_line);
    blocks.push(Block::Paragraph(recommendation));
    if report.questionnaire_status == QuestionnaireStatus::Stopped {
        blocks.push(Block::Paragraph(vec![plain(
            "The questionnaire was stopped before the end. Questions that were not reached \
             are not in this summary; they were not answered, and are not counted as no.",
        )]));
    }

    blocks.extend(criteria_blocks(report, Layout::Saved));
    if clinician {
        blocks.push(Block::Note(format!(
            "Status per criterion: met = {}; not-met = {}; unknown = {} (skipped or not \
             measured, never counted as no).",
            Status::Met.words(),
            Status::NotMet.words(),
            Status::Unknown.words()
        )));
    }

    blocks.extend(adjustment_blocks(report, Layout::Saved));

    blocks.push(Block::Heading("Connection".into()));
    if let Some(source) = &report.network_source {
        blocks.push(Block::Paragraph(if source.stale {
            vec![strong("Possibly out of date: "), plain(source.words())]
        } else {
            vec![plain(source.words())]
        }));
    }
    blocks.extend(network_blocks(
        report.network.as_ref(),
        report.network_reason.as_deref(),
    ));

    if let Some(device) = &report.device {
        blocks.push(Block::Heading("Device".into()));
        let (overall, _) = crate::device::render::rating_words(device.overall);
        blocks.push(Block::Paragraph(vec![plain("Overall: "), strong(overall)]));
        let notable: Vec<Item> = notable_device_items(device)
            .map(|i| {
                let (words, _) = crate::device::render::rating_words(i.rating);
                Item {
                    text: vec![
                        strong(format!("{}: {words}.", i.label)),
                        plain(format!(" {}", i.found)),
                    ],
                    summary: None,
                    details: vec![i.advice.clone()],
                }
            })
            .collect();
        if !notable.is_empty() {
            blocks.push(Block::Bullets(notable));
        }
    }

    blocks.push(Block::Heading(bank().plan.title.clone()));
    blocks.extend(plan_blocks(report.session_plan.as_ref()));

    blocks.push(Block::Heading("Answers".into()));
    blocks.extend(answer_blocks(report));

    // The title stays first so every format opens with its one top-level
    // heading (Markdown h1, the PDF's H1 tag).
    Document {
        title: title(report),
        blocks: with_crisis_and_closing(
            report,
            vec![Block::Title(title(report))],
            vec![crisis_block(&report.crisis_resources)],
            blocks,
        ),
    }
}

/// In the clinician copy, a call to act first when the ASQ says so: an
/// acute positive screen, or a positive one whose acuity is unknown; and a
/// flag on a yes about risk that a file gave to a question that would not
/// have been asked, which counts though it is not among the answers.
fn clinician_alert(report: &Report) -> Vec<Block> {
    if report.view != View::Clinician {
        return Vec::new();
    }
    let mut blocks: Vec<Block> = urgency_alert(report).into_iter().collect();
    // Right under the call to act, where contact is planned.
    if let Some(words) = contact_care_words(report) {
        blocks.push(Block::Paragraph(vec![
            strong(CONTACT_CARE_LABEL),
            plain(words),
        ]));
    }
    let flagged: Vec<String> = crate::questionnaire::counted_unasked(&report.unasked_answers)
        .map(|(id, a)| format!("{id} = {a}"))
        .collect();
    if !flagged.is_empty() {
        blocks.push(Block::Paragraph(vec![
            strong("Check with the client: "),
            plain(format!(
                "the answers file says {}, though that question would not have been asked \
                 (see {UNASKED_TITLE}). It is counted, never dropped: a yes about risk is \
                 handled as the ASQ result says.",
                flagged.join(" and ")
            )),
        ]));
    }
    blocks
}

/// Label of the line on contacting a client whose home may be watched.
pub const CONTACT_CARE_LABEL: &str = "Contact with care: ";

/// In the clinician copy of a watched home (see `Report::watched_home`):
/// why, in the question's terms, and how to reach the client safely. Never
/// in a client copy, which a watched home may read.
pub fn contact_care_words(report: &Report) -> Option<String> {
    if report.view != View::Clinician || !report.contact_with_care() {
        return None;
    }
    let answer = |id: &str| report.answers.get(id).map(String::as_str);
    let mut why = Vec::new();
    match answer("home.monitored") {
        Some("yes") => why.push(
            "the client thinks someone might check their phone, computer or messages, or \
             listen in on their calls: home.monitored = yes",
        ),
        Some("unsure") => why.push(
            "the client is not sure whether someone checks their phone, computer or \
             messages, or listens in on their calls: home.monitored = unsure",
        ),
        _ => {}
    }
    if answer("home.feels_safe") == Some("no") {
        why.push("home does not feel like a safe place to be: home.feels_safe = no");
    }
    let risk = if matches!(answer("home.monitored"), Some("yes" | "unsure")) {
        "their phone and messages may be monitored"
    } else {
        "someone at home may see or overhear their contact with you"
    };
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" ({})", why.join("; "))
    };
    Some(format!(
        "{risk}{why}. Before calling, texting or e-mailing, ask how and when it is safe to \
         reach them; leave no message that mentions therapy, this check or its answers; and \
         agree what you will do if they cannot talk freely."
    ))
}

/// The call to act of [`clinician_alert`], when the ASQ asks for one.
fn urgency_alert(report: &Report) -> Option<Block> {
    let (label, words) = if report.is_urgent() {
        (
            "Urgent: ",
            "the client answered yes to the ASQ acuity question (risk.asq5, thoughts of \
             killing themselves right now). Please contact them promptly and follow your \
             service's procedure for an acute positive screen.",
        )
    } else if report.risk_screen == Some(RiskScreen::PositiveAcuityUnknown) {
        (
            "Same-day follow-up: ",
            "the client answered yes to an ASQ screening question but not the acuity \
             question (risk.asq5), so acuity is unknown. Please contact them today for a \
             brief suicide safety assessment, as you would for a possibly acute screen.",
        )
    } else {
        return None;
    };
    Some(Block::Paragraph(vec![strong(label), plain(words)]))
}

/// The recommendation in the words of whoever the copy is for: the saved
/// headline speaks to the client, the clinician copy to the clinician.
pub fn headline(report: &Report) -> String {
    match report.view {
        View::Clinician => clinician_summary(report),
        View::Client => report.headline.clone(),
    }
}

/// The order both layouts share: `opening`, then the crisis resources when
/// they come first (urgent, or a positive screen of unknown acuity), the
/// body, the crisis resources otherwise (they always appear), and the
/// closing sentence in the words of whoever the copy is for.
fn with_crisis_and_closing(
    report: &Report,
    opening: Vec<Block>,
    crisis: Vec<Block>,
    body: Vec<Block>,
) -> Vec<Block> {
    let mut blocks = opening;
    if report.crisis_first() {
        blocks.extend(crisis);
        blocks.extend(body);
    } else {
        blocks.extend(body);
        blocks.extend(crisis);
    }
    blocks.push(Block::Note(closing_sentence(report.view).into()));
    blocks
}

/// The last words of every report: a recommendation, never a decision.
pub fn closing_sentence(view: View) -> &'static str {
    match view {
        View::Clinician => {
            "This is a recommendation to talk through with the client, not a decision. Their \
             view matters, and you can choose differently together."
        }
        View::Client => {
            "This is a recommendation to talk through with your therapist, not a decision. \
             Your view matters, and you can choose differently together."
        }
    }
}

/// The device findings worth a mention: those rated "worth a look" or a
/// problem. Fine and unknown items are left to the device check itself.
pub fn notable_device_items(device: &DeviceReport) -> impl Iterator<Item = &DeviceItem> {
    device
        .items
        .iter()
        .filter(|i| matches!(i.rating, DeviceRating::Caution | DeviceRating::Problem))
}

/// The session plan entries that say something, in the plan's order: each
/// prompt's words (its id when the bank no longer has it) and the trimmed
/// answer. Empty entries are left out.
pub fn plan_entries(plan: &SessionPlan) -> Vec<(String, String)> {
    plan.fields()
        .into_iter()
        .filter_map(|(id, value)| {
            let value = value?.trim().to_string();
            if value.is_empty() {
                return None;
            }
            let prompt = bank()
                .plan
                .prompts
                .iter()
                .find(|p| p.id == id)
                .map_or(id, |p| p.text.as_str());
            Some((prompt.to_string(), value))
        })
        .collect()
}

/// How many questions the client skipped.
pub fn skipped_count(report: &Report) -> usize {
    report.answers.values().filter(|a| *a == SKIPPED).count()
}

/// Heading of the report on screen.
pub const SCREEN_TITLE: &str = "Your readiness report";

/// The shorter layout shown on screen at the end of a check (and by `report
/// --format terminal`): the recommendation, with its headline, closing
/// sentence and (clinician copy) call to act in the same words as the saved
/// copy of that view, what was
/// looked at with the answers behind it in the question's own words, what
/// could help, the connection's rating and reasons, the device findings, the
/// plan, the clinic's number for a dropped call, and the skipped count; the
/// full answers are in the saved formats.
pub fn screen(report: &Report) -> Document {
    let mut blocks = vec![Block::Title(SCREEN_TITLE.into())];
    // The clinician copy opens with its urgent line, before everything else
    // (the support numbers follow it), and says when it was made and for
    // which region, as the saved formats do.
    let opening: Vec<Block> = clinician_alert(report).into_iter().collect();
    if report.view == View::Clinician {
        blocks.push(Block::Meta(meta_lines(report)));
    } else if let Some(reference) = &report.client_ref {
        blocks.push(Block::Meta(vec![format!("Client: {reference}")]));
    }
    blocks.push(Block::Paragraph(vec![plain(headline(report))]));
    let screen_line: String = risk_screen_line(report)
        .iter()
        .map(|span| span.text.as_str())
        .collect();
    if !screen_line.is_empty() {
        blocks.push(Block::Paragraph(vec![plain(screen_line)]));
    }

    blocks.extend(criteria_blocks(report, Layout::Screen));
    blocks.extend(adjustment_blocks(report, Layout::Screen));

    blocks.extend(screen_connection(report));
    if let Some(device) = &report.device {
        blocks.extend(screen_device(device));
    }

    if let Some(plan) = &report.session_plan {
        blocks.push(Block::Heading("Your session plan".into()));
        blocks.push(Block::Bullets(
            plan_entries(plan)
                .into_iter()
                .map(|(prompt, value)| item(vec![plain(format!("{prompt} ")), strong(value)]))
                .collect(),
        ));
    }

    blocks.extend(screen_notes(report));

    Document {
        title: SCREEN_TITLE.into(),
        blocks: with_crisis_and_closing(
            report,
            opening,
            screen_crisis_blocks(&report.crisis_resources),
            blocks,
        ),
    }
}

/// Which of the two layouts a part shared by [`build`] and [`screen`] is
/// laid out for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    /// The full summary: Markdown, text, PDF, the page's preview.
    Saved,
    /// The shorter one on screen.
    Screen,
}

/// "What was looked at": each criterion with its status and summary and, in
/// the clinician copy, the evidence behind it (the client copy keeps to
/// plain sentences). Saved, the status is part of the bold lead and answers
/// are named by question id, since the Answers section shows them in full;
/// on screen, the status has its colour, the summary a line of its own, and
/// the answers are in the question's own words.
fn criteria_blocks(report: &Report, layout: Layout) -> Vec<Block> {
    let clinician = report.view == View::Clinician;
    let mut items: Vec<Item> = report
        .criteria
        .iter()
        .map(|c| {
            let (text, summary) = match layout {
                Layout::Saved => (
                    vec![
                        strong(format!("{}: {}.", c.id.title(), c.status.words())),
                        plain(format!(" {}", c.summary)),
                    ],
                    None,
                ),
                Layout::Screen => (
                    vec![
                        strong(c.id.title()),
                        plain(": "),
                        toned(c.status.words(), status_tone(c.status)),
                    ],
                    Some(c.summary.clone()),
                ),
            };
            let details = match layout {
                _ if !clinician => Vec::new(),
                Layout::Saved => evidence_lines(&c.evidence, report.network.as_ref()),
                Layout::Screen => c.evidence.iter().map(|e| readable_evidence(e)).collect(),
            };
            Item {
                text,
                summary,
                details,
            }
        })
        .collect();
    if !clinician {
        // The criteria the copy leaves out are named together, none by status.
        items.push(item(vec![plain(super::model::CRITERIA_WITHHELD)]));
    }
    vec![
        Block::Heading("What was looked at".into()),
        Block::Bullets(items),
    ]
}

/// "What could help", when anything could; the saved clinician copy first
/// asks the clinician to agree them with the client.
fn adjustment_blocks(report: &Report, layout: Layout) -> Vec<Block> {
    if report.adjustments.is_empty() {
        return Vec::new();
    }
    let mut blocks = vec![Block::Heading("What could help".into())];
    if layout == Layout::Saved && report.view == View::Clinician {
        blocks.push(Block::Paragraph(vec![plain(
            "Agree with the client which of these to try before the first video session.",
        )]));
    }
    blocks.push(Block::Bullets(
        report
            .adjustments
            .iter()
            .map(|a| item(vec![plain(&a.text)]))
            .collect(),
    ));
    blocks
}

/// The connection on screen: where the figures came from, the rating and
/// its reasons (the figures themselves are in the saved formats).
fn screen_connection(report: &Report) -> Vec<Block> {
    let mut blocks = vec![Block::Heading("Your connection".into())];
    if let Some(source) = &report.network_source {
        blocks.push(Block::Meta(vec![source.words()]));
    }
    match &report.network {
        Some(n) => {
            blocks.push(Block::Paragraph(vec![plain(format!(
                "For a one-to-one video call: {}.",
                n.video.rating.as_str()
            ))]));
            blocks.push(Block::Bullets(
                n.video
                    .reasons
                    .iter()
                    .map(|r| item(vec![plain(r)]))
                    .collect(),
            ));
        }
        None => blocks.push(Block::Paragraph(vec![plain(format!(
            "Not measured: {}.",
            report
                .network_reason
                .as_deref()
                .unwrap_or("the connection was not tested")
        ))])),
    }
    blocks
}

/// The device on screen: the overall rating and what is found for each
/// notable item (the advice is in the saved formats and under What could help).
fn screen_device(device: &DeviceReport) -> Vec<Block> {
    let (overall, tone) = crate::device::render::rating_words(device.overall);
    vec![
        Block::Heading("Your device".into()),
        Block::Paragraph(vec![plain("Overall: "), toned(overall, tone)]),
        Block::Bullets(
            notable_device_items(device)
                .map(|i| item(vec![plain(format!("{}: {}", i.label, i.found))]))
                .collect(),
        ),
    ]
}

/// The lines before the crisis resources on screen: the clinic's number for
/// a dropped call, the skipped count, and what the client copy leaves out.
fn screen_notes(report: &Report) -> Vec<Block> {
    let mut blocks = Vec::new();
    if let Some(clinic) = &report.clinic
        && let Some(phone) = &clinic.dropped_call_phone
    {
        let who = clinic.name.as_deref().unwrap_or("the clinic");
        blocks.push(Block::Paragraph(vec![
            plain(format!("If a video call drops, you can ring {who} on ")),
            strong(phone),
            plain("."),
        ]));
    }
    let skipped = skipped_count(report);
    if skipped > 0 {
        blocks.push(Block::Paragraph(vec![plain(format!(
            "{skipped} question{} skipped. That is fine: a skipped question is never counted \
             as a no.",
            if skipped == 1 { " was" } else { "s were" }
        ))]));
    }
    if report.view == View::Client {
        blocks.push(Block::Note(
            "Saved reports also list each answer. This copy leaves out the answers about home, \
             contact with other people and how you have been feeling; the full copy for your \
             therapist includes them."
                .into(),
        ));
    }
    blocks
}

/// What a criterion's status means, for colour: "met" points away from video.
fn status_tone(status: Status) -> Tone {
    match status {
        Status::Met => Tone::Concern,
        Status::NotMet => Tone::Good,
        Status::Unknown => Tone::Neutral,
    }
}

/// Evidence that restates an answer ("privacy.space = none (…)") in the
/// question's own words, as a person reads it on screen; other evidence
/// (scores, measurements) as written.
fn readable_evidence(evidence: &str) -> String {
    let Some((id, answer)) = evidence.split_once(" = ") else {
        return evidence.to_string();
    };
    let Some(q) = bank().question(id) else {
        return evidence.to_string();
    };
    let answer = answer.split_whitespace().next().unwrap_or(answer);
    let shown = if answer == SKIPPED {
        "skipped"
    } else {
        q.answer_label(answer)
    };
    format!("{} — {shown}", q.text)
}

/// The crisis resources on screen: the emergency line first, then the
/// support lines as a list under the callout.
fn screen_crisis_blocks(resources: &[CrisisResource]) -> Vec<Block> {
    let (emergency, support) = crisis_kinds(resources);
    let mut lines: Vec<Inline> = emergency.into_iter().map(crisis_line).collect();
    if resources.is_empty() {
        lines.push(vec![plain(crate::crisis::NO_ENTRIES)]);
    }
    if support.is_empty() {
        return vec![Block::Callout {
            title: CRISIS_TITLE.into(),
            lines,
        }];
    }
    lines.push(vec![plain("To talk to someone now:")]);
    let support = support.into_iter().map(|r| item(crisis_line(r))).collect();
    vec![
        Block::Callout {
            title: CRISIS_TITLE.into(),
            lines,
        },
        Block::Bullets(support),
    ]
}

/// One resource in the words every front-end uses (`crisis::wording`).
fn crisis_line(resource: &CrisisResource) -> Inline {
    let words = crate::crisis::wording(resource);
    let mut line = Vec::new();
    if !words.lead.is_empty() {
        line.push(plain(words.lead));
    }
    line.push(strong(words.emphasis));
    line.push(plain(words.rest));
    line
}

/// Emergency lines and support lines, each in the data file's order.
fn crisis_kinds(resources: &[CrisisResource]) -> (Vec<&CrisisResource>, Vec<&CrisisResource>) {
    resources.iter().partition(|r| r.kind == "emergency")
}

/// The ASQ result, credited to the NIMH, in a clinician's words. Empty in
/// the client copy, which says nothing about the screen (it may be read by
/// someone else in the home), and in a clinician copy without a result.
pub fn risk_screen_line(report: &Report) -> Inline {
    match (report.view, report.risk_screen) {
        (View::Clinician, Some(screen)) => vec![
            strong(format!("Suicide risk screen, {}: ", ASQ_NAME)),
            plain(format!(
                "{}.",
                crate::term::capitalise(screen.clinical_words())
            )),
        ],
        _ => Vec::new(),
    }
}

/// A criterion's evidence for the page. Evidence that restates an answer
/// ("privacy.space = none (…)") is named by question id only, since the
/// Answers section shows each one in full with its wording; measurements and
/// scores are kept as written.
///
/// The connection's figures and reasons are printed once, under Connection:
/// here they are named, not repeated.
fn evidence_lines(evidence: &[String], network: Option<&NetworkReport>) -> Vec<String> {
    let mut ids = Vec::new();
    let mut lines = Vec::new();
    let mut connection = false;
    for e in evidence {
        let figure = NETWORK_FIGURES.iter().any(|prefix| e.starts_with(prefix));
        if figure || network.is_some_and(|n| n.video.reasons.contains(e)) {
            connection = true;
            continue;
        }
        match e.split_once(" = ") {
            Some((id, _)) if bank().question(id).is_some() => ids.push(id),
            _ => lines.push(e.clone()),
        }
    }
    if connection {
        lines.push("Measured figures and what they mean: under Connection.".to_string());
    }
    if !ids.is_empty() {
        lines.insert(
            0,
            format!(
                "Answers considered: {} (in full under Answers).",
                ids.join(", ")
            ),
        );
    }
    lines
}

/// How the internet criterion's evidence starts each measured figure
/// (assessment.rs, `network_figures`).
const NETWORK_FIGURES: [&str; 5] = [
    "download ",
    "upload ",
    "idle round trip ",
    "round trip while busy ",
    "audio-like stream: ",
];

/// The recommendation in words for the clinician: what to agree with the
/// client, never a verdict.
fn clinician_summary(report: &Report) -> String {
    use crate::assessment::{CriterionId, Outcome};
    let unknown = report.criteria.iter().any(|c| c.status == Status::Unknown);
    let open = if unknown {
        " Some criteria are not known yet (skipped or not measured); go through them with the \
         client."
    } else {
        ""
    };
    match report.outcome {
        Outcome::InPersonRecommended => {
            let reasons: Vec<&str> = report
                .criteria
                .iter()
                .filter(|c| c.status == Status::Met)
                .map(|c| match c.id {
                    CriterionId::Privacy => "the client may have nowhere private to talk",
                    CriterionId::Isolation => {
                        "meeting in person may be an important way for them to have contact"
                    }
                    CriterionId::Internet => "the connection may not be steady enough for video",
                    CriterionId::Risk => {
                        "their answers about current risk suggest starting with more support"
                    }
                    CriterionId::HomeSafety => "home may not be a safe place for sessions",
                })
                .collect();
            let reasons = match reasons.as_slice() {
                [] => String::new(),
                [one] => format!(", because {one}"),
                [rest @ .., last] => format!(", because {} and {last}", rest.join(", ")),
            };
            format!(
                "In-person sessions are recommended for now{reasons}. Talk this through with \
                 the client and agree the next step together; their view matters.{open}"
            )
        }
        Outcome::VideoWithAdjustments if !report.adjustments.is_empty() => format!(
            "Video sessions from home look possible with the changes under What could help. \
             Agree with the client which of them to try before the first session.{open}"
        ),
        Outcome::VideoWithAdjustments => format!(
            "Video sessions from home look possible.{open} Agree with the client how to check \
             what is still open before the first session."
        ),
        Outcome::VideoSuitable => "Video sessions from home look like a good fit right now. \
                                   Go through the session plan with the client at the first \
                                   session."
            .to_string(),
    }
}

fn item(text: Inline) -> Item {
    Item {
        text,
        summary: None,
        details: Vec::new(),
    }
}

fn meta_lines(report: &Report) -> Vec<String> {
    let copy = match report.view {
        View::Clinician => {
            "Clinician copy: everything, including the answers about risk. Keep it with the \
             client's clinical record."
        }
        View::Client => {
            "Client copy: your answers about home, contact with other people and how you \
             have been feeling are in your therapist's copy only."
        }
    };
    let mut lines = Vec::new();
    if let Some(reference) = &report.client_ref {
        lines.push(format!("Client: {reference}"));
    }
    lines.push(copy.to_string());
    if let Some(clinic) = &report.clinic {
        if let Some(name) = &clinic.name {
            lines.push(format!("Clinic: {name}"));
        }
        if let Some(phone) = &clinic.dropped_call_phone {
            lines.push(format!("Clinic number if a video call drops: {phone}"));
        }
    }
    lines.push(format!(
        "Made {} by session-ready {}; region for support numbers: {}.",
        report_time(report),
        report.tool_version,
        report.region
    ));
    lines
}

/// The crisis resources: the emergency line first, then who to talk to.
fn crisis_block(resources: &[CrisisResource]) -> Block {
    let (emergency, support) = crisis_kinds(resources);
    let mut lines: Vec<Inline> = emergency.into_iter().map(crisis_line).collect();
    if !support.is_empty() {
        lines.push(vec![plain("To talk to someone now:")]);
        lines.extend(support.into_iter().map(crisis_line));
    }
    if lines.is_empty() {
        // Never leave the section empty: a report from a future data file
        // without entries still points somewhere.
        lines.push(vec![plain(crate::crisis::NO_ENTRIES)]);
    }
    Block::Callout {
        title: CRISIS_TITLE.into(),
        lines,
    }
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("not measured".into(), |ms| format!("{ms:.0} ms"))
}

fn network_blocks(network: Option<&NetworkReport>, reason: Option<&str>) -> Vec<Block> {
    let Some(n) = network else {
        return vec![Block::Paragraph(vec![
            strong("Not measured: "),
            plain(format!(
                "{}.",
                reason.unwrap_or("the connection was not tested")
            )),
        ])];
    };
    // A rating from part of the figures is not one to rely on: say so.
    let rating = n.video.rating.as_str();
    let mut blocks = vec![Block::Paragraph(
        if n.video.conclusive || n.video.rating == crate::net::model::VideoRating::NotMeasured {
            vec![
                plain("For a one-to-one video call: "),
                strong(rating),
                plain("."),
            ]
        } else {
            vec![
                plain("For a one-to-one video call: "),
                strong(rating),
                plain(" from what could be measured; too little was measured to rely on it."),
            ]
        },
    )];
    let speed = |t: &crate::net::model::Throughput| match t.mbps {
        Some(m) if t.lower_bound => format!("at least {m:.1} Mbit/s"),
        Some(m) => format!("{m:.1} Mbit/s"),
        None => format!(
            "not measured ({})",
            t.reason.as_deref().unwrap_or("no reason given")
        ),
    };
    let mut figures = vec![
        item(vec![plain(format!(
            "Download {}; upload {}.",
            speed(&n.download),
            speed(&n.upload)
        ))]),
        item(vec![plain(format!(
            "Delay (latency) {} when idle, {} while busy; steadiness (jitter) {}.",
            fmt_ms(n.latency.idle_ms),
            fmt_ms(n.latency.loaded_ms),
            fmt_ms(n.latency.jitter_ms)
        ))]),
    ];
    figures.push(item(vec![plain(match &n.udp {
        Some(u) => format!(
            "Audio-like test: {:.1}% lost{}, {:.0} ms round trip, {:.0} ms jitter.",
            u.loss_pct,
            u.loss_ci_pct
                .map(|[lo, hi]| format!(" (between {lo:.1}% and {hi:.1}%)"))
                .unwrap_or_default(),
            u.rtt_ms,
            u.jitter_ms
        ),
        None => format!(
            "Audio-like test: not measured ({}).",
            n.udp_reason.as_deref().unwrap_or("no reason given")
        ),
    })]));
    for reason in &n.video.reasons {
        figures.push(item(vec![plain(reason)]));
    }
    blocks.push(Block::Bullets(figures));
    blocks.push(Block::Note(format!(
        "Measured against {} in {:.1} s, using {:.1} MB of data.",
        n.server,
        n.duration_s,
        n.bytes_used as f64 / 1_000_000.0
    )));
    if let Some(choice) = &n.server_choice {
        blocks.push(Block::Note(crate::net::render::choice_sentence(
            choice, &n.server,
        )));
    }
    blocks
}

fn plan_blocks(plan: Option<&SessionPlan>) -> Vec<Block> {
    let Some(plan) = plan else {
        return vec![Block::Paragraph(vec![plain(
            "No session plan was made this time. It can be made together at the first session.",
        )])];
    };
    let items: Vec<Item> = plan_entries(plan)
        .into_iter()
        .map(|(prompt, value)| item(vec![plain(format!("{prompt} — ")), strong(value)]))
        .collect();
    if items.is_empty() {
        return vec![Block::Paragraph(vec![plain(
            "A session plan was started but nothing was written in it.",
        )])];
    }
    vec![Block::Bullets(items)]
}

/// Every answer, section by section in the order asked, with the question's
/// own words. Questions that were not asked (branching) are simply absent.
fn answer_blocks(report: &Report) -> Vec<Block> {
    let bank = bank();
    let clinician = report.view == View::Clinician;
    let mut blocks = Vec::new();
    let skipped = skipped_count(report);
    blocks.push(Block::Paragraph(vec![plain(match skipped {
        0 => "No question was skipped.".to_string(),
        1 => "1 question was skipped. A skipped question is never counted as a no.".to_string(),
        n => format!("{n} questions were skipped. A skipped question is never counted as a no."),
    })]));

    for section in &bank.sections {
        let items: Vec<(Item, &str)> = bank
            .in_section(&section.id)
            .filter_map(|q| {
                let answer = report.answers.get(&q.id)?;
                let shown = if answer == SKIPPED {
                    "skipped"
                } else {
                    q.answer_label(answer)
                };
                let mut text = vec![plain(format!("{} — ", q.text)), strong(shown)];
                if clinician {
                    text.push(plain(format!(" ({})", q.id)));
                }
                Some((item(text), q.source.as_str()))
            })
            .collect();
        let withheld = !section.client_copy && !clinician;
        if items.is_empty() && !withheld {
            continue;
        }
        blocks.push(Block::Subheading(section.title.clone()));
        if withheld {
            blocks.push(Block::Paragraph(vec![plain(super::model::RISK_WITHHELD)]));
            continue;
        }
        let mut sources: Vec<&str> = items.iter().map(|(_, s)| *s).collect();
        sources.dedup();
        blocks.push(Block::Bullets(items.into_iter().map(|(i, _)| i).collect()));
        for source in sources.iter().filter(|s| **s != "session-ready") {
            if let Some(src) = bank.source(source) {
                blocks.push(Block::Note(format!("Wording: {} {}", src.cite, src.url)));
            }
        }
    }

    if clinician && !report.unasked_answers.is_empty() {
        blocks.push(Block::Subheading(UNASKED_TITLE.into()));
        blocks.push(Block::Paragraph(vec![plain(UNASKED_WORDS)]));
        blocks.push(Block::Bullets(
            report
                .unasked_answers
                .iter()
                .map(|(id, a)| {
                    let (text, shown) = bank.question(id).map_or((id.as_str(), a.as_str()), |q| {
                        (q.text.as_str(), q.answer_label(a))
                    });
                    item(vec![
                        plain(format!("{text} — ")),
                        strong(shown),
                        plain(format!(" ({id})")),
                    ])
                })
                .collect(),
        ));
    }

    // Answers this version does not know (a newer or older question bank)
    // are still shown, by id, rather than silently dropped.
    let unknown: Vec<Item> = report
        .answers
        .iter()
        .filter(|(id, _)| bank.question(id).is_none())
        .map(|(id, a)| item(vec![plain(format!("{id} — ")), strong(a)]))
        .collect();
    if !unknown.is_empty() {
        blocks.push(Block::Subheading("Other answers".into()));
        blocks.push(Block::Bullets(unknown));
    }
    blocks
}

/// Heading of the answers a file gave to questions that would not be asked.
pub const UNASKED_TITLE: &str = "Answered in the file, though not asked";

const UNASKED_WORDS: &str = "The answers file gave these to questions the questionnaire would \
     not have asked, given the answers before them, so they are not among the answers above. A \
     yes about risk still counts and is handled as the screen above says; please check the \
     others with the client.";

/// All the text of a document, for checks (e.g. what a client copy leaves out).
pub fn all_text(doc: &Document) -> String {
    let spans = |s: &Inline| s.iter().map(|s| s.text.as_str()).collect::<String>();
    let mut out = String::new();
    for block in &doc.blocks {
        match block {
            Block::Title(t) | Block::Heading(t) | Block::Subheading(t) | Block::Note(t) => {
                out.push_str(t)
            }
            Block::Meta(lines) => out.push_str(&lines.join("\n")),
            Block::Paragraph(p) => out.push_str(&spans(p)),
            Block::Bullets(items) => {
                for i in items {
                    out.push_str(&spans(&i.text));
                    out.push('\n');
                    out.push_str(&i.details.join("\n"));
                }
            }
            Block::Callout { title, lines } => {
                out.push_str(title);
                for l in lines {
                    out.push('\n');
                    out.push_str(&spans(l));
                }
            }
        }
        out.push('\n');
    }
    out
}
