//! Black-box tests: the real server on free ports, a fresh SQLite file per test, real
//! HTTP and HTTPS. One binary keeps the build cheap.

mod caching;
mod errors;
mod formats;
mod groups;
mod helpers;
mod imports;
mod lifecycle;
mod manage;
mod search;
mod shapes;
mod vendors;
