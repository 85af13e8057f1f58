use std::fmt;

/// The 14-character key that names a directory (`/contacts/{KEY}`). Phones cannot send headers,
/// so the key lives in the URL and is the only thing that separates one customer from another.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("an API key has exactly 14 characters, this one has {0}")]
    Length(usize),
    #[error("an API key consists of the characters 0-9, A-Z and a-z only")]
    Charset,
}

impl ApiKey {
    pub const LEN: usize = 14;

    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let n = s.chars().count();
        if n != Self::LEN {
            return Err(KeyError::Length(n));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KeyError::Charset);
        }
        Ok(ApiKey(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as it may appear in logs: enough to tell keys apart, too little to use one.
    pub fn masked(&self) -> String {
        mask_key(&self.0)
    }
}

/// Masks anything that stands where a key stands, valid or not.
pub fn mask_key(s: &str) -> String {
    let head: String = s.chars().take(4).collect();
    format!("{head}**********")
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output never shows the whole key, so a stray `{:?}` cannot leak it into a log.
impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_vendor_demo_key_and_upper_case_keys() {
        assert!(ApiKey::parse("DEMOabcABC0123").is_ok());
        assert!(ApiKey::parse("ACME0123456789").is_ok());
    }

    #[test]
    fn refuses_wrong_length_and_characters() {
        assert_eq!(ApiKey::parse("SHORT"), Err(KeyError::Length(5)));
        assert_eq!(ApiKey::parse("ACME012345678901"), Err(KeyError::Length(16)));
        assert_eq!(ApiKey::parse("ACME-123456789"), Err(KeyError::Charset));
        assert_eq!(ApiKey::parse("ACMEÄ12345678X"), Err(KeyError::Charset));
    }

    #[test]
    fn debug_and_mask_hide_the_key() {
        let k = ApiKey::parse("ACME0123456789").unwrap();
        assert_eq!(format!("{k:?}"), "ApiKey(ACME**********)");
        assert!(!k.masked().contains("0123456789"));
    }
}
