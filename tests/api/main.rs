//! Black-box tests: the real server on free ports, a fresh SQLite file per test, real
//! HTTP and HTTPS. One binary keeps the build cheap.

mod book;
mod caching;
mod carddav;
mod errors;
mod fake;
mod formats;
mod graph;
mod groups;
mod helpers;
mod imports;
mod keys;
mod ldap;
mod lifecycle;
mod manage;
mod merge;
mod radicale;
mod rest;
mod search;
mod security;
mod shapes;
mod sources;
mod tools;
mod vendors;
