//! The hosted check's state and the security of a public page (issue 23,
//! items 5 and 7): a link to carry on instead of a draft on the server, the
//! farewells' words, the form token, the headers, the size of a post, and
//! native TLS; all against the real binary over loopback.
use std::sync::Arc;

use crate::host_invite::{Client, Hosted, token_of};
use crate::page_support::{Reply, request};
use crate::walk_support::{Site, at_of};

const CANARY: &str = "canary-41c7-quiet-harbour";

/// Where the client is: the screen id of the form drawn now.
fn place(client: &Client) -> String {
    let page = client.screen();
    let at = at_of(&page.body).unwrap_or_else(|| panic!("a form on: {}", page.body));
    at.rsplit_once('.')
        .map_or(at.clone(), |(p, _)| p.to_string())
}

/// From the opening to the first question after keeping was asked:
/// "now is a good time", then keeping answered with `keep`.
fn start(client: &Client, keep: &str) {
    assert_eq!(place(client), "q-start.safe_now");
    client.choose("answer", &[("answer", "yes")]);
    if place(client) == "region" {
        client.choose("answer", &[("region", "GB")]);
    }
    let keep_page = client.screen();
    assert!(
        keep_page
            .body
            .contains("a link that carries on where you stopped"),
        "keeping is asked in the hosted check's words: {}",
        keep_page.body
    );
    assert!(
        !keep_page.body.contains("user account"),
        "{}",
        keep_page.body
    );
    client.choose(keep, &[]);
}

/// The link to carry on on a page, if any.
fn resume_link(html: &str) -> Option<String> {
    let at = html.find("href=\"/r/")? + "href=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

/// Pause now; the farewell page.
fn pause(client: &Client) -> Reply {
    client.choose("pause", &[]);
    let farewell = client.screen();
    assert!(farewell.body.contains("Take care"), "{}", farewell.body);
    assert!(
        !farewell.body.contains("run the link") && !farewell.body.contains("Run the link"),
        "a link opens once; the farewell says what is true: {}",
        farewell.body
    );
    farewell
}

#[test]
fn pausing_gives_a_link_that_carries_on_once_where_it_stopped() {
    let hosted = Hosted::start();
    let link = hosted.invite("case 21");
    let client = Client::new(&hosted, &link);
    start(&client, "keep-yes");
    // One question skipped; then pause at the next.
    client.choose("skip", &[]);
    let stopped_at = place(&client);
    assert!(stopped_at.starts_with("q-"), "{stopped_at}");
    let farewell = pause(&client);
    let resume = resume_link(&farewell.body)
        .unwrap_or_else(|| panic!("a link to carry on: {}", farewell.body));
    assert!(
        farewell.body.contains("opens your check once"),
        "{}",
        farewell.body
    );
    // Nothing of the visit rests on the server's disk: only the empty mark
    // that the invitation was opened.
    let inbox = hosted.dir.path().join("inbox");
    let stored: Vec<_> = std::fs::read_dir(&inbox)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(stored, [".opened"], "{stored:?}");
    for mark in std::fs::read_dir(inbox.join(".opened")).unwrap() {
        assert_eq!(mark.unwrap().metadata().unwrap().len(), 0);
    }

    // Another browser (the client's phone later): "Welcome back", then where it stopped.
    let later = Client::new(&hosted, &resume);
    let welcome = later.screen();
    assert!(welcome.body.contains("Welcome back"), "{}", welcome.body);
    later.choose("pick-up", &[]);
    assert_eq!(place(&later), stopped_at, "carried on where it stopped");
    // The browser that paused has nothing open any more.
    let old = client.get("walk");
    assert_eq!(old.status, 410, "{old:?}");
    // The link opened once: a second time gets the calm page, with the clinic's phone.
    let again = hosted.get(&resume, None);
    assert_eq!(again.status, 410, "{again:?}");
    assert!(
        again.body.contains("no longer opens your answers"),
        "{}",
        again.body
    );
    assert!(again.body.contains("+44 20 7946 0000"), "{}", again.body);
    // A link with another key opens nothing either (and is not a bare error).
    let last = if resume.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &resume[..resume.len() - 1]);
    assert_eq!(hosted.get(&forged, None).status, 410);

    // Pausing again gives a new link, which opens the visit in turn.
    let farewell = pause(&later);
    let second = resume_link(&farewell.body).expect("a new link");
    assert_ne!(second, resume);
    let third = Client::new(&hosted, &second);
    assert!(third.screen().body.contains("Welcome back"));
}

#[test]
fn without_keeping_the_pause_asks_and_no_means_no_link_and_a_new_link_from_the_clinic() {
    let hosted = Hosted::start();
    let link = hosted.invite("case 22");
    let client = Client::new(&hosted, &link);
    start(&client, "keep-no");
    client.choose("skip", &[]);
    client.choose("pause", &[]);
    // Asked once, as a real choice: two buttons, neither chosen beforehand.
    let ask = client.screen();
    assert!(ask.body.contains("value=\"keep-no\""), "{}", ask.body);
    assert!(ask.body.contains("value=\"keep-yes\""), "{}", ask.body);
    assert!(!ask.body.contains("checked"), "{}", ask.body);
    client.choose("keep-no", &[]);
    let farewell = client.screen();
    assert!(resume_link(&farewell.body).is_none(), "{}", farewell.body);
    assert!(
        farewell.body.contains("Nothing was kept")
            && farewell
                .body
                .contains("ask Riverside Counselling on +44 20 7946 0000 for a new link"),
        "{}",
        farewell.body
    );
    // The invitation was used: opening it again says so, and names the link to carry on.
    let used = hosted.get(&link, None);
    assert_eq!(used.status, 410);
    assert!(used.body.contains("link to carry on"), "{}", used.body);
}

#[test]
fn after_a_restart_a_link_to_carry_on_says_calmly_that_it_ended() {
    let hosted = Hosted::start();
    let link = hosted.invite("case 23");
    let client = Client::new(&hosted, &link);
    start(&client, "keep-yes");
    client.choose("skip", &[]);
    let resume = resume_link(&pause(&client).body).expect("a link");
    drop(client);
    let hosted = hosted.restart();
    let gone = hosted.get(&resume, None);
    assert_eq!(gone.status, 410, "{gone:?}");
    assert!(gone.body.contains("service was restarted"), "{}", gone.body);
    assert!(gone.body.contains("Riverside Counselling"), "{}", gone.body);
    // The invitation itself stays used: a restart does not open it again.
    let used = hosted.get(&link, None);
    assert_eq!(used.status, 410, "{used:?}");
    assert!(used.body.contains("already been used"), "{}", used.body);
}

#[test]
fn every_post_needs_the_visits_form_token_and_the_pages_keep_their_addresses_to_themselves() {
    let hosted = Hosted::start();
    let link = hosted.invite("case 24");
    // An invitation's own answer names no referrer.
    let opened = hosted.get(&hosted.invite("case 24b"), None);
    assert_eq!(opened.status, 303);
    assert!(
        opened.headers.contains("referrer-policy: no-referrer"),
        "{opened:?}"
    );
    let client = Client::new(&hosted, &link);
    let page = client.screen();
    assert_eq!(page.status, 200);
    for header in [
        "referrer-policy: no-referrer",
        "x-content-type-options: nosniff",
        "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'",
        "frame-ancestors 'none'",
        "connect-src 'self'",
    ] {
        assert!(page.headers.contains(header), "{header}: {page:?}");
    }
    assert!(!page.body.contains("<style") && !page.body.contains("style="));
    // Coming back to a closed page never says to run a command.
    assert!(!page.body.contains("check --browser"), "{}", page.body);
    let ended = hosted.get("/walk", Some("session-ready=0123"));
    assert!(!ended.body.contains("check --browser"), "{}", ended.body);
    assert!(
        ended.body.contains("ask your clinic for a new link"),
        "{}",
        ended.body
    );
    assert!(!page.body.contains("<script>"), "no inline script");
    // Every form carries the token; the page names it for its scripts.
    let token = token_of(&page.body).expect("a form token");
    assert_eq!(
        page.body.matches("<form").count(),
        page.body
            .matches(&format!("name=\"csrf\" value=\"{token}\""))
            .count(),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("<meta name=\"csrf-token\" content=\"{token}\">"))
    );
    let at = at_of(&page.body).unwrap();
    let cookie = client.cookie();
    let host = hosted.addr.to_string();
    let origin = format!("http://{host}");
    let post = |origin: &str, body: &str, extra: Option<(&str, &str)>| {
        let mut headers = vec![
            ("Host", host.as_str()),
            ("Origin", origin),
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        headers.extend(extra);
        request(hosted.addr, "POST", "/walk", &headers, body)
    };
    let answer = format!("at={at}&do=answer&answer=yes");
    // No token, a wrong one, another site: a calm 403, and nothing changed.
    for (origin, body) in [
        (origin.as_str(), answer.clone()),
        (
            origin.as_str(),
            format!("{answer}&csrf=0123456789abcdef0123456789abcdef"),
        ),
        (
            "https://elsewhere.example",
            format!("{answer}&csrf={token}"),
        ),
    ] {
        let refused = post(origin, &body, None);
        assert_eq!(refused.status, 403, "{body}: {refused:?}");
        assert!(
            refused.body.contains("Nothing was changed"),
            "{}",
            refused.body
        );
        assert!(
            refused.body.contains("<a href=\"/walk\">"),
            "{}",
            refused.body
        );
    }
    assert_eq!(place(&client), "q-start.safe_now", "nothing was applied");
    // The page's own calls carry it as a header.
    let call = |extra: Option<(&str, &str)>| {
        let mut headers = vec![
            ("Host", host.as_str()),
            ("Origin", origin.as_str()),
            ("Cookie", cookie.as_str()),
        ];
        headers.extend(extra);
        request(hosted.addr, "POST", "/api/alive", &headers, "{}")
    };
    assert_eq!(call(None).status, 403);
    assert_eq!(call(Some(("X-CSRF-Token", &token))).status, 204);
    // With the token (and Origin null, as a browser sends under no-referrer), it is applied.
    let applied = post("null", &format!("{answer}&csrf={token}"), None);
    assert_eq!(applied.status, 303, "{applied:?}");
    assert_ne!(place(&client), "q-start.safe_now");
    // "Leave quickly" works from any page, a calm one without a token included.
    let left = request(
        hosted.addr,
        "POST",
        "/leave",
        &[
            ("Host", host.as_str()),
            ("Origin", origin.as_str()),
            ("Cookie", cookie.as_str()),
        ],
        "",
    );
    assert_eq!(left.status, 303, "{left:?}");
    assert_eq!(crate::walk_support::location(&left), "away");
    // The measurement answers beside the pages are not sniffed either.
    let down = hosted.get("/__down?bytes=10", None);
    assert!(
        down.headers.contains("x-content-type-options: nosniff"),
        "{down:?}"
    );
    assert!(
        down.headers.contains("referrer-policy: no-referrer"),
        "{down:?}"
    );
    // Neither the invitation nor the form token is ever written by serve.
    let said = hosted.said.lock().unwrap().join("\n");
    let invitation = link.trim_start_matches("/c/");
    assert!(!said.contains(invitation), "{said}");
    assert!(!said.contains(&token), "{said}");
}

#[test]
fn a_post_too_long_for_any_form_is_refused_calmly_and_the_visit_goes_on() {
    let hosted = Hosted::start();
    let link = hosted.invite("case 25");
    let client = Client::new(&hosted, &link);
    start(&client, "keep-no");
    let before = place(&client);
    let page = client.screen();
    let at = at_of(&page.body).unwrap();
    let long = CANARY.repeat(1000);
    let refused = client.post(
        "walk",
        &[("at", &at), ("do", "plan"), ("text", long.as_str())],
    );
    assert_eq!(refused.status, 413, "{refused:?}");
    assert!(
        refused.body.contains("too long to send") && refused.body.contains("safe"),
        "{}",
        refused.body
    );
    assert!(
        refused.headers.contains("text/html"),
        "a page, not a bare error"
    );
    assert_eq!(place(&client), before, "the visit goes on where it was");
}

/// A CA, and a certificate for 127.0.0.1 it signed: (chain PEM, key PEM, CA PEM).
fn certificate() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    (
        format!("{}{}", leaf.pem(), ca.pem()),
        key.serialize_pem(),
        ca.pem(),
    )
}

/// One HTTPS request (a client trusting `ca_pem` only).
async fn https_get(addr: std::net::SocketAddr, ca_pem: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::{self, pki_types::CertificateDer, pki_types::pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).to_ascii_lowercase()
}

#[test]
fn serve_terminates_tls_itself_and_the_measurements_and_pages_work_over_it() {
    let certs = tempfile::tempdir().unwrap();
    let (chain, key, ca) = certificate();
    let cert_file = certs.path().join("fullchain.pem");
    let key_file = certs.path().join("privkey.pem");
    let ca_file = certs.path().join("ca.pem");
    std::fs::write(&cert_file, chain).unwrap();
    std::fs::write(&key_file, key).unwrap();
    std::fs::write(&ca_file, &ca).unwrap();
    let hosted = Hosted::start_with(&[
        "--tls-cert",
        cert_file.to_str().unwrap(),
        "--tls-key",
        key_file.to_str().unwrap(),
    ]);
    let link = hosted.invite("case 26");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The page: the session cookie is Secure over native TLS.
        let opened = https_get(hosted.addr, &ca, &link).await;
        assert!(opened.starts_with("http/1.1 303"), "{opened}");
        let cookie = opened
            .lines()
            .find(|l| l.starts_with("set-cookie:"))
            .unwrap_or_else(|| panic!("{opened}"));
        assert!(cookie.contains("; secure"), "{cookie}");
        assert!(opened.contains("referrer-policy: no-referrer"), "{opened}");
        assert!(
            opened.contains("strict-transport-security: max-age="),
            "{opened}"
        );
        let down = https_get(hosted.addr, &ca, "/__down?bytes=10").await;
        assert!(down.starts_with("http/1.1 200"), "{down}");
        assert!(down.contains("x-content-type-options: nosniff"), "{down}");
        // The measurements, by the CLI's own probe, over TLS; STUN on UDP beside.
        let mut config = crate::net_support::quick(format!("https://{}", hosted.addr));
        config.ca_file = Some(ca_file.clone());
        let report = session_ready::net::probe::run(&config).await;
        assert!(report.latency.idle_ms.is_some(), "{:?}", report.latency);
        assert!(report.download.mbps.is_some(), "{:?}", report.download);
        assert!(report.upload.mbps.is_some(), "{:?}", report.upload);
        assert_eq!(
            report.udp_status,
            session_ready::net::model::UdpStatus::Measured
        );
    });
    // Plain HTTP to the TLS port opens nothing.
    let plain = hosted.get(&link, None);
    assert_ne!(plain.status, 303, "{plain:?}");
}

#[test]
fn bad_certificate_or_key_files_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, key, _) = certificate();
    let (_, other_key, _) = certificate();
    let cert = dir.path().join("fullchain.pem");
    let good_key = dir.path().join("privkey.pem");
    let wrong_key = dir.path().join("other.pem");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&cert, chain).unwrap();
    std::fs::write(&good_key, key).unwrap();
    std::fs::write(&wrong_key, other_key).unwrap();
    std::fs::write(&junk, "not a certificate").unwrap();
    let missing = dir.path().join("missing.pem");
    for (cert, key, flag) in [
        (&missing, &good_key, "--tls-cert"),
        (&junk, &good_key, "--tls-cert"),
        (&cert, &junk, "--tls-key"),
        (&cert, &wrong_key, "--tls-key"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_session-ready"))
            .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains(flag), "{flag}: {said}");
        assert!(!said.contains("panicked"), "{said}");
    }
}

/// From the opening to the screen after the watched-home notice: keeping
/// said yes at first, then "does home feel safe?" answered no.
fn into_a_watched_home(client: &Client) {
    start(client, "keep-yes");
    for _ in 0..40 {
        let at = place(client);
        match at.as_str() {
            "q-home.feels_safe" => client.choose("answer", &[("answer", "no")]),
            "watched" => {
                let notice = client.screen();
                assert!(
                    notice
                        .body
                        .contains("no link to carry on later is given unless you ask")
                        && notice
                            .body
                            .contains("your answers so far are no longer kept"),
                    "{}",
                    notice.body
                );
                client.choose("continue", &[]);
                return;
            }
            at if at.starts_with("q-") => client.choose("skip", &[]),
            _ => client.choose("continue", &[]),
        };
    }
    panic!("the watched-home notice never came");
}

#[test]
fn a_watched_home_gets_a_link_only_when_it_asks_and_is_told_why() {
    let hosted = Hosted::start();
    for (case, answer) in [("case 27", "keep-no"), ("case 28", "keep-yes")] {
        let link = hosted.invite(case);
        let client = Client::new(&hosted, &link);
        into_a_watched_home(&client);
        // A refused post keeps the neutral title of a watched home.
        let refused = request(
            hosted.addr,
            "POST",
            "/walk",
            &[
                ("Host", &hosted.addr.to_string()),
                ("Origin", "null"),
                ("Cookie", &client.cookie()),
            ],
            "do=pause",
        );
        assert_eq!(refused.status, 403);
        assert!(
            refused.body.contains("<title>Notes</title>"),
            "{}",
            refused.body
        );
        client.choose("pause", &[]);
        let ask = client.screen();
        assert!(
            ask.body
                .contains("Because someone at home may see this device, no link"),
            "told why: {}",
            ask.body
        );
        assert!(!ask.body.contains("checked"), "nothing chosen beforehand");
        client.choose(answer, &[]);
        let farewell = client.screen();
        assert_eq!(
            resume_link(&farewell.body).is_some(),
            answer == "keep-yes",
            "{answer}: {}",
            farewell.body
        );
    }
}
