//! HTTPS setup: the operator's certificate, or a self-signed one generated in
//! `<data-dir>/certs/` and reused, so phones that pinned it keep working.
//!
//! The generated certificate is made for phones, whose firmware is older than any browser:
//! an RSA 2048 key by default (many Yealink T2x, snom 3xx and Gigaset N510 firmwares take
//! nothing else; ECDSA P-256 on request), valid for `VALID_DAYS` from a day before it was
//! made (no 1975-to-4096 dates that some firmwares reject), and names for every way a phone
//! may reach the server: `localhost`, the loopback addresses, the machine's host name, the
//! addresses it listens on and the names the operator gives (`--tls-hostname`). It is made
//! anew on start when it is about to expire, when the operator asks for a name or key type
//! it lacks, or when it was made by an older phonedir; otherwise it stays as it is.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// How long a generated certificate is valid: within the 825 days that Apple's and many
/// embedded TLS stacks accept, long enough that phones rarely see it change.
pub const VALID_DAYS: i64 = 825;
/// A certificate closer than this to its end is made anew on start.
pub const RENEW_DAYS: i64 = 30;
const RSA_BITS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("--tls-cert and --tls-key go together; give both or neither")]
    HalfPair,
    #[error("{flag} {path}: the file does not exist")]
    Missing { flag: &'static str, path: String },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} holds no usable PEM {what}: {message}")]
    Pem {
        path: String,
        what: &'static str,
        message: String,
    },
    #[error("--tls-hostname `{0}` is neither a host name nor an IP address")]
    BadName(String),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
}

impl From<rcgen::Error> for TlsError {
    fn from(e: rcgen::Error) -> Self {
        TlsError::Generate(e.to_string())
    }
}

/// The key of a generated certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// RSA 2048: what every phone firmware takes.
    #[default]
    Rsa,
    /// ECDSA P-256: smaller and faster, for phones known to take it.
    Ecdsa,
}

impl FromStr for KeyType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rsa" => Ok(KeyType::Rsa),
            "ecdsa" => Ok(KeyType::Ecdsa),
            other => Err(format!("`{other}` is no key type; use rsa or ecdsa")),
        }
    }
}

/// What a generated certificate must have.
#[derive(Clone, Debug, Default)]
pub struct SelfSigned {
    pub key: KeyType,
    /// Host names and addresses the operator asked for (`--tls-hostname`).
    pub hostnames: Vec<String>,
    /// The addresses the server listens on (`--https`), for the certificate's names.
    pub listen: Vec<String>,
}

pub struct Tls {
    pub config: rustls::ServerConfig,
    /// SHA-256 of the leaf certificate, `AB:CD:…`, as browsers and phones display it.
    pub fingerprint: String,
    pub cert_path: PathBuf,
    /// Why the certificate was generated on this start; None when it was reused or is the
    /// operator's.
    pub generated: Option<String>,
    /// When a generated certificate ends (`2028-03-05`); None for the operator's.
    pub expires: Option<String>,
}

/// What we know of a certificate we generated, kept beside it.
#[derive(Debug, Serialize, Deserialize)]
struct Made {
    key: KeyType,
    /// Every name it carries.
    names: Vec<String>,
    /// Unix seconds.
    not_after: i64,
}

pub fn load(
    data_dir: &Path,
    cert: Option<&Path>,
    key: Option<&Path>,
    want: &SelfSigned,
) -> Result<Tls, TlsError> {
    let (cert_path, key_path, generated, expires) = match (cert, key) {
        (Some(c), Some(k)) => {
            for (flag, path) in [("--tls-cert", c), ("--tls-key", k)] {
                if !path.exists() {
                    return Err(TlsError::Missing {
                        flag,
                        path: path.display().to_string(),
                    });
                }
            }
            (c.to_path_buf(), k.to_path_buf(), None, None)
        }
        (None, None) => {
            let dir = data_dir.join("certs");
            let c = dir.join("selfsigned.pem");
            let k = dir.join("selfsigned.key.pem");
            let m = dir.join("selfsigned.json");
            let now = OffsetDateTime::now_utc();
            let wanted = wanted_names(want)?;
            let made = read_made(&m);
            let reason = if !c.exists() || !k.exists() {
                Some("there was none".to_owned())
            } else {
                renewal_reason(made.as_ref(), want, &wanted.requested, now)
            };
            let made = match (reason.as_ref(), made) {
                (None, Some(made)) => made,
                _ => generate(&dir, &c, &k, &m, want.key, wanted.all, now)?,
            };
            let expires = OffsetDateTime::from_unix_timestamp(made.not_after)
                .map(|t| t.date().to_string())
                .ok();
            (c, k, reason, expires)
        }
        _ => return Err(TlsError::HalfPair),
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| pem_error(&cert_path, "certificate", e))?;
    let Some(leaf) = certs.first() else {
        return Err(TlsError::Pem {
            path: cert_path.display().to_string(),
            what: "certificate",
            message: "the file holds no certificate".into(),
        });
    };
    let fingerprint = fingerprint(leaf);
    let key =
        PrivateKeyDer::from_pem_file(&key_path).map_err(|e| pem_error(&key_path, "key", e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(Tls {
        config,
        fingerprint,
        cert_path,
        generated,
        expires,
    })
}

/// Why the certificate we have must be made anew, if it must.
fn renewal_reason(
    made: Option<&Made>,
    want: &SelfSigned,
    requested: &[String],
    now: OffsetDateTime,
) -> Option<String> {
    let Some(made) = made else {
        return Some("the one there was made by an older phonedir (ECDSA, dated 1975 to 4096, which many phones refuse)".to_owned());
    };
    if made.key != want.key {
        return Some(format!(
            "the key type asked for is {:?}, the certificate's {:?}",
            want.key, made.key
        ));
    }
    if let Some(missing) = requested.iter().find(|n| !made.names.contains(n)) {
        return Some(format!("it does not name {missing} (--tls-hostname)"));
    }
    let left = made.not_after - now.unix_timestamp();
    if left < RENEW_DAYS * 86_400 {
        return Some(format!("it ends in {} days", left.max(0) / 86_400));
    }
    None
}

struct Names {
    /// Every name the certificate gets.
    all: Vec<String>,
    /// The ones the operator asked for: a certificate without one of them is made anew.
    requested: Vec<String>,
}

/// The names a new certificate carries. Only the operator's (`--tls-hostname`) decide
/// whether an existing one is renewed: a host name or address found on the machine may
/// change (DHCP), and phones should not see a new certificate for that.
fn wanted_names(want: &SelfSigned) -> Result<Names, TlsError> {
    let mut requested = Vec::new();
    for h in &want.hostnames {
        let h = h.trim().trim_start_matches('[').trim_end_matches(']');
        if h.is_empty() {
            continue;
        }
        if h.parse::<IpAddr>().is_err() && !is_dns_name(h) {
            return Err(TlsError::BadName(h.to_owned()));
        }
        requested.push(h.to_ascii_lowercase());
    }
    let mut all: Vec<String> = requested.clone();
    all.extend(["localhost", "127.0.0.1", "::1"].map(str::to_owned));
    all.extend(hostname());
    for addr in &want.listen {
        match addr.parse::<std::net::SocketAddr>().map(|a| a.ip()) {
            Ok(ip) if ip.is_unspecified() => all.extend(primary_address(ip)),
            Ok(ip) => all.push(ip.to_string()),
            // `host:port` with a name: the name.
            Err(_) => {
                if let Some((host, _)) = addr.rsplit_once(':') {
                    if is_dns_name(host) {
                        all.push(host.to_ascii_lowercase());
                    }
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|n| seen.insert(n.clone()));
    Ok(Names { all, requested })
}

/// A name a certificate can carry: letters, digits and `-` in dot-separated labels
/// (`*.` in front for a wildcard).
fn is_dns_name(s: &str) -> bool {
    let s = s.strip_prefix("*.").unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The address this machine reaches the network from, for a server listening on all of
/// them: what phones on the LAN most likely connect to. Asked of the routing table only
/// (a UDP socket connected to a documentation address sends nothing).
fn primary_address(any: IpAddr) -> Option<String> {
    let (bind, probe) = if any.is_ipv4() {
        ("0.0.0.0:0", "192.0.2.1:9")
    } else {
        ("[::]:0", "[2001:db8::1]:9")
    };
    let s = std::net::UdpSocket::bind(bind).ok()?;
    s.connect(probe).ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then(|| ip.to_string())
}

fn read_made(path: &Path) -> Option<Made> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn pem_error(path: &Path, what: &'static str, e: rustls::pki_types::pem::Error) -> TlsError {
    TlsError::Pem {
        path: path.display().to_string(),
        what,
        message: e.to_string(),
    }
}

fn generate(
    dir: &Path,
    cert_path: &Path,
    key_path: &Path,
    made_path: &Path,
    key_type: KeyType,
    names: Vec<String>,
    now: OffsetDateTime,
) -> Result<Made, TlsError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| TlsError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let key = match key_type {
        KeyType::Rsa => rsa_key()?,
        KeyType::Ecdsa => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
    };
    let mut params = rcgen::CertificateParams::new(names.clone())?;
    // A day back, for phones whose clock is behind.
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(VALID_DAYS);
    params.serial_number = Some(serial()?);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0].clone());
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "phonedir");
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key)?;
    let made = Made {
        key: key_type,
        names,
        not_after: params.not_after.unix_timestamp(),
    };
    // Each file is written whole and then moved into place; the description goes last, so
    // a start interrupted half-way makes the certificate anew next time.
    replace(key_path, key.serialize_pem().as_bytes(), true).map_err(io(key_path))?;
    replace(cert_path, cert.pem().as_bytes(), false).map_err(io(cert_path))?;
    let json = serde_json::to_vec_pretty(&made).map_err(|e| TlsError::Generate(e.to_string()))?;
    replace(made_path, &json, false).map_err(io(made_path))?;
    Ok(made)
}

fn rsa_key() -> Result<rcgen::KeyPair, TlsError> {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, RSA_BITS)
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    let der = PrivatePkcs8KeyDer::from(der.as_bytes());
    Ok(rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &der,
        &rcgen::PKCS_RSA_SHA256,
    )?)
}

/// A random positive serial number, so two certificates of one machine never share one.
fn serial() -> Result<rcgen::SerialNumber, TlsError> {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| TlsError::Generate("no random numbers from the system".into()))?;
    b[0] &= 0x7f;
    b[0] |= 0x01;
    Ok(rcgen::SerialNumber::from(b.to_vec()))
}

fn hostname() -> Option<String> {
    let h = std::fs::read_to_string("/etc/hostname").ok()?;
    let h = h.trim().to_ascii_lowercase();
    (!h.is_empty() && h != "localhost" && is_dns_name(&h)).then_some(h)
}

/// Writes `bytes` to `path` through a temporary file beside it; a private key is readable
/// by its owner only.
fn replace(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

pub fn fingerprint(cert: &CertificateDer) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(key: KeyType, hostnames: &[&str]) -> SelfSigned {
        SelfSigned {
            key,
            hostnames: hostnames.iter().map(|h| h.to_string()).collect(),
            listen: vec!["0.0.0.0:8443".into()],
        }
    }

    #[test]
    fn generates_once_and_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let w = want(KeyType::Ecdsa, &[]);
        let a = load(dir.path(), None, None, &w).unwrap();
        assert_eq!(a.generated.as_deref(), Some("there was none"));
        let b = load(dir.path(), None, None, &w).unwrap();
        assert!(b.generated.is_none());
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 32 * 3 - 1);
    }

    #[test]
    fn renews_for_a_new_name_a_new_key_type_an_old_format_or_an_end_in_sight() {
        let dir = tempfile::tempdir().unwrap();
        let first = load(dir.path(), None, None, &want(KeyType::Ecdsa, &[])).unwrap();
        let named = load(
            dir.path(),
            None,
            None,
            &want(KeyType::Ecdsa, &["phones.example.com"]),
        )
        .unwrap();
        assert_ne!(first.fingerprint, named.fingerprint);
        assert!(named.generated.unwrap().contains("phones.example.com"));
        // A name it has is no reason.
        let same = load(
            dir.path(),
            None,
            None,
            &want(KeyType::Ecdsa, &["PHONES.example.com"]),
        )
        .unwrap();
        assert!(same.generated.is_none());
        let made = read_made(&dir.path().join("certs/selfsigned.json")).unwrap();
        let now = OffsetDateTime::now_utc();
        assert!((made.not_after - now.unix_timestamp() - VALID_DAYS * 86_400).abs() < 60);
        let soon = Made {
            not_after: now.unix_timestamp() + 10 * 86_400,
            ..made
        };
        let w = want(KeyType::Ecdsa, &[]);
        assert!(renewal_reason(Some(&soon), &w, &[], now)
            .unwrap()
            .contains("ends in 10 days"));
        assert!(renewal_reason(None, &w, &[], now)
            .unwrap()
            .contains("older phonedir"));
        assert!(
            renewal_reason(Some(&soon), &want(KeyType::Rsa, &[]), &[], now)
                .unwrap()
                .contains("key type")
        );
    }

    #[test]
    fn names_are_checked_and_listen_addresses_named() {
        let w = SelfSigned {
            key: KeyType::Rsa,
            hostnames: vec!["Phones.Example.com".into(), "[2001:db8::5]".into()],
            listen: vec!["192.0.2.7:8443".into(), "pbx.example.org:443".into()],
        };
        let n = wanted_names(&w).unwrap();
        assert_eq!(n.requested, vec!["phones.example.com", "2001:db8::5"]);
        for name in [
            "localhost",
            "127.0.0.1",
            "::1",
            "192.0.2.7",
            "pbx.example.org",
        ] {
            assert!(n.all.iter().any(|a| a == name), "{name}: {:?}", n.all);
        }
        let bad = SelfSigned {
            hostnames: vec!["not a name".into()],
            ..Default::default()
        };
        assert!(matches!(wanted_names(&bad), Err(TlsError::BadName(_))));
    }

    #[test]
    fn half_a_pair_and_garbage_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let w = SelfSigned::default();
        assert!(matches!(
            load(dir.path(), Some(Path::new("x.pem")), None, &w),
            Err(TlsError::HalfPair)
        ));
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a pem").unwrap();
        let e = load(dir.path(), Some(&junk), Some(&junk), &w)
            .err()
            .unwrap();
        assert!(e.to_string().contains("junk.pem"), "{e}");
        let e = load(dir.path(), Some(Path::new("missing.pem")), Some(&junk), &w)
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "--tls-cert missing.pem: the file does not exist"
        );
    }

    #[test]
    fn the_default_key_is_rsa_2048() {
        let dir = tempfile::tempdir().unwrap();
        let t = std::time::Instant::now();
        load(dir.path(), None, None, &SelfSigned::default()).unwrap();
        eprintln!("RSA certificate generated in {:?}", t.elapsed());
        let pem = std::fs::read_to_string(dir.path().join("certs/selfsigned.key.pem")).unwrap();
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).unwrap();
        let key = ring::rsa::KeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
        assert_eq!(key.public().modulus_len() * 8, 2048);
    }
}
