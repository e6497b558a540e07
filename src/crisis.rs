//! Crisis resources by region, as versioned data (data/crisis.json) with a
//! source and a verified date per entry. Shown at once on any positive risk
//! answer, and always at the end of a check; never dependent on finishing.
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One way to reach help now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CrisisResource {
    /// Two-letter region code this entry is for, or `INTL` for the fallback.
    #[serde(default)]
    pub region: String,
    /// e.g. "Samaritans".
    pub name: String,
    /// How to reach it, e.g. "call 116 123".
    pub contact: String,
    /// `emergency` (immediate danger) or `support` (crisis line, text line).
    pub kind: String,
    /// When it is open, e.g. "24/7".
    pub hours: Option<String>,
    /// Where this was confirmed.
    pub source: String,
    /// Date the entry was last verified (YYYY-MM-DD).
    pub verified: String,
}

/// The embedded crisis data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisData {
    pub version: u32,
    pub checked: String,
    pub note: String,
    pub regions: Vec<RegionResources>,
    pub fallback: RegionResources,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionResources {
    pub region: String,
    pub name: String,
    /// Other names people type for the country ("UK", "England", "USA").
    #[serde(default)]
    pub other_names: Vec<String>,
    pub resources: Vec<CrisisResource>,
}

/// Region code used when none is known.
pub const FALLBACK_REGION: &str = "INTL";

pub fn data() -> &'static CrisisData {
    static DATA: OnceLock<CrisisData> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut data: CrisisData = serde_json::from_str(include_str!("../data/crisis.json"))
            .expect("data/crisis.json is valid (checked by tests)");
        for group in data
            .regions
            .iter_mut()
            .chain(std::iter::once(&mut data.fallback))
        {
            for r in &mut group.resources {
                r.region = group.region.clone();
            }
        }
        data
    })
}

/// Region codes we hold numbers for.
pub fn known_regions() -> Vec<&'static str> {
    data().regions.iter().map(|r| r.region.as_str()).collect()
}

/// Normalise a region code ("gb", "UK" → "GB"); `None` unless it is a region
/// we hold numbers for, or `INTL` for the international ones, so a mistyped
/// code can never quietly show the wrong country's numbers.
pub fn normalise_region(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    // "UK" is not an ISO code but is what many people type.
    let code = if code == "UK" { "GB".to_string() } else { code };
    (code == FALLBACK_REGION || known_regions().contains(&code.as_str())).then_some(code)
}

/// The codes `normalise_region` accepts, for messages: "US, CA, …, or INTL
/// (international numbers)".
pub fn valid_regions() -> String {
    format!(
        "{}, or {FALLBACK_REGION} (international numbers)",
        known_regions().join(", ")
    )
}

/// The message for a region code we hold no numbers for.
pub fn unknown_region(code: &str) -> String {
    format!(
        "\"{code}\" is not a region session-ready holds support numbers for. Use one of: {}.",
        valid_regions()
    )
}

/// Other names the country of `code` is known by, from data/crisis.json.
pub fn other_names(code: &str) -> &'static [String] {
    data()
        .regions
        .iter()
        .find(|r| r.region == code)
        .map_or(&[], |r| r.other_names.as_slice())
}

/// The country's name for a region code ("GB" → "United Kingdom").
pub fn region_name(code: &str) -> &'static str {
    resources_for(code).name.as_str()
}

/// The region a locale string names, e.g. "en_GB.UTF-8" → "GB"; None for "C"/"POSIX".
pub fn region_from_locale(locale: &str) -> Option<String> {
    let territory = locale.split(['.', '@']).next()?.split(['_', '-']).nth(1)?;
    normalise_region(territory)
}

/// Region from the environment's locale (LC_ALL, LC_MESSAGES, LANG, in POSIX order).
pub fn region_from_env() -> Option<String> {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .and_then(|v| region_from_locale(&v))
}

/// Where a check's region can come from besides what it picks up (a paused
/// check's draft, an answers file). Both front-ends, the terminal and the
/// page, choose through [`RegionSources::choose`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionSources {
    /// `--region`, given for this run (normalised).
    pub flag: Option<String>,
    /// The clinic file's `region` (normalised).
    pub clinic: Option<String>,
    /// The locale's, when it names a country we hold numbers for.
    pub locale: Option<String>,
}

impl RegionSources {
    /// The region for a check that picks up `kept` (a draft's or answers
    /// file's region): `--region` given now, then `kept`, then the clinic
    /// file's, then the locale's. A region given now wins because it says
    /// where the client is today; a draft's may be from another place, or a
    /// guess from the locale then. A kept code we hold no numbers for (an
    /// edited file) is passed over. `None`: nothing names one, and the
    /// interactive check asks the client.
    pub fn choose(&self, kept: Option<&str>) -> Option<String> {
        self.choose_with_source(kept).0
    }

    /// Like [`RegionSources::choose`], and whether the region was given
    /// rather than inferred: `--region` or a kept region count as given; the
    /// clinic file's and the locale's are guesses the client is shown and
    /// may change.
    pub fn choose_with_source(&self, kept: Option<&str>) -> (Option<String>, bool) {
        if let Some(region) = self
            .flag
            .clone()
            .or_else(|| kept.and_then(normalise_region))
        {
            return (Some(region), true);
        }
        (self.clinic.clone().or_else(|| self.locale.clone()), false)
    }
}

/// The resources for `region`, emergency numbers first; the international
/// fallback when we hold nothing for it.
pub fn resources_for(region: &str) -> &'static RegionResources {
    let data = data();
    data.regions
        .iter()
        .find(|r| r.region == region)
        .unwrap_or(&data.fallback)
}

/// The list stored in a report: the region's resources with emergency first.
pub fn resources_list(region: &str) -> Vec<CrisisResource> {
    let mut list = resources_for(region).resources.clone();
    list.sort_by_key(|r| r.kind != "emergency");
    list
}

/// A crisis resource in the words every front-end shows (the page, the
/// report in each format, the terminal), split where a format may put
/// emphasis: `lead`, then `emphasis` (bold where there is bold), then `rest`.
#[derive(Debug, Clone, PartialEq)]
pub struct Wording {
    pub lead: String,
    pub emphasis: String,
    pub rest: String,
}

impl Wording {
    /// The whole sentence, without emphasis.
    pub fn text(&self) -> String {
        format!("{}{}{}", self.lead, self.emphasis, self.rest)
    }
}

/// Said when the data holds no entry at all, so support is never a blank.
pub const NO_ENTRIES: &str = "If you are in immediate danger, call your local emergency number.";

/// How a resource reads everywhere. An emergency line: "If you are in
/// immediate danger, **call 999 (112 also works)**." A support line:
/// "**Samaritans**: call 116 123 (free). Open: 24/7." The hours are a short
/// sentence of their own: after a comma or in a second pair of brackets
/// ("(free) (24/7)") they run into the number, for the eye of someone
/// frightened and for a screen reader alike. Emergency lines carry no hours;
/// they are always open.
pub fn wording(r: &CrisisResource) -> Wording {
    let contact = r.contact.trim().trim_end_matches('.');
    if r.kind == "emergency" {
        return Wording {
            lead: "If you are in immediate danger, ".into(),
            emphasis: contact.into(),
            rest: ".".into(),
        };
    }
    let hours = r
        .hours
        .as_deref()
        .map(|h| h.trim().trim_end_matches('.'))
        .filter(|h| !h.is_empty())
        .map(|h| format!(" Open: {h}."))
        .unwrap_or_default();
    Wording {
        lead: String::new(),
        emphasis: r.name.clone(),
        rest: format!(": {contact}.{hours}"),
    }
}

/// One calm line with the emergency number, e.g. "If you are ever in
/// immediate danger, call 999 (112 also works)."
pub fn emergency_line(resources: &[CrisisResource]) -> String {
    match resources.iter().find(|r| r.kind == "emergency") {
        Some(r) => format!("If you are ever in immediate danger, {}.", r.contact),
        None => "If you are ever in immediate danger, call your local emergency number.".into(),
    }
}

/// The emergency number and the first support line, kept in sight above
/// every choice once crisis resources apply.
pub fn render_short(resources: &[CrisisResource], style: crate::term::Style) -> String {
    let first = |emergency: bool| {
        resources
            .iter()
            .find(|r| (r.kind == "emergency") == emergency)
            .cloned()
    };
    let shown: Vec<CrisisResource> = [first(true), first(false)].into_iter().flatten().collect();
    render_list(&shown, style)
}

/// Plain text for the screen, under its heading.
pub fn render(resources: &[CrisisResource], style: crate::term::Style) -> String {
    let mut out = style.heading("If you need support now");
    out.push_str(&render_list(resources, style));
    out
}

/// "If you are in immediate danger" first, then the support lines.
pub fn render_list(resources: &[CrisisResource], style: crate::term::Style) -> String {
    let line = |w: Wording| format!("{}{}{}", w.lead, style.bold(&w.emphasis), w.rest);
    let mut out = String::new();
    for r in resources.iter().filter(|r| r.kind == "emergency") {
        out.push_str(&format!("{}\n", line(wording(r))));
    }
    let support: Vec<_> = resources.iter().filter(|r| r.kind != "emergency").collect();
    if !support.is_empty() {
        out.push_str("To talk to someone now:\n");
        for r in support {
            out.push_str(&format!("  {} {}\n", style.bullet(), line(wording(r))));
        }
    }
    if resources.is_empty() {
        out.push_str(&format!("{NO_ENTRIES}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUIRED: [&str; 9] = ["US", "CA", "GB", "IE", "AU", "NZ", "IN", "DE", "FR"];

    #[test]
    fn every_required_region_has_an_emergency_number_and_a_support_line() {
        for code in REQUIRED {
            let group = resources_for(code);
            assert_eq!(group.region, code, "{code} missing");
            assert!(
                group.resources.iter().any(|r| r.kind == "emergency"),
                "{code}"
            );
            assert!(
                group.resources.iter().any(|r| r.kind == "support"),
                "{code}"
            );
        }
    }

    #[test]
    fn every_entry_has_a_source_and_a_verified_date() {
        let data = data();
        for r in data
            .regions
            .iter()
            .chain(std::iter::once(&data.fallback))
            .flat_map(|g| &g.resources)
        {
            assert!(!r.source.is_empty(), "{} has no source", r.name);
            assert!(
                chrono::NaiveDate::parse_from_str(&r.verified, "%Y-%m-%d").is_ok(),
                "{}: verified date {:?}",
                r.name,
                r.verified
            );
            assert!(["emergency", "support"].contains(&r.kind.as_str()));
        }
    }

    #[test]
    fn fallback_offers_112_and_116_123() {
        let list = resources_list("ZZ");
        assert_eq!(list[0].region, FALLBACK_REGION);
        let text: String = list.iter().map(|r| r.contact.clone()).collect();
        assert!(text.contains("112") && text.contains("116 123"));
    }

    #[test]
    fn region_comes_from_the_locale() {
        assert_eq!(region_from_locale("en_GB.UTF-8").as_deref(), Some("GB"));
        assert_eq!(region_from_locale("de_DE@euro").as_deref(), Some("DE"));
        assert_eq!(region_from_locale("fr-CA").as_deref(), Some("CA"));
        assert_eq!(region_from_locale("C.UTF-8"), None);
        assert_eq!(region_from_locale("POSIX"), None);
        assert_eq!(normalise_region("uk").as_deref(), Some("GB"));
        assert_eq!(normalise_region("GBR"), None);
        assert_eq!(normalise_region("intl").as_deref(), Some(FALLBACK_REGION));
        // Two letters are not enough: only regions we hold numbers for.
        assert_eq!(normalise_region("XX"), None);
        assert_eq!(normalise_region("ZZ"), None);
        assert_eq!(region_from_locale("es_ES.UTF-8"), None);
        assert!(unknown_region("XX").contains("US, CA, GB"));
    }

    #[test]
    fn hours_are_a_sentence_of_their_own_never_run_into_a_number() {
        let gb = resources_list("GB");
        let words: Vec<String> = gb.iter().map(|r| wording(r).text()).collect();
        assert_eq!(
            words[0],
            "If you are in immediate danger, call 999 (112 also works)."
        );
        assert_eq!(words[1], "Samaritans: call 116 123 (free). Open: 24/7.");
        let emphasis = wording(&gb[1]);
        assert_eq!(
            (emphasis.lead.as_str(), emphasis.emphasis.as_str()),
            ("", "Samaritans")
        );
        let mut unlisted = gb[1].clone();
        unlisted.hours = None;
        unlisted.contact = "call 116 123.".into();
        assert_eq!(wording(&unlisted).text(), "Samaritans: call 116 123.");
        let short = render_short(&gb, crate::term::Style::decide(false, true, true));
        assert_eq!(
            short,
            "If you are in immediate danger, call 999 (112 also works).\n\
             To talk to someone now:\n  - Samaritans: call 116 123 (free). Open: 24/7.\n"
        );
    }

    #[test]
    fn a_region_given_now_wins_over_a_kept_one_which_wins_over_the_rest() {
        let all = RegionSources {
            flag: Some("IE".into()),
            clinic: Some("AU".into()),
            locale: Some("NZ".into()),
        };
        assert_eq!(all.choose(Some("GB")).as_deref(), Some("IE"));
        assert_eq!(all.choose(None).as_deref(), Some("IE"));
        let no_flag = RegionSources {
            flag: None,
            ..all.clone()
        };
        assert_eq!(no_flag.choose(Some("gb")).as_deref(), Some("GB"));
        // An edited draft naming a region without numbers is passed over.
        assert_eq!(no_flag.choose(Some("XX")).as_deref(), Some("AU"));
        assert_eq!(no_flag.choose(None).as_deref(), Some("AU"));
        let locale_only = RegionSources {
            locale: Some("NZ".into()),
            ..RegionSources::default()
        };
        assert_eq!(locale_only.choose(None).as_deref(), Some("NZ"));
        assert_eq!(RegionSources::default().choose(None), None);
    }

    #[test]
    fn emergency_comes_first_on_screen() {
        let style = crate::term::Style::decide(false, true, true);
        let text = render(&resources_list("GB"), style);
        let danger = text.find("immediate danger").unwrap();
        let samaritans = text.find("Samaritans").unwrap();
        assert!(danger < samaritans, "{text}");
        assert!(text.contains("999"));
    }
}
