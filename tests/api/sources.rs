//! The sources part of the management API, and helpers the pull tests share.

use crate::helpers::{cli, Response, Server, KEY};

/// A management API call on the test directory, with its key as Bearer token.
pub fn api(s: &Server, method: &str, path: &str, body: Option<&str>) -> Response {
    let url = s.url(&format!("/api/v1/directories/{KEY}{path}"));
    let auth = format!("Bearer {KEY}");
    s.request(
        method,
        &url,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.map(str::as_bytes),
    )
}

pub fn create_directory(s: &Server) {
    let (ok, _, err) = cli(&[
        "directory",
        "create",
        KEY,
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
}
