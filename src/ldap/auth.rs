//! Which directory a key presented over LDAP opens: the password of a simple bind, or the
//! key named in a search base (`ou=<KEY>,dc=phonedir`). The one place the LDAP server checks
//! keys; it asks the server's `Gate`, so read keys open their directory, and unknown or
//! wrong keys count towards the address's wrong-key throttle like those in URLs.

use crate::access::{Denied, Gate, RetryAfter};
use crate::domain::{ApiKey, Scope};
use crate::store::StoreError;
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
    /// Not a key of any directory, or a revoked one (counted as a guess).
    Wrong,
    /// Too many wrong keys from this address lately.
    Throttled {
        retry_after_seconds: u64,
    },
}

/// What `presented` opens for reading, for a client at `client`.
pub fn directory_for(gate: &Gate, presented: &str, client: IpAddr) -> Result<Verdict, StoreError> {
    match gate.open(client, presented, Scope::Read) {
        Ok(access) => match ApiKey::parse(presented) {
            Ok(presented) => Ok(Verdict::Open(Opened {
                presented,
                directory: access.directory,
            })),
            Err(_) => Ok(Verdict::Wrong),
        },
        Err(Denied::Throttled(RetryAfter(seconds))) => Ok(Verdict::Throttled {
            retry_after_seconds: seconds,
        }),
        Err(Denied::Store(e)) => Err(e),
        Err(e) => {
            tracing::debug!(%client, reason = %e, "LDAP: a key that opens no directory");
            Ok(Verdict::Wrong)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::GateConfig;
    use crate::store::Store;
    use std::sync::Arc;

    #[test]
    fn read_keys_open_their_directory_wrong_keys_are_throttled() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let key = ApiKey::parse("ACMEq7Rt2xK9pL").unwrap();
        store.create_directory(&key).unwrap();
        let (read, _) = store.create_key(&key, Scope::Read, "desk phones").unwrap();
        let gate = Gate::new(
            store,
            &GateConfig {
                key_failures_per_minute: 3,
                registrations_per_hour: 0,
                open_registration: false,
            },
        );
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            directory_for(&gate, key.as_str(), client).unwrap(),
            Verdict::Open(Opened {
                presented: key.clone(),
                directory: key.clone(),
            })
        );
        assert_eq!(
            directory_for(&gate, read.as_str(), client).unwrap(),
            Verdict::Open(Opened {
                presented: read.clone(),
                directory: key.clone(),
            })
        );
        for wrong in ["ACMEq7Rt2xK9pM", "not a key", "acmeq7rt2xk9pl"] {
            assert_eq!(
                directory_for(&gate, wrong, client).unwrap(),
                Verdict::Wrong,
                "{wrong:?}"
            );
        }
        // The fourth wrong key in a minute: this address is throttled, even with a good key;
        // another address is not.
        let _ = directory_for(&gate, "ACMEq7Rt2xK9pN", client).unwrap();
        assert!(matches!(
            directory_for(&gate, key.as_str(), client).unwrap(),
            Verdict::Throttled { .. }
        ));
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(matches!(
            directory_for(&gate, key.as_str(), other).unwrap(),
            Verdict::Open(_)
        ));
    }
}
