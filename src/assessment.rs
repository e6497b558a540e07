//! Assessment rules as pure functions: answers + network (+ device) → each
//! exclusion criterion's status with evidence, the outcome, `urgent`, and
//! concrete adjustments. (Rules arrive under issue 4.)
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::device::DeviceReport;
use crate::net::NetworkReport;
use crate::questionnaire::Answers;

/// The exclusion criteria of seed 002 (PRODUCT.md table). Ids are part of the contract.
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
}

/// `unknown` means skipped or not measured: a skip is never a "no".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Met,
    NotMet,
    Unknown,
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
}

/// A concrete change that would make video sessions work better.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Adjustment {
    /// Stable id, e.g. `headphones`, `wired-connection`.
    pub id: String,
    pub text: String,
}

/// The whole decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Assessment {
    pub outcome: Outcome,
    pub urgent: bool,
    /// A recommendation to discuss, never a verdict.
    pub headline: String,
    pub criteria: Vec<CriterionResult>,
    pub adjustments: Vec<Adjustment>,
}

/// Decide. Pure: no I/O.
pub fn assess(
    _answers: &Answers,
    _network: Option<&NetworkReport>,
    _device: Option<&DeviceReport>,
) -> Assessment {
    Assessment {
        outcome: Outcome::VideoWithAdjustments,
        urgent: false,
        headline: "The readiness rules are not built yet in this version.".to_string(),
        criteria: CriterionId::ALL
            .iter()
            .map(|&id| CriterionResult {
                id,
                status: Status::Unknown,
                summary: "Not assessed yet.".to_string(),
                evidence: vec![],
            })
            .collect(),
        adjustments: vec![],
    }
}
