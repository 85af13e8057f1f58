//! Which directory a key presented over LDAP opens: the password of a simple bind, or the
//! key named in a search base (`ou=<KEY>,dc=phonedir`). The one place the LDAP server
//! checks keys, so read keys and the wrong-key throttle plug in here and nowhere else.

use crate::domain::ApiKey;
use crate::store::{Store, StoreError};
use std::net::IpAddr;

/// A key that opened a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The key as the client presented it: DNs the client sees carry this one, so a phone
    /// holding a read key never learns another key of the directory.
    pub presented: ApiKey,
    /// The directory's own key, which the book is found by.
    pub directory: ApiKey,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Open(Opened),
    /// Not a key of any directory (counts as a guess).
    Wrong,
    /// Too many wrong keys from this address lately.
    Throttled {
        retry_after_seconds: u64,
    },
}

/// What `presented` opens for a client at `client`.
pub fn directory_for(
    store: &Store,
    presented: &str,
    client: IpAddr,
) -> Result<Verdict, StoreError> {
    let Ok(key) = ApiKey::parse(presented) else {
        return Ok(wrong(client));
    };
    let Some(dir) = store.directory(&key)? else {
        return Ok(wrong(client));
    };
    if !same(dir.key.as_str().as_bytes(), presented.as_bytes()) {
        return Ok(wrong(client));
    }
    Ok(Verdict::Open(Opened {
        presented: key,
        directory: dir.key,
    }))
}

fn wrong(client: IpAddr) -> Verdict {
    tracing::debug!(%client, "LDAP: a key that opens no directory");
    Verdict::Wrong
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_key_opens_its_directory_and_nothing_else_does() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let key = ApiKey::parse("ACME0123456789").unwrap();
        store.create_directory(&key).unwrap();
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            directory_for(&store, "ACME0123456789", client).unwrap(),
            Verdict::Open(Opened {
                presented: key.clone(),
                directory: key,
            })
        );
        for wrong in [
            "ACME0123456788",
            "acme0123456789",
            "",
            "ACME0123456789 ",
            "x",
        ] {
            assert_eq!(
                directory_for(&store, wrong, client).unwrap(),
                Verdict::Wrong,
                "{wrong:?}"
            );
        }
    }
}
