//! A clinic's office hours (`[office_hours]` in the clinic file): when a
//! report that arrives in the hosted check's inbox will first be read, said
//! honestly on the client's last page.
//!
//! Pure: the caller passes the instant; the zone's rules come with `jiff`'s
//! bundled time-zone database, so a server's own zone never matters.
use jiff::Timestamp;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[office_hours]` as written in the clinic file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeHoursFile {
    /// The clinic's time zone, as the IANA database names it ("Europe/London").
    pub zone: String,
    /// Each day's opening hours, "09:00-17:00", or several separated by
    /// commas ("09:00-12:30, 13:30-17:00"); a day left out is closed.
    pub monday: Option<String>,
    pub tuesday: Option<String>,
    pub wednesday: Option<String>,
    pub thursday: Option<String>,
    pub friday: Option<String>,
    pub saturday: Option<String>,
    pub sunday: Option<String>,
}

/// Office hours, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeHours {
    zone: TimeZone,
    zone_name: String,
    /// Monday first: each day's (opens, closes), in order, not overlapping.
    days: [Vec<(Time, Time)>; 7],
}

/// When the clinic will first see a report that arrives at a given instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The clinic is open: until this time today ("17:00").
    OpenUntil { closes: String, zone: String },
    /// Closed now: it opens next at this time ("Monday 8 December at 09:00").
    Opens { at: String, zone: String },
}

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl OfficeHoursFile {
    fn day_texts(&self) -> [&Option<String>; 7] {
        [
            &self.monday,
            &self.tuesday,
            &self.wednesday,
            &self.thursday,
            &self.friday,
            &self.saturday,
            &self.sunday,
        ]
    }

    /// Check every field; each problem names the field and what was expected.
    pub fn parse(&self) -> Result<OfficeHours, Vec<String>> {
        let mut problems = Vec::new();
        let zone_name = self.zone.trim().to_string();
        let zone = TimeZone::get(&zone_name)
            .map_err(|_| {
                problems.push(format!(
                    "Field \"office_hours.zone\": \"{zone_name}\" is not a time zone; expected \
                     a name such as \"Europe/London\" or \"America/Chicago\"."
                ))
            })
            .ok();
        let mut days: [Vec<(Time, Time)>; 7] = Default::default();
        for (i, text) in self.day_texts().into_iter().enumerate() {
            let Some(text) = text else { continue };
            match day_ranges(text) {
                Ok(ranges) => days[i] = ranges,
                Err(why) => problems.push(format!(
                    "Field \"office_hours.{}\": \"{}\" {why}; expected opening hours such as \
                     \"09:00-17:00\" or \"09:00-12:30, 13:30-17:00\".",
                    DAYS[i],
                    text.trim()
                )),
            }
        }
        if problems.is_empty() && days.iter().all(Vec::is_empty) {
            problems.push(
                "Field \"office_hours\" names no day; add the days the clinic is open, such as \
                 monday = \"09:00-17:00\", or leave the table out."
                    .into(),
            );
        }
        match zone {
            Some(zone) if problems.is_empty() => Ok(OfficeHours {
                zone,
                zone_name,
                days,
            }),
            _ => Err(problems),
        }
    }
}

/// "09:00-12:30, 13:30-17:00": ranges in order, each opening before it closes.
fn day_ranges(text: &str) -> Result<Vec<(Time, Time)>, &'static str> {
    let mut ranges: Vec<(Time, Time)> = Vec::new();
    for part in text.split(',') {
        let (opens, closes) = part.trim().split_once('-').ok_or("is not two times")?;
        let time = |t: &str| hh_mm(t.trim()).ok_or("has a time that is not HH:MM");
        let (opens, closes) = (time(opens)?, time(closes)?);
        if opens >= closes {
            return Err("closes before it opens");
        }
        if ranges.last().is_some_and(|&(_, before)| before > opens) {
            return Err("has hours out of order or overlapping");
        }
        ranges.push((opens, closes));
    }
    Ok(ranges)
}

/// "09:00" (or "24:00" for the end of the day).
fn hh_mm(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    if (h, m) == (24, 0) {
        return Some(Time::MAX);
    }
    Time::new(h, m, 0, 0).ok()
}

fn weekday_index(day: Weekday) -> usize {
    day.to_monday_zero_offset() as usize
}

impl OfficeHours {
    /// When a report that arrives at `at` will first be read: during the
    /// hours open now, or at the next opening (within the next week).
    pub fn seen(&self, at: Timestamp) -> Option<Seen> {
        let here = at.to_zoned_datetime(self.zone.clone());
        let zone = self.zone_name.clone();
        let today = &self.days[weekday_index(here.weekday())];
        let now = here.time();
        if let Some(&(_, closes)) = today.iter().find(|&&(o, c)| o <= now && now < c) {
            let closes = if closes == Time::MAX {
                "midnight".to_string()
            } else {
                closes.strftime("%H:%M").to_string()
            };
            return Some(Seen::OpenUntil { closes, zone });
        }
        let date = here.date();
        for ahead in 0..8 {
            let day = date.checked_add(jiff::Span::new().days(ahead)).ok()?;
            for &(opens, _) in &self.days[weekday_index(day.weekday())] {
                if ahead == 0 && opens <= now {
                    continue;
                }
                // A gap in the clock (summer time) moves the opening forward.
                let Ok(zoned) = day.to_datetime(opens).to_zoned_datetime(self.zone.clone()) else {
                    continue;
                };
                let at = if ahead == 0 {
                    zoned.strftime("today at %H:%M").to_string()
                } else if ahead == 1 {
                    zoned.strftime("tomorrow, %A, at %H:%M").to_string()
                } else {
                    zoned.strftime("%A %-d %B at %H:%M").to_string()
                };
                return Some(Seen::Opens { at, zone });
            }
        }
        None
    }
}

/// What the client's last page says about when the clinic will see the
/// report (`None`: the clinic file gives no office hours).
pub fn when_seen_words(hours: Option<&OfficeHours>, at: Timestamp) -> String {
    match hours.and_then(|h| h.seen(at)) {
        Some(Seen::OpenUntil { closes, zone }) => format!(
            "The clinic is open now, until {closes} ({zone} time), so someone there may read \
             your report today. It may not be straight away."
        ),
        Some(Seen::Opens { at, zone }) => format!(
            "The clinic is closed just now. Your report waits, locked, for the clinic to open \
             again {at} ({zone} time), so it may not be read before then."
        ),
        None => "The clinic has not said when it reads the reports that arrive, so no one may \
                 read yours straight away."
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(text: &str) -> Result<OfficeHours, Vec<String>> {
        let file: OfficeHoursFile = toml::from_str(text).unwrap();
        file.parse()
    }

    fn london() -> OfficeHours {
        hours(
            "zone = \"Europe/London\"\nmonday = \"09:00-17:00\"\n\
             friday = \"09:00-12:30, 13:30-16:00\"\n",
        )
        .unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn open_now_says_until_when_in_the_clinic_zone() {
        // Monday 7 December 2026, 10:00 in London (UTC in winter).
        assert_eq!(
            london().seen(at("2026-12-07T10:00:00Z")),
            Some(Seen::OpenUntil {
                closes: "17:00".into(),
                zone: "Europe/London".into()
            })
        );
        // Friday's lunch break: the afternoon opening, today.
        assert_eq!(
            london().seen(at("2026-12-11T12:45:00Z")),
            Some(Seen::Opens {
                at: "today at 13:30".into(),
                zone: "Europe/London".into()
            })
        );
    }

    #[test]
    fn closed_says_the_next_opening() {
        // Monday 17:00 exactly is closed; the next opening is Friday.
        let seen = london().seen(at("2026-12-07T17:00:00Z"));
        assert_eq!(
            seen,
            Some(Seen::Opens {
                at: "Friday 11 December at 09:00".into(),
                zone: "Europe/London".into()
            })
        );
        // 2 a.m. on a Monday: today at 09:00.
        assert!(matches!(
            london().seen(at("2026-12-07T02:00:00Z")),
            Some(Seen::Opens { at, .. }) if at == "today at 09:00"
        ));
        // Sunday night: tomorrow.
        assert!(matches!(
            london().seen(at("2026-12-06T23:00:00Z")),
            Some(Seen::Opens { at, .. }) if at == "tomorrow, Monday, at 09:00"
        ));
    }

    #[test]
    fn the_zone_is_the_clinics_not_the_servers() {
        // 16:30 UTC in summer is 17:30 in London (closed) and 12:30 in Chicago (open).
        let chicago = hours("zone = \"America/Chicago\"\nmonday = \"09:00-17:00\"\n").unwrap();
        let monday_summer = at("2026-06-01T16:30:00Z");
        assert!(matches!(
            chicago.seen(monday_summer),
            Some(Seen::OpenUntil { .. })
        ));
        assert!(matches!(
            london().seen(monday_summer),
            Some(Seen::Opens { .. })
        ));
    }

    #[test]
    fn words_for_every_case() {
        let words = when_seen_words(Some(&london()), at("2026-12-07T17:00:00Z"));
        assert!(words.contains("closed just now"), "{words}");
        assert!(words.contains("Friday 11 December at 09:00 (Europe/London time)"));
        let words = when_seen_words(None, at("2026-12-07T17:00:00Z"));
        assert!(words.contains("has not said"), "{words}");
    }

    #[test]
    fn bad_hours_are_named() {
        let problems = hours("zone = \"Mars/Olympus\"\nmonday = \"9-5\"\n").unwrap_err();
        assert!(problems[0].contains("office_hours.zone"), "{problems:?}");
        assert!(problems[1].contains("office_hours.monday"), "{problems:?}");
        for bad in [
            "17:00-09:00",
            "09:00",
            "09:00-12:00, 11:00-13:00",
            "09:60-10:00",
        ] {
            let problems =
                hours(&format!("zone = \"Europe/London\"\ntuesday = \"{bad}\"\n")).unwrap_err();
            assert!(problems[0].contains("office_hours.tuesday"), "{bad}");
        }
        assert!(hours("zone = \"Europe/London\"\n").unwrap_err()[0].contains("names no day"));
        assert!(hours("zone = \"UTC\"\nsunday = \"00:00-24:00\"\n").is_ok());
    }
}
