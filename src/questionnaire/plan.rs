//! The client's session plan: a few short free-text answers made at the end
//! of the questionnaire (the plan prompts in data/questions.json), saved in
//! the report as `session_plan`.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The client's own plan for their sessions. Free text never leaves the machine
/// unless the client shares the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionPlan {
    /// Where they will sit.
    pub place: Option<String>,
    /// Comfort items within arm's reach.
    pub comfort_items: Option<String>,
    /// How they will signal that they need a pause.
    pub pause_signal: Option<String>,
    /// Someone nearby they could contact.
    pub nearby_contact: Option<String>,
    /// What happens if the call drops.
    pub if_call_drops: Option<String>,
}

impl SessionPlan {
    /// Every field with its id, in the order the prompts are asked. The ids
    /// are the JSON field names and the plan prompt ids in data/questions.json.
    /// This is the one list: a field added to the struct and not here does
    /// not compile.
    pub fn fields_mut(&mut self) -> [(&'static str, &mut Option<String>); 5] {
        let SessionPlan {
            place,
            comfort_items,
            pause_signal,
            nearby_contact,
            if_call_drops,
        } = self;
        [
            ("place", place),
            ("comfort_items", comfort_items),
            ("pause_signal", pause_signal),
            ("nearby_contact", nearby_contact),
            ("if_call_drops", if_call_drops),
        ]
    }

    /// Every field with its id and value, in the order of [`Self::fields_mut`].
    pub fn fields(&self) -> [(&'static str, Option<String>); 5] {
        self.clone()
            .fields_mut()
            .map(|(id, value)| (id, value.take()))
    }

    /// A plan with each field from `value(id)`; `None` when every field is left out.
    pub fn from_fields(value: impl Fn(&str) -> Option<String>) -> Option<SessionPlan> {
        let mut plan = SessionPlan::default();
        for (id, field) in plan.fields_mut() {
            *field = value(id);
        }
        (plan != SessionPlan::default()).then_some(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_ids_are_the_plan_prompts_and_the_json_names() {
        let prompts: Vec<&str> = crate::questionnaire::bank()
            .plan
            .prompts
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        let ids: Vec<&str> = SessionPlan::default().fields().map(|(id, _)| id).to_vec();
        assert_eq!(ids, prompts);
        let plan = SessionPlan::from_fields(|id| Some(format!("text for {id}"))).unwrap();
        let json = serde_json::to_value(&plan).unwrap();
        for (id, value) in plan.fields() {
            assert_eq!(json[id].as_str(), value.as_deref(), "{id}");
        }
        assert_eq!(SessionPlan::from_fields(|_| None), None);
    }
}
