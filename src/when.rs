//! Saved times (a report's `generated_at`, a paused check) in the reader's
//! local time, with its zone.
//!
//! Saved reports keep `generated_at` in UTC (RFC 3339, `…Z`): a record moved
//! between clinics or read by a program means one instant everywhere. People
//! read it in the time zone of the computer showing it (`TZ`, else the
//! system's setting), always with the zone written out, so a clinic far from
//! UTC sees the day it was made, and no reader mistakes whose clock it is.
//!
//! jiff reads `TZ` and the system time zone on Linux, macOS and Windows, and
//! carries its own copy of the time zone database for machines without one
//! (slim containers, Windows): the same words on every platform.
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// An instant as people read it in one time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    /// `2026-11-24`
    pub date: String,
    /// `02:16`
    pub time: String,
    /// The zone in brief: its abbreviation (`AEDT`, `UTC`), or the offset
    /// (`UTC-03:00`) where the zone has no letters for it.
    pub zone: String,
    /// The offset and the zone's name, where they add to `zone`:
    /// `UTC+11:00, Australia/Sydney`; empty for UTC.
    pub detail: String,
}

impl Local {
    /// `2026-11-24 (AEDT)`: a date that says whose day it is.
    pub fn date_with_zone(&self) -> String {
        format!("{} ({})", self.date, self.zone)
    }

    /// `2026-11-24 02:16 AEDT (UTC+11:00, Australia/Sydney)`.
    pub fn full(&self) -> String {
        if self.detail.is_empty() {
            format!("{} {} {}", self.date, self.time, self.zone)
        } else {
            format!(
                "{} {} {} ({})",
                self.date, self.time, self.zone, self.detail
            )
        }
    }

    /// `2026-11-24 02:16 AEDT`.
    pub fn short(&self) -> String {
        format!("{} {} {}", self.date, self.time, self.zone)
    }
}

/// Whether `text` is an RFC 3339 date and time with its offset, as
/// `generated_at` must be.
pub fn is_rfc3339(text: &str) -> bool {
    parse(text).is_some()
}

fn parse(text: &str) -> Option<Timestamp> {
    // jiff's Timestamp parser takes RFC 3339 and some wider ISO 8601 forms;
    // the saved field is held to RFC 3339 (a `T` or space, seconds, an offset).
    let bytes = text.as_bytes();
    let shaped = bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't' | b' ')
        && bytes[13] == b':'
        && bytes[16] == b':';
    shaped.then(|| text.parse::<Timestamp>().ok()).flatten()
}

/// `rfc3339` in the time zone of this computer (`TZ`, else the system's);
/// `None` when it is not an RFC 3339 time.
pub fn local(rfc3339: &str) -> Option<Local> {
    // A zone that cannot be found reads as UTC, and says so.
    let zone = TimeZone::try_system().unwrap_or(TimeZone::UTC);
    in_zone(rfc3339, &zone)
}

/// `rfc3339` in `zone`.
pub fn in_zone(rfc3339: &str, zone: &TimeZone) -> Option<Local> {
    let at = parse(rfc3339)?;
    let zoned = at.to_zoned_datetime(zone.clone());
    let info = zone.to_offset_info(at);
    let seconds = info.offset().seconds();
    let offset = format!(
        "UTC{}{:02}:{:02}",
        if seconds < 0 { '-' } else { '+' },
        seconds.unsigned_abs() / 3600,
        seconds.unsigned_abs() % 3600 / 60
    );
    let abbreviation = info.abbreviation();
    // tzdb writes "+11" or "-03" for zones without letters: say the offset.
    let lettered = !abbreviation.is_empty() && abbreviation.chars().all(char::is_alphabetic);
    let (brief, mut detail) = if lettered {
        let utc = abbreviation == "UTC" && seconds == 0;
        (
            abbreviation.to_string(),
            if utc { Vec::new() } else { vec![offset] },
        )
    } else {
        (offset, Vec::new())
    };
    if let Some(name) = zone.iana_name()
        && !matches!(name, "UTC" | "Etc/UTC" | "Etc/Unknown")
        && name != brief
    {
        detail.push(name.to_string());
    }
    Some(Local {
        date: zoned.strftime("%Y-%m-%d").to_string(),
        time: zoned.strftime("%H:%M").to_string(),
        zone: brief,
        detail: detail.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MADE: &str = "2026-11-23T15:16:00Z";

    #[test]
    fn far_from_utc_the_day_is_the_local_one_with_its_zone() {
        let sydney = TimeZone::get("Australia/Sydney").unwrap();
        let local = in_zone(MADE, &sydney).unwrap();
        assert_eq!(local.date, "2026-11-24");
        assert_eq!(
            local.full(),
            "2026-11-24 02:16 AEDT (UTC+11:00, Australia/Sydney)"
        );
        assert_eq!(local.date_with_zone(), "2026-11-24 (AEDT)");
        let honolulu = TimeZone::get("Pacific/Honolulu").unwrap();
        assert_eq!(
            in_zone(MADE, &honolulu).unwrap().full(),
            "2026-11-23 05:16 HST (UTC-10:00, Pacific/Honolulu)"
        );
    }

    #[test]
    fn zones_without_letters_and_posix_rules_still_name_the_offset() {
        let sao_paulo = TimeZone::get("America/Sao_Paulo").unwrap();
        assert_eq!(
            in_zone(MADE, &sao_paulo).unwrap().full(),
            "2026-11-23 12:16 UTC-03:00 (America/Sao_Paulo)"
        );
        let kolkata = TimeZone::posix("IST-5:30").unwrap();
        assert_eq!(
            in_zone(MADE, &kolkata).unwrap().full(),
            "2026-11-23 20:46 IST (UTC+05:30)"
        );
        assert_eq!(
            in_zone(MADE, &TimeZone::UTC).unwrap().full(),
            "2026-11-23 15:16 UTC"
        );
    }

    #[test]
    fn only_rfc3339_times_are_read() {
        for good in [
            MADE,
            "2026-11-23T15:16:00+11:00",
            "2026-11-23 15:16:00.5-03:00",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "=1+1",
            "",
            "2026-11-23",
            "2026-11-23T15:16:00",
            "2026-11-23T15:16Z",
            "20261123T151600Z",
            "2026-13-23T15:16:00Z",
            "yesterday",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
            assert_eq!(in_zone(bad, &TimeZone::UTC), None, "{bad}");
        }
    }
}
