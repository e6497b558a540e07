//! Pure rating of device facts against published platform minimums
//! (data/device_requirements.json, with sources). No I/O: tests inject figures.

use serde::Deserialize;

use super::{DeviceFacts, DeviceItem, DeviceRating, DeviceReport};

/// The thresholds file, embedded at build time.
#[derive(Debug, Deserialize)]
pub struct Requirements {
    pub verified: String,
    pub sources: Vec<Source>,
    pub cpu_cores: MinRecommended,
    pub memory_mb: MinRecommended,
    pub available_memory_mb: CautionBelow,
    pub cpu_load_pct: CautionAbove,
    pub battery_pct: CautionBelow,
    pub os_minimums: Vec<OsMinimum>,
}

#[derive(Debug, Deserialize)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Deserialize)]
pub struct MinRecommended {
    pub minimum: u64,
    pub recommended: u64,
}

#[derive(Debug, Deserialize)]
pub struct CautionBelow {
    pub caution_below: f64,
}

#[derive(Debug, Deserialize)]
pub struct CautionAbove {
    pub caution_above: f64,
}

#[derive(Debug, Deserialize)]
pub struct OsMinimum {
    pub os: String,
    pub min_major: u32,
    #[serde(default)]
    pub min_minor: u32,
}

/// The embedded requirements (parsed once; a broken file is a build-time bug caught by tests).
pub fn requirements() -> &'static Requirements {
    crate::embedded_data!(Requirements, "device_requirements.json")
}

/// Rate every item and the device as a whole.
pub fn rate(facts: &DeviceFacts) -> DeviceReport {
    rate_with(facts, requirements())
}

pub fn rate_with(facts: &DeviceFacts, req: &Requirements) -> DeviceReport {
    let mut items = vec![
        rate_os(facts, req),
        rate_cores(facts, req),
        rate_load(facts, req),
        rate_memory(facts, req),
        rate_battery(facts, req),
    ];
    match &facts.media {
        // Tested in the browser page: what the page saw beats what /dev shows.
        Some(media) => items.extend(super::media::rate(media)),
        None => items.extend([
            rate_presence(
                "camera",
                "Camera",
                facts.cameras.as_deref(),
                "so your therapist can see you",
            ),
            rate_presence(
                "microphone",
                "Microphone",
                facts.microphones.as_deref(),
                "so your therapist can hear you",
            ),
        ]),
    }
    // The camera and microphone seen by the browser page were measured there,
    // not read from this machine, so a failed read does not touch them.
    let read_here = |item: &DeviceItem| {
        facts.media.is_none() || !matches!(item.id.as_str(), "camera" | "microphone" | "speakers")
    };
    for item in items.iter_mut().filter(|item| read_here(item)) {
        let why = facts
            .unread
            .iter()
            .find(|unread| unread.items.contains(&item.id));
        if let Some(unread) = why {
            // Whatever the part had set before it stopped was thrown away.
            item.rating = DeviceRating::Unknown;
            item.found = format!("could not be read: {}", unread.reason);
        }
    }
    let overall = items
        .iter()
        .map(|i| i.rating)
        .filter(|r| *r != DeviceRating::Unknown)
        .max()
        .unwrap_or(DeviceRating::Unknown);
    DeviceReport {
        facts: facts.clone(),
        items,
        overall,
        sources: req
            .sources
            .iter()
            .map(|s| format!("{} ({}), checked {}", s.title, s.url, req.verified))
            .collect(),
    }
}

/// Leading "major.minor" of a version string such as "10 (19045)" or "13.6.1".
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

fn rate_os(facts: &DeviceFacts, req: &Requirements) -> DeviceItem {
    let version = facts.os_version.clone().unwrap_or_default();
    let found = format!("{} {}", facts.os, version).trim().to_string();
    let name = facts.os.to_ascii_lowercase();
    let minimum = req.os_minimums.iter().find(|m| {
        let os = m.os.to_ascii_lowercase();
        name.contains(&os) || (os == "macos" && name.contains("darwin"))
    });
    let (rating, advice) = match (minimum, major_minor(&version)) {
        (Some(min), Some(v)) if v < (min.min_major, min.min_minor) => (
            DeviceRating::Caution,
            "This system is older than video apps support. If you can, update it or use another device (a recent phone or tablet works too).",
        ),
        (Some(_), Some(_)) | (None, _) if !facts.os.is_empty() => (
            DeviceRating::Ok,
            "Supported by the major video platforms. Installing pending updates before the session helps.",
        ),
        _ => (
            DeviceRating::Unknown,
            "We could not tell the system version. Video apps ask for a recent, updated system.",
        ),
    };
    DeviceItem::new("os", "Operating system", found, rating, advice)
}

fn rate_cores(facts: &DeviceFacts, req: &Requirements) -> DeviceItem {
    let n = facts.cpu_cores as u64;
    let found = format!("{n} processor core{}", if n == 1 { "" } else { "s" });
    let (rating, advice) = if n == 0 {
        (
            DeviceRating::Unknown,
            "We could not count the processor cores.",
        )
    } else if n < req.cpu_cores.recommended {
        (
            DeviceRating::Caution,
            "Video calls are recommended on at least a dual-core processor. Closing other programs during the session will help.",
        )
    } else {
        (DeviceRating::Ok, "Enough for a one-to-one video call.")
    };
    DeviceItem::new("cpu", "Processor", found, rating, advice)
}

fn rate_load(facts: &DeviceFacts, req: &Requirements) -> DeviceItem {
    match facts.cpu_load_pct {
        None => DeviceItem::new(
            "cpu-load",
            "Processor load",
            "not measured".into(),
            DeviceRating::Unknown,
            "We could not tell how busy the processor is.",
        ),
        Some(load) if f64::from(load) > req.cpu_load_pct.caution_above => DeviceItem::new(
            "cpu-load",
            "Processor load",
            format!("{load:.0}% busy right now"),
            DeviceRating::Caution,
            "The processor is very busy at the moment. Closing other programs before the session gives the video call room to run smoothly.",
        ),
        Some(load) => DeviceItem::new(
            "cpu-load",
            "Processor load",
            format!("{load:.0}% busy right now"),
            DeviceRating::Ok,
            "There is spare processing room for a call.",
        ),
    }
}

fn rate_memory(facts: &DeviceFacts, req: &Requirements) -> DeviceItem {
    let total = facts.memory_total_mb;
    let avail = facts.memory_available_mb;
    let found = format!(
        "{:.1} GB in total, {:.1} GB free",
        total as f64 / 1024.0,
        avail as f64 / 1024.0
    );
    let (rating, advice) = if total == 0 {
        (DeviceRating::Unknown, "We could not read the memory size.")
    } else if total < req.memory_mb.minimum {
        (
            DeviceRating::Problem,
            "This is less memory than video apps need. A phone or tablet may work better for sessions.",
        )
    } else if total < req.memory_mb.recommended {
        (
            DeviceRating::Caution,
            "Video apps recommend 4 GB or more. Closing other programs during the session will help.",
        )
    } else if (avail as f64) < req.available_memory_mb.caution_below {
        (
            DeviceRating::Caution,
            "Memory is nearly full right now. Closing other programs before the session will help.",
        )
    } else {
        (DeviceRating::Ok, "Enough memory for a video call.")
    };
    DeviceItem::new("memory", "Memory", found, rating, advice)
}

fn rate_battery(facts: &DeviceFacts, req: &Requirements) -> DeviceItem {
    let pct = facts
        .battery_pct
        .map(|p| format!(", {p:.0}% charged"))
        .unwrap_or_default();
    match facts.on_battery {
        None => DeviceItem::new(
            "battery",
            "Power",
            "not detectable here".into(),
            DeviceRating::Unknown,
            "If this is a laptop, plugging it in for the session avoids it running low.",
        ),
        Some(false) => DeviceItem::new(
            "battery",
            "Power",
            if facts.battery_pct.is_some() {
                format!("plugged in{pct}")
            } else {
                "no battery: runs on mains power".to_string()
            },
            DeviceRating::Ok,
            "Plugged in: no risk of the battery running out mid-session.",
        ),
        Some(true) => {
            let low = facts
                .battery_pct
                .is_some_and(|p| f64::from(p) < req.battery_pct.caution_below);
            DeviceItem::new(
                "battery",
                "Power",
                format!("on battery{pct}"),
                if low {
                    DeviceRating::Caution
                } else {
                    DeviceRating::Ok
                },
                if low {
                    "The battery is fairly low. Plugging in before the session means the call will not cut out."
                } else {
                    "Running on battery. Plugging in for the session is a good idea, as video calls use a lot of power."
                },
            )
        }
    }
}

fn rate_presence(id: &str, label: &str, found: Option<&[String]>, why: &str) -> DeviceItem {
    match found {
        None => DeviceItem::new(
            id,
            label,
            "not detectable on this system".into(),
            DeviceRating::Unknown,
            &format!(
                "Your video app will check the {} {why}.",
                label.to_lowercase()
            ),
        ),
        Some([]) => DeviceItem::new(
            id,
            label,
            "none found".into(),
            DeviceRating::Problem,
            &format!(
                "No {} was found. One is needed {why}: plug one in, or use a phone or tablet for sessions.",
                label.to_lowercase()
            ),
        ),
        Some(devices) => DeviceItem::new(
            id,
            label,
            format!("{} found ({})", devices.len(), devices.join(", ")),
            DeviceRating::Ok,
            "Found. Your video app will ask permission to use it.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> DeviceFacts {
        DeviceFacts {
            os: "Windows".into(),
            os_version: Some("11 (22631)".into()),
            cpu_cores: 4,
            cpu_load_pct: Some(12.0),
            memory_total_mb: 8192,
            memory_available_mb: 4096,
            on_battery: Some(false),
            battery_pct: None,
            cameras: Some(vec!["video0".into()]),
            microphones: Some(vec!["pcmC0D0c".into()]),
            unread: Vec::new(),
            media: None,
        }
    }

    fn rating(report: &DeviceReport, id: &str) -> DeviceRating {
        report.items.iter().find(|i| i.id == id).unwrap().rating
    }

    #[test]
    fn requirements_file_parses_and_cites_sources() {
        let req = requirements();
        assert!(req.sources.iter().all(|s| s.url.starts_with("https://")));
        assert_eq!(req.memory_mb.recommended, 4096);
    }

    #[test]
    fn a_good_machine_is_ok_everywhere() {
        let r = rate(&good());
        assert_eq!(r.overall, DeviceRating::Ok);
        assert!(
            r.items.iter().all(|i| i.rating == DeviceRating::Ok),
            "{r:#?}"
        );
    }

    #[test]
    fn little_memory_and_a_single_core_are_flagged() {
        let mut f = good();
        f.memory_total_mb = 1500;
        f.cpu_cores = 1;
        let r = rate(&f);
        assert_eq!(rating(&r, "memory"), DeviceRating::Problem);
        assert_eq!(rating(&r, "cpu"), DeviceRating::Caution);
        assert_eq!(r.overall, DeviceRating::Problem);
        f.memory_total_mb = 3072;
        assert_eq!(rating(&rate(&f), "memory"), DeviceRating::Caution);
        f.memory_total_mb = 8192;
        f.memory_available_mb = 500;
        assert_eq!(rating(&rate(&f), "memory"), DeviceRating::Caution);
    }

    #[test]
    fn busy_processor_and_low_battery_are_cautions() {
        let mut f = good();
        f.cpu_load_pct = Some(95.0);
        f.on_battery = Some(true);
        f.battery_pct = Some(20.0);
        let r = rate(&f);
        assert_eq!(rating(&r, "cpu-load"), DeviceRating::Caution);
        assert_eq!(rating(&r, "battery"), DeviceRating::Caution);
        f.battery_pct = Some(90.0);
        assert_eq!(rating(&rate(&f), "battery"), DeviceRating::Ok);
    }

    #[test]
    fn missing_camera_is_a_problem_but_undetectable_is_unknown() {
        let mut f = good();
        f.cameras = Some(vec![]);
        assert_eq!(rating(&rate(&f), "camera"), DeviceRating::Problem);
        f.cameras = None;
        f.microphones = None;
        f.on_battery = None;
        f.cpu_load_pct = None;
        let r = rate(&f);
        assert_eq!(rating(&r, "camera"), DeviceRating::Unknown);
        assert_eq!(rating(&r, "microphone"), DeviceRating::Unknown);
        // Unknown items do not drag the overall rating down.
        assert_eq!(r.overall, DeviceRating::Ok);
    }

    #[test]
    fn old_systems_are_cautions() {
        let mut f = good();
        f.os = "Darwin".into();
        f.os_version = Some("10.12.6".into());
        assert_eq!(rating(&rate(&f), "os"), DeviceRating::Caution);
        f.os_version = Some("14.2".into());
        assert_eq!(rating(&rate(&f), "os"), DeviceRating::Ok);
        f.os = "Windows".into();
        f.os_version = Some("8.1".into());
        assert_eq!(rating(&rate(&f), "os"), DeviceRating::Caution);
        f.os = "Debian GNU/Linux".into();
        f.os_version = Some("12".into());
        assert_eq!(rating(&rate(&f), "os"), DeviceRating::Ok);
    }

    #[test]
    fn advice_never_blames() {
        let mut f = good();
        f.cameras = Some(vec![]);
        f.memory_total_mb = 1000;
        for i in rate(&f).items {
            let text = i.advice.to_lowercase();
            for word in ["fail", "invalid", "error", "bad"] {
                assert!(!text.contains(word), "{}: {}", i.id, i.advice);
            }
        }
    }
}
