//! `ldap` sources against a real OpenLDAP `slapd`, started once for this file with a
//! generated configuration (mdb backend, Active Directory's page limit of 1,000 entries
//! for unpaged searches, StartTLS and LDAPS with a test CA) and 2,500 people loaded with
//! `ldapadd`: inetOrgPerson entries and AD-shaped ones (company, department, ipPhone,
//! otherTelephone, userAccountControl from OpenLDAP's msuser schema).

use crate::helpers::{csv_rows, Server, KEY, LOCAL_SOURCES};
use crate::sources::{api, create_directory};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BASE: &str = "dc=corp,dc=example";
const BIND_DN: &str = "cn=phonedir,ou=service,dc=corp,dc=example";
const BIND_PW: &str = "bind secret 7";
const PEOPLE: usize = 2_400;
const STAFF: usize = 100;

struct Slapd {
    ldap: u16,
    ldaps: u16,
    ca_pem: String,
    dir: PathBuf,
    /// A shell that ends slapd when this test process ends (its stdin closes).
    _guard: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The directory's entries as LDIF.
fn ldif() -> String {
    let mut s = format!(
        "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: ACME Corp\ndc: corp\n\n\
         dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=staff,{BASE}\nobjectClass: organizationalUnit\nou: staff\n\n\
         dn: ou=service,{BASE}\nobjectClass: organizationalUnit\nou: service\n\n\
         dn: {BIND_DN}\nobjectClass: person\ncn: phonedir\nsn: service\nuserPassword: {BIND_PW}\n\n"
    );
    for i in 0..PEOPLE {
        s.push_str(&format!(
            "dn: uid=p{i},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: p{i}\n\
             cn: Given{i} Family{i}\ngivenName: Given{i}\nsn: Family{i}\n\
             displayName: Given{i} Family{i}\no: ACME Corp\nou: Sales\nmail: p{i}@corp.example\n"
        ));
        if i == 9 {
            // What people type into a directory: a sentence where a number belongs.
            s.push_str("telephoneNumber: call the front desk\n");
        } else {
            s.push_str(&format!("telephoneNumber: +49 30 5551{i:04}\n"));
        }
        if i % 3 == 0 {
            s.push_str(&format!("mobile: +49 171 55{i:05}\n"));
        }
        s.push('\n');
    }
    // Shaped like Active Directory users: AD's attributes, an account that can be disabled.
    for i in 0..STAFF {
        let uac = if i % 10 == 0 { 514 } else { 512 };
        s.push_str(&format!(
            "dn: uid=s{i},ou=staff,{BASE}\nobjectClass: inetOrgPerson\nobjectClass: extensibleObject\n\
             uid: s{i}\ncn: Staff{i:03}, Erika\ngivenName: Erika\nsn: Staff{i:03}\n\
             company: ACME Corp\ndepartment: IT\nipPhone: 4{i:03}\n\
             otherTelephone: +49 30 5552{i:04}\nuserAccountControl: {uac}\n\n"
        ));
    }
    // Not a person with a phone: the default filter leaves them out.
    for i in 0..3 {
        s.push_str(&format!(
            "dn: uid=n{i},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: n{i}\ncn: No Phone {i}\nsn: Phone\n\n"
        ));
    }
    s
}

fn slapd() -> &'static Slapd {
    static SLAPD: OnceLock<Slapd> = OnceLock::new();
    SLAPD.get_or_init(start)
}

fn start() -> Slapd {
    let dir = tempfile::tempdir().unwrap().keep();
    let cmd = crate::tools::command("slapd");
    let program = PathBuf::from(cmd.get_program());
    // /usr/sbin/slapd or <unpacked>/usr/sbin/slapd: schema and modules beside it.
    let prefix = program.ancestors().nth(3).unwrap_or(Path::new("/"));
    let schema = prefix.join("etc/ldap/schema");
    let modules = prefix.join("usr/lib/ldap");
    let (ca, _, cert, key) = crate::fake::test_ca();
    std::fs::write(dir.join("ca.pem"), &ca).unwrap();
    std::fs::write(dir.join("server.pem"), &cert).unwrap();
    std::fs::write(dir.join("server.key"), &key).unwrap();
    std::fs::create_dir_all(dir.join("db")).unwrap();
    let mut conf = String::new();
    for s in ["core", "cosine", "inetorgperson", "nis", "msuser"] {
        conf.push_str(&format!("include {}/{s}.schema\n", schema.display()));
    }
    conf.push_str(&format!(
        "modulepath {modules}\nmoduleload back_mdb\npidfile {d}/slapd.pid\n\
         TLSCACertificateFile {d}/ca.pem\nTLSCertificateFile {d}/server.pem\n\
         TLSCertificateKeyFile {d}/server.key\n\
         # Active Directory's MaxPageSize: no more than 1,000 entries without paging.\n\
         sizelimit size.soft=1000 size.hard=1000 size.prtotal=unlimited\n\
         database mdb\nsuffix \"{BASE}\"\nrootdn \"cn=admin,{BASE}\"\nrootpw admin-secret\n\
         directory {d}/db\nmaxsize 268435456\nindex objectClass eq\n",
        modules = modules.display(),
        d = dir.display()
    ));
    std::fs::write(dir.join("slapd.conf"), conf).unwrap();
    let (ldap, ldaps) = (free_port(), free_port());
    let urls = format!("ldap://127.0.0.1:{ldap}/ ldaps://127.0.0.1:{ldaps}/");
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("\"$@\" & p=$!; read x; kill $p; wait $p")
        .arg("sh")
        .arg(&program)
        .args(["-f"])
        .arg(dir.join("slapd.conf"))
        .args(["-h", &urls, "-d", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("slapd.log")).unwrap());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    let guard = sh.spawn().expect("start slapd");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", ldap)).is_err() {
        assert!(
            Instant::now() < deadline,
            "slapd did not start:\n{}",
            std::fs::read_to_string(dir.join("slapd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut add = crate::tools::command("ldapadd");
    let mut child = add
        .args([
            "-x",
            "-c",
            "-D",
            &format!("cn=admin,{BASE}"),
            "-w",
            "admin-secret",
        ])
        .args(["-H", &format!("ldap://127.0.0.1:{ldap}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ldapadd");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ldif().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ldapadd: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Slapd {
        ldap,
        ldaps,
        ca_pem: ca,
        dir,
        _guard: guard,
    }
}

fn book(s: &Server) -> Vec<(String, String)> {
    csv_rows(&s.get(&format!("/contacts/{KEY}")).body)
}

fn sync(s: &Server, name: &str) -> crate::helpers::Response {
    api(s, "POST", &format!("/sources/{name}/sync"), None)
}

#[test]
fn ldap_directory_of_2500_paged_over_starttls_without_disabled_accounts() {
    let d = slapd();
    // The directory really stops unpaged searches at 1,000 entries, as AD does.
    let out = crate::tools::command("ldapsearch")
        .args(["-x", "-D", BIND_DN, "-w", BIND_PW])
        .args(["-H", &format!("ldap://127.0.0.1:{}", d.ldap), "-b", BASE])
        .args(["(telephoneNumber=*)", "dn"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "sizeLimitExceeded expected");

    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let settings = json!({"kind": "ldap", "url": format!("ldap://localhost:{}", d.ldap),
        "starttls": true, "ca_cert": d.ca_pem, "bind_dn": BIND_DN, "password": BIND_PW,
        "base": BASE, "interval_s": 0, "region": "DE"});
    let r = api(&s, "PUT", "/sources/ad", Some(&settings.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["settings"]["password"], "********");
    let started = Instant::now();
    let r = sync(&s, "ad");
    assert_eq!(r.status, 200, "{}", r.body);
    eprintln!("ldap sync of 2,500 entries: {:?}", started.elapsed());
    // 2,500 people with a phone, less the 10 disabled accounts.
    assert_eq!(r.json()["contacts"], 2_490, "{}", r.body);
    let rows = book(&s);
    assert_eq!(rows.len(), 2_490);
    let find = |name: &str| {
        rows.iter()
            .find(|r| r.0 == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .1
            .clone()
    };
    assert_eq!(
        find("Given3 Family3"),
        "WORK:+493055510003;MOBILE:+491715500003"
    );
    // AD-shaped: otherTelephone and ipPhone (a short extension), company and department.
    assert_eq!(find("Staff001, Erika"), "WORK:+493055520001;EXTENSION:4001");
    assert!(
        rows.iter().all(|r| r.0 != "Staff010, Erika"),
        "a disabled account"
    );
    assert!(rows.iter().all(|r| !r.0.starts_with("No Phone")));
    // The entry with a sentence for a number: kept by its mobile, the sentence a warning.
    assert_eq!(find("Given9 Family9"), "MOBILE:+491715500009");
    let st = api(&s, "GET", "/sources/ad", None).json();
    let w = &st["status"]["warnings"];
    assert_eq!(w["count"], 1, "{w}");
    assert_eq!(w["first"][0]["record"], format!("uid=p9,ou=people,{BASE}"));
    assert_eq!(w["first"][0]["field"], "telephoneNumber");
    assert_eq!(w["first"][0]["value"], "call the front desk");
    let v = s.get(&format!("/contacts/{KEY}/vcard")).body;
    assert!(
        v.contains("ORG:ACME Corp;IT"),
        "department from AD's attribute"
    );
}

#[test]
fn ldaps_with_the_internal_ca_and_what_goes_wrong() {
    let d = slapd();
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let base = json!({"kind": "ldap", "url": format!("ldaps://localhost:{}", d.ldaps),
        "ca_cert": d.ca_pem, "bind_dn": BIND_DN, "password": BIND_PW,
        "base": format!("ou=staff,{BASE}"), "schema": "inetorgperson",
        "attributes": {"numbers": {"EXTENSION": ["ipPhone"]}},
        "interval_s": 0, "region": "DE"});
    let put = |v: &serde_json::Value| {
        let r = api(&s, "PUT", "/sources/staff", Some(&v.to_string()));
        assert!(r.status == 200 || r.status == 201, "{}", r.body);
    };
    put(&base);
    let r = sync(&s, "staff");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 90);
    assert!(book(&s).iter().all(|r| r.1.starts_with("EXTENSION:4")));

    let fails = |v: serde_json::Value, needles: &[&str]| {
        put(&v);
        let r = sync(&s, "staff");
        assert_eq!(r.status, 502, "{}", r.body);
        let err = r.json()["error"].as_str().unwrap().to_owned();
        for n in needles {
            assert!(err.contains(n), "{n}: {err}");
        }
        assert_eq!(book(&s).len(), 90, "the last good contacts stay");
    };
    // Without the internal CA the certificate is not trusted: never skipped.
    let mut v = base.clone();
    v.as_object_mut().unwrap().remove("ca_cert");
    v["password"] = BIND_PW.into();
    fails(v, &["TLS handshake", "ca_cert"]);
    let mut v = base.clone();
    v["password"] = "wrong".into();
    fails(v, &["invalidCredentials", "bind_dn"]);
    let mut v = base.clone();
    v["base"] = format!("ou=nowhere,{BASE}").into();
    fails(v, &["noSuchObject", "base"]);
    let mut v = base.clone();
    v["url"] = format!("ldap://localhost:{}", free_port()).into();
    fails(v, &["cannot reach"]);
    assert!(!s.log().contains(BIND_PW), "{}", s.log());

    // A server the operator did not open to private addresses does not connect at all.
    let closed = Server::start(&[]);
    create_directory(&closed);
    let r = api(&closed, "PUT", "/sources/staff", Some(&base.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = sync(&closed, "staff");
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("--source-allow"),
        "{}",
        r.body
    );
    let _ = &d.dir;
}

/// A hostile or broken LDAP server: each connection gets `answer`'s bytes, then silence.
fn hostile(answer: fn(&mut std::net::TcpStream)) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                // Read the bind request, then answer.
                let mut buf = [0u8; 4096];
                let _ = std::io::Read::read(&mut s, &mut buf);
                answer(&mut s);
                std::thread::sleep(Duration::from_secs(30));
            });
        }
    });
    port
}

#[test]
fn a_hostile_ldap_server_fails_the_sync_not_the_server() {
    let huge = hostile(|s| {
        // A message that claims 100 MB and keeps sending: read no further than the cap.
        let _ = s.write_all(&[0x30, 0x84, 0x06, 0x00, 0x00, 0x00]);
        let chunk = vec![0x04u8; 64 * 1024];
        for _ in 0..200 {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let garbage = hostile(|s| {
        // A well-formed BER sequence that is no LDAP message (a message id, no operation).
        let _ = s.write_all(&[0x30, 0x03, 0x02, 0x01, 0x01]);
    });
    let silent = hostile(|_| {});
    let s = Server::start(&["--source-allow", "127.0.0.0/8", "--sync-timeout", "3"]);
    create_directory(&s);
    for (name, port, needle) in [
        ("huge", huge, "larger than 4 MiB"),
        ("garbage", garbage, "not LDAP"),
        ("silent", silent, "longer than the limit of 3 s"),
    ] {
        let v = json!({"kind": "ldap", "url": format!("ldap://127.0.0.1:{port}"),
                       "bind_dn": "cn=x", "password": "p", "base": "dc=x", "interval_s": 0});
        let r = api(&s, "PUT", &format!("/sources/{name}"), Some(&v.to_string()));
        assert_eq!(r.status, 201, "{}", r.body);
        let r = sync(&s, name);
        assert_eq!(r.status, 502, "{name}: {}", r.body);
        let err = r.json()["error"].as_str().unwrap().to_owned();
        assert!(err.contains(needle), "{name}: {err}");
    }
    assert_eq!(s.get("/healthz").status, 200);
}
