use std::fmt;

/// The 14-character key that names a directory (`/contacts/{KEY}`). Phones cannot send headers,
/// so the key lives in the URL and is the only thing that separates one customer from another.
///
/// A directory has one key of scope `Admin` (the directory key, which manages it) and any
/// number of `Read` and `Push` keys; all have this shape.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey(String);

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("an API key has exactly 14 characters, this one has {0}")]
    Length(usize),
    #[error("an API key consists of the characters 0-9, A-Z and a-z only")]
    Charset,
}

/// Why a key is too easy to guess to be handed out by open registration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Guessable {
    #[error("this key has only {0} different characters; a key needs at least 8, so that nobody guesses it (let the server choose one: POST /api/v1/directories)")]
    FewCharacters(usize),
    #[error("this key holds the run `{0}`, which guessers try first; choose a random key (or let the server choose one: POST /api/v1/directories)")]
    Run(String),
}

impl ApiKey {
    pub const LEN: usize = 14;
    /// Fewest different characters an openly registered key must have.
    pub const MIN_DISTINCT: usize = 8;

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

    /// The first characters, which listings show in place of the key.
    pub fn hint(&self) -> &str {
        &self.0[..4]
    }

    /// Whether guessers would try this key early: fewer than 8 different characters, or a
    /// run of 4 equal or consecutive characters (`aaaa`, `1234`, `dcba`).
    pub fn guessable(&self) -> Option<Guessable> {
        let b = self.0.as_bytes();
        let mut distinct: Vec<u8> = b.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < Self::MIN_DISTINCT {
            return Some(Guessable::FewCharacters(distinct.len()));
        }
        for w in b.windows(4) {
            let step = i16::from(w[1]) - i16::from(w[0]);
            let same_step = w
                .windows(2)
                .all(|p| i16::from(p[1]) - i16::from(p[0]) == step);
            if same_step && (-1..=1).contains(&step) {
                return Some(Guessable::Run(String::from_utf8_lossy(w).into_owned()));
            }
        }
        None
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

/// What a key may do. Ordered: each scope may do everything the ones before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Every reading URL: phone books, lookup, and the CardDAV and LDAP servers. What phones get.
    Read,
    /// Reading, and pushes to `/contacts/{KEY}`: what an export script gets.
    Push,
    /// The directory key: everything, and the only credential of the management API.
    Admin,
}

impl Scope {
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }

    /// The name the API, the CLI and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Push => "push",
            Scope::Admin => "directory",
        }
    }

    pub fn from_name(s: &str) -> Option<Scope> {
        match s {
            "read" => Some(Scope::Read),
            "push" => Some(Scope::Push),
            "directory" => Some(Scope::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a presented key opens: which directory, by its directory key and id, and how far.
/// Every front end (HTTP, CardDAV, LDAP) gets one of these from `access::Gate` and then works
/// on `directory` alone, so a read key can never reach further than its scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// The directory's own key, under which the store knows it. Never shown to the holder of
    /// a read or push key.
    pub directory: ApiKey,
    pub directory_id: i64,
    pub scope: Scope,
    /// The presented key's row, for its `last used` time.
    pub key_id: i64,
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
        assert_eq!(k.hint(), "ACME");
    }

    #[test]
    fn guessable_keys_are_told_apart_from_random_ones() {
        let g = |s: &str| ApiKey::parse(s).unwrap().guessable();
        assert_eq!(g("ACME0123456789"), Some(Guessable::Run("0123".into())));
        assert_eq!(g("aaaaaaaaaaaaaa"), Some(Guessable::FewCharacters(1)));
        assert_eq!(g("ZZZZZZZZZZZZZZ"), Some(Guessable::FewCharacters(1)));
        assert_eq!(g("abababababcdcd"), Some(Guessable::FewCharacters(4)));
        assert_eq!(g("Xq7aaaaR2mK9pL"), Some(Guessable::Run("aaaa".into())));
        assert_eq!(g("Xq7dcbaR2mK9pL"), Some(Guessable::Run("dcba".into())));
        assert_eq!(g("Xq7ABCDR2mK9pL"), Some(Guessable::Run("ABCD".into())));
        // Three in a row, or letters that only look consecutive across cases, are fine.
        assert_eq!(g("Xq7abcR2mK9pLz"), None);
        assert_eq!(g("XqYZabR2mK9pLz"), None);
        assert_eq!(g("Kt4wQ9zLm2Rx7B"), None);
    }

    #[test]
    fn scopes_are_ordered() {
        assert!(Scope::Admin.allows(Scope::Push));
        assert!(Scope::Push.allows(Scope::Read));
        assert!(!Scope::Read.allows(Scope::Push));
        assert!(!Scope::Push.allows(Scope::Admin));
        for s in [Scope::Read, Scope::Push, Scope::Admin] {
            assert_eq!(Scope::from_name(s.as_str()), Some(s));
        }
        assert_eq!(Scope::from_name("admin"), None);
    }
}
