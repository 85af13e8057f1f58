//! The certificate a server makes for itself, checked the way phones check it: a TLS 1.2
//! client that offers only RSA suites (as many Yealink T2x, snom 3xx and Gigaset N510
//! firmwares do), and webpki's verification of names and dates.

use crate::helpers::Server;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::ring as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

const DAY: u64 = 86_400;

fn certificate(s: &Server) -> CertificateDer<'static> {
    CertificateDer::pem_file_iter(s.data_dir().join("certs/selfsigned.pem"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
}

/// Whether webpki accepts the certificate for `name` at `now` (seconds since 1970).
fn verifies(cert: &CertificateDer<'static>, name: &str, now: u64) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(provider::default_provider()),
    )
    .build()
    .unwrap();
    verifier
        .verify_server_cert(
            cert,
            &[],
            &ServerName::try_from(name.to_owned()).unwrap(),
            &[],
            UnixTime::since_unix_epoch(Duration::from_secs(now)),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A TLS 1.2 handshake offering only ECDHE-RSA suites, as an RSA-only phone makes it.
fn rsa_only_phone_connects(s: &Server, cert: &CertificateDer<'static>) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let mut p = provider::default_provider();
    p.cipher_suites = vec![
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ];
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(p))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let port = s.https.rsplit(':').next().unwrap();
    let mut tcp = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer);
    if answer.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!("answer: {answer}"))
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn the_generated_certificate_is_rsa_dated_sensibly_and_names_the_server() {
    let s = Server::start_fresh(&["--tls-hostname", "phones.example.com,192.0.2.10"]);
    let cert = certificate(&s);
    rsa_only_phone_connects(&s, &cert).expect("an RSA-only phone connects");
    let t = now();
    for name in ["phones.example.com", "localhost", "127.0.0.1", "192.0.2.10"] {
        verifies(&cert, name, t).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(verifies(&cert, "other.example.com", t).is_err());
    // Valid from a day back (phones with a slow clock) for 825 days, not 1975 to 4096.
    verifies(&cert, "localhost", t - DAY / 2).expect("a slow clock");
    assert!(
        verifies(&cert, "localhost", t - 3 * DAY).is_err(),
        "valid long before"
    );
    verifies(&cert, "localhost", t + 824 * DAY).expect("valid for 825 days");
    assert!(
        verifies(&cert, "localhost", t + 826 * DAY).is_err(),
        "valid too long"
    );
    assert!(
        s.log().contains("generated a self-signed certificate"),
        "{}",
        s.log()
    );

    // ECDSA on request: an RSA-only phone cannot connect then.
    let s = Server::start_fresh(&["--tls-key-type", "ecdsa"]);
    assert!(rsa_only_phone_connects(&s, &certificate(&s)).is_err());
    assert_eq!(s.get_tls("/healthz").status, 200);
}

#[test]
fn a_certificate_is_made_anew_on_start_when_it_nears_its_end_or_lacks_a_name() {
    let s = Server::start_fresh(&[]);
    let first = certificate(&s);
    let data = s.stop();
    // Reused as it is.
    let s = Server::start_in(data, &[]);
    assert_eq!(certificate(&s), first);
    let data = s.stop();
    // A name the operator now asks for.
    let s = Server::start_in(data, &["--tls-hostname", "pbx.example.org"]);
    let named = certificate(&s);
    assert_ne!(named, first);
    verifies(&named, "pbx.example.org", now()).unwrap();
    assert!(
        s.log().contains("does not name pbx.example.org"),
        "{}",
        s.log()
    );
    let data = s.stop();
    // 20 days before its end, as the server knows it from the file beside it.
    let made = data.path().join("certs/selfsigned.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&made).unwrap()).unwrap();
    json["not_after"] = serde_json::json!(now() + 20 * DAY);
    std::fs::write(&made, json.to_string()).unwrap();
    let s = Server::start_in(data, &["--tls-hostname", "pbx.example.org"]);
    assert_ne!(certificate(&s), named);
    assert!(
        s.log().contains("it ends in 19 days") || s.log().contains("it ends in 20 days"),
        "{}",
        s.log()
    );
    let data = s.stop();
    // A certificate of an older phonedir (no description beside it) is replaced.
    std::fs::remove_file(data.path().join("certs/selfsigned.json")).unwrap();
    let s = Server::start_in(data, &[]);
    assert!(s.log().contains("made by an older phonedir"), "{}", s.log());
}
