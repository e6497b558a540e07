//! Reports under file-system faults: a full disk and a read-only folder (a
//! tiny tmpfs, mounted when running as root, as CI and this project's machines
//! do), and kills at random moments while a report is written. Nothing
//! half-written may be left, and an earlier report must survive untouched.
#![cfg(target_os = "linux")]
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use assert_cmd::Command;

fn example(name: &str) -> String {
    format!(
        "{}/examples/answers/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `check` saving the urgent example's report to `output` as JSON.
fn save_report_args(output: &Path) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = [
        "check",
        "--no-network",
        "--no-device",
        "--format",
        "json",
        "--answers",
    ]
    .map(Into::into)
    .into();
    args.push(example("urgent").into());
    args.push("--output".into());
    args.push(output.into());
    // These tests replace an earlier report on purpose.
    args.push("--force".into());
    args
}

fn save_report(output: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("session-ready")
        .unwrap()
        .args(save_report_args(output))
        .assert()
}

/// A small tmpfs, unmounted on drop. `None` when mounting is not allowed here.
struct TinyDisk {
    dir: tempfile::TempDir,
}

impl TinyDisk {
    fn mount(size: &str) -> Option<TinyDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = StdCommand::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            crate::tools::skip_or_fail(
                "mounting a small tmpfs (to fill a disk) did not work: it needs root",
                "Run the tests as root, as .ci/run does",
            );
            return None;
        }
        Some(TinyDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount_read_only(&self) {
        let ok = StdCommand::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.path())
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Fill the disk until a write fails.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path().join("filler")).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = StdCommand::new("umount").arg(self.dir.path()).status();
    }
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}

#[test]
fn a_full_disk_is_explained_and_the_earlier_report_survives() {
    let Some(disk) = TinyDisk::mount("256k") else {
        return;
    };
    let report = disk.path().join("report.json");
    save_report(&report).success();
    let before = std::fs::read(&report).unwrap();
    disk.fill();
    // Issue 24, item 14: a full disk is neither the person's mistake (2) nor
    // the program's (1): exit code 3, a calm message naming the folder,
    // without the OS's wording or the temporary file's name.
    let out = save_report(&report).code(3);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains(&format!(
            "the disk holding the folder {} is full",
            disk.path().display()
        )),
        "{err}"
    );
    assert!(err.contains("Nothing was overwritten"), "{err}");
    assert!(err.contains("nothing you entered was lost"), "{err}");
    assert!(err.contains("report.json"), "{err}");
    assert!(
        !err.contains("os error") && !err.contains(".session-ready-"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        std::fs::read(&report).unwrap(),
        before,
        "earlier report intact"
    );
    assert!(temp_files(disk.path()).is_empty(), "no temp file left");
}

#[test]
fn a_read_only_folder_is_explained() {
    let Some(disk) = TinyDisk::mount("256k") else {
        return;
    };
    disk.remount_read_only();
    let out = save_report(&disk.path().join("report.json")).failure();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("read-only"), "{err}");
    assert!(
        err.contains("save it in a folder you can write to"),
        "{err}"
    );
}

#[test]
fn a_kill_at_any_moment_leaves_the_whole_report_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let bin = assert_cmd::cargo::cargo_bin("session-ready");
    let mut outcomes = [0usize; 2];
    // Delays spread over the life of the process (a few milliseconds), so some
    // kills land before, some during and some after the write.
    for i in 0..60u64 {
        let _ = std::fs::remove_file(&report);
        let mut child = StdCommand::new(&bin)
            .args(save_report_args(&report))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(150 * (i % 40)));
        let signal = if i % 2 == 0 {
            libc::SIGTERM
        } else {
            libc::SIGINT
        };
        // SAFETY: kill has no memory preconditions; the child is ours and not yet reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let _ = child.wait();
        assert!(
            temp_files(dir.path()).is_empty(),
            "temp file left on run {i}"
        );
        match std::fs::read(&report) {
            Ok(bytes) => {
                let v: serde_json::Value =
                    serde_json::from_slice(&bytes).expect("a report that exists is whole");
                assert_eq!(v["urgent"], true);
                outcomes[1] += 1;
            }
            Err(_) => outcomes[0] += 1,
        }
    }
    eprintln!(
        "killed before the report existed: {}, after: {}",
        outcomes[0], outcomes[1]
    );
}
