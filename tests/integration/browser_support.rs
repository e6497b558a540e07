//! A real browser for the page tests: headless Chromium driven through
//! WebDriver (fantoccini), with or without JavaScript, with a fake camera
//! and microphone when a test gives them, and the checks every page gets
//! (axe-core, visible focus, reflow at 320 px, screenshots).
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::page_support;
use crate::tools;
use fantoccini::{Client, ClientBuilder, Locator};

/// One browser at a time: the machine has two cores.
pub static ONE_BROWSER: Mutex<()> = Mutex::new(());

const CHROMIUM: &str = "chromium";
const CHROMEDRIVER: &str = "chromedriver";

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn axe_path() -> PathBuf {
    target_dir().join("npm/node_modules/axe-core/axe.min.js")
}

/// axe-core as installed by .ci/run (`npm install --prefix target/npm axe-core`).
/// Only called after `browser_tests_wanted`, which checked it is there.
pub fn axe_source() -> String {
    let path = axe_path();
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core could not be read at {}: {e}", path.display()))
}

/// Whether this browser test can run: Chromium, chromedriver and axe-core
/// present. When one is missing the test is skipped out loud, or fails when
/// SESSION_READY_REQUIRE_TOOLS is set (see tools.rs). Setting
/// SESSION_READY_SKIP_BROWSER_TESTS skips them on purpose.
pub fn browser_tests_wanted() -> bool {
    if std::env::var_os("SESSION_READY_SKIP_BROWSER_TESTS").is_some() && !tools::required() {
        tools::skip_or_fail(
            "SESSION_READY_SKIP_BROWSER_TESTS is set",
            "Unset it to run the browser tests",
        );
        return false;
    }
    let mut missing: Vec<String> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|tool| {
            !Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|tool| format!("`{tool}` is not installed"))
        .collect();
    if !axe_path().is_file() {
        missing.push(format!("axe-core is not at {}", axe_path().display()));
    }
    if missing.is_empty() {
        return true;
    }
    tools::skip_or_fail(
        &format!(
            "this browser test needs Chromium, chromedriver and axe-core, but {}",
            missing.join(" and ")
        ),
        "Install them as .ci/run does (apt-get install -y chromium chromium-driver npm; \
         npm install --prefix target/npm axe-core@4)",
    );
    false
}

// --- the browser ----------------------------------------------------------------

/// How to start the browser.
#[derive(Default)]
pub struct Options {
    /// Fake camera picture, fake microphone sound, and whether access is allowed.
    pub media: Option<(PathBuf, PathBuf, bool)>,
    /// prefers-color-scheme: dark.
    pub dark: bool,
    pub javascript: bool,
    /// More Chromium switches (for example `--allow-loopback-in-peer-connection`).
    pub extra_args: Vec<String>,
    /// A phone: Chromium's mobile emulation at this width and height in CSS
    /// pixels, with touch and a phone's user agent.
    pub phone: Option<(u32, u32)>,
}

pub struct Browser {
    driver: Child,
    pub client: Client,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Headless Chromium with a fake camera and microphone playing the
    /// fixtures; `allow` false refuses camera and microphone like a client would.
    pub async fn start(video: &Path, audio: &Path, allow: bool, dark: bool) -> Browser {
        Browser::launch(Options {
            media: Some((video.to_path_buf(), audio.to_path_buf(), allow)),
            dark,
            javascript: true,
            extra_args: Vec::new(),
            phone: None,
        })
        .await
    }

    /// Headless Chromium as `options` say.
    pub async fn launch(options: Options) -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + page_support::WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start listening"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--autoplay-policy=no-user-gesture-required".into(),
            "--window-size=1280,800".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if let Some((video, audio, allow)) = &options.media {
            args.push("--use-fake-device-for-media-stream".into());
            args.push(format!(
                "--use-file-for-fake-video-capture={}",
                video.display()
            ));
            args.push(format!(
                "--use-file-for-fake-audio-capture={}",
                audio.display()
            ));
            if *allow {
                args.push("--use-fake-ui-for-media-stream".into());
            } else {
                args.push("--deny-permission-prompts".into());
            }
        }
        args.extend(options.extra_args.iter().cloned());
        if options.dark {
            // prefers-color-scheme: dark for the page.
            args.push("--force-dark-mode".into());
        }
        let mut caps = serde_json::Map::new();
        let mut chrome = serde_json::json!({ "binary": which(CHROMIUM), "args": args });
        if !options.javascript {
            // JavaScript off for every site, as a client may have it.
            chrome["prefs"] = serde_json::json!({
                "profile.managed_default_content_settings.javascript": 2
            });
        }
        if let Some((width, height)) = options.phone {
            chrome["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": {
                    "width": width, "height": height, "pixelRatio": 3.0, "touch": true
                },
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                    (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36"
            });
        }
        caps.insert("goog:chromeOptions".into(), chrome);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with headless chromium");
        Browser {
            driver,
            client,
            _profile: profile,
        }
    }

    pub async fn press(&self, id: &str, keyboard: bool) {
        if keyboard {
            self.keyboard(id).await
        } else {
            self.click(id).await
        }
    }

    pub async fn click(&self, id: &str) {
        self.client
            .wait()
            .at_most(page_support::WAIT)
            .for_element(Locator::Css(&format!("#{id}")))
            .await
            .unwrap_or_else(|e| panic!("#{id} is on the page: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("#{id} can be clicked: {e}"));
    }

    /// Reach a button with Tab alone and press it with Enter, as a keyboard
    /// user would; its focus must be visible.
    pub async fn keyboard(&self, id: &str) {
        self.tab_to(id).await;
        self.keys(&String::from(char::from(fantoccini::key::Key::Enter)))
            .await;
    }

    /// Move the focus to `#id` with Tab alone; its focus must be visible.
    pub async fn tab_to(&self, id: &str) {
        use fantoccini::key::Key;
        let focused = "return document.activeElement && document.activeElement.id";
        // Wait for the element to be there and enabled.
        self.client
            .wait()
            .at_most(page_support::WAIT)
            .for_element(Locator::Css(&format!("#{id}:not([disabled])")))
            .await
            .unwrap_or_else(|e| panic!("#{id} is on the page: {e}"));
        for _ in 0..30 {
            if self.client.execute(focused, vec![]).await.unwrap() == id {
                break;
            }
            self.keys(&String::from(char::from(Key::Tab))).await;
        }
        assert_eq!(
            self.client.execute(focused, vec![]).await.unwrap(),
            id,
            "#{id} can be reached with Tab"
        );
        let outline = self
            .client
            .execute(
                "const s = getComputedStyle(document.activeElement); \
                 return [s.outlineStyle, s.outlineWidth];",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            outline[0] != "none" && outline[1] != "0px",
            "#{id} shows no focus: {outline}"
        );
    }

    /// Type `keys` into whatever has the focus (the page when nothing has).
    pub async fn keys(&self, keys: &str) {
        match self.client.active_element().await {
            Ok(element) => element.send_keys(keys).await.unwrap(),
            Err(_) => self
                .client
                .find(Locator::Css("body"))
                .await
                .unwrap()
                .send_keys(keys)
                .await
                .unwrap(),
        }
    }

    /// No sideways scrolling at 320 CSS pixels (WCAG 1.4.10: 1280 px at 400%).
    pub async fn reflows(&self, step: &str) {
        self.client.set_window_size(320, 640).await.unwrap();
        let inner = self
            .client
            .execute(
                "return [window.innerWidth, document.documentElement.scrollWidth]",
                vec![],
            )
            .await
            .unwrap();
        let (w, scroll) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
        let target = 320 + 320u64.saturating_sub(w);
        self.client
            .set_window_size(target as u32, 640)
            .await
            .unwrap();
        let widths = self
            .client
            .execute(
                "return [window.innerWidth, document.documentElement.scrollWidth]",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            widths[1].as_u64() <= widths[0].as_u64(),
            "{step}: the page scrolls sideways at {widths} (first try {scroll})"
        );
        self.client.set_window_size(1280, 800).await.unwrap();
    }

    /// Wait until a result box is shown, and return its rating result.
    pub async fn result(&self, id: &str) -> String {
        let css = format!("#{id}:not([hidden])[data-result]");
        let element = self
            .client
            .wait()
            .at_most(page_support::WAIT)
            .for_element(Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("{css} appears: {e}"));
        element
            .attr("data-result")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    pub async fn visible(&self, css: &str) {
        self.client
            .wait()
            .at_most(page_support::WAIT)
            .for_element(Locator::Css(&format!("{css}:not([hidden])")))
            .await
            .unwrap_or_else(|e| panic!("{css} appears: {e}"));
    }

    /// axe-core's WCAG 2.x A and AA rules (2.2 included) on the page as it is now.
    pub async fn axe_violations(&self, axe: &str) -> Vec<String> {
        self.client
            .execute(axe, vec![])
            .await
            .expect("axe-core loads");
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: "tag",
                values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] } })
              .then(r => done({ passes: r.passes.length, violations: r.violations.map(v =>
                  v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")) }))
              .catch(e => done({ passes: 0, violations: ["axe did not run: " + e] }));
        "#;
        let value = self
            .client
            .execute_async(script, vec![])
            .await
            .expect("axe-core runs");
        // A run that checked nothing would pass anything.
        assert!(
            value["passes"].as_u64().unwrap_or(0) > 5,
            "axe-core checked too little: {value}"
        );
        serde_json::from_value(value["violations"].clone()).unwrap()
    }

    /// Screenshots at desktop and phone sizes, kept for a person to look at.
    pub async fn screenshots(&self, name: &str) {
        let dir = target_dir().join("page-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        for (w, h) in [(375u32, 740u32), (1280, 800)] {
            // The window includes the browser's frame: size it so the page itself is w×h.
            self.client.set_window_size(w, h).await.unwrap();
            let inner = self
                .client
                .execute("return [window.innerWidth, window.innerHeight]", vec![])
                .await
                .unwrap();
            let (iw, ih) = (
                inner[0].as_u64().unwrap() as u32,
                inner[1].as_u64().unwrap() as u32,
            );
            self.client
                .set_window_size(w + w.saturating_sub(iw), h + h.saturating_sub(ih))
                .await
                .unwrap();
            std::thread::sleep(Duration::from_millis(150));
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{w}x{h}.png")), png).unwrap();
        }
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Drop stops chromedriver.
    }
}

/// A test that panics never reaches `close`; stopping chromedriver here keeps
/// it (and the Chromium it drives) from outliving the test run.
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn which(tool: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
