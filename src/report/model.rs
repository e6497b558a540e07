//! The report as saved to JSON. Field names are part of the interface contract
//! (docs/interface.md); bump [`SCHEMA`] on any breaking change.
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::assessment::{Adjustment, CriterionResult, Outcome, RiskScreen};
use crate::crisis::CrisisResource;
use crate::device::DeviceReport;
use crate::net::NetworkReport;
// The plan is made in the questionnaire; kept importable from here too.
pub use crate::questionnaire::SessionPlan;
use crate::report::View;

/// Schema id and version of the JSON report.
pub const SCHEMA: &str = "session-ready/report/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Versioned schema id, e.g. `session-ready/report/v1`.
    pub schema: String,
    /// When the report was made: RFC 3339 in UTC (`2026-11-23T15:16:00Z`),
    /// one instant for every reader and program. The human-readable formats
    /// show it in the reader's local time with its zone. A saved report
    /// whose value is not an RFC 3339 time is refused when read.
    #[schemars(extend("format" = "date-time"))]
    pub generated_at: String,
    /// session-ready version that made it.
    pub tool_version: String,
    /// `clinician` (everything) or `client` (answers about home, contact with
    /// other people and risk left out, with all that would reveal them).
    pub view: View,
    /// The clinic's own reference for the client (a file number, initials),
    /// printed on every page so a printed report can be filed. Never sent
    /// over the network; null when none was given.
    #[serde(default)]
    pub client_ref: Option<String>,
    pub outcome: Outcome,
    /// True when the ASQ acuity question was answered yes. Null in a client
    /// copy, which leaves the risk answers out and so cannot say (a clinic
    /// asks for the clinician copy; `summarize` lists it as urgency unknown).
    #[schemars(required, schema_with = "nullable::<bool>")]
    pub urgent: Option<bool>,
    /// The NIMH ASQ screen result: `negative`, `incomplete` (some of items
    /// 1-4 skipped, none yes), `positive-non-acute`, `positive-acute`, or
    /// `positive-acuity-unknown` (yes on 1-4, item 5 not answered). Null in a
    /// client copy, like `urgent`.
    #[schemars(required, schema_with = "nullable::<RiskScreen>")]
    pub risk_screen: Option<RiskScreen>,
    /// True when someone may read or overhear the client's contact with the
    /// clinic: they said someone might check their phone, computer or
    /// messages (`home.monitored` yes or unsure), or that home does not feel
    /// safe (`home.feels_safe` no). Contact them with care: ask before
    /// leaving messages. Null in a client copy, which a watched home may
    /// read; worked out again from the answers whenever a report is read.
    #[serde(default)]
    #[schemars(required, schema_with = "nullable::<bool>")]
    pub watched_home: Option<bool>,
    /// One plain-language sentence: a recommendation to discuss, never a verdict.
    pub headline: String,
    pub criteria: Vec<CriterionResult>,
    pub adjustments: Vec<Adjustment>,
    /// Null when the connection was not measured (see `network_reason`).
    pub network: Option<NetworkReport>,
    pub network_reason: Option<String>,
    /// Where `network` came from when it was not measured during this check:
    /// a result the client saved (`check --network FILE`). Null otherwise.
    #[serde(default)]
    pub network_source: Option<NetworkSource>,
    pub device: Option<DeviceReport>,
    /// Region used for crisis resources (two-letter code).
    pub region: String,
    pub crisis_resources: Vec<CrisisResource>,
    /// Question id → option id or "skipped". The client view leaves out
    /// `home.*`, `isolation.*` and `risk.*`.
    pub answers: BTreeMap<String, String>,
    /// Answers a file gave to questions the questionnaire would not have
    /// asked (their condition did not hold), e.g. `risk.asq5` with no yes on
    /// items 1-4: not among `answers`, shown to the clinician as a note, and
    /// a yes about risk still counts. Left out when empty, and always in the
    /// client copy.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unasked_answers: BTreeMap<String, String>,
    /// `completed`, or `stopped` when the client left before the end.
    pub questionnaire_status: QuestionnaireStatus,
    /// Built with the client (docs/clinical-basis.md); null if they chose not to.
    pub session_plan: Option<SessionPlan>,
    /// Clinic name and dropped-call number, when a clinic file was used.
    pub clinic: Option<ClinicInfo>,
}

/// A field every report has, null where the copy cannot say (`urgent` and
/// `risk_screen` in a client copy): required, and allowed to be null.
fn nullable<T: JsonSchema>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<Option<T>>()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum QuestionnaireStatus {
    Completed,
    Stopped,
}

impl QuestionnaireStatus {
    /// The id as written in reports (`completed`, `stopped`).
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionnaireStatus::Completed => "completed",
            QuestionnaireStatus::Stopped => "stopped",
        }
    }
}

/// A connection test attached from a file rather than run during the check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkSource {
    /// When the client's test finished (RFC 3339, UTC); null when the file
    /// did not record it.
    pub measured_at: Option<String>,
    /// Whole days between the test and this report; null when unknown.
    pub age_days: Option<i64>,
    /// Older than 14 days, or of unknown age: the connection may have changed.
    pub stale: bool,
}

impl NetworkSource {
    /// One sentence for every format: when, how old, and stale or not.
    pub fn words(&self) -> String {
        // The day of the test where it is read, with its zone.
        let day = |at: &str| {
            crate::when::local(at).map_or_else(
                || at.get(..10).unwrap_or(at).to_string(),
                |l| l.date_with_zone(),
            )
        };
        let when = match (&self.measured_at, self.age_days) {
            (Some(at), Some(0)) => format!(
                "From a connection test the client saved on {}, the same day as this report.",
                day(at)
            ),
            (Some(at), Some(days)) => format!(
                "From a connection test the client saved on {} ({days} day{} before this report).",
                day(at),
                if days == 1 { "" } else { "s" }
            ),
            _ => "From a connection test the client saved; when it was made is not recorded."
                .to_string(),
        };
        if self.stale {
            format!(
                "{when} It may be out of date (older than {} days or of unknown age): the \
                 connection may have changed, so the client could run session-ready network \
                 again.",
                crate::net::saved::STALE_AFTER_DAYS
            )
        } else {
            when
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClinicInfo {
    pub name: Option<String>,
    pub dropped_call_phone: Option<String>,
}

/// Everything a report is made from.
#[derive(Debug, Clone)]
pub struct ReportParts {
    pub answers: BTreeMap<String, String>,
    pub questionnaire_status: QuestionnaireStatus,
    pub session_plan: Option<SessionPlan>,
    pub network: Option<NetworkReport>,
    pub network_reason: Option<String>,
    pub device: Option<DeviceReport>,
    pub region: String,
    pub clinic: Option<ClinicInfo>,
    pub client_ref: Option<String>,
}

impl Report {
    /// Assess and assemble the clinician copy (everything).
    pub fn build(parts: ReportParts) -> Report {
        let (answers, unasked) =
            crate::questionnaire::split_unasked(crate::questionnaire::bank(), parts.answers);
        let assessment = crate::assessment::assess(&crate::assessment::Inputs {
            answers: &crate::questionnaire::answers_for_rules(&answers, &unasked),
            network: parts.network.as_ref(),
            network_reason: parts.network_reason.as_deref(),
            device: parts.device.as_ref(),
            session_plan: parts.session_plan.as_ref(),
        });
        Report {
            schema: SCHEMA.to_string(),
            generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            view: View::Clinician,
            client_ref: parts.client_ref,
            outcome: assessment.outcome,
            urgent: Some(assessment.urgent),
            risk_screen: Some(assessment.risk_screen),
            watched_home: Some(crate::questionnaire::watched_home(&answers)),
            headline: assessment.headline,
            criteria: assessment.criteria,
            adjustments: assessment.adjustments,
            network: parts.network,
            network_reason: parts.network_reason,
            network_source: None,
            device: parts.device,
            crisis_resources: crate::crisis::resources_list(&parts.region),
            region: parts.region,
            answers,
            unasked_answers: unasked,
            questionnaire_status: parts.questionnaire_status,
            session_plan: parts.session_plan,
            clinic: parts.clinic,
        }
    }
}

impl Report {
    /// Crisis resources before anything else: an acute screen, or one whose
    /// acuity is unknown (handled as possibly acute).
    /// Every client copy puts them first, so where they stand says nothing
    /// about the answers to someone else reading it.
    pub fn crisis_first(&self) -> bool {
        self.view == View::Client
            || self.is_urgent()
            || self.risk_screen.is_some_and(RiskScreen::crisis_first)
    }

    /// Urgent as far as this copy can say: false in a client copy, which
    /// cannot say (see [`Report::urgency_unknown`]).
    pub fn is_urgent(&self) -> bool {
        self.urgent == Some(true)
    }

    /// The client's phone or messages may be monitored, or home does not
    /// feel safe: contact needs care. False in a client copy, which cannot
    /// say.
    pub fn contact_with_care(&self) -> bool {
        self.watched_home == Some(true)
    }

    /// A client copy (or a file without the fields): whether the client
    /// needs contact today cannot be told from it.
    pub fn urgency_unknown(&self) -> bool {
        self.urgent.is_none() || self.risk_screen.is_none()
    }
}

/// Shown in the client copy in place of each section it leaves out.
pub const RISK_WITHHELD: &str =
    "Your answers to these questions are in your therapist's copy only.";

/// Said once in the client copy where the left-out criteria would be.
pub const CRITERIA_WITHHELD: &str = "Your answers about home, contact with other people and how \
     you have been feeling are in your therapist's copy only, with what they mean for sessions.";

impl Report {
    /// The client copy: what anyone in the client's home could read without
    /// harm (docs/clinical-basis.md, "What a client copy holds"). It leaves
    /// out the answers of every section marked `client_copy: false` (home,
    /// contact with other people, risk), the criteria they decide, the
    /// adjustments that follow from them, and the ASQ result and urgency
    /// (null). The recommendation stays, in words that do not say which
    /// left-out answer led to it.
    pub fn client_copy(&self) -> Report {
        let bank = crate::questionnaire::bank();
        let mut copy = self.clone();
        copy.view = View::Client;
        copy.urgent = None;
        copy.risk_screen = None;
        copy.watched_home = None;
        copy.answers.retain(|id, _| !bank.withheld_from_client(id));
        copy.unasked_answers.clear();
        copy.criteria.retain(|c| !c.id.withheld_from_client());
        copy.adjustments.retain(|a| !a.withheld_from_client());
        copy.headline = crate::assessment::client_copy_headline(
            copy.outcome,
            &copy.criteria,
            !copy.adjustments.is_empty(),
        );
        copy
    }
}
