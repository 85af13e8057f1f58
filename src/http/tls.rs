//! HTTPS setup: the operator's certificate, or a self-signed one generated on first start
//! in `<data-dir>/certs/` and reused, so phones that pinned it keep working.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

pub struct Tls {
    pub config: rustls::ServerConfig,
    /// SHA-256 of the leaf certificate, `AB:CD:…`, as browsers and phones display it.
    pub fingerprint: String,
    pub cert_path: PathBuf,
    pub generated: bool,
}

pub fn load(data_dir: &Path, cert: Option<&Path>, key: Option<&Path>) -> Result<Tls, TlsError> {
    let (cert_path, key_path, generated) = match (cert, key) {
        (Some(c), Some(k)) => {
            for (flag, path) in [("--tls-cert", c), ("--tls-key", k)] {
                if !path.exists() {
                    return Err(TlsError::Missing {
                        flag,
                        path: path.display().to_string(),
                    });
                }
            }
            (c.to_path_buf(), k.to_path_buf(), false)
        }
        (None, None) => {
            let dir = data_dir.join("certs");
            let c = dir.join("selfsigned.pem");
            let k = dir.join("selfsigned.key.pem");
            let generated = !c.exists() || !k.exists();
            if generated {
                generate(&dir, &c, &k)?;
            }
            (c, k, generated)
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
    })
}

fn pem_error(path: &Path, what: &'static str, e: rustls::pki_types::pem::Error) -> TlsError {
    TlsError::Pem {
        path: path.display().to_string(),
        what,
        message: e.to_string(),
    }
}

fn generate(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<(), TlsError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| TlsError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Some(h) = hostname() {
        names.push(h);
    }
    let ck = rcgen::generate_simple_self_signed(names)?;
    write_private(key_path, ck.signing_key.serialize_pem().as_bytes()).map_err(io(key_path))?;
    std::fs::write(cert_path, ck.cert.pem()).map_err(io(cert_path))?;
    Ok(())
}

fn hostname() -> Option<String> {
    let h = std::fs::read_to_string("/etc/hostname").ok()?;
    let h = h.trim();
    (!h.is_empty() && h != "localhost").then(|| h.to_owned())
}

/// The private key is readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
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

    #[test]
    fn generates_once_and_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let a = load(dir.path(), None, None).unwrap();
        assert!(a.generated);
        let b = load(dir.path(), None, None).unwrap();
        assert!(!b.generated);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 32 * 3 - 1);
    }

    #[test]
    fn half_a_pair_and_garbage_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load(dir.path(), Some(Path::new("x.pem")), None),
            Err(TlsError::HalfPair)
        ));
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a pem").unwrap();
        let e = load(dir.path(), Some(&junk), Some(&junk)).err().unwrap();
        assert!(e.to_string().contains("junk.pem"), "{e}");
    }
}
