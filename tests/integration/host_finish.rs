//! The end of a hosted check (issue 23, items 4 and 8): what the client is
//! told the clinic receives and when it will be read, the client's own copy
//! (a PDF made in memory), and the clinic's `--on-report` program, which
//! learns of every arrival without a single answer. The real binary over
//! loopback, walked as a browser without JavaScript would.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use crate::host_invite::{CANARY, Client, Hosted, contains, files, repo};
use crate::walk_support::{Site, walk_http};

const BIN: &str = env!("CARGO_BIN_EXE_session-ready");

/// An answers file with the canary typed into a plan field.
fn answers_with_canary(example: &str, dir: &Path) -> std::path::PathBuf {
    let mut answers: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo(&format!("examples/answers/{example}"))).unwrap(),
    )
    .unwrap();
    answers["session_plan"]["place"] = CANARY.into();
    let file = dir.join("answers.json");
    std::fs::write(&file, answers.to_string()).unwrap();
    file
}

/// The saving choices (after the report is read, if it is shown first).
#[cfg(unix)]
fn choices_page(client: &Client) -> crate::page_support::Reply {
    use crate::walk_support::{at_of, location};
    for _ in 0..8 {
        let mut page = client.get("finish");
        for _ in 0..3 {
            if page.status != 303 {
                break;
            }
            page = client.get(location(&page).trim_start_matches('/'));
        }
        // Without scripts: past the media test by its link, and on from
        // the waiting page by its "Continue" (nothing measured).
        if page.body.contains("href=\"next\"") {
            client.get("next");
            continue;
        }
        if page.body.contains("href=\"finish?wait=1\"") {
            client.get("finish?wait=1");
            continue;
        }
        if !page.body.contains("value=\"back-to-choices\"") {
            return page;
        }
        let at = at_of(&page.body).expect("a form on the report's page");
        client.post("walk", &[("at", &at), ("do", "back-to-choices")]);
    }
    panic!("the choices did not come");
}

/// GET with the raw bytes of the body (a PDF is not text).
fn get_bytes(hosted: &Hosted, path: &str, cookie: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(hosted.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n",
        hosted.addr
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole reply");
    (
        String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase(),
        raw[split + 4..].to_vec(),
    )
}

/// A program that records its arguments and environment, one run a line,
/// and fails its first run (so the retry is seen).
#[cfg(unix)]
fn recording_program(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("on-report.sh");
    let record = dir.join("runs.txt");
    let marker = dir.join("failed-once");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf 'args=%s|%s|%s|%s env=%s|%s|%s|%s\\n' \"$1\" \"$2\" \"$3\" \"$4\" \
             \"$SESSION_READY_RISK_SCREEN\" \"$SESSION_READY_URGENT\" \
             \"$SESSION_READY_ARRIVED_AT\" \"$SESSION_READY_CLIENT_REF\" >> '{}'\n\
             if [ ! -e '{}' ]; then : > '{}'; exit 3; fi\nexit 0\n",
            record.display(),
            marker.display(),
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[cfg(unix)]
#[test]
fn an_urgent_arrival_reaches_the_clinics_program_without_answers_and_a_failure_is_retried() {
    let programs = tempfile::tempdir().unwrap();
    let program = recording_program(programs.path());
    let hosted = Hosted::start_with(&["--on-report", program.to_str().unwrap()]);
    let client = Client::new(&hosted, &hosted.invite("case 7"));
    let answers = answers_with_canary("urgent.json", programs.path());
    walk_http(&client, &answers);
    // The saving choices say what the clinic receives, and who can open it.
    let choices = choices_page(&client);
    assert!(
        choices.body.contains("What your clinic receives")
            && choices.body.contains("only the people at your clinic"),
        "{}",
        choices.body
    );
    let end = client.send_full_copy();
    assert!(end.body.contains("reached your clinic"), "{}", end.body);
    // Office hours from the clinic file, in its zone; the numbers are for now.
    assert!(
        end.body.contains("(Europe/London time)"),
        "the last page says when the clinic will read it: {}",
        end.body
    );
    assert!(end.body.contains("are for now"), "{}", end.body);
    // Nothing waits for the client any more, and the numbers' country is the clinic's.
    assert!(!end.body.contains("it keeps your answers"), "{}", end.body);
    assert!(
        !end.body.contains("this computer's settings"),
        "{}",
        end.body
    );

    // The program ran twice: a failure, then the retry 2 s later.
    let record = programs.path().join("runs.txt");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let runs = loop {
        let runs = std::fs::read_to_string(&record).unwrap_or_default();
        if runs.lines().count() >= 2 || std::time::Instant::now() > deadline {
            break runs;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(lines.len(), 2, "one failed run and its retry: {runs}");
    assert_eq!(lines[0], lines[1], "the retry passes the same values");
    let args = lines[0]
        .strip_prefix("args=")
        .unwrap()
        .split(" env=")
        .collect::<Vec<_>>();
    assert_eq!(args[0], args[1], "arguments and environment agree: {runs}");
    let values: Vec<&str> = args[0].split('|').collect();
    assert_eq!(values[0], "positive-acute", "{runs}");
    assert_eq!(values[1], "true", "{runs}");
    assert!(
        values[2].ends_with('Z') && values[2].len() == 20,
        "RFC 3339 in UTC: {runs}"
    );
    assert_eq!(values[3], "case 7", "{runs}");
    assert!(!runs.contains(CANARY), "no answer reaches the program");

    // The failure is in serve's log without the client's reference or any answer.
    let log = std::fs::read_to_string(hosted.dir.path().join("serve.log")).unwrap();
    assert!(
        log.contains("--on-report") && log.contains("trying again in 2 s"),
        "{log}"
    );
    assert!(
        !log.contains("case 7") && !log.contains(CANARY),
        "logged without content: {log}"
    );
    // The report itself holds the canary: it really was typed.
    let arrived = crate::host_invite::reports(&hosted.inbox());
    let opened = std::process::Command::new(BIN)
        .arg("report")
        .arg(&arrived[0])
        .arg("--identity")
        .arg(repo("examples/clinic-example-identity.txt"))
        .args(["--format", "json", "--output", "-"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&opened.stdout).contains(CANARY));
}

#[test]
fn the_client_downloads_their_own_copy_made_in_memory() {
    let hosted = Hosted::start();
    let client = Client::new(&hosted, &hosted.invite("case 11"));
    let elsewhere = tempfile::tempdir().unwrap();
    let answers = answers_with_canary("urgent.json", elsewhere.path());
    walk_http(&client, &answers);
    // Not before the end.
    let early = client.get("my-copy.pdf");
    assert_eq!(early.status, 404, "{early:?}");
    let end = client.send_full_copy();
    assert!(
        end.body.contains("href=\"my-copy.pdf\""),
        "the last page offers the copy: {}",
        end.body
    );
    let before = files(hosted.dir.path());
    let (head, pdf) = get_bytes(&hosted, "/my-copy.pdf", &client.cookie());
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: application/pdf"), "{head}");
    assert!(head.contains("attachment"), "{head}");
    assert!(head.contains("no-store"), "{head}");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    // Nothing was written on the server to make it.
    assert_eq!(files(hosted.dir.path()), before);

    // The client copy: the plan the client wrote, none of the risk answers,
    // and not the clinic's own reference.
    let saved = elsewhere.path().join("copy.pdf");
    std::fs::write(&saved, &pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&saved)
        .arg("-")
        .output();
    let Ok(text) = text else {
        assert!(
            std::env::var_os("SESSION_READY_REQUIRE_TOOLS").is_none(),
            "pdftotext is needed"
        );
        eprintln!("SKIPPED: pdftotext is not installed");
        return;
    };
    let text = String::from_utf8_lossy(&text.stdout).replace('\n', " ");
    assert!(
        text.contains("therapist") && text.contains("copy only"),
        "the client copy says what it leaves out: {text}"
    );
    assert!(!text.contains("case 11"), "{text}");
    assert!(
        !text.to_lowercase().contains("acute"),
        "no risk level in the client's copy: {text}"
    );
    // Another browser (no session) gets nothing.
    let other = hosted.get("/my-copy.pdf", None);
    assert_ne!(other.status, 200);
    assert!(!contains(other.body.as_bytes(), "%PDF"));
}

#[test]
fn a_missing_program_or_bad_office_hours_stop_serve_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inbox")).unwrap();
    let serve = |clinic: &Path, extra: &[&str]| {
        std::process::Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--clinic"])
            .arg(clinic)
            .arg("--inbox")
            .arg(dir.path().join("inbox"))
            .arg("--secret")
            .arg(dir.path().join("secret"))
            .args(extra)
            .output()
            .unwrap()
    };
    // The secret exists (invite made it), so only the named problem stops serve.
    let made = std::process::Command::new(BIN)
        .args(["invite", "--clinic"])
        .arg(repo("examples/clinic.toml"))
        .args(["--url", "http://127.0.0.1:1", "--secret"])
        .arg(dir.path().join("secret"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let missing = dir.path().join("no-such-program");
    let out = serve(
        &repo("examples/clinic.toml"),
        &["--on-report", missing.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("--on-report") && said.contains("is not a file"),
        "{said}"
    );
    let clinic = dir.path().join("clinic.toml");
    let text = std::fs::read_to_string(repo("examples/clinic.toml"))
        .unwrap()
        .replace("monday = \"09:00-17:00\"", "monday = \"17:00-09:00\"");
    std::fs::write(&clinic, text).unwrap();
    let out = serve(&clinic, &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("office_hours.monday") && said.contains("closes before it opens"),
        "{said}"
    );
}
