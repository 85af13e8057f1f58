//! Cached phone books: byte-identical on every path, gzip when asked, never stale after a
//! push, and aware of writes by another process on the same data directory.

use crate::helpers::{cli, fixture, Server, KEY};

#[test]
fn gzip_when_accepted_and_the_same_bytes_either_way() {
    let s = Server::start(&[]);
    assert_eq!(
        s.push(
            &format!("/contacts/{KEY}"),
            &fixture("syncblue-directory.csv")
        )
        .status,
        200
    );
    let url = s.url(&format!("/contacts/{KEY}/yealink/v1"));
    let plain = s.request("GET", &url, &[("Accept-Encoding", "identity")], None);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    // The bytes of the gzipped answer are checked in raw_gzip_bytes_are_a_gzip_of_the_body.
    let zipped = s.request("GET", &url, &[("Accept-Encoding", "gzip")], None);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    // Two byte sequences, two strong ETags (RFC 9110 8.8.3); either revalidates.
    assert_ne!(plain.header("etag"), zipped.header("etag"));
    for tag in [plain.header("etag"), zipped.header("etag")] {
        let tag = tag.expect("etag");
        assert!(
            tag.starts_with('"') && !tag.starts_with("W/"),
            "strong: {tag}"
        );
    }
    for (enc, tag) in [
        ("gzip", zipped.header("etag")),
        ("identity", plain.header("etag")),
    ] {
        let r = s.request(
            "GET",
            &url,
            &[("Accept-Encoding", enc), ("If-None-Match", tag.unwrap())],
            None,
        );
        assert_eq!(r.status, 304, "{enc}");
        assert_eq!(r.header("etag"), tag, "{enc}");
    }
    // Many times from the cache, the same.
    for _ in 0..5 {
        assert_eq!(s.book("yealink/v1").body, plain.body);
    }
}

#[test]
fn raw_gzip_bytes_are_a_gzip_of_the_body() {
    use std::io::{Read, Write};
    let s = Server::start(&[]);
    s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    let plain = s.book("snom/tbook").body;
    // A raw socket, so nothing decodes on our side.
    let addr = s.http.trim_start_matches("http://");
    let mut sock = std::net::TcpStream::connect(addr).unwrap();
    write!(
        sock,
        "GET /contacts/{KEY}/snom/tbook HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    sock.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    assert!(head.contains("content-encoding: gzip"), "{head}");
    let mut body = &raw[split + 4..];
    let mut unzipped = String::new();
    if head.contains("transfer-encoding: chunked") {
        panic!("expected a sized body: {head}");
    }
    flate2::read::GzDecoder::new(&mut body)
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
}

#[test]
fn a_push_is_visible_at_once_and_304s_follow_the_version() {
    let s = Server::start(&[]);
    let path = format!("/contacts/{KEY}/snom/v1");
    for i in 0..5 {
        let name = format!("Person {i}");
        let csv = format!("display_name,phone\n{name},+493090182{i}\n");
        assert_eq!(
            s.push(&format!("/contacts/{KEY}"), csv.as_bytes()).status,
            200
        );
        let r = s.get(&path);
        assert!(r.body.contains(&name), "push {i} not visible: {}", r.body);
        let tag = r.header("etag").unwrap().to_owned();
        let again = s.request("GET", &s.url(&path), &[("If-None-Match", &tag)], None);
        assert_eq!(again.status, 304);
    }
}

#[test]
fn a_cli_import_beside_the_running_server_is_noticed() {
    let s = Server::start(&[]);
    s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    let before = s.book("yealink/v1");
    assert!(before.body.contains("Oliver Baltz"));
    let file = s.data_dir().join("other.csv");
    std::fs::write(
        &file,
        "display_name,phone\nImported Elsewhere,+4930901820\n",
    )
    .unwrap();
    let (ok, _, err) = cli(&[
        "import",
        "--data-dir",
        s.data_dir().to_str().unwrap(),
        "--key",
        KEY,
        file.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    std::thread::sleep(std::time::Duration::from_millis(400));
    let after = s.book("yealink/v1");
    assert!(after.body.contains("Imported Elsewhere"), "{}", after.body);
    assert_ne!(before.header("etag"), after.header("etag"));
}

#[test]
fn head_answers_with_the_headers_of_get() {
    let s = Server::start(&[]);
    s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    for path in ["", "/yealink/v1", "/gigaset/v1", "/vcard"] {
        let url = s.url(&format!("/contacts/{KEY}{path}"));
        let get = s.request("GET", &url, &[], None);
        let head = s.request("HEAD", &url, &[], None);
        assert_eq!(head.status, 200, "{path}");
        assert!(head.body.is_empty(), "{path}");
        assert_eq!(head.header("etag"), get.header("etag"), "{path}");
        assert_eq!(
            head.header("content-length").map(str::to_owned),
            Some(get.body.len().to_string()),
            "{path}"
        );
    }
    assert_eq!(
        s.request("HEAD", &s.url("/contacts/ZZZZZZZZZZZZZZ"), &[], None)
            .status,
        404
    );
}
