//! What the client may do with a finished report, decided once for both
//! front-ends (the terminal's menu and the page's radio buttons): which
//! choices are offered, which one is suggested, when crisis resources stay in
//! sight, and the neutral name a saved copy gets.
//!
//! Nothing is saved by default. When the home may be watched the report is
//! not shown unless asked, and the suggestion is the copy only the clinic can
//! open (with a clinic key) or nothing on this device.
use crate::assessment::{CriterionId, Status};
use crate::report::{Format, Report, View};

/// One thing the client can do at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveChoice {
    /// Save the clinician copy (encrypted when there is a clinic key).
    SaveFull,
    /// Save the client copy (without the answers about how they have been feeling).
    SaveClient,
    /// Show everything the full copy contains, then choose again.
    ShowEverything,
    /// Watched home: show the client copy once, then clear it and choose again.
    ShowOnce,
    /// Save nothing.
    Nothing,
}

impl SaveChoice {
    /// The copy written for a save choice; `None` for the others.
    pub fn saved_view(self) -> Option<View> {
        match self {
            SaveChoice::SaveFull => Some(View::Clinician),
            SaveChoice::SaveClient => Some(View::Client),
            _ => None,
        }
    }

    /// A stable name for forms and tests.
    pub fn id(self) -> &'static str {
        match self {
            SaveChoice::SaveFull => "save-full",
            SaveChoice::SaveClient => "save-client",
            SaveChoice::ShowEverything => "show-everything",
            SaveChoice::ShowOnce => "show-once",
            SaveChoice::Nothing => "nothing",
        }
    }
}

/// A choice as offered: its key in the terminal menu, its words, what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub key: &'static str,
    pub label: &'static str,
    pub choice: SaveChoice,
}

/// The choices in order, and the one suggested (the terminal's cursor; the
/// page's first focus; never selected for the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offers {
    pub items: Vec<Offer>,
    pub suggested: usize,
}

impl Offers {
    pub fn find(&self, id: &str) -> Option<SaveChoice> {
        self.items.iter().map(|o| o.choice).find(|c| c.id() == id)
    }
}

/// The choices at the end for a home that may be `watched`, with or without
/// a `clinic_key` to lock the full copy for.
pub fn offers(watched: bool, clinic_key: bool) -> Offers {
    let full = if clinic_key {
        "Save the full report, locked for my clinic"
    } else if watched {
        "Save the full report on this device anyway"
    } else {
        "Save the full report for my therapist"
    };
    let offer = |key, label, choice| Offer { key, label, choice };
    if watched {
        return Offers {
            items: vec![
                offer("1", full, SaveChoice::SaveFull),
                offer(
                    "2",
                    "Show my report once (the screen is cleared after)",
                    SaveChoice::ShowOnce,
                ),
                offer(
                    "3",
                    "Do not save anything on this device",
                    SaveChoice::Nothing,
                ),
            ],
            suggested: if clinic_key { 0 } else { 2 },
        };
    }
    Offers {
        items: vec![
            offer("1", full, SaveChoice::SaveFull),
            offer(
                "2",
                "Save a copy leaving out how I have been feeling",
                SaveChoice::SaveClient,
            ),
            offer(
                "3",
                "Show everything the full report contains",
                SaveChoice::ShowEverything,
            ),
            offer("4", "Do not save anything", SaveChoice::Nothing),
        ],
        suggested: 3,
    }
}

/// Crisis resources apply: any positive ASQ screen, or the risk criterion met
/// (a recent crisis). They are then kept in sight above every choice.
pub fn crisis_applies(report: &Report) -> bool {
    report
        .risk_screen
        .is_some_and(crate::assessment::RiskScreen::is_positive)
        || report
            .criteria
            .iter()
            .any(|c| c.id == CriterionId::Risk && c.status == Status::Met)
}

/// The format a saved copy is written in: what was asked, JSON for the screen's.
pub fn saved_format(asked: Format) -> Format {
    match asked {
        Format::Terminal => Format::Json,
        other => other,
    }
}

/// `readiness-report-<date>.<ext>`, with `.age` added when the copy is
/// encrypted; `notes-<date>…` when the home may be watched, so the name says
/// nothing about therapy.
pub fn default_file_name(format: Format, encrypted: bool, watched: bool) -> String {
    let date = chrono::Local::now().format("%Y-%m-%d");
    let ext = match format {
        Format::Markdown => "md",
        Format::Text => "txt",
        Format::Pdf => "pdf",
        Format::Fhir => "fhir.json",
        Format::Json | Format::Terminal => "json",
    };
    let age = if encrypted { ".age" } else { "" };
    let name = if watched { "notes" } else { "readiness-report" };
    format!("{name}-{date}.{ext}{age}")
}

/// `name` if nothing is there yet, else `name-2`, `name-3`… before the
/// extension, so an earlier report is never replaced.
pub fn unique_name(name: &str) -> String {
    let (stem, ext) = name.split_at(name.find('.').unwrap_or(name.len()));
    let mut candidate = name.to_string();
    let mut n = 2;
    while std::fs::symlink_metadata(&candidate).is_ok() {
        candidate = format!("{stem}-{n}{ext}");
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_saved_by_default_and_a_watched_home_is_offered_the_safe_copy() {
        let calm = offers(false, false);
        assert_eq!(calm.items[calm.suggested].choice, SaveChoice::Nothing);
        let keyed = offers(false, true);
        assert_eq!(keyed.items[keyed.suggested].choice, SaveChoice::Nothing);
        assert_eq!(
            keyed.items[0].label,
            "Save the full report, locked for my clinic"
        );

        let watched_keyed = offers(true, true);
        assert_eq!(
            watched_keyed.items[watched_keyed.suggested].choice,
            SaveChoice::SaveFull
        );
        assert!(
            watched_keyed.items[0]
                .label
                .contains("locked for my clinic")
        );
        let watched = offers(true, false);
        assert_eq!(
            watched.items[watched.suggested].label,
            "Do not save anything on this device"
        );
        // A watched home is never offered the long report on screen or a
        // copy without the clinic's lock under an ordinary label.
        assert!(watched.find("show-everything").is_none());
        assert!(watched.items[0].label.contains("anyway"));
    }

    #[test]
    fn file_names_say_nothing_about_therapy_in_a_watched_home() {
        assert!(default_file_name(Format::Json, true, true).starts_with("notes-"));
        assert!(default_file_name(Format::Json, true, true).ends_with(".json.age"));
        assert!(default_file_name(Format::Pdf, false, false).starts_with("readiness-report-"));
        assert_eq!(saved_format(Format::Terminal), Format::Json);
    }
}
