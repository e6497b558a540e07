//! Assessment rules as pure functions: answers + network result (+ device and
//! session plan) → each exclusion criterion's status with its evidence, the
//! outcome, `urgent`, and concrete adjustments. No I/O, so every path is unit
//! tested. The rules are documented as a table in the README.
//!
//! Two principles run through every rule: a skip is never a "no" (it gives
//! `unknown`, never `not-met`), and the result is a recommendation to talk
//! through, never a verdict.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::device::{DeviceRating, DeviceReport};
use crate::net::NetworkReport;
use crate::net::model::{VideoAssessment, VideoRating};
use crate::questionnaire::SessionPlan;
use crate::questionnaire::{Answers, SKIPPED, bank};
// The risk question ids belong to the questionnaire; named here as well
// because the rules below are written in them.
pub use crate::questionnaire::risk::{
    ASQ_ACUITY, ASQ_SCREEN, RECENT_CRISIS, is_positive_risk_answer,
};

/// The exclusion criteria (docs/clinical-basis.md). Ids are part of the contract (docs/interface.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CriterionId {
    Privacy,
    Isolation,
    Internet,
    Risk,
    HomeSafety,
}

impl CriterionId {
    pub const ALL: [CriterionId; 5] = [
        CriterionId::Privacy,
        CriterionId::Isolation,
        CriterionId::Internet,
        CriterionId::Risk,
        CriterionId::HomeSafety,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CriterionId::Privacy => "privacy",
            CriterionId::Isolation => "isolation",
            CriterionId::Internet => "internet",
            CriterionId::Risk => "risk",
            CriterionId::HomeSafety => "home-safety",
        }
    }

    /// The question section whose answers decide this criterion (the
    /// connection is mostly measured, so `internet` has none).
    pub fn section(self) -> Option<&'static str> {
        match self {
            CriterionId::Privacy => Some("privacy"),
            CriterionId::Isolation => Some("isolation"),
            CriterionId::Internet => None,
            CriterionId::Risk => Some("risk"),
            CriterionId::HomeSafety => Some("home"),
        }
    }

    /// Left out of the client copy, status and all: its section's answers
    /// are (`client_copy: false` in data/questions.json), and its status
    /// would say what they were.
    pub fn withheld_from_client(self) -> bool {
        self.section()
            .and_then(|s| bank().section(s))
            .is_some_and(|s| !s.client_copy)
    }

    /// A plain title for people.
    pub fn title(self) -> &'static str {
        match self {
            CriterionId::Privacy => "Privacy",
            CriterionId::Isolation => "Contact with other people",
            CriterionId::Internet => "Internet connection",
            CriterionId::Risk => "How you have been feeling",
            CriterionId::HomeSafety => "Safety at home",
        }
    }
}

/// `unknown` means skipped or not measured: a skip is never a "no".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Met,
    NotMet,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::NotMet => "not-met",
            Status::Unknown => "unknown",
        }
    }

    /// Plain words for people, shared by every renderer: a criterion that is
    /// met points to talking about in-person care, never to a failure.
    pub fn words(self) -> &'static str {
        match self {
            Status::Met => "points to in-person care for now",
            Status::NotMet => "fine for video",
            Status::Unknown => "not known yet",
        }
    }
}

/// One criterion's decision and what decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CriterionResult {
    pub id: CriterionId,
    pub status: Status,
    /// One plain sentence for the client.
    pub summary: String,
    /// The answers and measurements that decided the status.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    VideoSuitable,
    VideoWithAdjustments,
    InPersonRecommended,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::VideoSuitable => "video-suitable",
            Outcome::VideoWithAdjustments => "video-with-adjustments",
            Outcome::InPersonRecommended => "in-person-recommended",
        }
    }

    /// A plain phrase for people.
    pub fn words(self) -> &'static str {
        match self {
            Outcome::VideoSuitable => "video sessions look like a good fit",
            Outcome::VideoWithAdjustments => "video sessions look possible, with some changes",
            Outcome::InPersonRecommended => "in-person sessions are recommended for now",
        }
    }
}

/// The adjustments that follow from answers the client copy leaves out,
/// with the criterion they come from: their advice would say what the
/// answers were ("a sign that means someone has come in").
const ADJUSTMENT_SOURCES: [(&str, CriterionId); 3] = [
    ("safety-signal", CriterionId::HomeSafety),
    ("in-person-option", CriterionId::Isolation),
    ("talk-before-video", CriterionId::Risk),
];

impl Adjustment {
    /// Left out of the client copy with the criterion it comes from.
    pub fn withheld_from_client(&self) -> bool {
        ADJUSTMENT_SOURCES
            .iter()
            .any(|(id, from)| *id == self.id && from.withheld_from_client())
    }
}

/// A concrete change that would make video sessions work better.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Adjustment {
    /// Stable id, e.g. `headphones`, `wired-connection`.
    pub id: String,
    pub text: String,
}

/// The NIMH ASQ screen result, by the ASQ pathway: a yes to any of items 1-4
/// is a positive screen, and item 5 sets its acuity (yes: acute, no:
/// non-acute). A skip is never a no, so a screen with skips and no yes is
/// `incomplete`, and a positive screen without item 5 is
/// `positive-acuity-unknown`, which is handled like an acute one for order and
/// visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RiskScreen {
    /// No to all of items 1-4.
    Negative,
    /// Some of items 1-4 skipped or not reached, none answered yes.
    Incomplete,
    /// Yes to any of items 1-4, no to item 5.
    PositiveNonAcute,
    /// Yes to item 5.
    PositiveAcute,
    /// Yes to any of items 1-4, item 5 skipped or not reached.
    PositiveAcuityUnknown,
}

/// Who the ASQ is credited to wherever its result is shown.
pub const ASQ_NAME: &str = "NIMH Ask Suicide-Screening Questions (ASQ)";

impl RiskScreen {
    pub const ALL: [RiskScreen; 5] = [
        RiskScreen::Negative,
        RiskScreen::Incomplete,
        RiskScreen::PositiveNonAcute,
        RiskScreen::PositiveAcute,
        RiskScreen::PositiveAcuityUnknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskScreen::Negative => "negative",
            RiskScreen::Incomplete => "incomplete",
            RiskScreen::PositiveNonAcute => "positive-non-acute",
            RiskScreen::PositiveAcute => "positive-acute",
            RiskScreen::PositiveAcuityUnknown => "positive-acuity-unknown",
        }
    }

    /// A positive screen of any acuity: crisis resources apply.
    pub fn is_positive(self) -> bool {
        matches!(
            self,
            RiskScreen::PositiveNonAcute
                | RiskScreen::PositiveAcute
                | RiskScreen::PositiveAcuityUnknown
        )
    }

    /// Acute, or possibly acute: crisis resources come first in every format
    /// and the report is triaged next to the urgent ones.
    pub fn crisis_first(self) -> bool {
        matches!(
            self,
            RiskScreen::PositiveAcute | RiskScreen::PositiveAcuityUnknown
        )
    }

    /// The result in the words a clinician expects, with the follow-up the
    /// ASQ pathway asks for.
    pub fn clinical_words(self) -> &'static str {
        match self {
            RiskScreen::Negative => {
                "negative — no further screening needed now (clinical judgement can override)"
            }
            RiskScreen::Incomplete => {
                "incomplete — not all of questions 1 to 4 answered, none yes; ask at first contact"
            }
            RiskScreen::PositiveNonAcute => {
                "positive, non-acute (potential risk) — brief suicide safety assessment needed"
            }
            RiskScreen::PositiveAcute => {
                "positive, acute (imminent risk) — urgent full safety and mental health \
                 evaluation needed now"
            }
            RiskScreen::PositiveAcuityUnknown => {
                "positive, acuity unknown (question 5 not answered) — same-day safety \
                 follow-up needed: brief suicide safety assessment, because acuity is unknown"
            }
        }
    }

    /// "ASQ: positive, non-acute — …", for one-line summaries.
    pub fn short_clinical(self) -> String {
        format!("ASQ: {}", self.clinical_words())
    }
}

/// The ASQ screen result from the answers alone (pure, so a saved report's
/// answers always give the same result).
pub fn risk_screen(answers: &Answers) -> RiskScreen {
    let positive = ASQ_SCREEN.iter().any(|q| is(answers, q, "yes"));
    if positive {
        return match answer(answers, ASQ_ACUITY) {
            Some("yes") => RiskScreen::PositiveAcute,
            Some("no") => RiskScreen::PositiveNonAcute,
            _ => RiskScreen::PositiveAcuityUnknown,
        };
    }
    if is(answers, ASQ_ACUITY, "yes") {
        // Item 5 is asked only after a yes; a file that says yes to it alone
        // is still an acute answer, never overlooked.
        return RiskScreen::PositiveAcute;
    }
    if ASQ_SCREEN.iter().all(|q| is(answers, q, "no")) {
        RiskScreen::Negative
    } else {
        RiskScreen::Incomplete
    }
}

pub use crate::questionnaire::watched_home;

/// The whole decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Assessment {
    pub outcome: Outcome,
    pub urgent: bool,
    /// The NIMH ASQ screen result.
    pub risk_screen: RiskScreen,
    /// A recommendation to discuss, never a verdict.
    pub headline: String,
    pub criteria: Vec<CriterionResult>,
    pub adjustments: Vec<Adjustment>,
}

/// Everything the rules look at.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub answers: &'a Answers,
    /// `None` when the connection was not tested (`network_reason` says why).
    pub network: Option<&'a NetworkReport>,
    pub network_reason: Option<&'a str>,
    pub device: Option<&'a DeviceReport>,
    pub session_plan: Option<&'a SessionPlan>,
}

/// Thresholds that change without code (data/assessment.json).
#[derive(Debug, Deserialize)]
pub struct Rules {
    pub ucla3: Ucla3Rules,
    pub isolation: IsolationRules,
    pub internet: InternetRules,
}

#[derive(Debug, Deserialize)]
pub struct Ucla3Rules {
    pub scores: std::collections::BTreeMap<String, u32>,
    pub lonely_at_least: u32,
    pub source: String,
}

#[derive(Debug, Deserialize)]
pub struct IsolationRules {
    pub low_contact: Vec<String>,
    pub source: String,
}

#[derive(Debug, Deserialize)]
pub struct InternetRules {
    pub met_when_rating: Vec<String>,
    pub adjust_when_rating: Vec<String>,
    pub source: String,
}

pub fn rules() -> &'static Rules {
    crate::embedded_data!(Rules, "assessment.json")
}

/// `urgent`: the ASQ acuity question answered yes.
pub fn is_urgent(answers: &Answers) -> bool {
    answers.get(ASQ_ACUITY).is_some_and(|a| a == "yes")
}

/// Decide. Pure: no I/O.
pub fn assess(inputs: &Inputs) -> Assessment {
    let mut adjustments = Adjustments::default();
    let criteria = vec![
        privacy(inputs.answers, &mut adjustments),
        isolation(inputs.answers, &mut adjustments),
        internet(inputs, &mut adjustments),
        risk(inputs.answers, &mut adjustments),
        home_safety(inputs.answers, &mut adjustments),
    ];
    device_adjustments(inputs.device, &mut adjustments);
    plan_adjustments(inputs.answers, inputs.session_plan, &mut adjustments);

    let urgent = is_urgent(inputs.answers);
    let risk_screen = risk_screen(inputs.answers);
    let outcome = outcome_of(&criteria, !adjustments.0.is_empty());
    Assessment {
        outcome,
        urgent,
        risk_screen,
        headline: headline(outcome, risk_screen, &criteria, !adjustments.0.is_empty()),
        criteria,
        adjustments: adjustments.0,
    }
}

/// The outcome the criteria and adjustments lead to: any criterion met means
/// in person; anything not known yet, or any adjustment, means video with
/// adjustments.
pub fn outcome_of(criteria: &[CriterionResult], has_adjustments: bool) -> Outcome {
    if criteria.iter().any(|c| c.status == Status::Met) {
        Outcome::InPersonRecommended
    } else if criteria.iter().any(|c| c.status == Status::Unknown) || has_adjustments {
        Outcome::VideoWithAdjustments
    } else {
        Outcome::VideoSuitable
    }
}

/// The one-sentence summary: a recommendation to talk through, never a verdict.
/// `has_adjustments`: whether any adjustment is listed; the headline never
/// promises changes that are not there.
pub fn headline(
    outcome: Outcome,
    screen: RiskScreen,
    criteria: &[CriterionResult],
    has_adjustments: bool,
) -> String {
    let mut text = String::new();
    if screen.crisis_first() {
        // Worded so it holds wherever the numbers are drawn on the page.
        text.push_str(
            "The most important thing right now is that you can talk with someone today: \
             the support numbers in this report are free and open now. ",
        );
    }
    match outcome {
        Outcome::InPersonRecommended => {
            let reasons: Vec<&str> = criteria
                .iter()
                .filter(|c| c.status == Status::Met)
                .map(|c| reason_phrase(c.id))
                .collect();
            text.push_str(&format!(
                "Video may not be the safest fit right now, because {}. Meeting in person is \
                 recommended for now. This is a suggestion to talk through with your therapist, \
                 and your view matters.",
                join_words(&reasons)
            ));
        }
        Outcome::VideoWithAdjustments => {
            text.push_str(if has_adjustments {
                "Video sessions from home look possible, with a few changes that would help."
            } else {
                "Video sessions from home look possible."
            });
            if criteria.iter().any(|c| c.status == Status::Unknown) {
                text.push_str(
                    " Some things could not be checked or were skipped; your therapist can talk \
                     them through with you.",
                );
            }
        }
        Outcome::VideoSuitable => {
            text.push_str("Video sessions from home look like a good fit right now.");
        }
    }
    text
}

/// The headline of the client copy, which may be read by anyone in the home:
/// the same recommendation, but with no word about the ASQ and with the
/// reasons the copy leaves out (home, contact with others, how the client
/// has been feeling) said only as "some of your answers", and only when no
/// reason the copy keeps explains an in-person recommendation (so the words
/// follow from the copy alone). `criteria` are the ones the copy keeps.
pub fn client_copy_headline(
    outcome: Outcome,
    criteria: &[CriterionResult],
    has_adjustments: bool,
) -> String {
    let mut reasons: Vec<&str> = criteria
        .iter()
        .filter(|c| c.status == Status::Met)
        .map(|c| reason_phrase(c.id))
        .collect();
    if reasons.is_empty() {
        reasons.push(WITHHELD_REASON);
    }
    match outcome {
        Outcome::InPersonRecommended => format!(
            "Video may not be the safest fit right now, because {}. Meeting in person is \
             recommended for now. This is a suggestion to talk through with your therapist, \
             and your view matters.",
            join_words(&reasons)
        ),
        Outcome::VideoWithAdjustments => {
            let mut text = String::from(if has_adjustments {
                "Video sessions from home look possible, with a few changes that would help."
            } else {
                "Video sessions from home look possible."
            });
            text.push_str(
                " Your therapist will talk it through with you before the first session.",
            );
            text
        }
        Outcome::VideoSuitable => "Video sessions from home look like a good fit right now.".into(),
    }
}

/// How the client copy names reasons it leaves out.
const WITHHELD_REASON: &str = "some of your answers are best talked through in person";

fn reason_phrase(id: CriterionId) -> &'static str {
    match id {
        CriterionId::Privacy => "there may be nowhere private to talk",
        CriterionId::Isolation => "meeting in person may be an important way to have contact",
        CriterionId::Internet => "the connection may not be steady enough for video",
        CriterionId::Risk => "some of your answers suggest starting with more support",
        CriterionId::HomeSafety => "home may not be a safe place for sessions",
    }
}

/// "a", "a and b", "a, b and c".
fn join_words(parts: &[&str]) -> String {
    match parts {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Adjustments in the order they were found, each id once.
#[derive(Default)]
struct Adjustments(Vec<Adjustment>);

impl Adjustments {
    fn add(&mut self, id: &str, text: &str) {
        if !self.0.iter().any(|a| a.id == id) {
            self.0.push(Adjustment {
                id: id.to_string(),
                text: text.to_string(),
            });
        }
    }
}

/// `question = option ("label")`, or `question = skipped`, for evidence.
fn evidence(answers: &Answers, question: &str) -> Option<String> {
    let answer = answers.get(question)?;
    let label = bank()
        .question(question)
        .and_then(|q| q.option(answer))
        .map(|o| format!(" (\"{}\")", o.label))
        .unwrap_or_default();
    Some(format!("{question} = {answer}{label}"))
}

fn evidence_of(answers: &Answers, questions: &[&str]) -> Vec<String> {
    questions
        .iter()
        .filter_map(|q| evidence(answers, q))
        .collect()
}

fn answer<'a>(answers: &'a Answers, question: &str) -> Option<&'a str> {
    answers.get(question).map(String::as_str)
}

fn is(answers: &Answers, question: &str, value: &str) -> bool {
    answer(answers, question) == Some(value)
}

fn result(
    id: CriterionId,
    status: Status,
    summary: &str,
    evidence: Vec<String>,
) -> CriterionResult {
    CriterionResult {
        id,
        status,
        summary: summary.to_string(),
        evidence,
    }
}

fn privacy(answers: &Answers, adj: &mut Adjustments) -> CriterionResult {
    let space = answer(answers, "privacy.space");
    let household = answer(answers, "privacy.household");
    let alternative = answer(answers, "privacy.alternative_space");
    let ev = evidence_of(
        answers,
        &[
            "privacy.space",
            "privacy.household",
            "privacy.alternative_space",
            "privacy.headphones",
        ],
    );
    if is(answers, "privacy.headphones", "no") || household.is_some_and(|h| h != "alone") {
        adj.add(
            "headphones",
            "Use headphones or earbuds, so only you can hear your therapist.",
        );
    }
    let no_private_place_at_home = space == Some("none")
        || (household == Some("shared_no_private_room") && space != Some("private"));
    let id = CriterionId::Privacy;
    if no_private_place_at_home {
        return match alternative {
            Some("no") => result(
                id,
                Status::Met,
                "There may be nowhere private to talk at home or nearby right now.",
                ev,
            ),
            Some("yes") => {
                adj.add(
                    "private-place",
                    "Take sessions from the other private place you mentioned, and check you can get there in time.",
                );
                result(
                    id,
                    Status::NotMet,
                    "Home may not be private, but there is another private place you could use.",
                    ev,
                )
            }
            _ => result(
                id,
                Status::Unknown,
                "Home may not be private, and it is not yet clear whether there is another private place to use.",
                ev,
            ),
        };
    }
    match (space, household) {
        (Some("sometimes"), _) => {
            adj.add(
                "quiet-time",
                "Book sessions for a time when others are usually out.",
            );
            if alternative == Some("yes") {
                adj.add(
                    "private-place",
                    "If home is busy, use the other private place you mentioned.",
                );
            }
            result(
                id,
                Status::NotMet,
                "There is privacy at home at some times; choosing the time of sessions will help.",
                ev,
            )
        }
        (Some("private"), _) => result(
            id,
            Status::NotMet,
            "There is a private place to talk at home.",
            ev,
        ),
        // Space skipped: living alone or having a room with a door still settles it.
        (_, Some("alone" | "shared_with_private_room")) => result(
            id,
            Status::NotMet,
            "There is a room at home where you can talk privately.",
            ev,
        ),
        _ => result(
            id,
            Status::Unknown,
            "We do not know yet whether there is somewhere private to talk; those questions were skipped.",
            ev,
        ),
    }
}

fn home_safety(answers: &Answers, adj: &mut Adjustments) -> CriterionResult {
    let feels_safe = answer(answers, "home.feels_safe");
    let monitored = answer(answers, "home.monitored");
    let ev = evidence_of(answers, &["home.feels_safe", "home.monitored"]);
    let id = CriterionId::HomeSafety;
    if feels_safe == Some("no") || monitored == Some("yes") {
        return result(
            id,
            Status::Met,
            "Home may not feel safe or private enough for sessions right now.",
            ev,
        );
    }
    if feels_safe == Some("mostly") || monitored == Some("unsure") {
        adj.add(
            "safety-signal",
            "Agree with your therapist a word or sign that means \"someone has come in\", and what will happen if you need to end the call suddenly.",
        );
    }
    match feels_safe {
        Some("yes" | "mostly") if monitored != Some(SKIPPED) && monitored.is_some() => result(
            id,
            Status::NotMet,
            "Home feels safe enough for sessions.",
            ev,
        ),
        _ => result(
            id,
            Status::Unknown,
            "Some questions about home were skipped. That is fine; your therapist may ask about it when you meet.",
            ev,
        ),
    }
}

/// Three-item loneliness score bounds (min, max) given skips: a skipped item
/// could be anything, so it widens the range instead of counting as "hardly ever".
fn ucla3_range(answers: &Answers) -> (u32, u32) {
    let scores = &rules().ucla3.scores;
    let (lowest, highest) = (
        scores.values().copied().min().unwrap_or(1),
        scores.values().copied().max().unwrap_or(3),
    );
    [
        "isolation.lack_companionship",
        "isolation.left_out",
        "isolation.isolated",
    ]
    .iter()
    .map(|q| match answer(answers, q).and_then(|a| scores.get(a)) {
        Some(&score) => (score, score),
        None => (lowest, highest),
    })
    .fold((0, 0), |(lo, hi), (a, b)| (lo + a, hi + b))
}

fn isolation(answers: &Answers, adj: &mut Adjustments) -> CriterionResult {
    let rules = rules();
    let (lo, hi) = ucla3_range(answers);
    let cut = rules.ucla3.lonely_at_least;
    let lonely = if lo >= cut {
        Some(true)
    } else if hi < cut {
        Some(false)
    } else {
        None
    };
    let contact = answer(answers, "isolation.in_person_contact");
    let low_contact = match contact {
        Some(SKIPPED) | None => None,
        Some(c) => Some(rules.isolation.low_contact.iter().any(|l| l == c)),
    };
    // Isolated if either sign is present; not isolated only if both are known absent.
    let isolated = match (lonely, low_contact) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    };
    let important = answer(answers, "isolation.in_person_important");
    let mut ev = evidence_of(
        answers,
        &[
            "isolation.lack_companionship",
            "isolation.left_out",
            "isolation.isolated",
        ],
    );
    ev.push(if lo == hi {
        format!("three-item loneliness score {lo} of 9 (lonely at {cut} or more)")
    } else {
        format!("three-item loneliness score between {lo} and {hi} of 9, as items were skipped (lonely at {cut} or more)")
    });
    ev.extend(evidence_of(
        answers,
        &[
            "isolation.in_person_contact",
            "isolation.in_person_important",
        ],
    ));
    let id = CriterionId::Isolation;
    match (isolated, important) {
        (Some(true), Some("yes")) => result(
            id,
            Status::Met,
            "Meeting your therapist in person may be an important way for you to have contact with people.",
            ev,
        ),
        (_, Some("no")) | (Some(false), _) => result(
            id,
            Status::NotMet,
            "Video sessions are unlikely to take away contact you need.",
            ev,
        ),
        (Some(true), Some("unsure")) => {
            adj.add(
                "in-person-option",
                "Ask your therapist whether some sessions could be in person, so they also give you time with someone face to face.",
            );
            result(
                id,
                Status::NotMet,
                "Some in-person sessions might be worth talking about, as contact with people seems limited at the moment.",
                ev,
            )
        }
        _ => result(
            id,
            Status::Unknown,
            "Some questions about contact with people were skipped, so this could not be worked out.",
            ev,
        ),
    }
}

/// True when the probe measured enough to judge the connection: the rating
/// says so (download, upload and delay measured, or what was measured is
/// already poor enough that more could only make it worse).
pub fn network_measured(network: &NetworkReport) -> bool {
    network.video.conclusive
}

/// The `internet` criterion from a connection rating alone: `met` when the
/// rating is conclusive and one the rules count against video
/// (`met_when_rating` in data/assessment.json: `poor` or `unusable`);
/// `not-met` when conclusive otherwise; `unknown` when not enough could be
/// measured.
pub fn internet_criterion(video: &VideoAssessment) -> Status {
    if !video.conclusive || video.rating == VideoRating::NotMeasured {
        Status::Unknown
    } else if rules()
        .internet
        .met_when_rating
        .iter()
        .any(|rating| rating == video.rating.as_str())
    {
        Status::Met
    } else {
        Status::NotMet
    }
}

fn internet(inputs: &Inputs, adj: &mut Adjustments) -> CriterionResult {
    let rules = &rules().internet;
    let answers = inputs.answers;
    let mut ev = evidence_of(answers, &["setup.connection"]);
    match answer(answers, "setup.connection") {
        Some("mobile") => adj.add(
            "mobile-data",
            "Video calls over mobile data use roughly 0.5 to 1 GB an hour; check your allowance, and sit where the signal is strongest.",
        ),
        Some("wifi") => {}
        _ => {}
    }
    let id = CriterionId::Internet;
    let Some(network) = inputs.network.filter(|n| network_measured(n)) else {
        match inputs.network {
            Some(n) => {
                if !n.video.missing.is_empty() {
                    ev.push(format!("not measured: {}", n.video.missing.join(", ")));
                }
                ev.extend(network_figures(n));
                let why = [&n.download.reason, &n.upload.reason, &n.latency.reason]
                    .into_iter()
                    .flatten()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| "too little of the connection could be measured".into());
                ev.push(format!("connection not measured enough: {why}"));
            }
            None => {
                let why = inputs
                    .network_reason
                    .unwrap_or("the connection was not tested");
                ev.push(format!("connection not measured: {why}"));
            }
        }
        return result(
            id,
            Status::Unknown,
            "The connection was not measured, so this is not known yet.",
            ev,
        );
    };
    let rating = network.video.rating.as_str().to_string();
    ev.push(format!("video.rating = {rating}"));
    ev.extend(network_figures(network));
    ev.extend(network.video.reasons.iter().cloned());
    let wired_advice = "If you can, connect with a cable, or sit close to the Wi-Fi router, and pause downloads and streaming on your home network during sessions.";
    if rules.met_when_rating.contains(&rating) {
        adj.add("wired-connection", wired_advice);
        result(
            id,
            Status::Met,
            "The connection may not be steady enough for video calls right now.",
            ev,
        )
    } else if rules.adjust_when_rating.contains(&rating) {
        adj.add("wired-connection", wired_advice);
        result(
            id,
            Status::NotMet,
            "The connection should manage a video call, though it may not always be smooth.",
            ev,
        )
    } else {
        result(
            id,
            Status::NotMet,
            "The connection looks good enough for a video call.",
            ev,
        )
    }
}

fn network_figures(n: &NetworkReport) -> Vec<String> {
    let mut out = Vec::new();
    let at_least = |t: &crate::net::model::Throughput| if t.lower_bound { "at least " } else { "" };
    if let Some(v) = n.download.mbps {
        out.push(format!("download {}{v:.1} Mbit/s", at_least(&n.download)));
    }
    if let Some(v) = n.upload.mbps {
        out.push(format!("upload {}{v:.1} Mbit/s", at_least(&n.upload)));
    }
    if let Some(v) = n.latency.idle_ms {
        out.push(format!("idle round trip {v:.0} ms"));
    }
    if let Some(v) = n.latency.loaded_ms {
        out.push(format!("round trip while busy {v:.0} ms"));
    }
    if let Some(udp) = &n.udp {
        out.push(format!(
            "audio-like stream: {:.1}% lost, jitter {:.1} ms",
            udp.loss_pct, udp.jitter_ms
        ));
    }
    out
}

fn risk(answers: &Answers, adj: &mut Adjustments) -> CriterionResult {
    let mut questions: Vec<&str> = ASQ_SCREEN.to_vec();
    questions.push(ASQ_ACUITY);
    questions.push(RECENT_CRISIS);
    let ev = evidence_of(answers, &questions);
    let id = CriterionId::Risk;
    let any_yes = questions.iter().any(|q| is(answers, q, "yes"));
    if any_yes {
        return result(
            id,
            Status::Met,
            "Some of your answers about how you have been feeling suggest starting with more support, in person, where your therapist can be with you.",
            ev,
        );
    }
    // Every screening item and the recent-crisis question must be a real "no":
    // a skipped (or missing) risk item can never clear this criterion.
    let all_no = ASQ_SCREEN
        .iter()
        .chain(std::iter::once(&RECENT_CRISIS))
        .all(|q| is(answers, q, "no"));
    if all_no {
        result(
            id,
            Status::NotMet,
            "The screening questions did not point to any current risk.",
            ev,
        )
    } else {
        adj.add(
            "talk-before-video",
            "Your therapist may want to talk with you about how you have been feeling before video sessions begin.",
        );
        result(
            id,
            Status::Unknown,
            "Some of these questions were skipped, which is fine. A skipped question is never counted as a no, so your therapist may talk them through with you.",
            ev,
        )
    }
}

fn device_adjustments(device: Option<&DeviceReport>, adj: &mut Adjustments) {
    let Some(device) = device else { return };
    for item in device
        .items
        .iter()
        .filter(|i| matches!(i.rating, DeviceRating::Problem | DeviceRating::Caution))
    {
        adj.add(&format!("device-{}", item.id), &item.advice);
    }
}

fn plan_adjustments(answers: &Answers, plan: Option<&SessionPlan>, adj: &mut Adjustments) {
    let plan = plan.cloned().unwrap_or_default();
    if plan.if_call_drops.is_none() || !is(answers, "setup.backup_phone", "yes") {
        adj.add(
            "dropped-call-plan",
            "Agree with your therapist what happens if the call drops, for example a phone number they can call you on.",
        );
    }
    if plan.pause_signal.is_none() {
        adj.add(
            "pause-signal",
            "Agree a simple signal for \"I need a pause\", such as raising a hand.",
        );
    }
}

#[cfg(test)]
mod tests;
