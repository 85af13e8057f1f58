//! The attacks of issue 10, tried as an attacker would, against the real server on loopback:
//! guessing keys, steering links through forged proxy headers, reading internal services
//! through a pulled source (every spelling of a loopback address, a redirect), telling ports
//! apart by how a sync fails, carrying a stored secret or token to one's own host, and
//! finding keys in the log. Each must fail; positive controls show the listeners were there.

use crate::fake::{Fake, Reply, Request};
use crate::helpers::{with_book, Response, Server, KEY, LOCAL_SOURCES};
use crate::keys::{call, new_key};
use crate::sources::{api, create_directory};
use serde_json::json;
use std::time::Duration;

/// A GET as if from `ip` (the server trusts 127.0.0.1 as its proxy in these tests).
fn get_from(s: &Server, ip: &str, path: &str) -> Response {
    s.request("GET", &s.url(path), &[("X-Forwarded-For", ip)], None)
}

fn guess(n: usize) -> String {
    format!("Gx{n:012}")
}

/// Requests with unknown keys from `ip` until one answers 429; how many answered 404 first.
fn guesses_until_throttled(s: &Server, ip: &str) -> (usize, Response) {
    for n in 1..=100 {
        let r = get_from(s, ip, &format!("/contacts/{}/yealink/v1", guess(n)));
        if r.status == 429 {
            return (n - 1, r);
        }
        assert_eq!(r.status, 404, "{}", r.body);
    }
    panic!("100 wrong keys were never throttled");
}

#[test]
fn guessing_is_throttled_per_address_while_others_are_served() {
    let s = with_book(&["--trusted-proxy", "127.0.0.1/32"]);
    let (attacker, phone) = ("203.0.113.66", "198.51.100.7");
    let (answered, r) = guesses_until_throttled(&s, attacker);
    assert_eq!(answered, 20, "--key-failures-per-minute defaults to 20");
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        r.json()["error"].as_str().unwrap().contains("wait"),
        "{}",
        r.body
    );
    // The attacker's address now gets nothing for any key, not even a right one, so the
    // 200/404 difference no longer tells which keys exist.
    assert_eq!(
        get_from(&s, attacker, &format!("/contacts/{KEY}")).status,
        429
    );
    let r = s.request(
        "GET",
        &s.url(&format!("/api/v1/directories/{KEY}")),
        &[
            ("X-Forwarded-For", attacker),
            ("Authorization", &format!("Bearer {KEY}")),
        ],
        None,
    );
    assert_eq!(r.status, 429);
    // Meanwhile a phone elsewhere is served as always, and a typo there is only a 404.
    let r = get_from(&s, phone, &format!("/contacts/{KEY}/yealink/v1"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        get_from(&s, phone, &format!("/contacts/{}", guess(999))).status,
        404
    );

    // Wrong Bearer keys count the same, per address.
    let other = "192.0.2.9";
    let url = s.url(&format!("/api/v1/directories/{KEY}"));
    let statuses: Vec<u16> = (1..=21)
        .map(|n| {
            let auth = format!("Bearer {}", guess(n));
            s.request(
                "GET",
                &url,
                &[("X-Forwarded-For", other), ("Authorization", &auth)],
                None,
            )
            .status
        })
        .collect();
    assert_eq!(statuses[..20], [403; 20]);
    assert_eq!(statuses[20], 429);
}

#[test]
fn forged_forwarding_headers_do_not_escape_the_throttle() {
    // No --trusted-proxy: X-Forwarded-For is anyone's to send, so it counts for nothing.
    let s = with_book(&[]);
    for n in 1..=20 {
        let ip = format!("198.51.100.{n}");
        assert_eq!(
            get_from(&s, &ip, &format!("/contacts/{}", guess(n))).status,
            404
        );
    }
    assert_eq!(
        get_from(&s, "198.51.100.99", &format!("/contacts/{KEY}")).status,
        429
    );
}

#[test]
fn a_throttled_address_is_served_again_once_it_cooled_down() {
    let s = with_book(&["--key-failures-per-minute", "60"]);
    let (answered, r) = guesses_until_throttled(&s, "ignored");
    assert_eq!(answered, 60);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(wait, 1, "one failure leaks per second at 60 a minute");
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(s.get(&format!("/contacts/{KEY}")).status, 200);
}

#[test]
fn forwarded_host_steers_links_only_through_a_trusted_proxy() {
    let forged = [
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "https"),
    ];
    let s = with_book(&[]);
    let r = s.request(
        "GET",
        &s.url(&format!("/contacts/{KEY}/snom/v1?page=1")),
        &forged,
        None,
    );
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("evil.example"), "{}", r.body);
    assert!(
        r.body
            .contains(&format!("{}/contacts/{KEY}/snom/search", s.http)),
        "{}",
        r.body
    );
    // Behind a proxy the operator named, the proxy's word is what the phone used.
    let s = with_book(&["--trusted-proxy", "127.0.0.1/32"]);
    let r = s.request(
        "GET",
        &s.url(&format!("/contacts/{KEY}/snom/v1?page=1")),
        &forged,
        None,
    );
    assert!(
        r.body
            .contains(&format!("https://evil.example/contacts/{KEY}/snom/search")),
        "{}",
        r.body
    );
}

fn rest_source(url: &str) -> String {
    json!({"kind": "rest", "url": url, "interval_s": 0,
           "fields": {"display_name": "name", "numbers": {"WORK": ["tel"]}}})
    .to_string()
}

/// Points source `name` at `url` and syncs it now.
fn sync_rest(s: &Server, name: &str, url: &str) -> Response {
    let r = api(
        s,
        "PUT",
        &format!("/sources/{name}"),
        Some(&rest_source(url)),
    );
    assert!(r.status == 201 || r.status == 200, "{url}: {}", r.body);
    api(s, "POST", &format!("/sources/{name}/sync"), None)
}

fn internal_service() -> Fake {
    Fake::start(|_| {
        Reply::json(
            200,
            json!([{"name": "Internal Secret", "tel": "+49 30 1234567"}]),
        )
    })
}

fn port_of(base: &str) -> &str {
    base.rsplit(':').next().unwrap()
}

#[test]
fn private_networks_are_refused_in_every_spelling() {
    let internal = internal_service();
    let port = port_of(&internal.base);
    let s = Server::start(&[]);
    create_directory(&s);
    let loopback = [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "0177.0.0.1",
        "127.000.000.001",
        "localhost",
        "LocalHost",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
    ];
    let others = [
        ("169.254.169.254", "cloud metadata"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.100.100.200", "private"),
        ("[fd00:ec2::254]", "unique-local"),
        ("0.0.0.0", "reserved"),
    ];
    let cases = loopback
        .iter()
        .map(|h| (*h, "loopback"))
        .chain(others)
        .enumerate();
    for (i, (host, what)) in cases {
        let url = format!("http://{host}:{port}/people");
        let r = sync_rest(&s, &format!("s{i}"), &url);
        assert_eq!(r.status, 502, "{url}: {}", r.body);
        let msg = r.json()["error"].as_str().unwrap().to_owned();
        assert!(
            msg.contains(what) && msg.contains("--source-allow"),
            "{url}: {msg}"
        );
    }
    assert!(
        internal.requests().is_empty(),
        "the internal service was reached"
    );
    assert!(!s
        .get(&format!("/contacts/{KEY}"))
        .body
        .contains("Internal Secret"));

    // Positive control: admitted, the same spellings reach it.
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let reachable = ["127.1", "2130706433", "0x7f.1", "0177.0.0.1", "localhost"];
    for (i, host) in reachable.iter().enumerate() {
        let r = sync_rest(
            &s,
            &format!("s{i}"),
            &format!("http://{host}:{port}/people"),
        );
        assert_eq!(r.status, 200, "{host}: {}", r.body);
    }
    assert_eq!(internal.requests().len(), reachable.len());
}

#[test]
fn a_redirect_into_a_private_network_is_refused() {
    let internal = internal_service();
    let target = format!("{}/people", internal.base);
    let front = Fake::start_on("127.0.0.2:0", move |_| Reply {
        status: 302,
        headers: vec![("Location".into(), target.clone())],
        body: String::new(),
    });
    // The front is admitted, the address it redirects to is not.
    let s = Server::start(&["--source-allow", "127.0.0.2/32"]);
    create_directory(&s);
    let r = sync_rest(&s, "front", &format!("{}/people", front.base));
    assert_eq!(r.status, 502, "{}", r.body);
    let msg = r.json()["error"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("redirects") && msg.contains("--source-allow"),
        "{msg}"
    );
    assert_eq!(front.requests().len(), 1);
    assert!(internal.requests().is_empty(), "the redirect was followed");
    // Both admitted: followed.
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let r = sync_rest(&s, "front", &format!("{}/people", front.base));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(internal.requests().len(), 1);
}

#[test]
fn failed_connections_read_the_same_however_they_failed() {
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ssh = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ssh_port = ssh.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in ssh.incoming().flatten() {
            let mut c = c;
            let _ = std::io::Write::write_all(&mut c, b"SSH-2.0-OpenSSH_9.6\r\n");
        }
    });
    let plain = internal_service();
    let tls_port = port_of(&s.https).to_owned();
    let targets = [
        format!("http://127.0.0.1:{closed}"),
        format!("http://127.0.0.1:{ssh_port}"),
        // TLS to a plain HTTP server, and plain HTTP to a TLS server.
        format!("https://127.0.0.1:{}", port_of(&plain.base)),
        format!("http://127.0.0.1:{tls_port}"),
    ];
    let mut seen = Vec::new();
    for (i, origin) in targets.iter().enumerate() {
        let r = sync_rest(&s, &format!("p{i}"), &format!("{origin}/people"));
        assert_eq!(r.status, 502, "{origin}: {}", r.body);
        let msg = r.json()["error"]
            .as_str()
            .unwrap()
            .replace(origin.as_str(), "ORIGIN");
        seen.push(msg);
    }
    assert!(seen.iter().all(|m| m == &seen[0]), "{seen:#?}");
    assert!(seen[0].contains("cannot reach ORIGIN"), "{}", seen[0]);
}

const SECRET: &str = "s3cret-value";

/// Microsoft Graph: the token endpoint wants SECRET; users/delta answers one user and a
/// delta link, or `next` as its nextLink.
fn graph(next: Option<String>) -> Fake {
    Fake::start(move |req: &Request| {
        if req.path().ends_with("/oauth2/v2.0/token") {
            if !req.body.contains(&format!("client_secret={SECRET}")) {
                return Reply::json(401, json!({"error": "invalid_client"}));
            }
            return Reply::json(
                200,
                json!({"access_token": "T0K", "token_type": "Bearer", "expires_in": 3600}),
            );
        }
        if req.header("authorization") != Some("Bearer T0K") {
            return Reply::json(
                401,
                json!({"error": {"code": "InvalidAuthenticationToken"}}),
            );
        }
        let base = format!("http://{}", req.header("host").unwrap());
        let user = json!({"id": "u1", "displayName": "Anna Graph",
                          "businessPhones": ["+49 30 1234567"], "accountEnabled": true});
        match &next {
            Some(n) => Reply::json(200, json!({"value": [user], "@odata.nextLink": n})),
            None => Reply::json(
                200,
                json!({"value": [user],
                       "@odata.deltaLink": format!("{base}/v1.0/users/delta?$deltatoken=x")}),
            ),
        }
    })
}

fn graph_settings(token_base: &str, graph_base: &str, secret: &str) -> String {
    json!({"kind": "graph", "tenant_id": "contoso", "client_id": "app",
           "client_secret": secret, "interval_s": 0,
           "token_url": format!("{token_base}/contoso/oauth2/v2.0/token"),
           "graph_url": format!("{graph_base}/v1.0")})
    .to_string()
}

#[test]
fn the_secret_exfiltration_sequence_now_fails() {
    let attacker = Fake::start(|_| {
        Reply::json(
            200,
            json!({"access_token": "stolen", "expires_in": 3600, "value": []}),
        )
    });
    let a = attacker.base.clone();
    let g = graph(None);
    let s = with_book(LOCAL_SOURCES);
    let m365 = "/sources/m365";
    let r = api(
        &s,
        "PUT",
        m365,
        Some(&graph_settings(&g.base, &g.base, SECRET)),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(api(&s, "POST", "/sources/m365/sync", None).status, 200);
    let book = s.get(&format!("/contacts/{KEY}")).body;
    assert!(book.contains("Anna Graph"));

    // 1. What a phone's provisioning file gives away: a read key. It manages nothing and
    //    empties nothing.
    let read = new_key(&s, "read", "phones");
    let repoint = graph_settings(&a, &a, "********");
    for dir in [read.as_str(), KEY] {
        let base = format!("/api/v1/directories/{dir}");
        for (method, path, body) in [
            (
                "PUT",
                format!("{base}/sources/m365"),
                Some(repoint.as_str()),
            ),
            ("GET", format!("{base}/sources/m365"), None),
            ("DELETE", format!("{base}/sources/m365"), None),
            ("POST", format!("{base}/keys"), Some(r#"{"scope":"push"}"#)),
        ] {
            let r = call(&s, &read, method, &path, body);
            assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
        }
    }
    let r = s.push(
        &format!("/contacts/{read}?allow_empty=true"),
        b"display_name,phone\n",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(s.get(&format!("/contacts/{KEY}")).body, book);

    // 2. Even with the directory key, the masked secret does not follow a new destination.
    for (field, settings) in [
        ("token_url", graph_settings(&a, &g.base, "********")),
        ("graph_url", graph_settings(&g.base, &a, "********")),
        ("token_url", graph_settings(&a, &a, "")),
    ] {
        let r = api(&s, "PUT", m365, Some(&settings));
        assert_eq!(r.status, 422, "{}", r.body);
        let msg = r.json()["error"].as_str().unwrap().to_owned();
        assert!(
            msg.contains(field) && msg.contains("client_secret"),
            "{msg}"
        );
    }
    let tenant = graph_settings(&g.base, &g.base, "********").replace("contoso\"", "fabrikam\"");
    assert_eq!(api(&s, "PUT", m365, Some(&tenant)).status, 422);
    let shown = api(&s, "GET", m365, None).json();
    assert!(
        shown["settings"]["token_url"]
            .as_str()
            .unwrap()
            .starts_with(&g.base),
        "{shown}"
    );
    assert_eq!(api(&s, "POST", "/sources/m365/sync", None).status, 200);
    // CardDAV the same: another URL or account needs the password again.
    let dav = |url: &str, user: &str, pw: &str| {
        json!({"kind": "carddav", "url": url, "username": user, "password": pw, "interval_s": 0})
            .to_string()
    };
    let r = api(
        &s,
        "PUT",
        "/sources/dav",
        Some(&dav(&format!("{}/ab/", g.base), "anna", "pw")),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    for (changed, body) in [
        ("url", dav(&format!("{a}/ab/"), "anna", "********")),
        (
            "username",
            dav(&format!("{}/ab/", g.base), "mallory", "********"),
        ),
    ] {
        let r = api(&s, "PUT", "/sources/dav", Some(&body));
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.json()["error"].as_str().unwrap().contains(changed),
            "{}",
            r.body
        );
    }

    // 3. Links in answers do not carry credentials elsewhere: REST paging and Graph's
    //    nextLink to another host stop the sync.
    let crm = Fake::start({
        let a = a.clone();
        move |req: &Request| {
            if req.header("authorization") != Some("Bearer T0KEN") {
                return Reply::json(401, json!({}));
            }
            Reply::json(
                200,
                json!({"data": [{"name": "Page One", "tel": "+49 30 1234567"}],
                                    "next": format!("{a}/people?page=2")}),
            )
        }
    });
    let body = json!({"kind": "rest", "url": format!("{}/people", crm.base), "auth": "bearer",
        "secret": "T0KEN", "records": "/data", "next": "/next", "interval_s": 0,
        "fields": {"display_name": "name", "numbers": {"WORK": ["tel"]}}});
    assert_eq!(
        api(&s, "PUT", "/sources/crm", Some(&body.to_string())).status,
        201
    );
    let r = api(&s, "POST", "/sources/crm/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("another host"),
        "{}",
        r.body
    );
    let g2 = graph(Some(format!("{a}/v1.0/users/delta?$skiptoken=2")));
    let r = api(
        &s,
        "PUT",
        "/sources/m365b",
        Some(&graph_settings(&g2.base, &g2.base, SECRET)),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api(&s, "POST", "/sources/m365b/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("graph_url"),
        "{}",
        r.body
    );

    assert!(
        attacker.requests().is_empty(),
        "the attacker's host was reached: {:?}",
        attacker.requests()
    );
    assert!(s
        .get(&format!("/contacts/{KEY}"))
        .body
        .contains("Anna Graph"));
}

#[test]
fn no_key_reaches_the_log_whatever_the_path() {
    let s = with_book(&[]);
    let read = new_key(&s, "read", "");
    let push = new_key(&s, "push", "");
    let unknown = "Zq8pW3nVb6Tc1M".to_owned();
    let keys = [KEY.to_owned(), read, push, unknown];
    let encoded = |k: &str| k.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    for k in &keys {
        let e = encoded(k);
        for path in [
            format!("/contacts//{k}"),
            format!("//contacts/{k}/yealink/v1"),
            format!("/contacts/{k}/"),
            format!("/contacts/{k}//snom/v1?page=1"),
            format!("/contacts/{e}/gigaset/v1"),
            format!("/contacts/{k}.xml"),
            format!("/nothing/{k}/here"),
            format!("/contacts/x?apikey={k}"),
            format!("/contacts/{k}/lookup?number={k}"),
            format!("/contacts/{k}/yealink/v1?q={e}"),
            format!("/api/v1/directories/{k}?apikey={e}"),
            format!("/api/v1/directories/{KEY}/keys/{k}"),
            format!("/api/v1/directories//{k}/sources"),
        ] {
            s.request(
                "GET",
                &s.url(&path),
                &[("User-Agent", &format!("Yealink SIP-T54W {k}"))],
                None,
            );
        }
        s.push(
            &format!("/contacts//{k}"),
            b"display_name,phone\nA,+4930901820\n",
        );
    }
    // Enough wrong keys for the throttle to refuse some: refused requests are logged too.
    let never = "Wv4nQ8rTx2Lm7K";
    for _ in 0..25 {
        s.get(&format!("/contacts/{never}/yealink/v1"));
    }
    std::thread::sleep(Duration::from_millis(300));
    let log = s.log();
    assert!(
        log.contains(" 429 "),
        "refused requests are in the log too:\n{log}"
    );
    assert!(log.contains(" 404 ") && log.contains(" 200 "));
    for k in &keys {
        assert!(!log.contains(k.as_str()), "{k} in the log:\n{log}");
        assert!(!log.contains(&encoded(k)), "{k}, encoded, in the log");
        assert!(
            log.contains(&format!("{}**********", &k[..4])),
            "{k} masked"
        );
    }
}
