//! phonedir: an online contact directory server for IP phones and PBXs.
//!
//! Data flows one way: `ingest` turns pushed or pulled input into `domain` values,
//! `store` persists them per directory and source, `render` turns a stored book into what a
//! phone reads, and `http` is the thin layer in front of it all. `push` is the one path by
//! which a file becomes a source's contacts.

pub mod domain;
pub mod http;
pub mod ingest;
pub mod jobs;
pub mod lookup;
pub mod phone;
pub mod push;
pub mod render;
pub mod sources;
pub mod store;
