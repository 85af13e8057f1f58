//! The LDAP server as desk phones use it, with real clients: OpenLDAP's `ldapsearch`
//! (Debian ldap-utils) and python `ldap3`, over LDAP, StartTLS and LDAPS, with the default
//! filters of Yealink, snom, Gigaset, Grandstream, Fanvil and Cisco.

use crate::helpers::{cli, Server, KEY};
use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

const OTHER: &str = "OTHRx8Kq3mW7zB";

/// What the phones of the tests look up, with every kind of number.
const CSV: &str = "display_name,given_name,family_name,company,department,position,email,phone\r\n\
Anna Schmidt,Anna,Schmidt,ACME GmbH,Sales,Head of Sales,anna@acme.example,WORK:+49891234567;MOBILE:+4915112345678;EXT:42\r\n\
Jörg Müller,Jörg,Müller,Bäckerei Groß,,,,WORK:+4923648873040;HOME:+4923648873099\r\n\
Pizza Roma,,,Pizza Roma,,,,WORK:+49897654321\r\n\
Ben Becker,Ben,Becker,ACME GmbH,,,,MOBILE:+4917611112222;FAX:+49897654399\r\n";

struct Ldap {
    s: Server,
    /// Plain LDAP (with StartTLS) and LDAPS ports.
    plain: u16,
    tls: u16,
}

impl Ldap {
    /// A server with LDAP and LDAPS on free ports, `KEY` filled from `CSV` (numbers written
    /// nationally, as its phones dial them) and a second directory `OTHER`.
    fn start(extra: &[&str]) -> Ldap {
        let mut args = vec!["--ldap", "127.0.0.1:0", "--ldaps", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let s = Server::start(&args);
        let r = s.push(&format!("/contacts/{KEY}?region=DE"), CSV.as_bytes());
        assert_eq!(r.status, 200, "{}", r.body);
        let r = s
            .api()
            .settings(r#"{"region": "DE", "numbers": "national"}"#);
        assert_eq!(r.status, 200, "{}", r.body);
        let r = s.push(
            &format!("/contacts/{OTHER}"),
            b"display_name,phone\r\nAnna Other,+4930123456\r\n",
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let port = |scheme: &str| {
            let marker = format!("listening on {scheme}://");
            let log = s.log();
            let line = log
                .lines()
                .find(|l| l.contains(&marker))
                .unwrap_or_else(|| panic!("no {scheme} listener in the log:\n{log}"));
            line.rsplit(':').next().unwrap().trim().parse().unwrap()
        };
        let (plain, tls) = (port("ldap"), port("ldaps"));
        Ldap { s, plain, tls }
    }

    fn url(&self) -> String {
        format!("ldap://localhost:{}", self.plain)
    }

    fn ldaps_url(&self) -> String {
        format!("ldaps://localhost:{}", self.tls)
    }

    fn ca(&self) -> String {
        self.s
            .data_dir()
            .join("certs/selfsigned.pem")
            .display()
            .to_string()
    }

    /// `ldapsearch -x -LLL` with these arguments, trusting the server's certificate.
    fn ldapsearch(&self, args: &[&str]) -> Found {
        let out = crate::tools::command("ldapsearch")
            .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-o", "nettimeout=20"])
            .args(args)
            .env("LDAPTLS_CACERT", self.ca())
            .env("LDAPTLS_REQCERT", "demand")
            .output()
            .expect("run ldapsearch");
        Found {
            code: out.status.code().unwrap_or(-1),
            entries: ldif(&String::from_utf8_lossy(&out.stdout)),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A phone bound with `KEY`: `ldapsearch -D cn=phone -w KEY -b "" FILTER ATTRS…`.
    fn phone(&self, filter: &str, attrs: &[&str]) -> Found {
        let url = self.url();
        let mut args = vec!["-H", &url, "-D", "cn=phone", "-w", KEY, "-b", "", filter];
        args.extend_from_slice(attrs);
        self.ldapsearch(&args)
    }

    /// The python ldap3 client running `ops` after binding (`mode`: plain, starttls,
    /// ldaps); one JSON value per line it printed.
    fn ldap3(&self, mode: &str, password: Option<&str>, ops: Value) -> Vec<Value> {
        let child = self.ldap3_spawn(mode, password, ops);
        let out = child.wait_with_output().expect("ldap3 client");
        assert!(
            out.status.success(),
            "ldap3 client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn ldap3_spawn(&self, mode: &str, password: Option<&str>, ops: Value) -> std::process::Child {
        let plan = json!({
            "port": if mode == "ldaps" { self.tls } else { self.plain },
            "mode": mode,
            "ca": self.ca(),
            "user": password.map(|_| "cn=phone,ou=people,dc=phonedir"),
            "password": password,
            "ops": ops,
        });
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/ldap3_client.py");
        crate::tools::command("ldap3")
            .arg(script)
            .arg(plan.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the ldap3 client")
    }
}

/// What ldapsearch answered: its exit code (the LDAP result code), entries, messages.
struct Found {
    code: i32,
    entries: Vec<Entry>,
    stderr: String,
}

impl Found {
    /// The `cn` of every entry, in answer order.
    fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.get("cn").join("|")).collect()
    }
}

#[derive(Debug)]
struct Entry {
    dn: String,
    attrs: Vec<(String, String)>,
}

impl Entry {
    fn get(&self, name: &str) -> Vec<String> {
        self.attrs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn names(&self) -> Vec<&str> {
        let mut n: Vec<&str> = self.attrs.iter().map(|(k, _)| k.as_str()).collect();
        n.dedup();
        n
    }
}

/// Entries of ldapsearch's LDIF (unwrapped): `name: value`, or `name:: base64`.
fn ldif(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut dn = None;
        let mut attrs = Vec::new();
        for line in block
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (name, value) = match line.split_once(":: ") {
                Some((n, b64)) => (
                    n,
                    String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(b64.trim())
                            .unwrap(),
                    )
                    .unwrap(),
                ),
                None => match line.split_once(": ") {
                    Some((n, v)) => (n, v.to_owned()),
                    None => (line.trim_end_matches(':'), String::new()),
                },
            };
            if name == "dn" {
                dn = Some(value);
            } else {
                attrs.push((name.to_owned(), value));
            }
        }
        if let Some(dn) = dn {
            out.push(Entry { dn, attrs });
        }
    }
    out
}

#[test]
fn every_vendors_default_filters_find_what_its_user_types() {
    let l = Ldap::start(&[]);
    let just = |f: &Found, names: &[&str]| {
        assert_eq!(f.code, 0, "{}", f.stderr);
        assert_eq!(f.names(), names);
    };
    // Yealink: name filter `(|(cn=%)(sn=%))` as the user types, case, accents and
    // transliteration ignored.
    for typed in ["M", "Mü", "mue", "MUL", "Müller"] {
        let f = l.phone(&format!("(|(cn={typed}*)(sn={typed}*))"), &["cn"]);
        just(&f, &["Jörg Müller"]);
    }
    // Yealink's number filter for an incoming call, the caller in every shape a line
    // delivers it.
    for caller in [
        "0891234567",
        "+49891234567",
        "0049891234567",
        "089 1234567",
        "089-123 45 67",
    ] {
        let f = l.phone(
            &format!("(|(telephoneNumber={caller})(mobile={caller})(ipPhone={caller}))"),
            &["cn", "telephoneNumber", "mobile", "ipPhone"],
        );
        just(&f, &["Anna Schmidt"]);
        // Numbers as the directory's phone books write them (national, region DE).
        let e = &f.entries[0];
        assert_eq!(e.get("telephoneNumber"), vec!["0891234567"]);
        assert_eq!(e.get("mobile"), vec!["015112345678"]);
        assert_eq!(e.get("ipPhone"), vec!["42"]);
    }
    let f = l.phone(
        "(|(telephoneNumber=02364 8873099)(mobile=02364 8873099)(homePhone=02364 8873099))",
        &["cn"],
    );
    just(&f, &["Jörg Müller"]);
    // An extension dialled inside the company.
    just(
        &l.phone("(|(telephoneNumber=42)(mobile=42)(ipPhone=42))", &["cn"]),
        &["Anna Schmidt"],
    );

    // snom: only entries with a number; the number filter wants an sn.
    just(
        &l.phone("(&(telephoneNumber=*)(sn=schm*))", &["cn"]),
        &["Anna Schmidt"],
    );
    just(&l.phone("(&(telephoneNumber=*)(sn=be*))", &[]), &[]);
    just(
        &l.phone("(&(telephoneNumber=+49897654321)(sn=*))", &["cn"]),
        &["Pizza Roma"],
    );
    // snom DECT M-series.
    just(
        &l.phone("(|(givenName=an*)(sn=an*))", &["cn"]),
        &["Anna Schmidt"],
    );

    // Gigaset: display name or sn; the number filter matches "exactly" — in any shape.
    just(
        &l.phone("(|(displayName=pi*)(sn=pi*))", &["cn"]),
        &["Pizza Roma"],
    );
    just(
        &l.phone(
            "(|(telephoneNumber=+4915112345678)(mobile=+4915112345678)(homePhone=+4915112345678))",
            &["cn"],
        ),
        &["Anna Schmidt"],
    );

    // Grandstream: `Mobile` with a capital M, and the entry answers under that name.
    let f = l.phone(
        "(|(telephoneNumber=017611112222)(Mobile=017611112222))",
        &["cn", "Mobile", "telephoneNumber"],
    );
    just(&f, &["Ben Becker"]);
    assert_eq!(f.entries[0].names(), vec!["cn", "Mobile"]);
    assert_eq!(f.entries[0].get("Mobile"), vec!["017611112222"]);
    just(&l.phone("(|(cn=be*)(sn=be*))", &["cn"]), &["Ben Becker"]);

    // Fanvil: its `other` attribute, and a name search.
    just(
        &l.phone(
            "(|(telephoneNumber=089 7654321)(mobile=089 7654321)(other=089 7654321))",
            &["cn"],
        ),
        &["Pizza Roma"],
    );
    just(&l.phone("(|(cn=jö*)(sn=jö*))", &["cn"]), &["Jörg Müller"]);

    // Cisco: `(sn=$VALUE*)`, `(cn=*$VALUE*)`.
    just(&l.phone("(sn=Sch*)", &["cn"]), &["Anna Schmidt"]);
    just(&l.phone("(cn=*ller*)", &["cn"]), &["Jörg Müller"]);
    just(&l.phone("(cn=*ROMA)", &["cn"]), &["Pizza Roma"]);

    // Everything, sorted by display name, with every attribute.
    let all = l.phone("(objectClass=*)", &[]);
    just(
        &all,
        &["Anna Schmidt", "Ben Becker", "Jörg Müller", "Pizza Roma"],
    );
    let anna = &all.entries[0];
    assert!(anna.dn.starts_with("uid=") && anna.dn.ends_with(&format!(",ou={KEY},dc=phonedir")));
    assert_eq!(
        anna.get("objectClass"),
        vec!["top", "person", "organizationalPerson", "inetOrgPerson"]
    );
    for (name, value) in [
        ("displayName", "Anna Schmidt"),
        ("sn", "Schmidt"),
        ("givenName", "Anna"),
        ("o", "ACME GmbH"),
        ("ou", "Sales"),
        ("title", "Head of Sales"),
        ("mail", "anna@acme.example"),
    ] {
        assert_eq!(anna.get(name), vec![value], "{name}");
    }
    assert_eq!(
        all.entries[1].get("facsimileTelephoneNumber"),
        vec!["0897654399"]
    );
    assert_eq!(all.entries[2].get("homePhone"), vec!["023648873099"]);
    // Pizza Roma, a company only, is found by its name as sn and has no givenName.
    assert_eq!(all.entries[3].get("sn"), vec!["Pizza Roma"]);
    assert!(all.entries[3].get("givenName").is_empty());
    // Aliases and case in the attribute list; `1.1` asks for none.
    let f = l.phone(
        "(cn=anna*)",
        &["GN", "surname", "commonName", "mobileTelephoneNumber"],
    );
    assert_eq!(
        f.entries[0].names(),
        vec!["GN", "surname", "commonName", "mobileTelephoneNumber"]
    );
    let f = l.phone("(cn=anna*)", &["1.1"]);
    assert_eq!(f.entries.len(), 1);
    assert!(f.entries[0].attrs.is_empty());
    // The contact's own DN finds it alone.
    let url = l.url();
    let f = l.ldapsearch(&[
        "-H",
        &url,
        "-w",
        KEY,
        "-b",
        &anna.dn,
        "-s",
        "base",
        "(objectClass=*)",
        "cn",
    ]);
    assert_eq!(f.names(), vec!["Anna Schmidt"]);
}

#[test]
fn keys_bind_anonymous_bases_and_no_key_shows_another_directory() {
    let l = Ldap::start(&[]);
    let url = l.url();
    // A wrong key is invalidCredentials (49); a SASL bind is authMethodNotSupported (7).
    let f = l.ldapsearch(&[
        "-H",
        &url,
        "-D",
        "cn=phone",
        "-w",
        "WRONG000000001",
        "-b",
        "",
        "(cn=*)",
    ]);
    assert_eq!(f.code, 49, "{}", f.stderr);
    // (Cisco's DIGEST-MD5 option), through python ldap3.
    let out = l.ldap3(
        "plain",
        Some(KEY),
        json!([{"op": "sasl", "mechanism": "DIGEST-MD5"}]),
    );
    assert_eq!(out[1]["result"], 7, "{out:?}");
    // Any bind name; the other key opens only its own directory, whatever the base.
    for base in ["", "dc=phonedir", "o=company,dc=example,dc=com"] {
        let f = l.ldapsearch(&[
            "-H",
            &url,
            "-D",
            "admin@example.com",
            "-w",
            OTHER,
            "-b",
            base,
            "(cn=*)",
            "cn",
        ]);
        assert_eq!(f.code, 0, "{}", f.stderr);
        assert_eq!(f.names(), vec!["Anna Other"], "{base}");
        assert!(f.entries[0]
            .dn
            .ends_with(&format!(",ou={OTHER},dc=phonedir")));
    }
    // Anonymous: nothing without a key in the base; the key's entries with it.
    let f = l.ldapsearch(&["-H", &url, "-b", "", "(cn=*)", "cn"]);
    assert_eq!((f.code, f.entries.len()), (0, 0), "{}", f.stderr);
    let f = l.ldapsearch(&["-H", &url, "-b", "dc=phonedir", "(cn=an*)", "cn"]);
    assert!(f.entries.is_empty());
    let base = format!("ou={KEY},dc=phonedir");
    let f = l.ldapsearch(&["-H", &url, "-b", &base, "(cn=an*)", "cn"]);
    assert_eq!(f.names(), vec!["Anna Schmidt"]);
    let other = format!("ou={OTHER},dc=phonedir");
    let f = l.ldapsearch(&["-H", &url, "-b", &other, "(cn=an*)", "cn"]);
    assert_eq!(f.names(), vec!["Anna Other"]);
    // A base naming no key: noSuchObject (32), for anonymous and bound phones alike.
    let binds: [&[&str]; 2] = [&[], &["-w", KEY]];
    for bind in binds {
        let mut args = vec!["-H", url.as_str()];
        args.extend_from_slice(bind);
        args.extend(["-b", "ou=NOKEY000000001,dc=phonedir", "(cn=*)"]);
        let f = l.ldapsearch(&args);
        assert_eq!((f.code, f.entries.len()), (32, 0), "{}", f.stderr);
    }
    // A read key, as phones should get: the same entries, under its own name; the
    // directory key never shows.
    let r = l.s.api().call(
        "POST",
        "/keys",
        Some(r#"{"scope": "read", "label": "desk phones"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let read = r.json()["key"].as_str().unwrap().to_owned();
    let f = l.ldapsearch(&[
        "-H",
        &url,
        "-D",
        "cn=phone",
        "-w",
        &read,
        "-b",
        "",
        "(sn=schmidt)",
    ]);
    assert_eq!(f.names(), vec!["Anna Schmidt"], "{}", f.stderr);
    assert!(f.entries[0]
        .dn
        .ends_with(&format!(",ou={read},dc=phonedir")));
    let read_base = format!("ou={read},dc=phonedir");
    let f = l.ldapsearch(&["-H", &url, "-b", &read_base, "(objectClass=*)"]);
    assert_eq!(f.entries.len(), 4);
    for e in &f.entries {
        assert!(!format!("{e:?}").contains(KEY), "{e:?}");
    }
    // The same through python ldap3: bind result codes and an anonymous search.
    let out = l.ldap3("plain", Some("WRONG000000001"), json!([]));
    assert_eq!(out[0]["result"], 49);
    let out = l.ldap3(
        "plain",
        None,
        json!([{"op": "search", "base": base, "filter": "(sn=schmidt)", "attrs": ["cn"]}]),
    );
    assert_eq!(
        out[1]["entries"][0]["attributes"]["cn"],
        json!(["Anna Schmidt"])
    );
}

#[test]
fn wrong_keys_count_towards_the_throttle() {
    let l = Ldap::start(&["--key-failures-per-minute", "2"]);
    let url = l.url();
    for wrong in ["WRONGq7Rt2xK9p", "WRONGq7Rt2xK9q"] {
        let f = l.ldapsearch(&["-H", &url, "-w", wrong, "-b", "", "(cn=*)"]);
        assert_eq!(f.code, 49, "{}", f.stderr);
    }
    // Now even the right key is refused from this address, saying why.
    let f = l.ldapsearch(&["-H", &url, "-w", KEY, "-b", "", "(cn=*)"]);
    assert_eq!(f.code, 53, "{}", f.stderr);
    assert!(f.stderr.contains("too many wrong keys"), "{}", f.stderr);
    // A key in a search base counts too (and is refused alike).
    let base = format!("ou={KEY},dc=phonedir");
    let f = l.ldapsearch(&["-H", &url, "-b", &base, "(cn=*)"]);
    assert_eq!(f.code, 53, "{}", f.stderr);
}

#[test]
fn starttls_and_ldaps_with_both_clients() {
    let l = Ldap::start(&[]);
    let (url, ldaps) = (l.url(), l.ldaps_url());
    for args in [vec!["-ZZ", "-H", url.as_str()], vec!["-H", ldaps.as_str()]] {
        let mut a = args.clone();
        a.extend([
            "-D",
            "cn=phone",
            "-w",
            KEY,
            "-b",
            "",
            "(|(cn=piz*)(sn=piz*))",
            "cn",
        ]);
        let f = l.ldapsearch(&a);
        assert_eq!(f.code, 0, "{args:?}: {}", f.stderr);
        assert_eq!(f.names(), vec!["Pizza Roma"], "{args:?}");
    }
    // A client that does not trust the certificate is refused by its own TLS check, which
    // shows the server really speaks TLS with its certificate.
    let untrusted = crate::tools::command("ldapsearch")
        .args(["-x", "-H", &ldaps, "-w", KEY, "-b", "", "(cn=*)"])
        .env("LDAPTLS_CACERT", "/dev/null")
        .env("LDAPTLS_REQCERT", "demand")
        .output()
        .unwrap();
    assert!(!untrusted.status.success());
    for mode in ["starttls", "ldaps"] {
        let out = l.ldap3(
            mode,
            Some(KEY),
            json!([
                {"op": "search", "filter": "(|(cn=mü*)(sn=mü*))", "attrs": ["cn", "telephoneNumber"]},
                {"op": "whoami"},
            ]),
        );
        assert_eq!(out[0]["result"], 0, "{mode}: {out:?}");
        if mode == "starttls" {
            assert_eq!(out[0]["starttls"], true);
        }
        let e = &out[1]["entries"][0]["attributes"];
        assert_eq!(e["cn"], json!(["Jörg Müller"]), "{mode}");
        assert_eq!(e["telephoneNumber"], json!(["023648873040"]), "{mode}");
        assert_eq!(out[2]["value"], format!("dn:ou={KEY},dc=phonedir"));
    }
}

#[test]
fn limits_paging_controls_root_dse_and_operations() {
    let l = Ldap::start(&["--ldap-max-hits", "3"]);
    let url = l.url();
    // The client's size limit, then the server's cap: the entries, then sizeLimitExceeded.
    let f = l.ldapsearch(&[
        "-H",
        &url,
        "-w",
        KEY,
        "-b",
        "",
        "-z",
        "2",
        "(objectClass=*)",
        "cn",
    ]);
    assert_eq!(f.code, 4, "{}", f.stderr);
    assert_eq!(f.names(), vec!["Anna Schmidt", "Ben Becker"]);
    let f = l.ldapsearch(&["-H", &url, "-w", KEY, "-b", "", "(objectClass=*)", "cn"]);
    assert_eq!(f.code, 4, "{}", f.stderr);
    assert_eq!(f.names(), vec!["Anna Schmidt", "Ben Becker", "Jörg Müller"]);
    assert!(f.stderr.contains("Size limit exceeded"), "{}", f.stderr);
    // Simple paged results: everything in one page, an empty cookie.
    let f = l.ldapsearch(&[
        "-H",
        &url,
        "-w",
        KEY,
        "-b",
        "",
        "-E",
        "pr=2/noprompt",
        "(cn=*ll*)",
        "cn",
    ]);
    assert_eq!(
        (f.code, f.names()),
        (0, vec!["Jörg Müller".to_owned()]),
        "{}",
        f.stderr
    );
    // The root DSE.
    let f = l.ldapsearch(&["-H", &url, "-b", "", "-s", "base", "(objectClass=*)", "+"]);
    let dse = &f.entries[0];
    assert_eq!(dse.dn, "");
    assert_eq!(dse.get("namingContexts"), vec!["dc=phonedir"]);
    assert_eq!(dse.get("supportedLDAPVersion"), vec!["3"]);
    assert!(dse
        .get("supportedExtension")
        .contains(&"1.3.6.1.4.1.1466.20037".to_owned()));
    assert!(dse
        .get("supportedControl")
        .contains(&"1.2.840.113556.1.4.319".to_owned()));

    // python ldap3: controls, paging, extended operations, abandon, writes, on one
    // connection that keeps working after each.
    let anna = json!({"op": "search", "filter": "(sn=schmidt)", "attrs": ["cn"]});
    let out = l.ldap3(
        "plain",
        Some(KEY),
        json!([
            {"op": "search", "filter": "(cn=*)", "attrs": ["cn"], "controls": [["1.2.3.4.5", true, null]]},
            {"op": "search", "filter": "(sn=schmidt)", "attrs": ["cn"], "controls": [["1.2.3.4.5", false, null]]},
            {"op": "search", "filter": "(cn=*)", "attrs": ["cn"], "paged": 1},
            {"op": "extended", "name": "1.2.3.4.6"},
            anna,
            {"op": "abandon", "msgid": 3},
            {"op": "modify", "dn": format!("uid=0000000000000001,ou={KEY},dc=phonedir")},
            anna,
        ]),
    );
    let results: Vec<&Value> = out.iter().map(|o| &o["result"]).collect();
    // unavailableCriticalExtension, ignored, sizeLimitExceeded (cap 3), protocolError for the
    // unknown extended operation, success, -, unwillingToPerform, success.
    assert_eq!(
        results,
        vec![
            &json!(0),
            &json!(12),
            &json!(0),
            &json!(4),
            &json!(2),
            &json!(0),
            &Value::Null,
            &json!(53),
            &json!(0)
        ],
        "{out:?}"
    );
    assert_eq!(out[2]["entries"].as_array().unwrap().len(), 1);
    assert_eq!(out[3]["entries"].as_array().unwrap().len(), 3);
    assert_eq!(out[3]["paged_cookie"], "");
    assert_eq!(
        out[8]["entries"][0]["attributes"]["cn"],
        json!(["Anna Schmidt"])
    );
}

/// Bytes the server sends until it closes the connection (or the timeout).
fn until_closed(mut c: TcpStream) -> (Vec<u8>, bool) {
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

#[test]
fn malformed_ber_closes_only_that_connection() {
    let l = Ldap::start(&["--ldap-max-connections", "4", "--ldap-idle-seconds", "4"]);
    // A phone's connection, bound and searching, kept open across the attacks.
    let search = json!({"op": "search", "filter": "(|(cn=ben*)(sn=ben*))", "attrs": ["cn"]});
    let mut phone = l.ldap3_spawn("plain", Some(KEY), json!([search, {"op": "wait"}, search]));
    let mut lines = BufReader::new(phone.stdout.take().unwrap()).lines();
    let mut next = || -> Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    assert_eq!(next()["result"], 0);
    assert_eq!(
        next()["entries"][0]["attributes"]["cn"],
        json!(["Ben Becker"])
    );

    let addr = ("127.0.0.1", l.plain);
    let attacks: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        // A sequence claiming 4 GiB.
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01],
        // A well-formed BER sequence that is no LDAP message.
        &[0x30, 0x03, 0x04, 0x01, 0x41],
        // A bind whose version is no integer.
        &[
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x04, 0x01, 0x33, 0x04, 0x00, 0x80, 0x00,
        ],
    ];
    for bytes in attacks {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(bytes).unwrap();
        let (got, closed) = until_closed(c);
        assert!(closed, "{bytes:?} kept the connection open");
        // The notice of disconnection comes first (RFC 4511 §4.4.1).
        let oid = b"1.3.6.1.4.1.1466.20036";
        assert!(
            got.windows(oid.len()).any(|w| w == oid),
            "{bytes:?}: {got:?}"
        );
    }
    // A message larger than the server reads (32 KiB), sent slowly enough to be buffered.
    let mut c = TcpStream::connect(addr).unwrap();
    let mut big = vec![0x30, 0x83, 0x01, 0x00, 0x00];
    big.resize(70 * 1024, 0x41);
    let _ = c.write_all(&big);
    assert!(
        until_closed(c).1,
        "an oversized message kept the connection open"
    );

    // The phone's connection still answers.
    let stdin = phone.stdin.as_mut().unwrap();
    stdin.write_all(b"go\n").unwrap();
    stdin.flush().unwrap();
    assert_eq!(next()["op"], "wait");
    assert_eq!(
        next()["entries"][0]["attributes"]["cn"],
        json!(["Ben Becker"])
    );
    assert!(phone.wait().unwrap().success());

    // Silence, and a message that never ends, are closed after --ldap-idle-seconds.
    for bytes in [&b""[..], &[0x30, 0x20, 0x02, 0x01]] {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(bytes).unwrap();
        let started = std::time::Instant::now();
        let (got, closed) = until_closed(c);
        assert!(
            closed && started.elapsed() < Duration::from_secs(10),
            "{bytes:?}"
        );
        let oid = b"1.3.6.1.4.1.1466.20036";
        assert!(
            got.windows(oid.len()).any(|w| w == oid),
            "{bytes:?}: {got:?}"
        );
    }

    // The connection cap: with 4 held, a fifth is closed at once; freeing one lets the
    // next one in.
    let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let (_, closed) = until_closed(TcpStream::connect(addr).unwrap());
    assert!(closed, "a fifth connection was kept");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    let f = l.phone("(sn=becker)", &["cn"]);
    assert_eq!(f.names(), vec!["Ben Becker"], "{}", f.stderr);
}

#[test]
fn demo_listens_for_ldap_on_documented_ports_and_flags_read_the_environment() {
    let (ok, help, _) = cli(&["serve", "--help"]);
    assert!(ok);
    for flag in [
        "--ldap ",
        "--ldaps ",
        "--ldap-max-hits",
        "PHONEDIR_LDAP=]",
        "PHONEDIR_LDAPS=]",
    ] {
        assert!(
            help.contains(flag),
            "{flag} missing from serve --help:\n{help}"
        );
    }
    // The demo with its own ports (the fixed ones may be taken by a parallel test): the
    // demo key's book over LDAP.
    let s = Server::start(&["--demo", "--ldap", "127.0.0.1:0"]);
    let log = s.log();
    let line = log
        .lines()
        .find(|l| l.contains("listening on ldap://"))
        .unwrap();
    let port = line.rsplit(':').next().unwrap().trim();
    let url = format!("ldap://127.0.0.1:{port}");
    let out = crate::tools::command("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            &url,
            "-w",
            "DEMOabcABC0123",
            "-b",
            "",
            "(sn=baltz)",
            "cn",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("cn: Oliver Baltz"));
    drop(s);
    // Without --ldap/--ldaps the demo takes 3890 and 6360 (or says why it cannot).
    let s = Server::start(&["--demo"]);
    std::thread::sleep(Duration::from_millis(200));
    let log = s.log();
    assert!(log.contains("3890"), "{log}");
}
