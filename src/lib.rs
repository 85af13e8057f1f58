//! phonedir: an online contact directory server for IP phones and PBXs.
//!
//! Data flows one way: `ingest` turns pushed or pulled input into `domain` values,
//! `store` persists them per directory and source, `book` merges and indexes a directory
//! once per version (the read model every reader reads), `render` turns a book (or what a
//! search found in it) into what a phone reads, and `http` is the thin layer in front of it
//! all; `dav` serves each book as a read-only CardDAV address book. `push` is the one path
//! by which a file becomes a source's contacts.

pub mod access;
pub mod book;
pub mod dav;
pub mod domain;
/// Numbers live in the domain (`domain::phone`); this path is kept for the modules that read
/// them.
pub use domain::phone;
pub mod http;
pub mod ingest;
pub mod jobs;
pub mod ldap;
mod lru;
pub mod metrics;
pub mod push;
pub mod render;
pub mod secret;
pub mod sources;
pub mod store;
pub mod targets;
