use super::*;
use crate::domain::ApiKey;
use crate::push::{self, Limits, PushRequest};
use ldap3_proto::parse_ldap_filter_str;
use ldap3_proto::proto::{
    LdapBindRequest, LdapDerefAliases, LdapExtendedRequest, LdapSearchResultEntry, SaslCredentials,
};

const KEY: &str = "ACMEq7Rt2xK9pL";
const OTHER: &str = "OTHRx8Kq3mW7zB";

struct Fixture {
    ctx: Ctx,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    for (key, csv) in [
        (
            KEY,
            "display_name,phone\nAnna Schmidt,+4923648873040\nBen Becker,+4923648873041\n",
        ),
        (OTHER, "display_name,phone\nAnna Other,+4930123456\n"),
    ] {
        let key = ApiKey::parse(key).unwrap();
        push::push(
            &store,
            &Limits {
                default_region: None,
                max_extension_digits: 6,
                max_rows: 1000,
                max_field_chars: 1000,
                max_numbers: 100,
                open_registration: true,
                quota: crate::store::Quota::NONE,
            },
            &PushRequest {
                key: &key,
                source: "push",
                body: csv.as_bytes(),
                format: Default::default(),
                map: None,
                force: false,
                region: "DE".parse().ok(),
                allow_empty: false,
                dry_run: false,
            },
        )
        .unwrap();
    }
    let books = Arc::new(Books::new(store.clone(), 1 << 24, 2));
    let gate = Arc::new(crate::access::Gate::new(
        store.clone(),
        &crate::access::GateConfig {
            key_failures_per_minute: 0,
            registrations_per_hour: 0,
            open_registration: true,
        },
    ));
    Fixture {
        ctx: Ctx {
            store,
            books,
            gate,
            numbers: NumberDefaults {
                region: "DE".parse().ok(),
                max_extension_digits: 6,
            },
            max_hits: 200,
        },
        _dir: dir,
    }
}

fn client() -> IpAddr {
    "192.0.2.7".parse().unwrap()
}

fn msg(op: LdapOp) -> LdapMsg {
    LdapMsg {
        msgid: 7,
        op,
        ctrl: Vec::new(),
    }
}

fn bind(s: &mut Session, f: &Fixture, password: &str) -> LdapResultCode {
    let step = s.step(msg(LdapOp::BindRequest(LdapBindRequest {
        version: 3,
        dn: "cn=phone".into(),
        cred: LdapBindCred::Simple(password.into()),
    })));
    let answer = match step {
        Step::Bind { msgid, password } => s.bound(
            msgid,
            Ok(directory_for(&f.ctx.gate, &password, client()).unwrap()),
        ),
        Step::Send(mut m) => m.remove(0),
        other => panic!("{other:?}"),
    };
    match answer.op {
        LdapOp::BindResponse(r) => r.res.code,
        other => panic!("{other:?}"),
    }
}

fn search(
    s: &Session,
    f: &Fixture,
    base: &str,
    scope: LdapSearchScope,
    filter: &str,
) -> (Vec<LdapSearchResultEntry>, LdapResult) {
    let req = LdapSearchRequest {
        base: base.into(),
        scope,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter: parse_ldap_filter_str(filter).unwrap(),
        attrs: vec!["cn".into()],
    };
    let mut out = s.search(&f.ctx, client(), 7, &req, false);
    let done = match out.pop().map(|m| m.op) {
        Some(LdapOp::SearchResultDone(r)) => r,
        other => panic!("{other:?}"),
    };
    let entries = out
        .into_iter()
        .map(|m| match m.op {
            LdapOp::SearchResultEntry(e) => e,
            other => panic!("{other:?}"),
        })
        .collect();
    (entries, done)
}

fn cns(entries: &[LdapSearchResultEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| String::from_utf8(e.attributes[0].vals[0].clone()).unwrap())
        .collect()
}

#[test]
fn a_bind_with_a_key_opens_its_directory_whatever_the_base() {
    let f = fixture();
    let mut s = Session::default();
    assert_eq!(bind(&mut s, &f, KEY), LdapResultCode::Success);
    for base in [
        "",
        "dc=phonedir",
        "ou=ACMEq7Rt2xK9pL,dc=phonedir",
        "dc=example,dc=com",
    ] {
        let (e, r) = search(&s, &f, base, LdapSearchScope::Subtree, "(cn=an*)");
        assert_eq!(r.code, LdapResultCode::Success, "{base}");
        assert_eq!(cns(&e), vec!["Anna Schmidt"], "{base}");
        assert!(e[0].dn.ends_with(",ou=ACMEq7Rt2xK9pL,dc=phonedir"));
    }
    // A wrong password fails, and the connection is anonymous again.
    assert_eq!(
        bind(&mut s, &f, "WRONG000000001"),
        LdapResultCode::InvalidCredentials
    );
    assert_eq!(
        bind(&mut s, &f, "not even a key"),
        LdapResultCode::InvalidCredentials
    );
    let (e, r) = search(&s, &f, "dc=phonedir", LdapSearchScope::Subtree, "(cn=an*)");
    assert_eq!(r.code, LdapResultCode::Success);
    assert!(e.is_empty());
}

#[test]
fn anonymous_needs_the_key_in_the_base_and_a_key_shows_only_its_own() {
    let f = fixture();
    let mut s = Session::default();
    assert_eq!(bind(&mut s, &f, ""), LdapResultCode::Success);
    let (e, _) = search(&s, &f, "", LdapSearchScope::Subtree, "(objectClass=*)");
    assert!(e.is_empty());
    let (e, _) = search(
        &s,
        &f,
        "ou=OTHRx8Kq3mW7zB,dc=phonedir",
        LdapSearchScope::Subtree,
        "(cn=an*)",
    );
    assert_eq!(cns(&e), vec!["Anna Other"]);
    assert!(e[0].dn.ends_with(",ou=OTHRx8Kq3mW7zB,dc=phonedir"));
    let (e, r) = search(
        &s,
        &f,
        "ou=NOPE0000000001,dc=phonedir",
        LdapSearchScope::Subtree,
        "(cn=*)",
    );
    assert!(e.is_empty());
    assert_eq!(r.code, LdapResultCode::NoSuchObject);
    // Bound to one directory, a base naming another key shows that key's entries only
    // because that key is given: never the bound directory's under another name.
    assert_eq!(bind(&mut s, &f, KEY), LdapResultCode::Success);
    let (e, _) = search(
        &s,
        &f,
        "ou=OTHRx8Kq3mW7zB,dc=phonedir",
        LdapSearchScope::Subtree,
        "(cn=an*)",
    );
    assert_eq!(cns(&e), vec!["Anna Other"]);
    let (e, r) = search(
        &s,
        &f,
        "ou=NOPE0000000001,dc=phonedir",
        LdapSearchScope::Subtree,
        "(cn=*)",
    );
    assert!(e.is_empty());
    assert_eq!(r.code, LdapResultCode::NoSuchObject);
}

#[test]
fn root_dse_containers_and_one_entry() {
    let f = fixture();
    let mut s = Session::default();
    let (e, _) = search(&s, &f, "", LdapSearchScope::Base, "(objectClass=*)");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].dn, "");
    assert_eq!(bind(&mut s, &f, KEY), LdapResultCode::Success);
    let (e, _) = search(
        &s,
        &f,
        "dc=phonedir",
        LdapSearchScope::Base,
        "(objectClass=*)",
    );
    assert_eq!(e[0].dn, "dc=phonedir");
    let (e, _) = search(
        &s,
        &f,
        "ou=ACMEq7Rt2xK9pL,dc=phonedir",
        LdapSearchScope::Base,
        "(objectClass=*)",
    );
    assert_eq!(e[0].dn, "ou=ACMEq7Rt2xK9pL,dc=phonedir");
    let (all, _) = search(&s, &f, "", LdapSearchScope::Subtree, "(cn=*)");
    assert_eq!(cns(&all), vec!["Anna Schmidt", "Ben Becker"]);
    let ben = all[1].dn.clone();
    let (e, _) = search(&s, &f, &ben, LdapSearchScope::Base, "(objectClass=*)");
    assert_eq!(cns(&e), vec!["Ben Becker"]);
    let (e, _) = search(&s, &f, &ben, LdapSearchScope::OneLevel, "(objectClass=*)");
    assert!(e.is_empty());
    let (_, r) = search(
        &s,
        &f,
        "dc=example,dc=com",
        LdapSearchScope::Base,
        "(objectClass=*)",
    );
    assert_eq!(r.code, LdapResultCode::NoSuchObject);
}

#[test]
fn size_limits_answer_sizelimit_exceeded_after_the_entries() {
    let mut f = fixture();
    f.ctx.max_hits = 1;
    let mut s = Session::default();
    bind(&mut s, &f, KEY);
    let (e, r) = search(&s, &f, "", LdapSearchScope::Subtree, "(cn=*)");
    assert_eq!(cns(&e), vec!["Anna Schmidt"]);
    assert_eq!(r.code, LdapResultCode::SizeLimitExceeded);
}

#[test]
fn sasl_versions_controls_and_operations() {
    let mut s = Session::default();
    let answer = |step: Step| match step {
        Step::Send(mut m) => m.remove(0),
        other => panic!("{other:?}"),
    };
    let code = |m: LdapMsg| match m.op {
        LdapOp::BindResponse(r) => r.res.code,
        LdapOp::SearchResultDone(r)
        | LdapOp::ModifyResponse(r)
        | LdapOp::DelResponse(r)
        | LdapOp::CompareResult(r) => r.code,
        LdapOp::ExtendedResponse(r) => r.res.code,
        other => panic!("{other:?}"),
    };
    let sasl = msg(LdapOp::BindRequest(LdapBindRequest {
        version: 3,
        dn: String::new(),
        cred: LdapBindCred::SASL(SaslCredentials {
            mechanism: "DIGEST-MD5".into(),
            credentials: Vec::new(),
        }),
    }));
    assert_eq!(
        code(answer(s.step(sasl))),
        LdapResultCode::AuthMethodNotSupported
    );
    let v1 = msg(LdapOp::BindRequest(LdapBindRequest {
        version: 1,
        dn: String::new(),
        cred: LdapBindCred::Simple("x".into()),
    }));
    assert_eq!(code(answer(s.step(v1))), LdapResultCode::ProtocolError);
    let ext = |name: &str| {
        msg(LdapOp::ExtendedRequest(LdapExtendedRequest {
            name: name.into(),
            value: None,
        }))
    };
    assert_eq!(
        code(answer(s.step(ext("1.2.3.4")))),
        LdapResultCode::ProtocolError
    );
    assert!(matches!(s.step(ext(OID_STARTTLS)), Step::StartTls(_)));
    s.tls = true;
    assert_eq!(
        code(answer(s.step(ext(OID_STARTTLS)))),
        LdapResultCode::OperationsError
    );
    let mut critical = msg(LdapOp::SearchRequest(LdapSearchRequest {
        base: String::new(),
        scope: LdapSearchScope::Subtree,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter: parse_ldap_filter_str("(cn=*)").unwrap(),
        attrs: vec![],
    }));
    critical.ctrl.push(LdapControl::Unknown {
        oid: "1.2.3.4.5".into(),
        criticality: true,
        value: None,
    });
    assert_eq!(
        code(answer(s.step(critical.clone()))),
        LdapResultCode::UnavailableCriticalExtension
    );
    critical.ctrl = vec![
        LdapControl::Unknown {
            oid: "1.2.3.4.5".into(),
            criticality: false,
            value: None,
        },
        LdapControl::SimplePagedResults {
            size: 10,
            cookie: Vec::new(),
        },
    ];
    assert!(matches!(s.step(critical), Step::Search { paged: true, .. }));
    assert!(matches!(
        s.step(msg(LdapOp::AbandonRequest(3))),
        Step::Nothing
    ));
    assert!(matches!(
        s.step(msg(LdapOp::UnbindRequest)),
        Step::Close(None)
    ));
    assert_eq!(
        code(answer(s.step(msg(LdapOp::DelRequest("uid=x".into()))))),
        LdapResultCode::UnwillingToPerform
    );
    assert!(matches!(
        s.step(msg(LdapOp::SearchResultDone(result(
            LdapResultCode::Success,
            ""
        )))),
        Step::Close(Some(_))
    ));
}
