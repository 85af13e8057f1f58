//! Secrets at rest: AES-256-GCM with a key from `PHONEDIR_SECRET_KEY` (64 hex digits) or the
//! file `secret.key` in the data directory, created on first start. A stolen database alone
//! does not reveal passwords; the key file must be backed up with it.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
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
        if let Some(v) = env_key {
            let bytes = hex_decode(v.trim()).ok_or(SecretError::BadEnvKey)?;
            return Sealer::from_bytes(&bytes).ok_or(SecretError::BadEnvKey);
        }
        let path = data_dir.join(KEY_FILE);
        let io = |source| SecretError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(s) => {
                let bad = || SecretError::BadKeyFile(path.display().to_string());
                let bytes = hex_decode(s.trim()).ok_or_else(bad)?;
                Sealer::from_bytes(&bytes).ok_or_else(bad)
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
                let mut f = opts.open(&path).map_err(io)?;
                writeln!(f, "{}", hex_encode(&bytes)).map_err(io)?;
                f.sync_all().map_err(io)?;
                tracing::info!(file = %path.display(), "created the key that encrypts source secrets; back it up with the database");
                Sealer::from_bytes(&bytes).ok_or(SecretError::Random)
            }
            Err(e) => Err(io(e)),
        }
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
