//! Reads this machine: sysinfo for OS, processor and memory; on Linux, sysfs and
//! /dev for battery, cameras and audio capture devices. Everything that cannot be
//! told is left as `None` and rated `unknown`, never guessed.
//!
//! The machine is read in parts. A part that returns an error, panics or does
//! not answer in time leaves its facts unknown and records why, so a fact that
//! cannot be read never ends the check.
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{DeviceFacts, DeviceReport, UnreadFacts};

/// Read the machine and rate it. Takes about a quarter of a second (CPU load needs two samples).
pub fn collect() -> DeviceReport {
    super::rules::rate(&facts())
}

/// Raw facts about this machine.
pub fn facts() -> DeviceFacts {
    facts_from(&this_machine(), READ_TIME_LIMIT)
}

/// Generous: the slowest part waits about 0.2 s for a second CPU sample.
const READ_TIME_LIMIT: Duration = Duration::from_secs(20);

/// One part of the machine to read.
#[derive(Clone, Copy)]
pub struct Part {
    /// Ids of the report items this part feeds (`os`, `cpu`, `memory`, ...).
    pub items: &'static [&'static str],
    /// Fills in what it can; an error says in plain words what went wrong.
    pub read: fn(&mut DeviceFacts) -> Result<(), String>,
}

/// The parts this system can read.
pub fn this_machine() -> Vec<Part> {
    let mut parts = vec![
        Part {
            items: &["os"],
            read: read_system,
        },
        Part {
            items: &["cpu", "memory"],
            read: read_processor_and_memory,
        },
        Part {
            items: &["cpu-load"],
            read: read_processor_load,
        },
    ];
    if cfg!(target_os = "linux") {
        parts.push(Part {
            items: &["battery"],
            read: |facts| {
                (facts.on_battery, facts.battery_pct) =
                    linux_battery(Path::new("/sys/class/power_supply"));
                Ok(())
            },
        });
        parts.push(Part {
            items: &["camera", "microphone"],
            read: |facts| {
                facts.cameras = Some(linux_cameras(Path::new("/dev")));
                facts.microphones = Some(linux_capture_devices(Path::new("/dev/snd")));
                Ok(())
            },
        });
    }
    parts
}

/// Read `parts` in order on a thread of their own. Each part works on a copy of
/// the facts that is kept only if it finishes; parts still unfinished after
/// `time_limit` are left unknown (the thread is left to end on its own).
pub fn facts_from(parts: &[Part], time_limit: Duration) -> DeviceFacts {
    let (done_tx, done_rx) = mpsc::channel();
    let reads: Vec<_> = parts.iter().map(|part| (part.items, part.read)).collect();
    let spawned = std::thread::Builder::new()
        .name(READER_THREAD.into())
        .spawn(move || {
            silence_reader_panics();
            let mut facts = DeviceFacts::default();
            for (items, read) in reads {
                let mut attempt = facts.clone();
                match catch_unwind(AssertUnwindSafe(|| read(&mut attempt))) {
                    Ok(Ok(())) => facts = attempt,
                    Ok(Err(reason)) => facts.unread.push(unread(items, reason)),
                    Err(payload) => facts.unread.push(unread(items, panic_reason(&*payload))),
                }
                if done_tx.send(facts.clone()).is_err() {
                    return;
                }
            }
        });
    let mut latest = (0, DeviceFacts::default());
    if spawned.is_ok() {
        let deadline = Instant::now() + time_limit;
        while latest.0 < parts.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            match done_rx.recv_timeout(left) {
                Ok(facts) => latest = (latest.0 + 1, facts),
                Err(_) => break,
            }
        }
    }
    let (finished, mut facts) = latest;
    let reason = if spawned.is_ok() {
        "the system took too long to answer"
    } else {
        "the system could not start the check"
    };
    for part in &parts[finished..] {
        facts.unread.push(unread(part.items, reason.to_string()));
    }
    facts
}

fn unread(items: &[&str], reason: String) -> UnreadFacts {
    UnreadFacts {
        items: items.iter().map(|id| id.to_string()).collect(),
        reason,
    }
}

fn panic_reason(payload: &(dyn Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned());
    match detail {
        Some(detail) => format!("the system gave an unexpected answer ({detail})"),
        None => "the system gave an unexpected answer".to_string(),
    }
}

const READER_THREAD: &str = "session-ready device reader";

/// A part that panics must not print Rust's panic message over the check: the
/// reason goes into the report instead. Other threads keep the usual hook.
fn silence_reader_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(READER_THREAD) {
                previous(info);
            }
        }));
    });
}

fn read_system(facts: &mut DeviceFacts) -> Result<(), String> {
    use sysinfo::System;
    facts.os = System::name()
        .ok()
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    facts.os_version = System::os_version().ok();
    Ok(())
}

fn read_processor_and_memory(facts: &mut DeviceFacts) -> Result<(), String> {
    use sysinfo::System;
    let mut sys = System::new().map_err(|e| format!("the system did not answer ({e})"))?;
    sys.refresh_memory();
    facts.memory_total_mb = sys.total_memory() / (1024 * 1024);
    facts.memory_available_mb = sys.available_memory() / (1024 * 1024);
    facts.cpu_cores = System::physical_core_count()
        .ok()
        .filter(|&n| n > 0)
        .unwrap_or(sys.cpus().len());
    Ok(())
}

/// Whole-machine CPU use over sysinfo's minimum sampling interval.
#[cfg(not(windows))]
fn read_processor_load(facts: &mut DeviceFacts) -> Result<(), String> {
    let mut sys = sysinfo::System::new().map_err(|e| format!("the system did not answer ({e})"))?;
    sys.refresh_cpu_usage();
    std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
    sys.refresh_cpu_usage();
    facts.cpu_load_pct = Some(sys.global_cpu_usage());
    Ok(())
}

/// Whole-machine CPU use from two GetSystemTimes samples. sysinfo reads it
/// through the Performance Data Helper, which some Windows set-ups lack or
/// disable (and Wine does not implement); GetSystemTimes is always there.
#[cfg(windows)]
fn read_processor_load(facts: &mut DeviceFacts) -> Result<(), String> {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::Threading::GetSystemTimes;
    let sample = || -> Result<(u64, u64), String> {
        let ticks = |t: FILETIME| (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
        let (mut idle, mut kernel, mut user) = Default::default();
        // SAFETY: three valid out-pointers.
        if unsafe { GetSystemTimes(&mut idle, &mut kernel, &mut user) } == 0 {
            return Err(format!(
                "the system did not answer ({})",
                std::io::Error::last_os_error()
            ));
        }
        // Kernel time includes idle time.
        Ok((ticks(idle), ticks(kernel) + ticks(user)))
    };
    let (idle_before, total_before) = sample()?;
    std::thread::sleep(Duration::from_millis(200));
    let (idle_after, total_after) = sample()?;
    let total = total_after.saturating_sub(total_before);
    if total == 0 {
        return Err("the system gave no processor times".to_string());
    }
    let busy = total.saturating_sub(idle_after.saturating_sub(idle_before));
    facts.cpu_load_pct = Some((busy as f64 * 100.0 / total as f64) as f32);
    Ok(())
}

/// `(on battery, charge %)` from /sys/class/power_supply. A machine with no
/// battery is plugged in (`Some(false)`); an unreadable folder tells nothing.
pub fn linux_battery(root: &Path) -> (Option<bool>, Option<f32>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return (None, None);
    };
    let read = |p: &Path, f: &str| {
        std::fs::read_to_string(p.join(f))
            .ok()
            .map(|s| s.trim().to_string())
    };
    let mut on_battery = Some(false);
    let mut pct = None;
    for entry in entries.flatten() {
        let dir = entry.path();
        if read(&dir, "type").as_deref() != Some("Battery") {
            continue;
        }
        pct = read(&dir, "capacity").and_then(|c| c.parse::<f32>().ok());
        if read(&dir, "status").as_deref() == Some("Discharging") {
            on_battery = Some(true);
        }
    }
    (on_battery, pct)
}

/// Video capture nodes (/dev/video*). Some cameras expose two nodes (video and
/// metadata); the count is still a fair "is there a camera" signal.
pub fn linux_cameras(dev: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dev)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("video") && n[5..].chars().all(|c| c.is_ascii_digit()))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// ALSA capture devices: /dev/snd/pcmC<card>D<device>c.
pub fn linux_capture_devices(snd: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(snd)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("pcmC") && n.ends_with('c'))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceRating;

    const MEMORY: Part = Part {
        items: &["memory"],
        read: |facts| {
            facts.memory_total_mb = 8192;
            facts.memory_available_mb = 4096;
            Ok(())
        },
    };

    fn item<'a>(report: &'a DeviceReport, id: &str) -> &'a crate::device::DeviceItem {
        report.items.iter().find(|i| i.id == id).unwrap()
    }

    #[test]
    fn a_panicking_part_leaves_its_items_unknown_with_the_reason() {
        let panics = Part {
            items: &["cpu", "cpu-load"],
            read: |facts| {
                facts.cpu_cores = 64;
                panic!("PdhEnumObjectsW is not implemented")
            },
        };
        let facts = facts_from(&[panics, MEMORY], Duration::from_secs(60));
        assert_eq!(facts.cpu_cores, 0, "a half-finished part is thrown away");
        assert_eq!(facts.memory_total_mb, 8192, "later parts still run");
        assert_eq!(facts.unread.len(), 1);
        assert_eq!(facts.unread[0].items, ["cpu", "cpu-load"]);
        let report = crate::device::rules::rate(&facts);
        for id in ["cpu", "cpu-load"] {
            let cpu = item(&report, id);
            assert_eq!(cpu.rating, DeviceRating::Unknown);
            assert!(
                cpu.found.contains("PdhEnumObjectsW is not implemented"),
                "{}",
                cpu.found
            );
        }
        assert_eq!(item(&report, "memory").rating, DeviceRating::Ok);
    }

    #[test]
    fn an_error_from_a_part_is_the_reason() {
        let refuses = Part {
            items: &["os"],
            read: |_| Err("access was refused".to_string()),
        };
        let facts = facts_from(&[MEMORY, refuses], Duration::from_secs(60));
        let report = crate::device::rules::rate(&facts);
        let os = item(&report, "os");
        assert_eq!(os.rating, DeviceRating::Unknown);
        assert_eq!(os.found, "could not be read: access was refused");
        assert_eq!(item(&report, "memory").rating, DeviceRating::Ok);
    }

    #[test]
    fn a_part_that_never_answers_is_given_up_on() {
        let hangs = Part {
            items: &["camera", "microphone"],
            read: |_| loop {
                std::thread::park();
            },
        };
        let facts = facts_from(&[MEMORY, hangs, MEMORY], Duration::from_secs(2));
        assert_eq!(facts.memory_total_mb, 8192);
        let reasons: Vec<_> = facts.unread.iter().map(|u| u.reason.as_str()).collect();
        assert_eq!(reasons, ["the system took too long to answer"; 2]);
        let report = crate::device::rules::rate(&facts);
        assert!(item(&report, "camera").found.contains("took too long"));
    }

    #[test]
    fn this_machine_reads_without_unread_parts() {
        let facts = facts();
        assert!(facts.unread.is_empty(), "{:?}", facts.unread);
        assert!(!facts.os.is_empty());
    }

    #[test]
    fn reads_a_discharging_battery() {
        let dir = tempfile::tempdir().unwrap();
        let bat = dir.path().join("BAT0");
        std::fs::create_dir(&bat).unwrap();
        std::fs::write(bat.join("type"), "Battery\n").unwrap();
        std::fs::write(bat.join("status"), "Discharging\n").unwrap();
        std::fs::write(bat.join("capacity"), "37\n").unwrap();
        let ac = dir.path().join("AC");
        std::fs::create_dir(&ac).unwrap();
        std::fs::write(ac.join("type"), "Mains\n").unwrap();
        assert_eq!(linux_battery(dir.path()), (Some(true), Some(37.0)));
    }

    #[test]
    fn no_battery_means_plugged_in_and_missing_folder_means_unknown() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(linux_battery(dir.path()), (Some(false), None));
        assert_eq!(linux_battery(&dir.path().join("nope")), (None, None));
    }

    #[test]
    fn finds_cameras_and_capture_devices() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["video0", "video1", "videodev-x", "null"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(linux_cameras(dir.path()), vec!["video0", "video1"]);
        let snd = tempfile::tempdir().unwrap();
        for name in ["pcmC0D0p", "pcmC0D0c", "controlC0"] {
            std::fs::write(snd.path().join(name), "").unwrap();
        }
        assert_eq!(linux_capture_devices(snd.path()), vec!["pcmC0D0c"]);
    }
}
