//! The camera, microphone and speaker test in a real browser: headless
//! Chromium driven through WebDriver, with its fake camera and microphone
//! fed from fixtures made here (well-lit, dark, backlit and black pictures;
//! speech-like, silent, noisy and clipped sound). Each gives its rating; every
//! step of the page has no axe-core WCAG 2.2 AA violations; screenshots at
//! 1280×800 and 375×740 are kept under target/page-screenshots/.
//!
//! Needs `chromium`, `chromedriver` (Debian: chromium, chromium-driver) and
//! axe-core from npm; .ci/run installs all three and sets
//! SESSION_READY_REQUIRE_TOOLS=1 so they must run. Without them each test is
//! skipped and says so on stderr (tools.rs).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub(crate) use crate::browser_support::{Browser, ONE_BROWSER, axe_source, browser_tests_wanted};
use std::time::Instant;

use crate::page_support::Page;

// --- fixtures ---------------------------------------------------------------

const W: usize = 320;
const H: usize = 240;

/// A Y4M clip (4:2:0, 30 fps) of `frames` frames; `luma(x, y, frame)` gives Y.
fn y4m(path: &Path, frames: usize, luma: impl Fn(usize, usize, usize) -> u8) {
    let mut out = format!("YUV4MPEG2 W{W} H{H} F30:1 Ip A1:1 C420jpeg\n").into_bytes();
    for f in 0..frames {
        out.extend_from_slice(b"FRAME\n");
        for y in 0..H {
            for x in 0..W {
                out.push(luma(x, y, f));
            }
        }
        // Neutral colour.
        out.extend(std::iter::repeat_n(128u8, 2 * (W / 2) * (H / 2)));
    }
    std::fs::write(path, out).unwrap();
}

/// Inside a head-and-shoulders shape in the middle of the picture.
fn in_face(x: usize, y: usize) -> bool {
    let (cx, cy) = (W as f64 / 2.0, H as f64 * 0.5);
    let (dx, dy) = ((x as f64 - cx) / 70.0, (y as f64 - cy) / 95.0);
    dx * dx + dy * dy <= 1.0 || (y > H * 3 / 4 && (x as f64 - cx).abs() < 120.0)
}

/// A scene: a background gradient from `bg_low` to `bg_high`, a face of
/// `face`, and a little texture that moves from frame to frame.
fn scene(bg_low: u8, bg_high: u8, face: u8) -> impl Fn(usize, usize, usize) -> u8 {
    move |x, y, f| {
        let texture = ((x * 7 + y * 13 + f * 5) % 9) as i32 - 4;
        let base = if in_face(x, y) {
            face as i32
        } else {
            bg_low as i32 + (bg_high as i32 - bg_low as i32) * x as i32 / W as i32
        };
        (base + texture).clamp(16, 235) as u8
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Picture {
    WellLit,
    Dark,
    Backlit,
    Black,
}

pub(crate) fn write_picture(dir: &Path, picture: Picture) -> PathBuf {
    let path = dir.join(format!("{picture:?}.y4m"));
    match picture {
        Picture::WellLit => y4m(&path, 10, scene(100, 150, 165)),
        Picture::Dark => y4m(&path, 10, scene(34, 52, 58)),
        Picture::Backlit => y4m(&path, 10, scene(235, 235, 45)),
        Picture::Black => y4m(&path, 10, |_, _, _| 16),
    }
    path
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Sound {
    Silence,
    Speech,
    Noisy,
    Clipped,
}

const RATE: usize = 48_000;

/// Mono 16-bit PCM WAV.
fn wav(path: &Path, samples: &[f64]) {
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes())
        .collect();
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&(RATE as u32).to_le_bytes());
    out.extend_from_slice(&(RATE as u32 * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out).unwrap();
}

/// Deterministic noise in [-1, 1].
fn noise(i: usize) -> f64 {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    (x as f64 / u64::MAX as f64) * 2.0 - 1.0
}

/// Syllables of a voiced sound (140 Hz with harmonics) at `gain`, four a
/// second, with a pause of 0.6 s in every 2 s, over a faint hiss.
fn speech_like(gain: f64, hiss: f64) -> Vec<f64> {
    (0..RATE * 2)
        .map(|i| {
            let t = i as f64 / RATE as f64;
            let in_pause = t >= 1.4;
            let syllable = (t * 4.0).fract();
            let envelope = if in_pause || syllable > 0.6 {
                0.0
            } else {
                (std::f64::consts::PI * syllable / 0.6).sin()
            };
            let voiced: f64 = (1..=6)
                .map(|h| (2.0 * std::f64::consts::PI * 140.0 * h as f64 * t).sin() / h as f64)
                .sum();
            gain * envelope * voiced + hiss * noise(i)
        })
        .collect()
}

pub(crate) fn write_sound(dir: &Path, sound: Sound) -> PathBuf {
    let path = dir.join(format!("{sound:?}.wav"));
    let samples = match sound {
        Sound::Silence => vec![0.0; RATE * 2],
        Sound::Speech => speech_like(0.25, 0.0008),
        Sound::Noisy => speech_like(0.25, 0.08),
        Sound::Clipped => speech_like(4.0, 0.0008),
    };
    wav(&path, &samples);
    path
}

// --- what the page sends ----------------------------------------------------

/// One request the browser sent to the page server.
#[derive(Debug)]
pub(crate) struct Sent {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: Vec<u8>,
}

/// A loopback relay in front of the page server that records every request
/// the browser sends. It puts the server's own address in Host and Origin
/// (the browser names the relay's), so the server's checks still apply.
pub(crate) struct Relay {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) sent: std::sync::Arc<Mutex<Vec<Sent>>>,
}

impl Relay {
    pub(crate) fn start(server: std::net::SocketAddr) -> Relay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = sent.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let log = log.clone();
                std::thread::spawn(move || {
                    let _ = Relay::serve(client, addr, server, &log);
                });
            }
        });
        Relay { addr, sent }
    }

    /// Forward one browser connection request by request, recording each.
    fn serve(
        client: std::net::TcpStream,
        relay: std::net::SocketAddr,
        server: std::net::SocketAddr,
        log: &Mutex<Vec<Sent>>,
    ) -> std::io::Result<()> {
        use std::io::{BufRead, Read, Write};
        let mut upstream = std::net::TcpStream::connect(server)?;
        let mut back = upstream.try_clone()?;
        let mut to_client = client.try_clone()?;
        // The server closing its end (an idle connection times out) closes
        // the browser's too, as it would without the relay in between.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut back, &mut to_client);
            let _ = to_client.shutdown(std::net::Shutdown::Both);
        });
        let mut reader = std::io::BufReader::new(client);
        loop {
            let mut head = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                let done = line == "\r\n";
                head.push(line);
                if done {
                    break;
                }
            }
            let length: usize = head
                .iter()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    if name.eq_ignore_ascii_case("content-length") {
                        value.trim().parse().ok()
                    } else {
                        None
                    }
                })
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            let mut words = head[0].split_whitespace();
            log.lock().unwrap().push(Sent {
                method: words.next().unwrap_or_default().to_string(),
                path: words.next().unwrap_or_default().to_string(),
                body: body.clone(),
            });
            let rewritten: String = head
                .iter()
                .map(|l| l.replace(&relay.to_string(), &server.to_string()))
                .collect();
            upstream.write_all(rewritten.as_bytes())?;
            upstream.write_all(&body)?;
        }
    }

    /// Everything sent, checked: only the page's own files and calls, and
    /// nothing in any call but numbers and the few fixed words of the API.
    fn assert_only_numbers_crossed(&self, token: &str) {
        const WORDS: &[&str] = &[
            "granted",
            "denied",
            "no-device",
            "unavailable",
            "yes",
            "no",
            "not-sure",
        ];
        fn only_numbers(value: &serde_json::Value) -> bool {
            match value {
                serde_json::Value::Number(_) => true,
                serde_json::Value::String(s) => WORDS.contains(&s.as_str()),
                serde_json::Value::Object(map) => map.values().all(only_numbers),
                _ => false,
            }
        }
        let sent = self.sent.lock().unwrap();
        let calls = sent.iter().filter(|s| s.method == "POST").count();
        assert!(
            calls >= 4,
            "the page's calls went through the relay: {sent:?}"
        );
        for s in sent.iter() {
            // The printed address once, then the page's own paths.
            let rest = if s.path == format!("/{token}/") {
                ""
            } else {
                s.path
                    .strip_prefix('/')
                    .unwrap_or_else(|| panic!("a request outside the page: {s:?}"))
            };
            match (s.method.as_str(), rest) {
                ("GET", "" | "media.js" | "leave.js" | "style.css" | "icon.svg") => {
                    assert!(s.body.is_empty(), "{s:?}")
                }
                ("POST", "api/alive" | "api/finish") => {
                    assert!(s.body == b"{}" || s.body.is_empty(), "{s:?}")
                }
                ("POST", "api/camera" | "api/microphone" | "api/speakers") => {
                    let value: serde_json::Value = serde_json::from_slice(&s.body).unwrap();
                    assert!(
                        value.is_object() && only_numbers(&value),
                        "more than numbers left the page: {}",
                        String::from_utf8_lossy(&s.body)
                    );
                }
                _ => panic!("an unexpected request from the page: {s:?}"),
            }
        }
    }
}

/// What one walk through the page found.
#[derive(Debug, PartialEq)]
struct Ratings {
    camera: String,
    microphone: String,
    speakers: String,
}

/// Options for a walk.
struct Walk {
    picture: Picture,
    sound: Sound,
    heard: &'static str,
    allow: bool,
    /// Check accessibility and keep screenshots of every step.
    look: bool,
    /// Only the keyboard, in the dark colour scheme.
    keyboard_dark: bool,
}

impl Walk {
    /// A walk with access allowed, without the accessibility look.
    fn of(picture: Picture, sound: Sound, heard: &'static str) -> Walk {
        Walk {
            picture,
            sound,
            heard,
            allow: true,
            look: false,
            keyboard_dark: false,
        }
    }
}

fn walk(w: Walk) -> Ratings {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let video = write_picture(dir.path(), w.picture);
    let audio = write_sound(dir.path(), w.sound);
    let axe = if w.look { axe_source() } else { String::new() };
    let page = Page::start(&["--device", "--format", "json"]);
    let relay = Relay::start(page.addr);
    let url = page
        .url
        .replace(&page.addr.to_string(), &relay.addr.to_string());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (shown, violations) = runtime.block_on(async {
        let b = Browser::start(&video, &audio, w.allow, w.keyboard_dark).await;
        let mut violations = Vec::new();
        let mut look = async |b: &Browser, step: &str| {
            if w.look {
                for v in b.axe_violations(&axe).await {
                    violations.push(format!("{step}: {v}"));
                }
                let prefix = match (w.allow, w.keyboard_dark) {
                    (false, _) => "denied-",
                    (true, true) => "dark-",
                    (true, false) => "",
                };
                b.screenshots(&format!("{prefix}{step}")).await;
                b.reflows(step).await;
            }
        };
        b.client.goto(&url).await.unwrap();
        b.visible("#step-intro").await;
        let ready = b
            .client
            .execute(
                "const n = performance.getEntriesByType('navigation')[0]; \
                 return [n.domContentLoadedEventEnd, n.loadEventEnd];",
                vec![],
            )
            .await
            .unwrap();
        eprintln!(
            "page ready in the browser: DOMContentLoaded {} ms, load {} ms",
            ready[0], ready[1]
        );
        look(&b, "1-intro").await;
        let started = Instant::now();
        b.press("start-camera", w.keyboard_dark).await;
        let camera = b.result("camera-result").await;
        look(&b, "2-camera").await;
        b.press("to-microphone", w.keyboard_dark).await;
        b.press("start-microphone", w.keyboard_dark).await;
        if w.allow {
            // The speaking part waits for the client, however long the quiet was.
            b.visible("#speak-now").await;
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            let waiting = b
                .client
                .execute(
                    "return [document.activeElement.id, \
                     document.getElementById('microphone-result').hidden]",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(
                waiting,
                serde_json::json!(["speak-now", true]),
                "the speaking part waits for the client, its button focused"
            );
            b.press("speak-now", w.keyboard_dark).await;
        }
        let microphone = b.result("microphone-result").await;
        look(&b, "3-microphone").await;
        b.press("to-speakers", w.keyboard_dark).await;
        b.press("play-chime", w.keyboard_dark).await;
        b.press(&format!("heard-{}", w.heard), w.keyboard_dark)
            .await;
        let speakers = b.result("speakers-result").await;
        look(&b, "4-speakers").await;
        b.press("finish", w.keyboard_dark).await;
        b.visible("#step-done").await;
        eprintln!(
            "{:?} + {:?}: the media test took {:.1} s in the page (clicks are instant here)",
            w.picture,
            w.sound,
            started.elapsed().as_secs_f64()
        );
        look(&b, "5-done").await;
        b.close().await;
        (
            Ratings {
                camera,
                microphone,
                speakers,
            },
            violations,
        )
    });
    relay.assert_only_numbers_crossed(&page.token);
    assert!(
        violations.is_empty(),
        "axe-core WCAG 2.2 AA violations:\n{}",
        violations.join("\n")
    );
    let (ok, out, err) = page.finish();
    assert!(ok, "{err}");
    assert!(err.contains("The browser test is finished"), "{err}");
    // The report says what the page showed.
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let result = |id: &str| {
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()["result"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let reported = Ratings {
        camera: result("camera"),
        microphone: result("microphone"),
        speakers: result("speakers"),
    };
    assert_eq!(
        reported, shown,
        "report and page differ; media facts: {}",
        report["facts"]["media"]
    );
    eprintln!(
        "{:?} + {:?} → {reported:?}; measured {}",
        w.picture, w.sound, report["facts"]["media"]
    );
    shown
}

#[test]
fn well_lit_picture_and_clear_speech() {
    if !browser_tests_wanted() {
        return;
    }
    let r = walk(Walk {
        look: true,
        ..Walk::of(Picture::WellLit, Sound::Speech, "yes")
    });
    assert_eq!(
        r,
        Ratings {
            camera: "tested-ok".into(),
            microphone: "clear".into(),
            speakers: "heard".into()
        }
    );
}

#[test]
fn dark_picture_and_silence() {
    if !browser_tests_wanted() {
        return;
    }
    let r = walk(Walk::of(Picture::Dark, Sound::Silence, "no"));
    assert_eq!(
        r,
        Ratings {
            camera: "too-dark".into(),
            microphone: "quiet".into(),
            speakers: "not-heard".into()
        }
    );
}

#[test]
fn backlit_picture_and_clipped_sound() {
    if !browser_tests_wanted() {
        return;
    }
    let r = walk(Walk::of(Picture::Backlit, Sound::Clipped, "not-sure"));
    assert_eq!(
        r,
        Ratings {
            camera: "backlit".into(),
            microphone: "clipping".into(),
            speakers: "not-sure".into()
        }
    );
}

#[test]
fn black_picture_and_noisy_room() {
    if !browser_tests_wanted() {
        return;
    }
    let r = walk(Walk::of(Picture::Black, Sound::Noisy, "yes"));
    assert_eq!(
        (r.camera.as_str(), r.microphone.as_str()),
        ("covered", "noisy")
    );
}

#[test]
fn refused_camera_and_microphone_get_calm_instructions() {
    if !browser_tests_wanted() {
        return;
    }
    let r = walk(Walk {
        allow: false,
        look: true,
        ..Walk::of(Picture::WellLit, Sound::Speech, "yes")
    });
    assert_eq!(
        (r.camera.as_str(), r.microphone.as_str()),
        ("not-allowed", "not-allowed")
    );
}

#[test]
fn keyboard_only_in_the_dark_colour_scheme() {
    if !browser_tests_wanted() {
        return;
    }
    let r = walk(Walk {
        look: true,
        keyboard_dark: true,
        ..Walk::of(Picture::WellLit, Sound::Speech, "yes")
    });
    assert_eq!(
        (r.camera.as_str(), r.microphone.as_str()),
        ("tested-ok", "clear")
    );
}
