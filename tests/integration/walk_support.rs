//! The questions in the page, served in-process (`PageServer::start_check`),
//! plus helpers to walk them: over plain HTTP as a browser without
//! JavaScript would, and in a real browser answering from an answers file
//! (examples/answers/*.json), for the parity walks.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use session_ready::page::PageServer;
use session_ready::questionnaire::walk::Ending;
use session_ready::visit::{FrontEnd, Visit, VisitPlan, Walked};

use crate::page_support::{Page, Reply, request};

/// A page server to walk: in-process ([`WalkServer`]) or the CLI's
/// (`check --browser`, [`Page`]).
pub trait Site {
    fn addr(&self) -> SocketAddr;
    /// The session cookie, opening the printed address on first use.
    fn cookie(&self) -> String;
    /// Keep the cookie a reply sets, as a browser would.
    fn keep(&self, reply: &Reply);
    /// The form token the site's forms carry (the hosted check), sent with every post.
    fn form_token(&self) -> Option<String> {
        None
    }

    fn get(&self, rest: &str) -> Reply {
        let reply = request(
            self.addr(),
            "GET",
            &format!("/{rest}"),
            &[
                ("Host", &self.addr().to_string()),
                ("Cookie", &self.cookie()),
            ],
            "",
        );
        self.keep(&reply);
        reply
    }

    /// POST a form as the page would (Origin included).
    fn post(&self, rest: &str, fields: &[(&str, &str)]) -> Reply {
        let token = self.form_token();
        let mut fields = fields.to_vec();
        if let Some(token) = &token {
            fields.push(("csrf", token));
        }
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let reply = request(
            self.addr(),
            "POST",
            &format!("/{rest}"),
            &[
                ("Host", &self.addr().to_string()),
                ("Origin", &format!("http://{}", self.addr())),
                ("Cookie", &self.cookie()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &body,
        );
        self.keep(&reply);
        reply
    }

    /// The page the client sees now (following the walk's redirects, but
    /// not into the end of the check, which waits for the CLI's report).
    fn screen(&self) -> Reply {
        let mut reply = self.get("walk");
        for _ in 0..3 {
            let to = location(&reply);
            if reply.status != 303 || to == "finish" {
                break;
            }
            reply = self.get(&to);
        }
        reply
    }

    /// Submit the form shown now with `do` = `action` and `fields`.
    fn choose(&self, action: &str, fields: &[(&str, &str)]) -> Reply {
        let page = self.screen();
        let at = at_of(&page.body).unwrap_or_else(|| panic!("a form on: {}", page.body));
        let mut all = vec![("at", at.as_str()), ("do", action)];
        all.extend_from_slice(fields);
        let reply = self.post("walk", &all);
        assert_eq!(reply.status, 303, "{reply:?}");
        reply
    }
}

impl Site for WalkServer {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn cookie(&self) -> String {
        self.jar.cookie(self.addr, &self.token)
    }
    fn keep(&self, reply: &Reply) {
        self.jar.keep(reply)
    }
}

impl Site for Page {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn cookie(&self) -> String {
        Page::cookie(self)
    }
    fn keep(&self, reply: &Reply) {
        self.jar.keep(reply)
    }
}

/// A page server serving the whole check, with a private folder for the draft.
pub struct WalkServer {
    pub runtime: tokio::runtime::Runtime,
    pub server: Option<PageServer>,
    // Only the Chromium walks (Unix-only modules) open the page by address.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub url: String,
    pub addr: SocketAddr,
    pub token: String,
    pub dir: tempfile::TempDir,
    jar: crate::page_support::Jar,
}

impl WalkServer {
    /// Serve the check; `region` as a flag would give it (`None`: asked).
    pub fn start(region: Option<&str>) -> WalkServer {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, region)
    }

    /// Serve the check with the draft in `dir` (to resume a kept draft).
    pub fn start_in(dir: tempfile::TempDir, region: Option<&str>) -> WalkServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let plan = VisitPlan {
            front_end: FrontEnd::Page,
            regions: session_ready::crisis::RegionSources {
                flag: region.map(str::to_string),
                ..Default::default()
            },
            clinic: None,
            client_ref: None,
            clinic_key: false,
            output_named: false,
            servers: None,
            media: true,
            network_source: None,
            come_back: "session-ready check --browser".into(),
            office_hours: None,
        };
        let files = session_ready::visit::storage::Files {
            draft: Some(dir.path().join("draft.json")),
            format: session_ready::report::Format::Json,
            output: None,
            encrypt_to: None,
            plain_names: true,
        };
        let visit = Visit::new(plan, files);
        let server = runtime
            .block_on(PageServer::start_check(visit))
            .expect("the page server starts");
        let url = server.url().to_string();
        let addr = server.local_addr();
        let token = url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        WalkServer {
            runtime,
            server: Some(server),
            url,
            addr,
            token,
            dir,
            jar: Default::default(),
        }
    }

    pub fn server(&self) -> &PageServer {
        self.server.as_ref().unwrap()
    }

    /// How the questions ended, once they have.
    pub fn walk_ending(&self) -> Option<Ending> {
        self.server().walk_state().and_then(|s| s.ended)
    }

    /// The finished questions, once they are done.
    pub fn finished_walk(&self) -> Option<Walked> {
        self.server().with_visit(|v| v.walked()).flatten()
    }

    /// Someone at home may see this device, as the visit knows it.
    // Only the Chromium walks (Unix-only modules) ask.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub fn watched(&self) -> bool {
        self.server().with_visit(|v| v.watched()) == Some(true)
    }

    pub fn draft(&self) -> PathBuf {
        self.dir.path().join("draft.json")
    }

    /// Stop serving; the draft folder stays for the next server.
    pub fn stop(mut self) -> tempfile::TempDir {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }
}

impl Drop for WalkServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

pub fn location(reply: &Reply) -> String {
    reply
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The screen a page's form was drawn for (its hidden `at` field).
pub fn at_of(html: &str) -> Option<String> {
    let at = html.find("name=\"at\" value=\"")? + "name=\"at\" value=\"".len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_string())
}

/// What an answers file says, as the page walk needs it.
pub struct Answers {
    pub region: Option<String>,
    pub answers: std::collections::BTreeMap<String, String>,
    /// Session plan fields by prompt id.
    pub plan: std::collections::BTreeMap<String, String>,
}

impl Answers {
    pub fn load(path: &Path) -> Answers {
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let strings = |v: &serde_json::Value| {
            v.as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        Answers {
            region: value["region"].as_str().map(str::to_string),
            answers: strings(&value["answers"]),
            plan: strings(&value["session_plan"]),
        }
    }

    /// The choice for the screen `at` ("q-privacy.space.7" …): the form
    /// action and its fields. Skips what the file leaves out; goes on
    /// through part introductions, notices and the support screen.
    pub fn choice(&self, at: &str) -> (String, Vec<(String, String)>) {
        let place = at.rsplit_once('.').map_or(at, |(p, _)| p);
        let none = Vec::new();
        if let Some(question) = place.strip_prefix("q-") {
            return match self.answers.get(question).map(String::as_str) {
                Some(answer) if answer != "skipped" => {
                    ("answer".into(), vec![("answer".into(), answer.to_string())])
                }
                _ => ("skip".into(), none),
            };
        }
        if let Some(prompt) = place.strip_prefix("plan-") {
            return match self.plan.get(prompt) {
                Some(text) => ("plan".into(), vec![("text".into(), text.clone())]),
                None => ("leave-out".into(), none),
            };
        }
        match place {
            "region" => (
                "answer".into(),
                vec![(
                    "region".into(),
                    self.region.clone().unwrap_or_else(|| "elsewhere".into()),
                )],
            ),
            "keep" => ("keep-no".into(), none),
            "plan" if self.plan.is_empty() => ("skip-part".into(), none),
            // "Not a safe time" is only reached with a file that says no:
            // carry on, as an intake coordinator would.
            _ => ("continue".into(), none),
        }
    }
}

/// Walk the questions over plain HTTP with the answers in `file`, as a
/// browser without JavaScript would; ends at the hand-over to `finish`.
pub fn walk_http(server: &impl Site, file: &Path) {
    let answers = Answers::load(file);
    for _ in 0..200 {
        let page = server.screen();
        let Some(at) = at_of(&page.body) else {
            return;
        };
        let (action, fields) = answers.choice(&at);
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        server.choose(&action, &fields);
    }
    panic!("the walk did not end within 200 screens");
}

/// Walk the questions in a real browser with the answers in `file`: each
/// radio button and button clicked as a client would. Returns when the
/// questions are done (the page is then at `media`, or at `finish` after
/// "Finish now").
#[cfg(unix)]
pub async fn walk_browser(client: &fantoccini::Client, url: &str, file: &Path) {
    use fantoccini::Locator;
    let answers = Answers::load(file);
    client.goto(url).await.unwrap();
    for _ in 0..200 {
        let current = client.current_url().await.unwrap();
        if current.path().ends_with("/finish") || current.path().ends_with("/media") {
            return;
        }
        let at = match client.find(Locator::Css("input[name=at]")).await {
            Ok(field) => field.attr("value").await.unwrap().unwrap_or_default(),
            Err(_) => return,
        };
        let (action, fields) = answers.choice(&at);
        for (name, value) in &fields {
            if name == "text" {
                let input = client.find(Locator::Css("#plan-text")).await.unwrap();
                input.clear().await.unwrap();
                input.send_keys(value).await.unwrap();
            } else {
                client
                    .find(Locator::Css(&format!(
                        "input[name=\"{name}\"][value=\"{value}\"]"
                    )))
                    .await
                    .unwrap_or_else(|e| panic!("{name}={value} offered at {at}: {e}"))
                    .click()
                    .await
                    .unwrap();
            }
        }
        client
            .find(Locator::Css(&format!(
                "button[name=do][value=\"{action}\"]"
            )))
            .await
            .unwrap_or_else(|e| panic!("{action} offered at {at}: {e}"))
            .click()
            .await
            .unwrap();
        // Wait for the next page: the form's screen changes.
        let deadline = std::time::Instant::now() + crate::page_support::WAIT;
        loop {
            let next = match client.find(Locator::Css("input[name=at]")).await {
                Ok(field) => field.attr("value").await.ok().flatten(),
                Err(_) => None,
            };
            if next.as_deref() != Some(at.as_str()) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the page stayed at {at}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    panic!("the walk did not end within 200 screens");
}
