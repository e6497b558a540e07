//! The hosted check on a phone (issue 23, item 6): a whole hosted walk, from
//! the invitation to the last page, in Chromium's mobile emulation (touch, a
//! phone's user agent) at 360x640 and 390x844. On every page: no sideways
//! scrolling, every touch target at least 24 by 24 CSS pixels (WCAG 2.2
//! 2.5.8, links inside a sentence excepted as it allows), and axe-core's WCAG
//! 2.2 AA rules with no violation. Screenshots go to
//! target/page-screenshots/hosted-phone-*.png for a person to look at.
use std::path::Path;

use fantoccini::Locator;

use crate::browser_support::{
    Browser, ONE_BROWSER, Options, axe_source, browser_tests_wanted, target_dir,
};
use crate::host_invite::{Hosted, repo};
use crate::walk_support::Answers;

/// Interactive elements smaller than 24 by 24 CSS pixels (a radio button
/// or checkbox counts with its label, which is part of its target).
const SMALL_TARGETS: &str = r#"
    const small = [];
    for (const el of document.querySelectorAll(
            'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (el.tagName === 'A' && getComputedStyle(el).display === 'inline'
            && el.closest('p, li')) continue;
        let w = r.width, h = r.height;
        if ((el.type === 'radio' || el.type === 'checkbox') && el.labels && el.labels[0]) {
            const l = el.labels[0].getBoundingClientRect();
            w = Math.max(w, l.width); h = Math.max(h, l.height);
        }
        if (w < 24 || h < 24) {
            small.push(el.outerHTML.slice(0, 90) + ' is ' + w.toFixed(1) + 'x' + h.toFixed(1));
        }
    }
    return small;
"#;

/// Everything a phone page must pass.
async fn check_page(b: &Browser, axe: &str, name: &str, width: u32, shots: &mut usize) {
    let widths = b
        .client
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        widths[0].as_u64(),
        Some(u64::from(width)),
        "the phone's viewport"
    );
    assert!(
        widths[1].as_u64() <= widths[0].as_u64(),
        "{name}: the page scrolls sideways at {width} px: {widths}"
    );
    let small = b.client.execute(SMALL_TARGETS, vec![]).await.unwrap();
    assert_eq!(
        small,
        serde_json::json!([]),
        "{name}: touch targets under 24 px at {width} px"
    );
    let violations = b.axe_violations(axe).await;
    assert!(
        violations.is_empty(),
        "{name} at {width} px: {violations:#?}"
    );
    let png = b.client.screenshot().await.unwrap();
    let dir = target_dir().join("page-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("hosted-phone-{width}-{:02}-{name}.png", *shots)),
        png,
    )
    .unwrap();
    *shots += 1;
    if name == "finish-done" {
        // The last words, below the numbers, for a person to read too.
        b.client
            .execute("document.querySelector('main h1').scrollIntoView()", vec![])
            .await
            .unwrap();
        let png = b.client.screenshot().await.unwrap();
        std::fs::write(
            dir.join(format!("hosted-phone-{width}-{:02}-{name}-end.png", *shots)),
            png,
        )
        .unwrap();
    }
}

async fn path_of(b: &Browser) -> String {
    b.client.current_url().await.unwrap().path().to_string()
}

/// The `at` of the page's form, if it has one.
async fn at(b: &Browser) -> Option<String> {
    match b.client.find(Locator::Css("input[name=at]")).await {
        Ok(field) => field.attr("value").await.ok().flatten(),
        Err(_) => None,
    }
}

async fn press(b: &Browser, css: &str) {
    let before = at(b).await;
    b.client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} is on the page: {e}"))
        .click()
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + crate::page_support::WAIT;
    while at(b).await == before && before.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "{css} did not move on"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// One phone walk: every page checked, the report sent to the clinic.
async fn walk_on_a_phone(hosted: &Hosted, answers: &Path, (width, height): (u32, u32)) {
    let axe = axe_source();
    let b = Browser::launch(Options {
        javascript: true,
        phone: Some((width, height)),
        ..Options::default()
    })
    .await;
    let base = format!("http://{}", hosted.addr);
    let answers = Answers::load(answers);
    let mut shots = 0;
    // A link that opens nothing: the calm page is a page of the walk too.
    b.client
        .goto(&format!("{base}/c/v1.not-a-token"))
        .await
        .unwrap();
    check_page(&b, &axe, "calm", width, &mut shots).await;
    b.client
        .goto(&format!("{base}{}", hosted.invite("phone")))
        .await
        .unwrap();
    for _ in 0..200 {
        let path = path_of(&b).await;
        let name = path.trim_start_matches('/').to_string();
        check_page(&b, &axe, &name, width, &mut shots).await;
        match name.as_str() {
            "walk" => {
                let at = at(&b).await.expect("a question's form");
                let (action, fields) = answers.choice(&at);
                for (name, value) in &fields {
                    if name == "text" {
                        let input = b.client.find(Locator::Css("#plan-text")).await.unwrap();
                        input.clear().await.unwrap();
                        input.send_keys(value).await.unwrap();
                    } else {
                        b.client
                            .find(Locator::Css(&format!(
                                "input[name=\"{name}\"][value=\"{value}\"]"
                            )))
                            .await
                            .unwrap()
                            .click()
                            .await
                            .unwrap();
                    }
                }
                press(&b, &format!("button[name=do][value=\"{action}\"]")).await;
            }
            // A media step, when there is one, is passed by as without scripts.
            "media" => b.client.goto(&format!("{base}/next")).await.unwrap(),
            "finish-report" => press(&b, "button[name=do][value=\"back-to-choices\"]").await,
            "finish" => {
                // The connection test in the page comes first; then the page
                // moves on by itself (to the preview, or to the choices here).
                let deadline = std::time::Instant::now() + crate::page_support::WAIT;
                loop {
                    if let Ok(full) = b.client.find(Locator::Css("#choice-save-full")).await {
                        full.click().await.unwrap();
                        press(&b, "button[name=do][value=\"save\"]").await;
                        break;
                    }
                    if path_of(&b).await != "/finish" {
                        break;
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "the page moves on from the connection test"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
            "finish-done" => {
                let text = b
                    .client
                    .find(Locator::Css("main"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert!(text.contains("reached your clinic"), "{text}");
                b.close().await;
                return;
            }
            other => panic!("an unexpected page on the walk: {other}"),
        }
    }
    panic!("the walk did not end within 200 pages");
}

#[test]
fn a_hosted_walk_fits_a_phone_at_360_and_390_px_with_no_axe_violation() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let hosted = Hosted::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        walk_on_a_phone(&hosted, &repo("examples/answers/urgent.json"), (360, 640)).await;
        walk_on_a_phone(
            &hosted,
            &repo("examples/answers/video-with-adjustments.json"),
            (390, 844),
        )
        .await;
    });
    assert_eq!(
        crate::host_invite::reports(&hosted.inbox()).len(),
        2,
        "both walks reached the clinic"
    );
}
