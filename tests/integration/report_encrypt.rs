//! The clinician copy encrypted to a clinic's key with age: it round-trips
//! through `report --identity`, and a wrong, missing or damaged key or file
//! gives a calm message naming the file, with exit code 2.

use std::path::{Path, PathBuf};

use crate::report_support::*;
use predicates::prelude::*;

/// `keygen --output` in `dir`: (key file, public key).
fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    let out = cmd()
        .args(["keygen", "--output"])
        .arg(&key)
        .assert()
        .success()
        .stderr(predicate::str::contains("Keep it safe"));
    let public = String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert!(public.starts_with("age1"), "{public}");
    (key, public)
}

/// `check --answers urgent --encrypt-to PUBLIC --output FILE`.
fn encrypted_report(dir: &Path, public: &str, format: &str) -> PathBuf {
    let out = dir.join(format!("report.{format}.age"));
    cmd()
        .args(["check", "--no-network", "--no-device", "--format", format])
        .arg("--answers")
        .arg(answers_path("urgent"))
        .args(["--encrypt-to", public, "--output"])
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn an_encrypted_clinician_copy_round_trips_through_report_identity() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "clinic-key.txt");
    let sealed = encrypted_report(dir.path(), &public, "json");

    let bytes = std::fs::read(&sealed).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "{text}"
    );
    assert!(!text.contains("risk.asq") && !text.contains("outcome"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [&sealed, &key] {
            let mode = std::fs::metadata(f).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", f.display());
        }
    }

    // Opened with the key, it is the full clinician copy, risk answers included.
    let out = cmd()
        .arg("report")
        .arg(&sealed)
        .args(["--identity"])
        .arg(&key)
        .args(["--format", "json", "--view", "clinician"])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["view"], "clinician");
    assert_eq!(report["urgent"], true);
    assert_eq!(report["answers"]["risk.asq5"], "yes");

    // Any format can be re-rendered from it, e.g. the PDF for case notes.
    let pdf = dir.path().join("notes.pdf");
    cmd()
        .arg("report")
        .arg(&sealed)
        .arg("--identity")
        .arg(&key)
        .args(["--format", "pdf", "--output"])
        .arg(&pdf)
        .assert()
        .success();
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
}

#[test]
fn any_format_can_be_encrypted_and_opened_with_the_age_crate() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k.txt");
    let sealed = encrypted_report(dir.path(), &public, "markdown");
    let identities = age::IdentityFile::from_file(key.display().to_string())
        .unwrap()
        .into_identities()
        .unwrap();
    let armored = std::fs::read(&sealed).unwrap();
    let decryptor = age::Decryptor::new_buffered(std::io::BufReader::new(
        age::armor::ArmoredReader::new(armored.as_slice()),
    ))
    .unwrap();
    let mut plain = String::new();
    std::io::Read::read_to_string(
        &mut decryptor
            .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .unwrap(),
        &mut plain,
    )
    .unwrap();
    // Encrypted copies are the clinician copy unless asked otherwise.
    assert!(
        plain.contains("Clinician copy") && plain.contains("risk.asq5"),
        "{plain}"
    );
}

#[test]
fn a_wrong_key_gives_a_calm_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = keygen(dir.path(), "right.txt");
    let (wrong, _) = keygen(dir.path(), "wrong.txt");
    let sealed = encrypted_report(dir.path(), &public, "json");
    let before = std::fs::read(&sealed).unwrap();
    cmd()
        .arg("report")
        .arg(&sealed)
        .arg("--identity")
        .arg(&wrong)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("report.json.age")
                .and(predicate::str::contains("wrong.txt"))
                .and(predicate::str::contains("different key"))
                .and(predicate::str::contains("not changed")),
        );
    assert_eq!(std::fs::read(&sealed).unwrap(), before);
}

#[test]
fn a_missing_key_no_key_and_a_damaged_file_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "k.txt");
    let sealed = encrypted_report(dir.path(), &public, "json");

    cmd().arg("report").arg(&sealed).assert().code(2).stderr(
        predicate::str::contains("is encrypted")
            .and(predicate::str::contains("--identity KEYFILE")),
    );

    cmd()
        .arg("report")
        .arg(&sealed)
        .arg("--identity")
        .arg(dir.path().join("missing.txt"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("missing.txt").and(predicate::str::contains("no file there")),
        );

    // The public key given where the private key belongs.
    let public_file = dir.path().join("public.txt");
    std::fs::write(&public_file, format!("{public}\n")).unwrap();
    cmd()
        .arg("report")
        .arg(&sealed)
        .arg("--identity")
        .arg(&public_file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not an age key file"));

    let text = std::fs::read_to_string(&sealed).unwrap();
    let damaged = dir.path().join("damaged.json.age");
    let cut = text.lines().take(4).collect::<Vec<_>>().join("\n");
    std::fs::write(
        &damaged,
        format!("{cut}\n-----END AGE ENCRYPTED FILE-----\n"),
    )
    .unwrap();
    cmd()
        .arg("report")
        .arg(&damaged)
        .arg("--identity")
        .arg(&key)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("damaged.json.age")
                .and(predicate::str::contains("damaged or incomplete"))
                .and(predicate::str::contains(
                    "Ask for it to be sent or saved again",
                )),
        );
}

#[test]
fn a_bad_recipient_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.age");
    cmd()
        .args(["check", "--no-network", "--no-device", "--format", "json"])
        .arg("--answers")
        .arg(answers_path("video-suitable"))
        .args(["--encrypt-to", "age1notarealkey", "--output"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--encrypt-to").and(predicate::str::contains("age1")));
    assert!(!out.exists());
}

#[test]
fn keygen_never_replaces_an_existing_key() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "k.txt");
    let before = std::fs::read(&key).unwrap();
    cmd()
        .args(["keygen", "--output"])
        .arg(&key)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("left untouched"));
    assert_eq!(std::fs::read(&key).unwrap(), before);
}
