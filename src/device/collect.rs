//! Reads this machine: sysinfo for OS, processor and memory; on Linux, sysfs and
//! /dev for battery, cameras and audio capture devices. Everything that cannot be
//! told is left as `None` and rated `unknown`, never guessed.
use std::path::Path;

use super::{DeviceFacts, DeviceReport};

/// Read the machine and rate it. Takes about a quarter of a second (CPU load needs two samples).
pub fn collect() -> DeviceReport {
    super::rules::rate(&facts())
}

/// Raw facts about this machine.
pub fn facts() -> DeviceFacts {
    use sysinfo::System;
    let mut facts = DeviceFacts {
        os: System::name()
            .ok()
            .unwrap_or_else(|| std::env::consts::OS.to_string()),
        os_version: System::os_version().ok(),
        ..Default::default()
    };
    if let Ok(mut sys) = System::new() {
        sys.refresh_memory();
        sys.refresh_cpu_usage();
        std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
        sys.refresh_cpu_usage();
        facts.cpu_load_pct = Some(sys.global_cpu_usage());
        facts.memory_total_mb = sys.total_memory() / (1024 * 1024);
        facts.memory_available_mb = sys.available_memory() / (1024 * 1024);
        facts.cpu_cores = System::physical_core_count()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or(sys.cpus().len());
    }
    if cfg!(target_os = "linux") {
        let (on_battery, pct) = linux_battery(Path::new("/sys/class/power_supply"));
        facts.on_battery = on_battery;
        facts.battery_pct = pct;
        facts.cameras = Some(linux_cameras(Path::new("/dev")));
        facts.microphones = Some(linux_capture_devices(Path::new("/dev/snd")));
    }
    facts
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
