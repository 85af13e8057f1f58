//! The LDAP face: desk phones search the book as the user types and look up callers over
//! LDAPv3 (plain with StartTLS, and LDAPS), a front end over the book like the HTTP phone
//! books.
//!
//! The tree it shows: `dc=phonedir`, one `ou=<KEY>` per directory, one
//! `uid=<contact id>` entry (inetOrgPerson) per contact. A simple bind with a key as the
//! password opens that key's directory whatever base a phone then searches; an anonymous
//! search must name the key in its base.
//!
//! - `dn`: base DNs → which part of the tree (pure).
//! - `attrs`: attribute names and aliases, the requested selection, entries (pure).
//! - `filter`: LDAP filters → a query over the book's indexes (pure).
//! - `search`: one search over one book (pure).
//! - `session`: one connection's protocol state: binds, controls, extended operations.
//! - `auth`: which directory a presented key opens (the one place keys are checked).
//! - `server`: listeners, TLS, StartTLS, and the bounds on connections and messages.
//! - `ber`: the search entries' encoding, written directly (the rest is ldap3_proto's).
//! - `replay`: a byte stream answered without network or store (fuzzing, robustness tests).

pub mod attrs;
pub mod auth;
mod ber;
pub mod dn;
pub mod filter;
#[doc(hidden)]
pub mod replay;
pub mod search;
pub mod server;
pub mod session;

pub use server::{start, LdapConfig, LdapError};
