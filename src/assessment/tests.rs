//! Every criterion and outcome path, including skips and the urgent path.
use super::*;
use crate::net::model::*;
use crate::net::rating::{Measured, good_line, rate, thresholds};
use crate::questionnaire::answers_file::complete;

/// Answers for a client with no concerns anywhere, complete and explicit.
fn all_clear() -> Answers {
    let pairs = [
        ("start.safe_now", "yes"),
        ("setup.connection", "wired"),
        ("setup.backup_phone", "yes"),
        ("privacy.space", "private"),
        ("privacy.household", "alone"),
        ("privacy.headphones", "yes"),
        ("home.feels_safe", "yes"),
        ("home.monitored", "no"),
        ("isolation.lack_companionship", "hardly_ever"),
        ("isolation.left_out", "hardly_ever"),
        ("isolation.isolated", "hardly_ever"),
        ("isolation.in_person_contact", "several"),
        ("isolation.in_person_important", "no"),
        ("risk.asq1", "no"),
        ("risk.asq2", "no"),
        ("risk.asq3", "no"),
        ("risk.asq4", "no"),
        ("risk.recent_crisis", "no"),
    ];
    pairs
        .iter()
        .map(|(q, a)| (q.to_string(), a.to_string()))
        .collect()
}

fn with(mut answers: Answers, changes: &[(&str, &str)]) -> Answers {
    for (q, a) in changes {
        answers.insert(q.to_string(), a.to_string());
    }
    answers
}

fn full_plan() -> SessionPlan {
    SessionPlan {
        place: Some("bedroom".into()),
        comfort_items: Some("blanket".into()),
        pause_signal: Some("raise a hand".into()),
        nearby_contact: Some("Sam".into()),
        if_call_drops: Some("call my mobile".into()),
    }
}

fn network(rating: VideoRating) -> NetworkReport {
    NetworkReport {
        server: "http://127.0.0.1:8080".into(),
        server_choice: None,
        stun_server: None,
        download: Throughput {
            mbps: Some(20.0),
            bytes: 1,
            streams: 4,
            reason: None,
            stable: true,
            basis_s: 2.0,
            lower_bound: false,
        },
        upload: Throughput {
            mbps: Some(5.0),
            bytes: 1,
            streams: 2,
            reason: None,
            stable: true,
            basis_s: 2.0,
            lower_bound: false,
        },
        latency: Latency {
            idle_ms: Some(30.0),
            ..Default::default()
        },
        udp: None,
        udp_reason: Some("UDP blocked".into()),
        udp_status: UdpStatus::Blocked,
        via_proxy: false,
        proxy: None,
        bytes_used: 2,
        duration_s: 8.0,
        video: VideoAssessment {
            rating,
            mos: Some(4.2),
            reasons: vec!["measured".into()],
            conclusive: true,
            missing: Vec::new(),
            borderline: false,
            metrics: Vec::new(),
        },
    }
}

/// Answer changes applied on top of [`all_clear`].
type Changes<'a> = &'a [(&'a str, &'a str)];

fn run(answers: &Answers, net: Option<&NetworkReport>) -> Assessment {
    let plan = full_plan();
    assess(&Inputs {
        answers,
        network: net,
        network_reason: Some("not tested (--no-network)"),
        device: None,
        session_plan: Some(&plan),
    })
}

fn status(a: &Assessment, id: CriterionId) -> Status {
    a.criteria.iter().find(|c| c.id == id).unwrap().status
}

#[test]
fn rules_file_parses() {
    assert_eq!(rules().ucla3.lonely_at_least, 6);
    assert!(!rules().internet.met_when_rating.is_empty());
}

#[test]
fn all_clear_with_good_network_is_video_suitable() {
    let net = network(VideoRating::Good);
    let a = run(&all_clear(), Some(&net));
    assert_eq!(a.outcome, Outcome::VideoSuitable, "{a:#?}");
    assert!(!a.urgent);
    assert!(a.criteria.iter().all(|c| c.status == Status::NotMet));
    assert!(a.adjustments.is_empty(), "{:?}", a.adjustments);
    assert_eq!(
        a.criteria.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["privacy", "isolation", "internet", "risk", "home-safety"]
    );
}

#[test]
fn unmeasured_network_is_unknown_never_fine() {
    let a = run(&all_clear(), None);
    assert_eq!(status(&a, CriterionId::Internet), Status::Unknown);
    assert_eq!(a.outcome, Outcome::VideoWithAdjustments);
    let internet = a
        .criteria
        .iter()
        .find(|c| c.id == CriterionId::Internet)
        .unwrap();
    assert!(internet.evidence.iter().any(|e| e.contains("--no-network")));
    // A probe that ran but measured nothing is also unknown.
    let mut blank = network(VideoRating::Unusable);
    blank.download.mbps = None;
    blank.download.reason = Some("the server could not be reached".into());
    blank.latency.idle_ms = None;
    blank.video.conclusive = false;
    let a = run(&all_clear(), Some(&blank));
    assert_eq!(status(&a, CriterionId::Internet), Status::Unknown);
    // Download measured but upload not: a good-looking part is not enough.
    let mut half = network(VideoRating::Good);
    half.upload.mbps = None;
    half.upload.reason = Some("the server stopped answering".into());
    half.video.conclusive = false;
    half.video.missing = vec!["upload".into()];
    let a = run(&all_clear(), Some(&half));
    assert_eq!(status(&a, CriterionId::Internet), Status::Unknown);
    let internet = a
        .criteria
        .iter()
        .find(|c| c.id == CriterionId::Internet)
        .unwrap();
    assert!(
        internet
            .evidence
            .iter()
            .any(|e| e == "not measured: upload"),
        "{:?}",
        internet.evidence
    );
    assert!(
        internet
            .evidence
            .iter()
            .any(|e| e.contains("download 20.0"))
    );
}

#[test]
fn internet_follows_the_video_rating() {
    for (rating, expected, adjusted) in [
        (VideoRating::Good, Status::NotMet, false),
        (VideoRating::Fair, Status::NotMet, true),
        (VideoRating::Poor, Status::Met, true),
        (VideoRating::Unusable, Status::Met, true),
    ] {
        let net = network(rating);
        let a = run(&all_clear(), Some(&net));
        assert_eq!(status(&a, CriterionId::Internet), expected, "{rating:?}");
        assert_eq!(
            a.adjustments.iter().any(|x| x.id == "wired-connection"),
            adjusted,
            "{rating:?}"
        );
    }
    let net = network(VideoRating::Poor);
    let a = run(&all_clear(), Some(&net));
    assert_eq!(a.outcome, Outcome::InPersonRecommended);
    assert!(
        a.headline.contains("connection may not be steady"),
        "{}",
        a.headline
    );
}

#[test]
fn privacy_paths() {
    let net = network(VideoRating::Good);
    let cases: &[(Changes, Status, Option<&str>)] = &[
        (
            &[
                ("privacy.space", "none"),
                ("privacy.alternative_space", "no"),
            ],
            Status::Met,
            None,
        ),
        (
            &[
                ("privacy.space", "none"),
                ("privacy.alternative_space", "yes"),
            ],
            Status::NotMet,
            Some("private-place"),
        ),
        (
            &[
                ("privacy.space", "none"),
                ("privacy.alternative_space", SKIPPED),
            ],
            Status::Unknown,
            None,
        ),
        (
            &[
                ("privacy.space", "sometimes"),
                ("privacy.household", "shared_no_private_room"),
                ("privacy.alternative_space", "no"),
            ],
            Status::Met,
            None,
        ),
        (
            &[
                ("privacy.space", "sometimes"),
                ("privacy.household", "shared_with_private_room"),
            ],
            Status::NotMet,
            Some("quiet-time"),
        ),
        (
            &[("privacy.space", SKIPPED), ("privacy.household", "alone")],
            Status::NotMet,
            None,
        ),
        (
            &[("privacy.space", SKIPPED), ("privacy.household", SKIPPED)],
            Status::Unknown,
            None,
        ),
        (
            &[("privacy.headphones", "no")],
            Status::NotMet,
            Some("headphones"),
        ),
    ];
    for (changes, expected, adjustment) in cases {
        let a = run(&with(all_clear(), changes), Some(&net));
        assert_eq!(status(&a, CriterionId::Privacy), *expected, "{changes:?}");
        if let Some(id) = adjustment {
            assert!(
                a.adjustments.iter().any(|x| x.id == *id),
                "{changes:?}: {id}"
            );
        }
    }
}

#[test]
fn home_safety_paths() {
    let net = network(VideoRating::Good);
    let cases: &[(Changes, Status, bool)] = &[
        (&[("home.feels_safe", "no")], Status::Met, false),
        (&[("home.monitored", "yes")], Status::Met, false),
        (
            &[("home.feels_safe", SKIPPED), ("home.monitored", "yes")],
            Status::Met,
            false,
        ),
        (&[("home.feels_safe", "mostly")], Status::NotMet, true),
        (&[("home.monitored", "unsure")], Status::NotMet, true),
        (&[("home.feels_safe", SKIPPED)], Status::Unknown, false),
        (&[("home.monitored", SKIPPED)], Status::Unknown, false),
    ];
    for (changes, expected, signal) in cases {
        let a = run(&with(all_clear(), changes), Some(&net));
        assert_eq!(
            status(&a, CriterionId::HomeSafety),
            *expected,
            "{changes:?}"
        );
        assert_eq!(
            a.adjustments.iter().any(|x| x.id == "safety-signal"),
            *signal,
            "{changes:?}"
        );
    }
}

#[test]
fn isolation_needs_both_isolation_and_in_person_importance() {
    let net = network(VideoRating::Good);
    let lonely = [
        ("isolation.lack_companionship", "often"),
        ("isolation.left_out", "some_of_the_time"),
        ("isolation.isolated", "some_of_the_time"),
    ];
    let important = ("isolation.in_person_important", "yes");
    // Lonely (score 7) and in person important: met.
    let mut changes = lonely.to_vec();
    changes.push(important);
    let a = run(&with(all_clear(), &changes), Some(&net));
    assert_eq!(status(&a, CriterionId::Isolation), Status::Met);
    // Almost no contact and in person important, though not lonely: met.
    let a = run(
        &with(
            all_clear(),
            &[("isolation.in_person_contact", "none"), important],
        ),
        Some(&net),
    );
    assert_eq!(status(&a, CriterionId::Isolation), Status::Met);
    // Lonely alone never decides it.
    let a = run(&with(all_clear(), &lonely), Some(&net));
    assert_eq!(status(&a, CriterionId::Isolation), Status::NotMet);
    // Important but not isolated: not met.
    let a = run(&with(all_clear(), &[important]), Some(&net));
    assert_eq!(status(&a, CriterionId::Isolation), Status::NotMet);
    // Isolated and unsure: not met, with an adjustment to talk about in-person sessions.
    let mut changes = lonely.to_vec();
    changes.push(("isolation.in_person_important", "unsure"));
    let a = run(&with(all_clear(), &changes), Some(&net));
    assert_eq!(status(&a, CriterionId::Isolation), Status::NotMet);
    assert!(a.adjustments.iter().any(|x| x.id == "in-person-option"));
}

#[test]
fn skipped_loneliness_items_widen_the_score_instead_of_counting_as_hardly_ever() {
    let net = network(VideoRating::Good);
    // Two "often" (6) and one skip: at least 7, lonely whatever the skip was.
    let a = run(
        &with(
            all_clear(),
            &[
                ("isolation.lack_companionship", "often"),
                ("isolation.left_out", "often"),
                ("isolation.isolated", SKIPPED),
                ("isolation.in_person_important", "yes"),
            ],
        ),
        Some(&net),
    );
    assert_eq!(status(&a, CriterionId::Isolation), Status::Met);
    let c = a
        .criteria
        .iter()
        .find(|c| c.id == CriterionId::Isolation)
        .unwrap();
    assert!(
        c.evidence.iter().any(|e| e.contains("between 7 and 9")),
        "{:?}",
        c.evidence
    );
    // All skipped, contact skipped, importance yes: cannot tell.
    let a = run(
        &with(
            all_clear(),
            &[
                ("isolation.lack_companionship", SKIPPED),
                ("isolation.left_out", SKIPPED),
                ("isolation.isolated", SKIPPED),
                ("isolation.in_person_contact", SKIPPED),
                ("isolation.in_person_important", "yes"),
            ],
        ),
        Some(&net),
    );
    assert_eq!(status(&a, CriterionId::Isolation), Status::Unknown);
    // Importance skipped while isolated: unknown, not "no".
    let a = run(
        &with(
            all_clear(),
            &[
                ("isolation.in_person_contact", "none"),
                ("isolation.in_person_important", SKIPPED),
            ],
        ),
        Some(&net),
    );
    assert_eq!(status(&a, CriterionId::Isolation), Status::Unknown);
}

#[test]
fn any_yes_on_the_asq_meets_risk_and_only_item_5_is_urgent() {
    let net = network(VideoRating::Good);
    for item in ASQ_SCREEN {
        let a = run(
            &with(all_clear(), &[(item, "yes"), (ASQ_ACUITY, "no")]),
            Some(&net),
        );
        assert_eq!(status(&a, CriterionId::Risk), Status::Met, "{item}");
        assert_eq!(a.outcome, Outcome::InPersonRecommended);
        assert!(!a.urgent, "{item}");
    }
    let a = run(
        &with(all_clear(), &[("risk.asq1", "yes"), (ASQ_ACUITY, "yes")]),
        Some(&net),
    );
    assert!(a.urgent);
    assert_eq!(a.outcome, Outcome::InPersonRecommended);
    assert!(a.headline.starts_with("The most important thing right now"));
    // Recent crisis alone meets risk.
    let a = run(&with(all_clear(), &[(RECENT_CRISIS, "yes")]), Some(&net));
    assert_eq!(status(&a, CriterionId::Risk), Status::Met);
    // An acute yes skipped after a screening yes still meets risk, not urgent.
    let a = run(
        &with(all_clear(), &[("risk.asq2", "yes"), (ASQ_ACUITY, SKIPPED)]),
        Some(&net),
    );
    assert_eq!(status(&a, CriterionId::Risk), Status::Met);
    assert!(!a.urgent);
}

#[test]
fn a_skipped_risk_item_can_never_clear_risk() {
    let net = network(VideoRating::Good);
    for item in ASQ_SCREEN.iter().chain([&RECENT_CRISIS]) {
        let a = run(&with(all_clear(), &[(item, SKIPPED)]), Some(&net));
        assert_eq!(status(&a, CriterionId::Risk), Status::Unknown, "{item}");
        assert_eq!(a.outcome, Outcome::VideoWithAdjustments);
        assert!(a.adjustments.iter().any(|x| x.id == "talk-before-video"));
    }
    // A missing item (never answered) is no better than a skip.
    let mut answers = all_clear();
    answers.remove("risk.asq3");
    let a = run(&answers, Some(&net));
    assert_eq!(status(&a, CriterionId::Risk), Status::Unknown);
}

#[test]
fn everything_skipped_is_unknown_everywhere_and_never_suitable() {
    let answers = complete(bank(), Answers::new());
    let a = run(&answers, None);
    for c in &a.criteria {
        assert_eq!(c.status, Status::Unknown, "{:?}", c.id);
    }
    assert_eq!(a.outcome, Outcome::VideoWithAdjustments);
    assert!(!a.urgent);
    assert!(a.headline.contains("skipped"));
}

#[test]
fn several_reasons_are_listed_in_the_headline_without_verdict_words() {
    let net = network(VideoRating::Unusable);
    let a = run(
        &with(
            all_clear(),
            &[
                ("privacy.space", "none"),
                ("privacy.alternative_space", "no"),
                ("home.feels_safe", "no"),
            ],
        ),
        Some(&net),
    );
    assert_eq!(a.outcome, Outcome::InPersonRecommended);
    assert!(
        a.headline
            .contains("nowhere private to talk, the connection"),
        "{}",
        a.headline
    );
    assert!(
        a.headline.contains(" and home may not be a safe place"),
        "{}",
        a.headline
    );
    let lower = a.headline.to_lowercase();
    for word in ["fail", "exclude", "unsuitable", "not allowed", "denied"] {
        assert!(!lower.contains(word), "{word} in {}", a.headline);
    }
}

#[test]
fn missing_plan_and_backup_phone_become_adjustments() {
    let net = network(VideoRating::Good);
    let answers = with(all_clear(), &[("setup.backup_phone", "no")]);
    let a = assess(&Inputs {
        answers: &answers,
        network: Some(&net),
        network_reason: None,
        device: None,
        session_plan: None,
    });
    let ids: Vec<&str> = a.adjustments.iter().map(|x| x.id.as_str()).collect();
    assert!(
        ids.contains(&"dropped-call-plan") && ids.contains(&"pause-signal"),
        "{ids:?}"
    );
    assert_eq!(a.outcome, Outcome::VideoWithAdjustments);
}

#[test]
fn device_problems_become_adjustments() {
    use crate::device::{DeviceFacts, rules::rate};
    let net = network(VideoRating::Good);
    let device = rate(&DeviceFacts {
        os: "Linux".into(),
        os_version: Some("6".into()),
        cpu_cores: 4,
        cpu_load_pct: Some(10.0),
        memory_total_mb: 8000,
        memory_available_mb: 4000,
        on_battery: Some(false),
        battery_pct: None,
        cameras: Some(vec![]),
        microphones: Some(vec!["hw:0".into()]),
        unread: Vec::new(),
        media: None,
    });
    let answers = all_clear();
    let plan = full_plan();
    let a = assess(&Inputs {
        answers: &answers,
        network: Some(&net),
        network_reason: None,
        device: Some(&device),
        session_plan: Some(&plan),
    });
    assert!(
        a.adjustments.iter().any(|x| x.id == "device-camera"),
        "{:?}",
        a.adjustments
    );
    assert_eq!(a.outcome, Outcome::VideoWithAdjustments);
}

#[test]
fn positive_risk_answers_are_recognised() {
    assert!(is_positive_risk_answer("risk.asq3", "yes"));
    assert!(is_positive_risk_answer("risk.recent_crisis", "yes"));
    assert!(!is_positive_risk_answer("risk.asq3", "no"));
    assert!(!is_positive_risk_answer("risk.asq3", SKIPPED));
    assert!(!is_positive_risk_answer("privacy.headphones", "yes"));
}

#[test]
fn the_asq_screen_follows_the_nimh_pathway() {
    let cases: [(&[(&str, &str)], RiskScreen); 9] = [
        (&[], RiskScreen::Negative),
        (&[("risk.asq3", SKIPPED)], RiskScreen::Incomplete),
        (
            &[("risk.asq1", "yes"), (ASQ_ACUITY, "no")],
            RiskScreen::PositiveNonAcute,
        ),
        (
            &[("risk.asq4", "yes"), (ASQ_ACUITY, "yes")],
            RiskScreen::PositiveAcute,
        ),
        (
            &[("risk.asq2", "yes"), (ASQ_ACUITY, SKIPPED)],
            RiskScreen::PositiveAcuityUnknown,
        ),
        // "Finish now" after the first yes: item 5 never reached.
        (&[("risk.asq1", "yes")], RiskScreen::PositiveAcuityUnknown),
        // A yes with other items skipped is still positive.
        (
            &[
                ("risk.asq1", SKIPPED),
                ("risk.asq3", "yes"),
                (ASQ_ACUITY, "no"),
            ],
            RiskScreen::PositiveNonAcute,
        ),
        // Recent crisis is not an ASQ item: it meets risk, the screen stays negative.
        (&[(RECENT_CRISIS, "yes")], RiskScreen::Negative),
        // An acute yes alone (an edited file) is never overlooked.
        (&[(ASQ_ACUITY, "yes")], RiskScreen::PositiveAcute),
    ];
    let net = network(VideoRating::Good);
    for (changes, expected) in cases {
        let answers = with(all_clear(), changes);
        let a = run(&answers, Some(&net));
        assert_eq!(a.risk_screen, expected, "{changes:?}");
        assert_eq!(
            a.urgent,
            expected == RiskScreen::PositiveAcute,
            "{changes:?}"
        );
        assert_eq!(
            a.headline.starts_with("The most important thing right now"),
            expected.crisis_first(),
            "{changes:?}"
        );
    }
    // A screening item never reached is no better than a skip.
    let mut answers = all_clear();
    answers.remove("risk.asq4");
    assert_eq!(risk_screen(&answers), RiskScreen::Incomplete);
    assert_eq!(risk_screen(&Answers::new()), RiskScreen::Incomplete);
}

#[test]
fn risk_screen_codes_match_the_serialised_names() {
    for screen in RiskScreen::ALL {
        assert_eq!(
            serde_json::to_value(screen).unwrap(),
            serde_json::Value::from(screen.as_str())
        );
    }
}

#[test]
fn a_home_that_may_be_watched() {
    assert!(!watched_home(&all_clear()));
    assert!(watched_home(&with(
        all_clear(),
        &[("home.feels_safe", "no")]
    )));
    assert!(watched_home(&with(
        all_clear(),
        &[("home.monitored", "yes")]
    )));
    assert!(watched_home(&with(
        all_clear(),
        &[("home.monitored", "unsure")]
    )));
    assert!(!watched_home(&with(
        all_clear(),
        &[("home.feels_safe", "mostly")]
    )));
}

// The internet criterion from the connection rating alone.

fn band_of(a: &VideoAssessment, metric: &str) -> VideoRating {
    a.metrics.iter().find(|m| m.metric == metric).unwrap().band
}

#[test]
fn a_lower_bound_never_concludes_that_a_speed_is_too_low() {
    // The satellite case: upload had not settled at 0.64 Mbit/s; the line carries more.
    let m = Measured {
        upload_mbps: Some(0.64),
        upload_lower_bound: true,
        ..good_line()
    };
    let a = rate(&m, thresholds());
    assert_eq!(
        a.rating,
        VideoRating::Good,
        "the unsettled figure does not count"
    );
    assert!(!a.conclusive, "it could still lower the rating");
    assert_eq!(internet_criterion(&a), Status::Unknown);
    let upload = a
        .metrics
        .iter()
        .find(|r| r.metric == "upload_mbps")
        .unwrap();
    assert!(upload.lower_bound);
    assert_eq!(upload.band, VideoRating::Poor);
    let said = a.reasons.join(" ");
    assert!(said.contains("at least 0.6 Mbit/s"), "{said}");
    assert!(a.reasons[0].contains("not yet known"), "{:?}", a.reasons);
    assert!(
        !said.contains("below the 0.75"),
        "no threshold is said to be missed: {said}"
    );

    // The same figure, settled, is a conclusion.
    let settled = rate(
        &Measured {
            upload_lower_bound: false,
            ..m.clone()
        },
        thresholds(),
    );
    assert_eq!(settled.rating, VideoRating::Poor);
    assert_eq!(internet_criterion(&settled), Status::Met);
}

#[test]
fn a_good_line_is_good_and_conclusive() {
    let a = rate(&good_line(), thresholds());
    assert_eq!(a.rating, VideoRating::Good);
    assert!(a.conclusive);
    assert!(a.mos.unwrap() > 4.3, "{:?}", a.mos);
    assert_eq!(internet_criterion(&a), Status::NotMet);
    assert!(a.reasons.iter().all(|r| !r.to_lowercase().contains("fail")));
}

#[test]
fn the_worst_measured_metric_decides_and_leads_the_reasons() {
    let m = Measured {
        loss_pct: Some(12.0),
        ..good_line()
    };
    let a = rate(&m, thresholds());
    assert_eq!(a.rating, VideoRating::Poor);
    assert_eq!(band_of(&a, "loss_pct"), VideoRating::Poor);
    assert!(a.reasons[0].contains("12.0%"), "{:?}", a.reasons);
    assert_eq!(internet_criterion(&a), Status::Met);
}

#[test]
fn bufferbloat_and_blocked_udp_lower_a_good_line_to_fair_only() {
    let bloated = Measured {
        loaded_ms: Some(900.0),
        ..good_line()
    };
    assert_eq!(rate(&bloated, thresholds()).rating, VideoRating::Fair);
    let blocked = Measured {
        udp: UdpStatus::Blocked,
        loss_pct: None,
        ..good_line()
    };
    let a = rate(&blocked, thresholds());
    assert_eq!(a.rating, VideoRating::Fair);
    assert!(a.conclusive);
    assert!(a.reasons.iter().any(|r| r.contains("UDP")));
    assert_eq!(internet_criterion(&a), Status::NotMet);
}

#[test]
fn nothing_measured_is_not_conclusive() {
    let a = rate(&Measured::default(), thresholds());
    assert_eq!(a.rating, VideoRating::NotMeasured, "never 'unusable'");
    assert!(!a.conclusive);
    assert!(a.metrics.is_empty());
    assert_eq!(internet_criterion(&a), Status::Unknown);
    assert!(a.reasons[0].contains("could not be measured"));
    // UDP blocked with nothing else measured is still not measured.
    let blocked = Measured {
        udp: UdpStatus::Blocked,
        ..Measured::default()
    };
    assert_eq!(
        rate(&blocked, thresholds()).rating,
        VideoRating::NotMeasured
    );
}

#[test]
fn partial_but_good_is_not_conclusive_partial_and_bad_is() {
    let only_latency = Measured {
        rtt_ms: Some(20.0),
        idle_http_ms: Some(20.0),
        ..Measured::default()
    };
    let a = rate(&only_latency, thresholds());
    assert_eq!(a.rating, VideoRating::Good);
    assert!(!a.conclusive, "upload and download are unknown");
    assert_eq!(internet_criterion(&a), Status::Unknown);

    let slow_and_partial = Measured {
        download_mbps: Some(0.2),
        ..Measured::default()
    };
    let b = rate(&slow_and_partial, thresholds());
    assert_eq!(b.rating, VideoRating::Unusable);
    assert!(b.conclusive, "more measurements cannot make it better");
    assert_eq!(internet_criterion(&b), Status::Met);
}
