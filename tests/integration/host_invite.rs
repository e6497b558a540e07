//! The hosted check (issue 23, first slice): `invite` makes a link, `serve
//! --clinic --inbox` serves the same visit's pages to it, and the report
//! arrives in the inbox encrypted; all over loopback, as a browser without
//! JavaScript would walk it.
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::page_support::{Reply, request};
use crate::walk_support::{Site, at_of, location, walk_http};

const BIN: &str = env!("CARGO_BIN_EXE_session-ready");
pub(crate) const CANARY: &str = "canary-7f3a9c-plum-lantern";

pub(crate) fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `serve` with the example clinic, killed when dropped.
pub(crate) struct Hosted {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) dir: tempfile::TempDir,
    /// Every line serve wrote, stdout and stderr.
    pub(crate) said: Arc<Mutex<Vec<String>>>,
}

impl Hosted {
    pub(crate) fn start() -> Hosted {
        Self::start_with(&[])
    }

    pub(crate) fn start_with(extra: &[&str]) -> Hosted {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("inbox")).unwrap();
        // The secret is made by the first invitation.
        let first = invite_in(dir.path(), &["--client-ref", "warm-up"]);
        assert!(first.contains("/c/v1."), "{first}");
        Self::start_in(dir, extra)
    }

    /// Stop serve and start it again on the same inbox and secret.
    pub(crate) fn restart(mut self) -> Hosted {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().unwrap();
        let old = std::mem::replace(&mut self.dir, dir);
        Self::start_in(old, &[])
    }

    fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Hosted {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--clinic"])
            .arg(repo("examples/clinic.toml"))
            .arg("--inbox")
            .arg(dir.path().join("inbox"))
            .arg("--secret")
            .arg(dir.path().join("secret"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let said = Arc::new(Mutex::new(Vec::new()));
        let errors = BufReader::new(child.stderr.take().unwrap());
        let heard = said.clone();
        // What serve logs is also kept as a file, for the canary's search.
        let mut log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        std::thread::spawn(move || {
            for line in errors.lines().map_while(Result::ok) {
                let _ = writeln!(log, "{line}");
                heard.lock().unwrap().push(line);
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines.next().unwrap().unwrap();
        let addr: SocketAddr = ready
            .split(" on ")
            .nth(1)
            .and_then(|rest| {
                rest.split(':')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(":")
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("an address in: {ready}"));
        said.lock().unwrap().push(ready);
        // Keep reading so serve never blocks on a full pipe.
        let heard = said.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                heard.lock().unwrap().push(line);
            }
        });
        Hosted {
            child,
            addr,
            dir,
            said,
        }
    }

    pub(crate) fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    /// A new invitation's path (`/c/TOKEN`).
    pub(crate) fn invite(&self, client_ref: &str) -> String {
        let link = invite_in(self.dir.path(), &["--client-ref", client_ref]);
        let link = link.trim();
        link[link.find("/c/").unwrap()..].to_string()
    }

    pub(crate) fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let host = self.addr.to_string();
        let mut headers = vec![("Host", host.as_str())];
        if let Some(c) = cookie {
            headers.push(("Cookie", c));
        }
        request(self.addr, "GET", path, &headers, "")
    }
}

impl Drop for Hosted {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn invite_in(dir: &Path, extra: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["invite", "--clinic"])
        .arg(repo("examples/clinic.toml"))
        .args(["--url", "http://127.0.0.1:1"])
        .arg("--secret")
        .arg(dir.join("secret"))
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// One browser holding one invitation (or a link to carry on).
pub(crate) struct Client<'a> {
    pub(crate) hosted: &'a Hosted,
    pub(crate) link: String,
    pub(crate) jar: Mutex<Option<String>>,
    /// The form token the last page carried.
    token: Mutex<Option<String>>,
}

impl<'a> Client<'a> {
    pub(crate) fn new(hosted: &'a Hosted, link: &str) -> Client<'a> {
        Client {
            hosted,
            link: link.to_string(),
            jar: Mutex::new(None),
            token: Mutex::new(None),
        }
    }
}

/// The form token a hosted page carries.
pub(crate) fn token_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

impl Site for Client<'_> {
    /// The questions' screen now; the walk ends where the end begins (the
    /// report is built at once here: nothing is measured on the server).
    fn screen(&self) -> Reply {
        let mut reply = self.get("walk");
        for _ in 0..3 {
            let to = location(&reply);
            if reply.status != 303 || to.starts_with("finish") {
                break;
            }
            reply = self.get(&to);
        }
        reply
    }
    fn addr(&self) -> SocketAddr {
        self.hosted.addr
    }
    fn cookie(&self) -> String {
        let mut held = self.jar.lock().unwrap();
        held.get_or_insert_with(|| {
            let reply = self.hosted.get(&self.link, None);
            assert_eq!(reply.status, 303, "the link opens the check: {reply:?}");
            assert_eq!(location(&reply), "/walk");
            let set = reply
                .headers
                .lines()
                .find_map(|l| l.strip_prefix("set-cookie: "))
                .unwrap_or_else(|| panic!("a session cookie: {reply:?}"));
            assert!(
                set.contains("httponly") && set.contains("samesite=strict"),
                "{set}"
            );
            set.split(';').next().unwrap().trim().to_string()
        })
        .clone()
    }
    fn keep(&self, reply: &Reply) {
        if let Some(set) = reply
            .headers
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
        {
            *self.jar.lock().unwrap() = Some(set.split(';').next().unwrap().trim().to_string());
        }
        if let Some(token) = token_of(&reply.body) {
            *self.token.lock().unwrap() = Some(token);
        }
    }
    fn form_token(&self) -> Option<String> {
        self.token.lock().unwrap().clone()
    }
}

impl Client<'_> {
    /// From the report to the clinic: the full copy, as the page offers it.
    pub(crate) fn send_full_copy(&self) -> Reply {
        for _ in 0..20 {
            let mut page = self.get("finish");
            for _ in 0..3 {
                if page.status != 303 {
                    break;
                }
                page = self.get(location(&page).trim_start_matches('/'));
            }
            let Some(at) = at_of(&page.body) else {
                // Without scripts: past the media test by its link, and on
                // from the waiting page by its "Continue" (nothing measured).
                if page.body.contains("href=\"next\"") {
                    self.get("next");
                    continue;
                }
                if page.body.contains("href=\"finish?wait=1\"") {
                    self.get("finish?wait=1");
                    continue;
                }
                return page;
            };
            if page.body.contains("id=\"choice-save-full\"") {
                self.post(
                    "walk",
                    &[("at", &at), ("do", "save"), ("choice", "save-full")],
                );
            } else if page.body.contains("value=\"back-to-choices\"") {
                self.post("walk", &[("at", &at), ("do", "back-to-choices")]);
            } else {
                panic!("an unexpected screen at the end: {}", page.body);
            }
        }
        panic!("the end did not come within 20 screens");
    }
}

/// The reports in an inbox (beside them, `.opened/` holds empty marks).
#[cfg(unix)]
pub(crate) fn reports(inbox: &Path) -> Vec<PathBuf> {
    files(inbox)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "age"))
        .collect()
}

/// Every file under `dir`, recursively.
pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

pub(crate) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn an_invited_client_walks_the_check_without_javascript_and_the_clinic_gets_it_encrypted() {
    let hosted = Hosted::start();
    let link = hosted.invite("case 7");
    let client = Client::new(&hosted, &link);
    // The example's answers, with a canary typed into a plan field.
    let mut answers: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo("examples/answers/video-suitable.json")).unwrap(),
    )
    .unwrap();
    answers["session_plan"]["place"] = CANARY.into();
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("answers.json");
    std::fs::write(&file, answers.to_string()).unwrap();
    // The opening says where the answers go here, not "on this computer".
    let opening = client.screen();
    assert!(
        opening.body.contains("sent to your clinic"),
        "{}",
        opening.body
    );
    assert!(
        !opening.body.contains("on this computer"),
        "{}",
        opening.body
    );
    // It says what this check holds: the media step, the browser's
    // connection test, and a link to carry on only when asked.
    for said in [
        "camera, microphone and speakers in this page",
        "connection test of about 15 seconds with your clinic",
        "kept only if you ask",
    ] {
        assert!(opening.body.contains(said), "{said}: {}", opening.body);
    }
    for not_said in ["no camera", "no connection test", "nothing is kept"] {
        assert!(
            !opening.body.contains(not_said),
            "{not_said}: {}",
            opening.body
        );
    }
    walk_http(&client, &file);
    let end = client.send_full_copy();
    assert!(
        end.body.contains("reached your clinic"),
        "the last page says the report reached the clinic: {}",
        end.body
    );
    assert!(
        !end.body.contains(CANARY),
        "the last page repeats no answer"
    );

    // One locked report, named by the invitation (beside the empty mark that
    // the invitation was opened); the canary nowhere in plain text.
    let (marks, arrived): (Vec<_>, Vec<_>) = files(&hosted.inbox())
        .into_iter()
        .partition(|p| p.parent().is_some_and(|d| d.ends_with(".opened")));
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert_eq!(std::fs::metadata(&marks[0]).unwrap().len(), 0);
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert!(arrived[0].extension().is_some_and(|e| e == "age"));
    for path in files(hosted.dir.path()) {
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !contains(&bytes, CANARY),
            "{} holds the canary",
            path.display()
        );
    }
    let opened = Command::new(BIN)
        .arg("report")
        .arg(&arrived[0])
        .arg("--identity")
        .arg(repo("examples/clinic-example-identity.txt"))
        .args(["--format", "json", "--output", "-"])
        .output()
        .unwrap();
    assert!(opened.status.success(), "{opened:?}");
    let report: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert_eq!(report["client_ref"], "case 7");
    assert!(
        report.to_string().contains(CANARY),
        "the clinic reads the plan"
    );
    assert!(
        report.to_string().contains("not measured in this browser"),
        "the report says the connection was not measured: {report}"
    );
    let listed = Command::new(BIN)
        .arg("summarize")
        .arg(hosted.inbox())
        .arg("--identity")
        .arg(repo("examples/clinic-example-identity.txt"))
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("case 7"),
        "{listed:?}"
    );

    // The link is used: another browser gets the calm page, with the clinic's name and phone.
    let again = hosted.get(&link, None);
    assert_eq!(again.status, 410, "{again:?}");
    assert!(again.body.contains("already been used"), "{}", again.body);
    assert!(
        again.body.contains("Riverside Counselling"),
        "{}",
        again.body
    );
    assert!(again.body.contains("+44 20 7946 0000"), "{}", again.body);
}

#[test]
fn expired_altered_and_opened_links_get_the_calm_page() {
    let hosted = Hosted::start();
    let calm = |reply: &Reply, status: u16, words: &str| {
        assert_eq!(reply.status, status, "{reply:?}");
        assert!(reply.body.contains(words), "{}", reply.body);
        assert!(
            reply.body.contains("Riverside Counselling"),
            "{}",
            reply.body
        );
        assert!(
            reply.headers.contains("content-security-policy"),
            "{reply:?}"
        );
    };
    // Expired: signed with the same secret, an hour ago.
    let secret = std::fs::read_to_string(hosted.dir.path().join("secret")).unwrap();
    let past = chrono::Utc::now().timestamp() - 3600;
    let token = session_ready::invite::sign(
        &session_ready::invite::new(None, past),
        secret.trim().as_bytes(),
    );
    calm(&hosted.get(&format!("/c/{token}"), None), 410, "expired");
    // Altered: one digit of the id changed.
    let link = hosted.invite("case 8");
    let mut altered = link.clone().into_bytes();
    let i = "/c/v1.".len();
    altered[i] = if altered[i] == b'0' { b'1' } else { b'0' };
    let altered = String::from_utf8(altered).unwrap();
    calm(&hosted.get(&altered, None), 404, "does not open a check");
    // Opened in one browser: that browser goes on, another gets the calm page.
    let first = hosted.get(&link, None);
    assert_eq!(first.status, 303, "{first:?}");
    let cookie = first
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(hosted.get(&link, Some(&cookie)).status, 303);
    assert_eq!(hosted.get("/walk", Some(&cookie)).status, 200);
    calm(&hosted.get(&link, None), 410, "already been used");
    // No visit for this browser: the calm page, never a bare 403.
    calm(
        &hosted.get("/walk", Some("session-ready=0123")),
        410,
        "has ended",
    );
    let style = hosted.get("/style.css", None);
    assert_eq!(style.status, 200, "{style:?}");
    assert!(style.headers.contains("text/css"), "{style:?}");
    // The measurement endpoints are still served beside the pages.
    assert_eq!(hosted.get("/__down?bytes=10", None).status, 200);
}

#[test]
fn beyond_the_cap_of_visits_a_link_gets_a_calm_busy_page_and_is_not_used_up() {
    let hosted = Hosted::start_with(&["--max-visits", "1"]);
    let first = hosted.invite("case 9");
    let second = hosted.invite("case 10");
    assert_eq!(hosted.get(&first, None).status, 303);
    let busy = hosted.get(&second, None);
    assert_eq!(busy.status, 503, "{busy:?}");
    assert!(busy.body.contains("has not been used up"), "{}", busy.body);
    assert!(
        busy.body.contains("<h1>Very busy just now</h1>"),
        "{}",
        busy.body
    );
    // Still busy, not "already used": the refusal did not spend the link.
    let again = hosted.get(&second, None);
    assert_eq!(again.status, 503, "{again:?}");
}
