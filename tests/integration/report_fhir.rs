//! FHIR R4 output checked against the R4 structure of QuestionnaireResponse:
//! a JSON Schema fragment written here from the specification
//! (hl7.org/fhir/R4/questionnaireresponse.html: element names, cardinalities,
//! value[x] choices, qrs-1; datatypes: string, code, uri, canonical,
//! dateTime regexes; JSON rules: no empty arrays, strings or nulls), plus
//! checks that every answer fits the published Questionnaire
//! (schema/questionnaire.fhir.json).

use std::collections::{BTreeMap, BTreeSet};

use crate::report_support::*;
use serde_json::{Value, json};

/// The twelve R4 `QuestionnaireResponse.item.answer.value[x]` choices.
const VALUE_X: [&str; 12] = [
    "valueBoolean",
    "valueDecimal",
    "valueInteger",
    "valueDate",
    "valueDateTime",
    "valueTime",
    "valueString",
    "valueUri",
    "valueAttachment",
    "valueCoding",
    "valueQuantity",
    "valueReference",
];

const DATE_TIME: &str = r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$";

fn r4_questionnaire_response_schema() -> Value {
    // FHIR string: not empty, not only whitespace.
    let string = json!({"type": "string", "minLength": 1, "pattern": r"\S"});
    let code = json!({"type": "string", "pattern": r"^[^\s]+(\s[^\s]+)*$"});
    let uri = json!({"type": "string", "pattern": r"^\S+$"});
    let array_of = |schema: Value| json!({"type": "array", "minItems": 1, "items": schema});
    let coding = json!({
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "properties": {
            "id": string, "extension": array_of(json!({"type": "object"})),
            "system": uri, "version": string, "code": code, "display": string,
            "userSelected": {"type": "boolean"}
        }
    });
    // At most one value[x] per answer (R4: value[x] 0..1).
    let mut pairs = Vec::new();
    for (i, a) in VALUE_X.iter().enumerate() {
        for b in &VALUE_X[i + 1..] {
            pairs.push(json!({"required": [a, b]}));
        }
    }
    let mut answer_props = serde_json::Map::new();
    for v in VALUE_X {
        answer_props.insert(v.into(), json!({}));
    }
    answer_props.insert("valueBoolean".into(), json!({"type": "boolean"}));
    answer_props.insert("valueDecimal".into(), json!({"type": "number"}));
    answer_props.insert("valueInteger".into(), json!({"type": "integer"}));
    answer_props.insert("valueString".into(), string.clone());
    answer_props.insert("valueUri".into(), uri.clone());
    answer_props.insert("valueCoding".into(), coding.clone());
    answer_props.insert(
        "valueDateTime".into(),
        json!({"type": "string", "pattern": DATE_TIME}),
    );
    answer_props.insert("id".into(), string.clone());
    answer_props.insert("extension".into(), array_of(json!({"type": "object"})));
    answer_props.insert(
        "modifierExtension".into(),
        array_of(json!({"type": "object"})),
    );
    answer_props.insert("item".into(), array_of(json!({"$ref": "#/$defs/item"})));
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["resourceType", "status"],
        "additionalProperties": false,
        "properties": {
            "resourceType": {"const": "QuestionnaireResponse"},
            "id": {"type": "string", "pattern": r"^[A-Za-z0-9\-\.]{1,64}$"},
            "meta": {
                "type": "object",
                "additionalProperties": false,
                "minProperties": 1,
                "properties": {
                    "versionId": string, "lastUpdated": string, "source": uri,
                    "profile": array_of(uri.clone()),
                    "security": array_of(coding.clone()),
                    "tag": array_of(coding.clone())
                }
            },
            "implicitRules": uri,
            "language": code,
            "text": {
                "type": "object",
                "additionalProperties": false,
                "required": ["status", "div"],
                "properties": {
                    "status": {"enum": ["generated", "extensions", "additional", "empty"]},
                    "div": {"type": "string", "pattern": "^<div xmlns=\"http://www.w3.org/1999/xhtml\"[ >]"}
                }
            },
            "contained": array_of(json!({"type": "object"})),
            "extension": array_of(json!({"type": "object"})),
            "modifierExtension": array_of(json!({"type": "object"})),
            "identifier": {"type": "object"},
            "basedOn": array_of(json!({"type": "object"})),
            "partOf": array_of(json!({"type": "object"})),
            "questionnaire": {"type": "string", "pattern": r"^\S+$"},
            "status": {"enum": ["in-progress", "completed", "amended", "entered-in-error", "stopped"]},
            "subject": {"type": "object"},
            "encounter": {"type": "object"},
            "authored": {"type": "string", "pattern": DATE_TIME},
            "author": {"type": "object"},
            "source": {"type": "object"},
            "item": array_of(json!({"$ref": "#/$defs/item"}))
        },
        "$defs": {
            "item": {
                "type": "object",
                "required": ["linkId"],
                "additionalProperties": false,
                "properties": {
                    "id": string, "extension": array_of(json!({"type": "object"})),
                    "modifierExtension": array_of(json!({"type": "object"})),
                    "linkId": string, "definition": uri, "text": string,
                    "answer": array_of(json!({"$ref": "#/$defs/answer"})),
                    "item": array_of(json!({"$ref": "#/$defs/item"}))
                },
                // qrs-1: nested items sit under an answer or under the item, not both.
                "not": {"required": ["answer", "item"]}
            },
            "answer": {
                "type": "object",
                "additionalProperties": false,
                "minProperties": 1,
                "properties": answer_props,
                "not": {"anyOf": pairs}
            }
        }
    })
}

fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&r4_questionnaire_response_schema())
        .unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn fhir_of(report: &Value, view: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "r", report);
    serde_json::from_slice(&render(&path, "fhir", Some(view))).unwrap()
}

/// Every (linkId → item) in the published Questionnaire.
fn questionnaire_items() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(root().join("schema/questionnaire.fhir.json")).unwrap();
    let q: Value = serde_json::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    fn walk(items: &Value, out: &mut BTreeMap<String, Value>) {
        for item in items.as_array().into_iter().flatten() {
            let id = item["linkId"].as_str().unwrap().to_string();
            assert!(
                out.insert(id.clone(), item.clone()).is_none(),
                "duplicate linkId {id}"
            );
            walk(&item["item"], out);
        }
    }
    walk(&q["item"], &mut out);
    out
}

/// Every answered item of a response: (linkId, answers).
fn answered(resp: &Value) -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    fn walk(items: &Value, out: &mut Vec<(String, Vec<Value>)>) {
        for item in items.as_array().into_iter().flatten() {
            if let Some(answers) = item["answer"].as_array() {
                out.push((item["linkId"].as_str().unwrap().into(), answers.clone()));
            }
            walk(&item["item"], out);
        }
    }
    walk(&resp["item"], &mut out);
    out
}

fn answer_of<'a>(resp: &'a [(String, Vec<Value>)], id: &str) -> Option<&'a Vec<Value>> {
    resp.iter().find(|(l, _)| l == id).map(|(_, a)| a)
}

/// The published Questionnaire (schema/questionnaire.fhir.json).
fn published_questionnaire() -> Value {
    let text = std::fs::read_to_string(root().join("schema/questionnaire.fhir.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// What HL7's validator checks of a response against its Questionnaire, read
/// from the R4 rules: at every level each item's linkId is a child of the
/// matching Questionnaire item, items come in the Questionnaire's order
/// ("items are out of order"), each answer's value[x] fits the item's type
/// (choice answers are among its answerOption), and only repeating items have
/// several answers. Returns every problem found.
fn against_questionnaire(resp: &Value) -> Vec<String> {
    fn walk(defs: &Value, items: &Value, path: &str, problems: &mut Vec<String>) {
        let defs: Vec<&Value> = defs.as_array().into_iter().flatten().collect();
        let mut last: Option<usize> = None;
        for item in items.as_array().into_iter().flatten() {
            let link_id = item["linkId"].as_str().unwrap_or_default();
            let Some(at) = defs.iter().position(|d| d["linkId"] == link_id) else {
                problems.push(format!("{path}: {link_id} is not an item here"));
                continue;
            };
            if last.is_some_and(|l| at <= l) {
                problems.push(format!("{path}: {link_id} is out of order"));
            }
            last = Some(at);
            let def = defs[at];
            let kind = def["type"].as_str().unwrap_or_default();
            let answers = item["answer"].as_array().cloned().unwrap_or_default();
            if answers.len() > 1 && def["repeats"] != true {
                problems.push(format!("{link_id}: several answers to a single item"));
            }
            for a in &answers {
                let allowed: &[&str] = match kind {
                    "choice" => &["valueCoding"],
                    "open-choice" => &["valueCoding", "valueString"],
                    "boolean" => &["valueBoolean"],
                    "decimal" => &["valueDecimal"],
                    "string" | "text" => &["valueString"],
                    "group" | "display" => &[],
                    _ => &[],
                };
                let keys: Vec<&str> = a
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                if keys.len() != 1 || !allowed.contains(&keys[0]) {
                    problems.push(format!("{link_id}: {keys:?} for a {kind} item"));
                }
                if kind == "choice" {
                    let options: Vec<&Value> = def["answerOption"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|o| &o["valueCoding"])
                        .collect();
                    if !options.contains(&&a["valueCoding"]) {
                        problems.push(format!("{link_id}: {a} is not an answerOption"));
                    }
                }
                if a["valueDecimal"].is_number() && !a["valueDecimal"].as_f64().unwrap().is_finite()
                {
                    problems.push(format!("{link_id}: not a finite decimal"));
                }
            }
            walk(&def["item"], &item["item"], link_id, problems);
        }
    }
    let mut problems = Vec::new();
    walk(
        &published_questionnaire()["item"],
        &resp["item"],
        "QuestionnaireResponse",
        &mut problems,
    );
    problems.extend(enable_when_problems(resp));
    problems
}

/// HL7's rule that an item whose `enableWhen` is false has no answers and is
/// left out of the response: every answered item's conditions (operator
/// `=` on a coding, `enableBehavior` any or all) are checked against the
/// response's own answers.
fn enable_when_problems(resp: &Value) -> Vec<String> {
    let answers = answered(resp);
    let defs = questionnaire_items();
    let mut problems = Vec::new();
    for (link_id, _) in &answers {
        let Some(def) = defs.get(link_id) else {
            continue;
        };
        let Some(conditions) = def["enableWhen"].as_array() else {
            continue;
        };
        let holds = |c: &Value| {
            assert_eq!(c["operator"], "=", "only = is used");
            answer_of(&answers, c["question"].as_str().unwrap()).is_some_and(|given| {
                given.iter().any(|a| {
                    a["valueCoding"]["system"] == c["answerCoding"]["system"]
                        && a["valueCoding"]["code"] == c["answerCoding"]["code"]
                })
            })
        };
        let enabled = if def["enableBehavior"] == "all" {
            conditions.iter().all(holds)
        } else {
            conditions.iter().any(holds)
        };
        if !enabled {
            problems.push(format!("{link_id} is answered but its enableWhen is false"));
        }
    }
    problems
}

/// An answers file may answer questions that would not be asked (ASQ item 5
/// with items 1-4 all no; another private place when home is private). The
/// FHIR copy stays valid (no item whose enableWhen is false), the acuity yes
/// is never dropped: the report is urgent, positive-acute, and keeps both
/// answers apart, named in FHIR, in every saved format and on stderr.
#[test]
fn answers_that_would_not_be_asked_are_kept_apart_and_a_risk_yes_still_counts() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_json(
        dir.path(),
        "answers",
        &serde_json::json!({"answers": {
            "risk.asq1": "no", "risk.asq2": "no", "risk.asq3": "no", "risk.asq4": "no",
            "risk.asq5": "yes", "risk.recent_crisis": "no",
            "privacy.space": "private", "privacy.alternative_space": "no"
        }, "region": "GB"}),
    );
    let out = check_answers(&file)
        .args(["--format", "json", "--view", "clinician"])
        .assert()
        .success();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("privacy.alternative_space, risk.asq5 answered, though the questionnaire"),
        "{err}"
    );
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["urgent"], true);
    assert_eq!(report["risk_screen"], "positive-acute");
    assert!(report["answers"].get("risk.asq5").is_none());
    assert_eq!(report["unasked_answers"]["risk.asq5"], "yes");
    assert_eq!(report["unasked_answers"]["privacy.alternative_space"], "no");

    let resp = fhir_of(&report, "clinician");
    let problems = against_questionnaire(&resp);
    assert!(problems.is_empty(), "{problems:#?}");
    let answers = answered(&resp);
    assert!(answer_of(&answers, "risk.asq5").is_none());
    assert!(answer_of(&answers, "privacy.alternative_space").is_none());
    let kept = answer_of(&answers, "assessment.unasked").unwrap();
    assert!(kept.iter().any(|a| {
        a["valueString"]
            .as_str()
            .unwrap()
            .starts_with("risk.asq5 = yes")
    }));
    assert_eq!(
        answer_of(&answers, "assessment.urgent").unwrap()[0]["valueBoolean"],
        true
    );

    // The saved report reads back the same; the clinician text flags it.
    let saved = write_json(dir.path(), "report", &report);
    let text = render_text(&saved, "text", Some("clinician"));
    assert!(text.contains("Check with the client: the answers file says risk.asq5 = yes"));
    assert!(
        text.contains("Answered in the file, though not asked"),
        "{text}"
    );
    let client = render_text(&saved, "json", Some("client"));
    assert!(!client.contains("unasked"), "{client}");

    // A report made before the answers were kept apart reads as one made
    // today, so its FHIR is valid too.
    let mut old = report.clone();
    old["answers"]["risk.asq5"] = "yes".into();
    old.as_object_mut().unwrap().remove("unasked_answers");
    let old = write_json(dir.path(), "old", &old);
    let resp: Value = serde_json::from_slice(&render(&old, "fhir", Some("clinician"))).unwrap();
    assert!(against_questionnaire(&resp).is_empty());
}

#[test]
fn the_order_check_catches_what_hl7_rejects() {
    let good = fhir_of(&example_report("urgent"), "clinician");
    assert!(against_questionnaire(&good).is_empty());
    // Crisis first, as urgent responses used to be: out of order.
    let mut doc = good.clone();
    let items = doc["item"].as_array_mut().unwrap();
    let crisis = items.pop().unwrap();
    items.insert(0, crisis);
    let problems = against_questionnaire(&doc);
    assert!(
        problems.iter().any(|p| p.contains("out of order")),
        "{problems:?}"
    );
    let mut doc = good.clone();
    doc["item"][0]["item"][1]["answer"][0] = json!({"valueString": "yes"});
    assert!(
        !against_questionnaire(&doc).is_empty(),
        "boolean item as a string"
    );
    let mut doc = good.clone();
    doc["item"][0]["item"][0]["linkId"] = json!("assessment.verdict");
    assert!(!against_questionnaire(&doc).is_empty(), "unknown linkId");
    let mut doc = good;
    doc["item"][1]["item"][0]["answer"][0]["valueCoding"]["code"] = json!("maybe");
    assert!(
        !against_questionnaire(&doc).is_empty(),
        "code not an option"
    );
}

/// Connections measured, half measured and never measured all fit the
/// Questionnaire too (the examples run without a connection test).
#[test]
fn every_connection_state_fits_the_questionnaire() {
    let mut measured = example_report("urgent");
    measured["network"] = measured_network();
    let mut blank = example_report("video-suitable");
    let mut network = measured_network();
    network["download"]["mbps"] = Value::Null;
    network["upload"]["mbps"] = Value::Null;
    network["latency"] = json!({"idle_ms": null, "min_ms": null, "p90_ms": null,
        "jitter_ms": null, "loaded_ms": null, "samples": 0, "reason": "no reply"});
    network["video"] = json!({"rating": "not-measured", "mos": null, "reasons": [],
        "conclusive": false});
    blank["network"] = network;
    for (what, report) in [("measured", measured), ("never measured", blank)] {
        let resp = fhir_of(&report, "clinician");
        let problems = against_questionnaire(&resp);
        assert!(problems.is_empty(), "{what}: {problems:#?}");
        assert!(errors(&validator(), &resp).is_empty(), "{what}");
        if what == "never measured" {
            let rating = answer_of(&answered(&resp), "network.video-rating")
                .unwrap()
                .clone();
            assert_eq!(rating[0]["valueCoding"]["code"], "not-performed", "{what}");
        }
    }
}

#[test]
fn the_schema_fragment_catches_what_fhir_forbids() {
    let v = validator();
    let good = fhir_of(&example_report("video-suitable"), "clinician");
    assert!(errors(&v, &good).is_empty(), "{:#?}", errors(&v, &good));
    let mut broken = Vec::new();
    let mut doc = good.clone();
    doc["item"][0]["item"][0]["answer"] = json!([]);
    broken.push(("empty answer array", doc));
    let mut doc = good.clone();
    doc["item"][0]["item"][0]["answer"][0]["valueString"] = json!("also");
    broken.push(("two value[x]", doc));
    let mut doc = good.clone();
    doc["item"][0]["answer"] = json!([{"valueBoolean": true}]);
    broken.push(("answer and item together (qrs-1)", doc));
    let mut doc = good.clone();
    doc["status"] = json!("done");
    broken.push(("unknown status", doc));
    let mut doc = good.clone();
    doc["item"][1]["item"][0]["text"] = json!("");
    broken.push(("empty string", doc));
    let mut doc = good.clone();
    doc["authored"] = json!("15/01/2026");
    broken.push(("bad dateTime", doc));
    let mut doc = good.clone();
    doc.as_object_mut().unwrap().remove("status");
    broken.push(("missing status", doc));
    let mut doc = good;
    doc["item"][0].as_object_mut().unwrap().remove("linkId");
    broken.push(("missing linkId", doc));
    for (what, doc) in broken {
        assert!(!v.is_valid(&doc), "the schema let through: {what}");
    }
}

#[test]
fn every_example_is_a_valid_r4_questionnaire_response_in_both_views() {
    let v = validator();
    let definitions = questionnaire_items();
    for name in EXAMPLES {
        let report = example_report(name);
        for view in ["client", "clinician"] {
            let resp = fhir_of(&report, view);
            let errs = errors(&v, &resp);
            assert!(errs.is_empty(), "{name} {view}: {errs:#?}");
            assert_eq!(resp["status"], "completed");
            assert_eq!(resp["authored"], PINNED_TIME);
            assert!(resp["questionnaire"].as_str().unwrap().ends_with("|1"));

            for (link_id, answers) in answered(&resp) {
                let def = definitions
                    .get(&link_id)
                    .unwrap_or_else(|| panic!("{name}: {link_id} is not in the Questionnaire"));
                let expected_value = match def["type"].as_str().unwrap() {
                    "choice" | "open-choice" => "valueCoding",
                    "boolean" => "valueBoolean",
                    "decimal" => "valueDecimal",
                    "string" | "text" => "valueString",
                    other => panic!("{link_id}: unexpected type {other}"),
                };
                assert!(
                    answers.len() == 1 || def["repeats"] == true,
                    "{link_id}: repeats"
                );
                for a in &answers {
                    // Exactly one value[x] (FHIR allows none; we always give one).
                    let keys: Vec<&String> = a.as_object().unwrap().keys().collect();
                    assert_eq!(keys, [expected_value], "{name} {link_id}");
                    if def["type"] == "choice" {
                        let options: Vec<&Value> = def["answerOption"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|o| &o["valueCoding"])
                            .collect();
                        assert!(
                            options.contains(&&a["valueCoding"]),
                            "{link_id}: {a} not an option"
                        );
                    }
                    if let Some(s) = a["valueString"].as_str() {
                        assert_eq!(s, s.trim(), "{link_id}: untrimmed string");
                    }
                }
            }
            let items: Vec<&str> = resp["item"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["linkId"].as_str().unwrap())
                .collect();
            assert!(
                items.contains(&"crisis"),
                "{name}: crisis resources missing"
            );
            let problems = against_questionnaire(&resp);
            assert!(problems.is_empty(), "{name} {view}: {problems:#?}");
            let tags = resp["meta"]["tag"].as_array().unwrap();
            let urgent_tag = tags.iter().any(|t| {
                t["system"] == "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
                    && t["code"] == "UR"
            });
            // The client copy says nothing of urgency (docs/clinical-basis.md).
            let urgent = report["urgent"] == true && view == "clinician";
            assert_eq!(urgent_tag, urgent, "{name} {view}: urgent tag");
            if view == "client" {
                for item in resp["item"][0]["item"].as_array().unwrap() {
                    let id = item["linkId"].as_str().unwrap();
                    assert!(
                        !["assessment.urgent", "assessment.risk-screen"].contains(&id),
                        "{name}: {id} in the client copy"
                    );
                }
            }
            if urgent {
                // The narrative opens with the urgency and names the numbers.
                let div = resp["text"]["div"].as_str().unwrap();
                let urgent_at = div.find("Urgent").expect("urgency in the narrative");
                assert!(urgent_at < div.find("Video-session readiness").unwrap());
                for r in report["crisis_resources"].as_array().unwrap() {
                    let contact = r["contact"].as_str().unwrap();
                    assert!(div.contains(contact), "{name}: {contact} not in {div}");
                }
            }
            if view == "client" {
                assert!(
                    !items.contains(&"risk"),
                    "{name}: risk answers in client copy"
                );
                assert!(!serde_json::to_string(&resp).unwrap().contains("risk.asq"));
            } else {
                assert!(items.contains(&"risk"), "{name}: clinician copy lacks risk");
            }
        }
    }
}

#[test]
fn skips_are_declined_and_questions_not_asked_are_left_out() {
    let resp = fhir_of(&example_report("video-with-adjustments"), "clinician");
    let answers = answered(&resp);
    let declined = json!({
        "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
        "code": "asked-declined",
        "display": "Asked But Declined"
    });
    // risk.asq3 was skipped in this example: declined, not "no", not empty.
    assert_eq!(
        answer_of(&answers, "risk.asq3").unwrap()[0]["valueCoding"],
        declined
    );
    // No yes to asq1–4, so asq5 was never asked and is absent.
    assert!(answer_of(&answers, "risk.asq5").is_none());
    // A real answer carries its question's own code system and label.
    let no = &answer_of(&answers, "risk.asq1").unwrap()[0]["valueCoding"];
    assert_eq!(no["code"], "no");
    assert!(
        no["system"]
            .as_str()
            .unwrap()
            .ends_with("/CodeSystem/risk.asq1")
    );
    assert_eq!(no["display"], "No");

    let urgent = answered(&fhir_of(&example_report("urgent"), "clinician"));
    assert_eq!(
        answer_of(&urgent, "risk.asq5").unwrap()[0]["valueCoding"]["code"],
        "yes"
    );
    assert_eq!(
        answer_of(&urgent, "assessment.urgent").unwrap()[0]["valueBoolean"],
        true
    );

    let skipped = answered(&fhir_of(&example_report("all-skipped"), "clinician"));
    for (id, a) in &skipped {
        if session_ready::questionnaire::bank().question(id).is_some() {
            assert_eq!(a[0]["valueCoding"], declined, "{id}");
        }
    }
}

#[test]
fn a_stopped_questionnaire_and_a_measured_connection() {
    let mut report = example_report("video-suitable");
    report["questionnaire_status"] = "stopped".into();
    report["network"] = measured_network();
    report["network_reason"] = Value::Null;
    let resp = fhir_of(&report, "clinician");
    assert!(validator().is_valid(&resp));
    assert_eq!(resp["status"], "stopped");
    let answers = answered(&resp);
    assert_eq!(
        answer_of(&answers, "network.download-mbps").unwrap()[0]["valueDecimal"],
        48.3
    );
    assert_eq!(
        answer_of(&answers, "network.video-rating").unwrap()[0]["valueCoding"]["code"],
        "fair"
    );
    // UDP was blocked: the loss figure is absent rather than zero.
    assert!(answer_of(&answers, "network.udp-loss-pct").is_none());

    let unmeasured = answered(&fhir_of(&example_report("video-suitable"), "clinician"));
    assert_eq!(
        answer_of(&unmeasured, "network.video-rating").unwrap()[0]["valueCoding"]["code"],
        "not-performed"
    );
    assert!(answer_of(&unmeasured, "network.not-measured-reason").is_some());
}

#[test]
fn the_questionnaire_is_consistent_and_attributes_its_sources() {
    let items = questionnaire_items();
    let bank = session_ready::questionnaire::bank();
    for q in &bank.questions {
        let def = items
            .get(&q.id)
            .unwrap_or_else(|| panic!("{} missing", q.id));
        let codes: BTreeSet<&str> = def["answerOption"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["valueCoding"]["code"].as_str().unwrap())
            .collect();
        for o in &q.options {
            assert!(codes.contains(o.id.as_str()), "{} lacks {}", q.id, o.id);
        }
        assert!(
            codes.contains("asked-declined"),
            "{}: cannot record a skip",
            q.id
        );
        for when in def["enableWhen"].as_array().into_iter().flatten() {
            assert!(items.contains_key(when["question"].as_str().unwrap()));
        }
    }
    assert_eq!(items["risk.asq5"]["enableBehavior"], "any");
    assert_eq!(items["isolation.isolated"]["code"][0]["code"], "66867-3");
    let text = std::fs::read_to_string(root().join("schema/questionnaire.fhir.json")).unwrap();
    let q: Value = serde_json::from_str(&text).unwrap();
    let copyright = q["copyright"].as_str().unwrap();
    assert!(copyright.contains("NIMH") && copyright.contains("Hughes"));
    assert_eq!(q["resourceType"], "Questionnaire");
    assert_eq!(q["status"], "active");
}
