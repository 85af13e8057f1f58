//! Black-box tests: the real server on free ports, a fresh SQLite file per test, real
//! HTTP and HTTPS. One binary keeps the build cheap.

mod admin;
mod book;
mod browser;
mod caching;
mod carddav;
mod carddav_server;
mod certificates;
mod docs;
mod errors;
mod fake;
mod formats;
mod gigaset;
mod graph;
mod groups;
mod helpers;
mod imports;
mod isolation;
mod keys;
mod ldap;
mod lifecycle;
mod manage;
mod merge;
mod openapi;
mod params;
mod radicale;
mod rest;
mod search;
mod security;
mod shapes;
mod sources;
mod targets;
mod tools;
mod vendors;
mod words;
