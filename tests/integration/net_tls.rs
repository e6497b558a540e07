//! The probe through a TLS-terminating proxy with a clinic's own certificate
//! authority, as a clinic runs `serve` behind nginx (bench/tls_nginx.sh does
//! the same with nginx itself). The proxy here is a few lines of tokio-rustls
//! in front of a real `serve`, on loopback.
use std::sync::Arc;

use crate::net_support::{quick, serve};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use session_ready::net::model::UdpStatus;
use session_ready::net::probe;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};

/// A CA, and a certificate for 127.0.0.1 that it signed.
fn clinic_ca() -> (String, rustls::ServerConfig) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
    .unwrap();
    (ca.pem(), server)
}

/// Terminate TLS on a loopback port and pass the bytes to `backend`.
async fn tls_proxy(
    tls: rustls::ServerConfig,
    backend: std::net::SocketAddr,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            conns.spawn(async move {
                let Ok(mut front) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut back) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut front, &mut back).await;
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_trusts_a_clinic_ca_from_its_certificate_file_and_names_an_untrusted_one() {
    let server = serve().await;
    let (ca_pem, tls) = clinic_ca();
    let (proxy, task) = tls_proxy(tls, server.addr).await;
    let url = format!("https://127.0.0.1:{}", proxy.port());
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("clinic-ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();

    // With the clinic's CA (what SSL_CERT_FILE sets): measured through the proxy.
    let mut config = quick(&url);
    config.ca_file = Some(ca_file.clone());
    let report = probe::run(&config).await;
    assert!(report.latency.idle_ms.is_some(), "{:?}", report.latency);
    assert!(report.download.mbps.is_some(), "{:?}", report.download);
    assert!(report.upload.mbps.is_some(), "{:?}", report.upload);
    // STUN is announced by serve behind the proxy, on the same host.
    assert_eq!(report.udp_status, UdpStatus::Measured);

    // Without it: the certificate is named, not "could not connect".
    config.ca_file = None;
    let report = probe::run(&config).await;
    let reason = report.latency.reason.unwrap_or_default();
    assert!(
        reason.contains("the server's certificate is not trusted")
            || reason.contains("The server's certificate is not trusted"),
        "{reason}"
    );
    assert!(reason.contains("SSL_CERT_FILE"), "{reason}");

    // A certificate file that is not one says so.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    config.ca_file = Some(junk);
    let report = probe::run(&config).await;
    let reason = report.latency.reason.unwrap_or_default();
    assert!(reason.contains("holds no certificates"), "{reason}");
    task.abort();
    server.shutdown().await;
}
