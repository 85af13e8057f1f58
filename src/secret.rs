//! The server's secret key and what it protects: source secrets sealed with AES-256-GCM, and
//! API keys, stored only as HMAC-SHA256 (for lookup) and sealed (directory keys, which the
//! scheduler and the CLI need back). The key comes from `PHONEDIR_SECRET_KEY` (64 hex digits)
//! or the file `secret.key` in the data directory, created on first start. A stolen database
//! alone reveals neither passwords nor keys; the key file must be backed up with it.

use crate::domain::ApiKey;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use std::io::Write;
use std::path::Path;

const PREFIX: &str = "sealed:v1:";
pub const KEY_ENV: &str = "PHONEDIR_SECRET_KEY";
const KEY_FILE: &str = "secret.key";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "{KEY_ENV} must be 64 hex digits (32 bytes); generate one with `openssl rand -hex 32`"
    )]
    BadEnvKey,
    #[error("the key file {0} is not 64 hex digits; restore it from a backup (sealed secrets cannot be read without it)")]
    BadKeyFile(String),
    #[error("cannot use the key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("no random numbers available")]
    Random,
    #[error("a stored secret cannot be decrypted with this key (was the key file replaced?); set the source's secret again")]
    Undecryptable,
    #[error("the key file {0} is missing but the database holds keys sealed with it; restore it from the backup, or set {KEY_ENV}")]
    Missing(String),
}

pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl Sealer {
    /// The key from the environment, else from the data directory's key file (created if
    /// absent, readable by the owner only).
    pub fn load(data_dir: &Path) -> Result<Sealer, SecretError> {
        Sealer::load_with(data_dir, std::env::var(KEY_ENV).ok())
    }

    fn load_with(data_dir: &Path, env_key: Option<String>) -> Result<Sealer, SecretError> {
        let bytes = key_bytes(data_dir, env_key, true)?;
        Sealer::from_bytes(&bytes).ok_or(SecretError::Random)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Sealer> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).ok()?;
        Some(Sealer {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    pub fn seal(&self, plain: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SecretError::Random)?;
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .map_err(|_| SecretError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{PREFIX}{}", hex_encode(&out)))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(hex_decode)
            .ok_or(SecretError::Undecryptable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Undecryptable)?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SecretError::Undecryptable)
    }
}

/// The 32 key bytes: from the environment, else the key file; a missing file is created
/// (owner-only) when `may_create`, else it is an error.
fn key_bytes(
    data_dir: &Path,
    env_key: Option<String>,
    may_create: bool,
) -> Result<[u8; 32], SecretError> {
    if let Some(v) = env_key {
        let bytes = hex_decode(v.trim()).ok_or(SecretError::BadEnvKey)?;
        return bytes.try_into().map_err(|_| SecretError::BadEnvKey);
    }
    let path = data_dir.join(KEY_FILE);
    let io = |source| SecretError::Io {
        path: path.display().to_string(),
        source,
    };
    let read = |s: String| {
        let bad = || SecretError::BadKeyFile(path.display().to_string());
        let bytes = hex_decode(s.trim()).ok_or_else(bad)?;
        <[u8; 32]>::try_from(bytes).map_err(|_| bad())
    };
    match std::fs::read_to_string(&path) {
        Ok(s) => read(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !may_create => {
            Err(SecretError::Missing(path.display().to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            SystemRandom::new()
                .fill(&mut bytes)
                .map_err(|_| SecretError::Random)?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = match opts.open(&path) {
                Ok(f) => f,
                // Another process (the CLI next to the server) created it just now.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return read(std::fs::read_to_string(&path).map_err(io)?)
                }
                Err(e) => return Err(io(e)),
            };
            writeln!(f, "{}", hex_encode(&bytes)).map_err(io)?;
            f.sync_all().map_err(io)?;
            tracing::info!(file = %path.display(), "created the key that encrypts source secrets and API keys; back it up with the database");
            Ok(bytes)
        }
        Err(e) => Err(io(e)),
    }
}

/// HMAC-SHA256 of an API key under the server's secret key: what the database stores and
/// looks keys up by.
pub type KeyHash = [u8; 32];

/// What the store needs of the secret key: hashing API keys, and sealing the directory keys
/// it must be able to give back.
pub struct Keyring {
    sealer: Sealer,
    mac: hmac::Key,
}

impl Keyring {
    /// As `Sealer::load`; with `may_create` false a missing key file is an error (the
    /// database already holds keys hashed with it).
    pub fn load(data_dir: &Path, may_create: bool) -> Result<Keyring, SecretError> {
        let bytes = key_bytes(data_dir, std::env::var(KEY_ENV).ok(), may_create)?;
        Keyring::from_bytes(&bytes).ok_or(SecretError::Random)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Keyring> {
        // A key of its own for hashing, derived from the secret key, so the AES key is never
        // also used as an HMAC key.
        let root = hmac::Key::new(hmac::HMAC_SHA256, bytes);
        let derived = hmac::sign(&root, b"phonedir api-key hash v1");
        Some(Keyring {
            sealer: Sealer::from_bytes(bytes)?,
            mac: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        })
    }

    pub fn hash(&self, key: &ApiKey) -> KeyHash {
        let tag = hmac::sign(&self.mac, key.as_str().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Whether `stored` is the hash of `key`, compared in constant time.
    pub fn verify(&self, key: &ApiKey, stored: &[u8]) -> bool {
        hmac::verify(&self.mac, key.as_str().as_bytes(), stored).is_ok()
    }

    /// A value that tells whether a database was written with this secret key, so a wrong
    /// key is reported as such rather than as "no directory has this key".
    pub fn check_value(&self) -> String {
        hex_encode(hmac::sign(&self.mac, b"phonedir key check").as_ref())
    }

    pub fn seal(&self, plain: &str) -> Result<String, SecretError> {
        self.sealer.seal(plain)
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        self.sealer.open(sealed)
    }
}

/// A new random key, uniform over the 62 characters and never one open registration would
/// refuse as guessable.
pub fn new_api_key() -> Result<ApiKey, SecretError> {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let rng = SystemRandom::new();
    // About one key in 30 has a run or too few characters; 100 tries never all fail.
    for _ in 0..100 {
        let mut key = String::with_capacity(ApiKey::LEN);
        while key.len() < ApiKey::LEN {
            let mut buf = [0u8; 32];
            rng.fill(&mut buf).map_err(|_| SecretError::Random)?;
            // 248 = 4 * 62: bytes above it would make some characters likelier.
            for b in buf.into_iter().filter(|b| *b < 248) {
                if key.len() < ApiKey::LEN {
                    key.push(char::from(ALPHABET[usize::from(b % 62)]));
                }
            }
        }
        if let Ok(k) = ApiKey::parse(&key) {
            if k.guessable().is_none() {
                return Ok(k);
            }
        }
    }
    Err(SecretError::Random)
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_refuses_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let a = Sealer::load_with(dir.path(), None).unwrap();
        let sealed = a.seal("hunter2").unwrap();
        assert!(!sealed.contains("hunter2"));
        assert_ne!(sealed, a.seal("hunter2").unwrap(), "fresh nonce each time");
        // The same key file gives the same key after a restart.
        let again = Sealer::load_with(dir.path(), None).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), "hunter2");
        let other = Sealer::from_bytes(&[7u8; 32]).unwrap();
        assert!(matches!(
            other.open(&sealed),
            Err(SecretError::Undecryptable)
        ));
        assert!(matches!(a.open("plain"), Err(SecretError::Undecryptable)));
    }

    #[test]
    fn keys_hash_by_the_secret_key_and_new_keys_are_random() {
        let a = Keyring::from_bytes(&[1u8; 32]).unwrap();
        let b = Keyring::from_bytes(&[2u8; 32]).unwrap();
        let k = ApiKey::parse("Kt4wQ9zLm2Rx7B").unwrap();
        assert_eq!(a.hash(&k), a.hash(&k));
        assert_ne!(a.hash(&k), b.hash(&k), "another server, other hashes");
        assert!(a.verify(&k, &a.hash(&k)));
        assert!(!a.verify(&k, &b.hash(&k)));
        assert_ne!(a.check_value(), b.check_value());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let n = new_api_key().unwrap();
            assert!(n.guessable().is_none(), "{n:?}");
            assert!(seen.insert(n));
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            key_bytes(dir.path(), None, false),
            Err(SecretError::Missing(_))
        ));
    }

    #[test]
    fn a_key_from_the_environment_wins_and_a_bad_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let hex = "07".repeat(32);
        let s = Sealer::load_with(dir.path(), Some(hex)).unwrap();
        let sealed = s.seal("pw").unwrap();
        let same = Sealer::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(same.open(&sealed).unwrap(), "pw");
        assert!(
            !dir.path().join(KEY_FILE).exists(),
            "no key file with an env key"
        );
        assert!(matches!(
            Sealer::load_with(dir.path(), Some("abc".into())),
            Err(SecretError::BadEnvKey)
        ));
        std::fs::write(dir.path().join(KEY_FILE), "not hex\n").unwrap();
        let e = Sealer::load_with(dir.path(), None).err().unwrap();
        assert!(e.to_string().contains("backup"), "{e}");
    }
}
