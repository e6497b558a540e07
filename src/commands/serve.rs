//! `session-ready serve`: run the measurement server until Ctrl-C or SIGTERM.
use std::net::{SocketAddr, ToSocketAddrs};

use crate::cli::ServeArgs;
use crate::error::{Exit, InputError};
use crate::net::server::{self, ServerConfig};
use crate::page::hosted::{HostedStore, Hosting};
use crate::page::resume::PausedVisits;
use crate::term::Style;
use crate::visit::storage::Inbox;
use crate::visit::{FrontEnd, Visit, VisitPlan};

fn listen_address(text: &str) -> Result<SocketAddr, InputError> {
    socket_address("--listen", text, "0.0.0.0:8080 or [::]:8080")
}

fn socket_address(flag: &str, text: &str, example: &str) -> Result<SocketAddr, InputError> {
    let bad = || {
        InputError::Usage(format!(
            "{flag}: {text:?} should be an address and port, for example {example}."
        ))
    };
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    text.to_socket_addrs()
        .map_err(|_| bad())?
        .next()
        .ok_or_else(bad)
}

pub fn run(args: ServeArgs, style: Style) -> anyhow::Result<Exit> {
    let listen = listen_address(&args.listen)?;
    let metrics = args
        .metrics
        .as_deref()
        .map(|text| socket_address("--metrics", text, "127.0.0.1:9090"))
        .transpose()?;
    if metrics.is_some_and(|m| m == listen || (m.port() == listen.port() && m.port() != 0)) {
        return Err(InputError::Usage(
            "--metrics: use another port than --listen, so metrics stay off the public address."
                .into(),
        )
        .into());
    }
    for (flag, value) in [
        ("--max-connections", args.max_connections as u64),
        (
            "--per-address-connections",
            u64::from(args.per_address_connections),
        ),
        ("--per-address-streams", u64::from(args.per_address_streams)),
        (
            "--per-address-mb-per-minute",
            args.per_address_mb_per_minute,
        ),
        (
            "--stun-replies-per-second",
            u64::from(args.stun_replies_per_second),
        ),
        (
            "--stun-cookies-per-second",
            u64::from(args.stun_cookies_per_second),
        ),
    ] {
        if value == 0 {
            return Err(InputError::Usage(format!("{flag}: expected at least 1.")).into());
        }
    }
    check_stun_budgets(&args)?;
    let mut config = ServerConfig::new(listen);
    config.max_connections = args.max_connections;
    config.per_address_connections = args.per_address_connections;
    config.per_address_streams = args.per_address_streams;
    config.per_address_bytes_per_minute = args.per_address_mb_per_minute.saturating_mul(1_000_000);
    config.stun_replies_per_s = f64::from(args.stun_replies_per_second);
    config.stun_verified_per_s = f64::from(args.stun_verified_per_second);
    config.stun_verified_total_per_s = f64::from(args.stun_verified_total_per_second);
    config.stun_cookies_per_s = f64::from(args.stun_cookies_per_second);
    config.metrics = metrics;
    // A name given with --metrics (not an IP address) is one its scraper may use in Host.
    config.metrics_names = args
        .metrics
        .as_deref()
        .filter(|text| text.parse::<SocketAddr>().is_err())
        .and_then(|text| text.rsplit_once(':'))
        .map(|(name, _port)| name.to_string())
        .into_iter()
        .collect();
    config.public_stun_port = args.public_stun_port;
    if args.max_visits == 0 {
        return Err(InputError::Usage("--max-visits: expected at least 1.".into()).into());
    }
    config.tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(std::sync::Arc::new(tls_config(cert, key)?)),
        _ => None,
    };
    if let (Some(clinic), Some(inbox)) = (&args.clinic, &args.inbox) {
        config.pages = Some(hosted_pages(
            clinic,
            inbox,
            args.secret.as_deref(),
            args.max_visits,
            config.tls.is_some(),
            args.on_report.as_deref(),
        )?);
    }
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let bound = server::bind(config).await.map_err(|e| {
            let (wanted, flags) = match metrics {
                Some(m) => (format!("{listen} or {m}"), "--listen or --metrics"),
                None => (listen.to_string(), "--listen"),
            };
            InputError::Usage(format!(
                "Could not listen on {wanted} ({}). Choose another address or port with {flags}.",
                describe_bind_error(&e)
            ))
        })?;
        let addr = bound.local_addr();
        println!(
            "{} on {addr}: speed tests over HTTP (TCP) and STUN over UDP, same port.",
            style.bold("Measurement server ready")
        );
        println!("Clients can run: session-ready network --server {scheme}://{addr}");
        if let Some(inbox) = &args.inbox {
            println!(
                "Hosting the check for invited clients (session-ready invite); reports arrive \
                 encrypted in {}.",
                inbox.display()
            );
            if let Some(program) = &args.on_report {
                println!(
                    "{}",
                    crate::safe_text::printable(&format!(
                        "Each report that arrives is announced to {} (its urgency, the time and \
                         the client reference; never an answer).",
                        program.display()
                    ))
                );
            }
        }
        if let Some(metrics) = bound.metrics_addr() {
            println!("Metrics (keep this address private): http://{metrics}/metrics");
        }
        println!("Press Ctrl-C to stop.");
        bound.run(shutdown_signal()).await;
        println!("Stopped; open connections were given time to finish.");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Exit::Done)
}

/// A connection test's call-like stream sends this many STUN requests a second.
const TEST_STREAM_PER_S: u32 = 800;

/// Budgets for the tests' UDP streams that no test could run within.
fn check_stun_budgets(args: &ServeArgs) -> Result<(), InputError> {
    if args.stun_verified_per_second < TEST_STREAM_PER_S {
        return Err(InputError::Usage(format!(
            "--stun-verified-per-second: a connection test sends {TEST_STREAM_PER_S} a second, so a budget of {} would leave part of every test unanswered. Use {TEST_STREAM_PER_S} or more.",
            args.stun_verified_per_second
        )));
    }
    if args.stun_verified_total_per_second < args.stun_verified_per_second {
        return Err(InputError::Usage(format!(
            "--stun-verified-total-per-second: {} is less than one test's budget (--stun-verified-per-second {}). Use at least that much.",
            args.stun_verified_total_per_second, args.stun_verified_per_second
        )));
    }
    Ok(())
}

/// The hosted check: every invitation opens a page visit whose report goes,
/// encrypted, into `inbox`.
fn hosted_pages(
    clinic_file: &std::path::Path,
    inbox: &std::path::Path,
    secret: Option<&std::path::Path>,
    max_visits: usize,
    tls: bool,
    on_report: Option<&std::path::Path>,
) -> anyhow::Result<axum::Router> {
    let clinic = super::invite::clinic(clinic_file)?;
    let secret = super::invite::secret(secret, false)?;
    if !inbox.is_dir() {
        return Err(InputError::Usage(format!(
            "--inbox: {} is not a folder. Create it first (mkdir), then start serve again.",
            inbox.display()
        ))
        .into());
    }
    let recipient = clinic.recipient.clone().unwrap_or_default();
    crate::report::encrypt::parse_recipient(&recipient)
        .map_err(|why| InputError::file(clinic_file, format!("recipient: {why}.")))?;
    let arrivals = on_report.map(on_report_program).transpose()?;
    let inbox_dir = inbox.to_path_buf();
    let clinic_info = clinic.report_info();
    let region = clinic.region.clone();
    // A paused visit's sealed state, at most one per visit the server holds.
    let paused = std::sync::Arc::new(PausedVisits::new(max_visits));
    let keep_paused = paused.clone();
    let contact = match (&clinic.name, &clinic.dropped_call_phone) {
        (Some(name), Some(phone)) => format!("{name} on {phone}"),
        (Some(name), None) => name.clone(),
        (None, Some(phone)) => format!("your clinic on {phone}"),
        (None, None) => "your clinic".to_string(),
    };
    let office_hours = clinic.office_hours();
    let start = move |invitation: &crate::invite::Invitation, resumed| {
        let plan = VisitPlan {
            front_end: FrontEnd::Hosted,
            regions: crate::crisis::RegionSources {
                flag: None,
                clinic: region.clone(),
                locale: None,
            },
            clinic: clinic_info.clone(),
            client_ref: invitation.client_ref.clone(),
            clinic_key: true,
            output_named: true,
            servers: None,
            // The camera and microphone test in the client's browser.
            media: true,
            network_source: None,
            // Who sends a new link (`FrontEnd::Hosted` says so).
            come_back: contact.clone(),
            office_hours: office_hours.clone(),
        };
        let store = Inbox {
            dir: inbox_dir.clone(),
            recipient: recipient.clone(),
            id: invitation.id.clone(),
            arrivals: arrivals.clone(),
        };
        let store = HostedStore::new(store, keep_paused.clone(), invitation.clone(), resumed);
        Visit::new(plan, store).boxed()
    };
    Ok(crate::page::hosted_router(Hosting {
        secret,
        clinic_name: clinic.name.clone(),
        clinic_phone: clinic.dropped_call_phone.clone(),
        inbox: inbox.to_path_buf(),
        max_visits,
        idle: std::time::Duration::from_secs(crate::page::GRACE_MINUTES * 60),
        start: Box::new(start),
        opened: Default::default(),
        paused,
        tls,
    }))
}

/// `--tls-cert` and `--tls-key`: PEM files, read once at the start; any
/// problem names the flag and the file (exit 2).
fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<rustls::ServerConfig, InputError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |flag: &str, file: &std::path::Path, why: String| {
        InputError::Usage(format!(
            "{flag}: {} {why}",
            crate::safe_text::printable(&file.display().to_string())
        ))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| {
            bad(
                "--tls-cert",
                cert,
                format!(
                    "could not be read as PEM certificates ({e}). Give the certificate chain \
                     file (for example fullchain.pem)."
                ),
            )
        })?;
    if certs.is_empty() {
        return Err(bad(
            "--tls-cert",
            cert,
            "holds no certificate. Give the certificate chain file (for example \
             fullchain.pem)."
                .into(),
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        bad(
            "--tls-key",
            key,
            format!(
                "could not be read as a PEM private key ({e}). Give the key file that belongs \
                 to the certificate (for example privkey.pem)."
            ),
        )
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| InputError::Usage(format!("--tls-cert: TLS could not be set up ({e}).")))?
    .with_no_client_auth()
    .with_single_cert(certs, private)
    .map_err(|e| {
        bad(
            "--tls-key",
            key,
            format!(
                "does not fit the certificate in --tls-cert ({e}). Give the key and certificate \
                 that belong together."
            ),
        )
    })?;
    // The server speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// `--on-report`: a program given with a folder must be there now, not
/// found missing at the first report; a bare name is looked up in PATH.
fn on_report_program(
    program: &std::path::Path,
) -> anyhow::Result<std::sync::mpsc::Sender<crate::notify::Arrival>> {
    let named_with_folder = program.components().count() > 1;
    if named_with_folder && !program.is_file() {
        return Err(InputError::Usage(
            crate::safe_text::printable(&format!(
                "--on-report: {} is not a file. Give the path of the program or script to run for \
             each report that arrives.",
                program.display()
            ))
            .into_owned(),
        )
        .into());
    }
    Ok(crate::notify::start(program.to_path_buf()))
}

fn describe_bind_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "something else is already using that port".into(),
        std::io::ErrorKind::PermissionDenied => {
            "this account may not use that port; ports above 1024 need no special rights".into()
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "that address does not belong to this computer".into()
        }
        _ => e.to_string(),
    }
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_are_checked() {
        assert_eq!(listen_address("127.0.0.1:8080").unwrap().port(), 8080);
        assert!(listen_address("[::1]:0").is_ok());
        assert!(listen_address("localhost:9000").is_ok());
        assert!(listen_address("8080").is_err());
        assert!(listen_address("nowhere.invalid:80").is_err());
    }
}
