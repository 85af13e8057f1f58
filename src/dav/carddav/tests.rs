use super::*;
use crate::domain::{Contact, NumberType, PhoneNumber};
use crate::store::Store;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    books: Books,
    key: ApiKey,
}

fn contact(name: &str, family: &str, email: &str, numbers: &[(NumberType, &str)]) -> Contact {
    Contact {
        display_name: name.into(),
        family_name: family.into(),
        email: email.into(),
        numbers: numbers
            .iter()
            .map(|(kind, v)| PhoneNumber {
                kind: *kind,
                value: (*v).into(),
            })
            .collect(),
        ..Default::default()
    }
}

/// The fixture's contacts: Anna (work and mobile, e-mail), Bernd (home), Empfang (an
/// extension).
fn fixture_contacts() -> Vec<Contact> {
    vec![
        contact(
            "Anna Schmidt",
            "Schmidt",
            "anna@acme.example",
            &[
                (NumberType::Work, "+492311234567"),
                (NumberType::Mobile, "+491711111111"),
            ],
        ),
        contact(
            "Bernd Meier",
            "Meier",
            "",
            &[(NumberType::Home, "+49307654321")],
        ),
        contact("Empfang", "", "", &[(NumberType::Extension, "100")]),
    ]
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let books = Books::new(store.clone(), 1 << 24, 2);
        let f = Fixture {
            _dir: dir,
            store,
            books,
            key: ApiKey::parse("ACME0123456789").unwrap(),
        };
        f.push(&fixture_contacts());
        f
    }

    fn push(&self, contacts: &[Contact]) {
        self.store
            .replace_source(&self.key, "push", "push", contacts, true)
            .unwrap();
    }

    fn ctx(&self) -> Ctx {
        let (book, logged_at) = current(&self.books, &self.key).unwrap();
        let id = public_id(self.store.salt(), book.directory.id);
        Ctx::new(book, id, logged_at)
    }
}

fn props(names: &[(&str, &str)]) -> Props {
    Props::Some {
        names: names.iter().map(|(ns, l)| Name::new(ns, l)).collect(),
        address_data: names
            .iter()
            .any(|(ns, l)| *ns == CARDDAV && *l == "address-data")
            .then_some(VcardVersion::V3),
    }
}

/// (status, [prop local names]) of a propstat, or of a response that is only a status.
type Stat = (String, Vec<String>);

/// (href, its stats) of every response.
fn responses(body: &str) -> Vec<(String, Vec<Stat>)> {
    let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    doc.root_element()
        .children()
        .filter(|n| n.has_tag_name((DAV, "response")))
        .map(|r| {
            let href = r
                .children()
                .find(|n| n.has_tag_name((DAV, "href")))
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_owned();
            let mut stats = Vec::new();
            for c in r.children().filter(|n| n.is_element()) {
                if c.has_tag_name((DAV, "status")) {
                    stats.push((c.text().unwrap_or_default().to_owned(), Vec::new()));
                }
                if c.has_tag_name((DAV, "propstat")) {
                    let status = c
                        .children()
                        .find(|n| n.has_tag_name((DAV, "status")))
                        .and_then(|n| n.text())
                        .unwrap_or_default()
                        .to_owned();
                    let names = c
                        .children()
                        .find(|n| n.has_tag_name((DAV, "prop")))
                        .map(|p| {
                            p.children()
                                .filter(|n| n.is_element())
                                .map(|n| n.tag_name().name().to_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    stats.push((status, names));
                }
            }
            (href, stats)
        })
        .collect()
}

#[test]
fn paths_read_with_or_without_slashes_and_encoding() {
    assert_eq!(target("/"), Some(Target::Root));
    assert_eq!(target("/dav"), Some(Target::Root));
    assert_eq!(
        target("/dav/books/ab%63d/contacts/x.vcf"),
        Some(Target::Card("abcd".into(), "x.vcf".into()))
    );
    assert_eq!(
        target("/dav/books/abcd/contacts/"),
        Some(Target::Book("abcd".into()))
    );
    assert_eq!(target("/dav/other"), None);
    assert_eq!(target("/dav/books/%ff"), None);
}

#[test]
fn propfind_puts_the_200_propstat_first_and_unknown_properties_in_a_404() {
    let f = Fixture::new();
    let ctx = f.ctx();
    let asked = props(&[
        ("urn:example", "color"),
        (DAV, "displayname"),
        (CALSERVER, "getctag"),
        (DAV, "current-user-privilege-set"),
        (CALSERVER, "pushkey"),
    ]);
    let body = propfind(ctx.clone(), Res::Book, Depth::Zero, asked).render();
    let r = responses(&body);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, ctx.book_href());
    assert_eq!(r[0].1[0].0, "HTTP/1.1 200 OK");
    assert_eq!(
        r[0].1[0].1,
        ["displayname", "getctag", "current-user-privilege-set"]
    );
    assert_eq!(r[0].1[1].0, "HTTP/1.1 404 Not Found");
    assert_eq!(r[0].1[1].1, ["color", "pushkey"]);
    assert!(body.contains("<D:privilege><D:read/></D:privilege></D:current-user-privilege-set>"));
    assert!(!body.contains("<D:write"), "{body}");
    assert!(body.contains(&format!("<CS:getctag>{}</CS:getctag>", ctx.sync_token())));
}

#[test]
fn depth_one_lists_the_one_book_of_the_home_and_every_card_with_its_etag() {
    let f = Fixture::new();
    let ctx = f.ctx();
    let home = responses(&propfind(ctx.clone(), Res::Home, Depth::One, Props::All).render());
    assert_eq!(
        home.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        [ctx.home(), ctx.book_href()]
    );
    let asked = props(&[
        (DAV, "resourcetype"),
        (DAV, "getetag"),
        (DAV, "getcontenttype"),
    ]);
    let listing = propfind(ctx.clone(), Res::Book, Depth::One, asked);
    assert!(!listing.renders_cards());
    let book = responses(&listing.render());
    assert_eq!(book.len(), 4);
    // The book itself has no ETag or content type: those come back as 404.
    assert_eq!(book[0].1[1].1, ["getetag", "getcontenttype"]);
    for (i, (href, stats)) in book[1..].iter().enumerate() {
        let c = &ctx.book.contacts[i];
        assert_eq!(href, &ctx.card_href(c.id));
        assert_eq!(stats.len(), 1, "{stats:?}");
        assert_eq!(stats[0].1, ["resourcetype", "getetag", "getcontenttype"]);
    }
    // The ETag is the one GET sends, strong and quoted.
    let (_, etag) = ctx.card(0);
    assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"));
    assert!(listing_text(&ctx, 0).contains(&format!("<D:getetag>{etag}</D:getetag>")));
}

fn listing_text(ctx: &Ctx, pos: u32) -> String {
    let l = multiget(
        ctx.clone(),
        props(&[(DAV, "getetag")]),
        vec![ctx.card_href(ctx.book.contacts[pos as usize].id)],
    );
    l.render()
}

#[test]
fn multiget_answers_every_href_as_the_client_wrote_it() {
    let f = Fixture::new();
    let ctx = f.ctx();
    let anna = ctx.card_href(ctx.book.contacts[0].id);
    let hrefs = vec![
        format!("https://dav.example:8443{anna}"),
        ctx.card_href(ContactId::from_u64(42)),
        format!(
            "/dav/books/0000000000000000/contacts/{}.vcf",
            ctx.book.contacts[1].id
        ),
        "not a path at all".to_owned(),
        anna.replace("/contacts/", "/%63ontacts/"),
    ];
    let l = multiget(
        ctx.clone(),
        Props::Some {
            names: vec![
                Name::new(DAV, "getetag"),
                Name::new(CARDDAV, "address-data"),
            ],
            address_data: Some(VcardVersion::V4),
        },
        hrefs.clone(),
    );
    assert!(l.renders_cards());
    let body = l.render();
    let r = responses(&body);
    assert_eq!(r.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), hrefs);
    assert_eq!(r[0].1[0].1, ["getetag", "address-data"]);
    for missing in &r[1..4] {
        assert_eq!(missing.1, [("HTTP/1.1 404 Not Found".to_owned(), vec![])]);
    }
    assert_eq!(r[4].1[0].0, "HTTP/1.1 200 OK");
    assert!(body.contains("VERSION:4.0"), "{body}");
    assert!(body.contains(&format!("UID;VALUE=text:{}", ctx.book.contacts[0].id)));
}

#[test]
fn another_directorys_paths_are_not_found_here() {
    let f = Fixture::new();
    let ctx = f.ctx();
    let other = public_id(f.store.salt(), ctx.book.directory.id + 1);
    assert_ne!(other, ctx.id);
    for t in [
        Target::Principal(other.clone()),
        Target::Home(other.clone()),
        Target::Book(other.clone()),
        Target::Card(other, format!("{}.vcf", ctx.book.contacts[0].id)),
    ] {
        assert!(matches!(ctx.resolve(&t), Err(DavError::NotFound)), "{t:?}");
    }
    let own = Target::Card(ctx.id.clone(), format!("{}.vcf", ctx.book.contacts[0].id));
    assert_eq!(ctx.resolve(&own).unwrap(), Res::Card(0));
    let wrong = Target::Card(ctx.id.clone(), format!("{}.ics", ctx.book.contacts[0].id));
    assert!(ctx.resolve(&wrong).is_err());
}

#[test]
fn sync_from_nothing_then_nothing_then_what_a_push_changed() {
    let f = Fixture::new();
    let asked = || props(&[(DAV, "getetag"), (CARDDAV, "address-data")]);
    let salt = *f.store.salt();
    let first = sync(&f.books, &f.key, &salt, "", asked(), None).unwrap();
    assert_eq!(first.len(), 3);
    let token = first.token.clone().unwrap();
    assert!(
        token.contains(':') && token.contains(&first.ctx.id),
        "{token}"
    );

    // The current token: nothing to write, not one vCard rendered.
    let same = sync(&f.books, &f.key, &salt, &token, asked(), None).unwrap();
    assert!(same.is_empty() && !same.renders_cards());
    assert_eq!(same.token.as_deref(), Some(token.as_str()));
    // Pushing the same contacts again changes no token.
    f.push(&fixture_contacts());
    assert_eq!(f.ctx().sync_token(), token);

    // Anna changes, Bernd goes, Cleo comes.
    f.push(&[
        contact(
            "Anna Schmidt",
            "Schmidt",
            "anna@acme.example",
            &[(NumberType::Work, "+492311234568")],
        ),
        contact("Cleo Neu", "Neu", "", &[(NumberType::Work, "+49301111")]),
        contact("Empfang", "", "", &[(NumberType::Extension, "100")]),
    ]);
    let next = sync(&f.books, &f.key, &salt, &token, asked(), None).unwrap();
    let body = next.render();
    let r = responses(&body);
    let ok: Vec<&String> = r
        .iter()
        .filter(|x| x.1[0].0.ends_with("200 OK"))
        .map(|x| &x.0)
        .collect();
    let gone: Vec<&String> = r
        .iter()
        .filter(|x| x.1[0].0.ends_with("404 Not Found"))
        .map(|x| &x.0)
        .collect();
    assert_eq!(ok.len(), 2, "{body}");
    assert_eq!(gone.len(), 1, "{body}");
    assert!(gone[0].ends_with(&format!("{}.vcf", first.ctx.book.contacts[1].id)));
    assert!(body.contains("+492311234568") && body.contains("Cleo Neu"));
    assert!(!body.contains("Empfang"));
    let new_token = next.token.clone().unwrap();
    assert_ne!(new_token, token);
    assert!(body.contains(&format!("<D:sync-token>{new_token}</D:sync-token>")));

    // A limit smaller than the changes is refused, not cut.
    let e = sync(&f.books, &f.key, &salt, &token, asked(), Some(1))
        .err()
        .unwrap();
    assert_eq!(
        e.precondition(),
        Some(Precondition::NumberOfMatchesWithinLimits)
    );
    for bad in [
        "urn:phonedir:sync:0000000000000000:1".to_owned(),
        format!("urn:phonedir:sync:{}:999", first.ctx.id),
        "http://sabre.io/ns/sync/3".to_owned(),
        "12".to_owned(),
    ] {
        let e = sync(&f.books, &f.key, &salt, &bad, asked(), None)
            .err()
            .unwrap();
        assert_eq!(
            e.precondition(),
            Some(Precondition::ValidSyncToken),
            "{bad}"
        );
    }
}

#[test]
fn query_finds_names_emails_and_numbers_in_any_shape() {
    let f = Fixture::new();
    let ctx = f.ctx();
    let rules = NumberRules {
        region: "DE".parse().ok(),
        max_extension_digits: 6,
    };
    let q = |xml: &str| -> Vec<String> {
        let body = format!(
            r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
               <D:prop><D:getetag/></D:prop>{xml}</C:addressbook-query>"#
        );
        let super::super::xml::Report::Query {
            props,
            filter,
            limit,
        } = super::super::xml::report(body.as_bytes()).unwrap()
        else {
            panic!()
        };
        let l = query(ctx.clone(), props, &filter, limit, &rules);
        responses(&l.render())
            .into_iter()
            .map(|(href, stats)| {
                if stats[0].0.contains("507") {
                    return "507".to_owned();
                }
                let id = href.rsplit('/').next().unwrap().trim_end_matches(".vcf");
                let id = ContactId::parse(id).unwrap();
                ctx.book.get(id).unwrap().display_name.clone()
            })
            .collect()
    };
    let tel = |m: &str, t: &str| {
        q(&format!(
            r#"<C:filter><C:prop-filter name="TEL"><C:text-match match-type="{m}">{t}</C:text-match></C:prop-filter></C:filter>"#
        ))
    };
    assert_eq!(tel("equals", "0231 1234567"), ["Anna Schmidt"]);
    assert_eq!(tel("equals", "+49 231 1234567"), ["Anna Schmidt"]);
    assert_eq!(tel("equals", "0049 231 1234567"), ["Anna Schmidt"]);
    assert_eq!(tel("starts-with", "0171"), ["Anna Schmidt"]);
    assert_eq!(tel("contains", "765"), ["Bernd Meier"]);
    assert_eq!(tel("ends-with", "100"), ["Empfang"]);
    assert!(tel("equals", "0231 7654321").is_empty());
    let fn_contains = r#"<C:filter><C:prop-filter name="FN"><C:text-match>SCHMI</C:text-match></C:prop-filter></C:filter>"#;
    assert_eq!(q(fn_contains), ["Anna Schmidt"]);
    let any = r#"<C:filter test="anyof">
        <C:prop-filter name="N"><C:text-match match-type="equals">meier</C:text-match></C:prop-filter>
        <C:prop-filter name="EMAIL"><C:text-match>acme.example</C:text-match></C:prop-filter></C:filter>"#;
    assert_eq!(q(any), ["Anna Schmidt", "Bernd Meier"]);
    let all = any.replace("anyof", "allof");
    assert!(q(&all).is_empty());
    let no_email =
        r#"<C:filter><C:prop-filter name="EMAIL"><C:is-not-defined/></C:prop-filter></C:filter>"#;
    assert_eq!(q(no_email), ["Bernd Meier", "Empfang"]);
    let cell = r#"<C:filter><C:prop-filter name="TEL" test="allof"><C:text-match>0171</C:text-match>
        <C:param-filter name="TYPE"><C:text-match match-type="equals">CELL</C:text-match></C:param-filter></C:prop-filter></C:filter>"#;
    assert_eq!(q(cell), ["Anna Schmidt"]);
    let negated = r#"<C:filter><C:prop-filter name="FN"><C:text-match negate-condition="yes">a</C:text-match></C:prop-filter></C:filter>"#;
    assert_eq!(q(negated), ["Bernd Meier"]);
    assert_eq!(
        q("<C:limit><C:nresults>2</C:nresults></C:limit>"),
        ["Anna Schmidt", "Bernd Meier", "507"]
    );
    assert_eq!(q(""), ["Anna Schmidt", "Bernd Meier", "Empfang"]);
}

/// In-tree fuzzing of the request reader and the answers over a book (the cargo-fuzz
/// target `dav` does the same without end): mutated client bodies are refused or answered
/// with well-formed XML, never a panic.
#[test]
fn mutated_request_bodies_are_refused_or_answered_with_well_formed_xml() {
    use super::super::xml::{self, Report};
    let f = Fixture::new();
    let ctx = f.ctx();
    let anna = ctx.card_href(ctx.book.contacts[0].id);
    let seeds = [
        r#"<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><x:a xmlns:x="urn:x"/><d:displayname/></d:prop></d:propfind>"#.to_owned(),
        format!(
            r#"<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data version="4.0"/></D:prop><D:href>{anna}</D:href><D:href>/x&amp;y</D:href></C:addressbook-multiget>"#
        ),
        r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data/></D:prop><C:filter test="allof"><C:prop-filter name="TEL"><C:text-match match-type="starts-with">0231</C:text-match><C:param-filter name="TYPE"><C:text-match>work</C:text-match></C:param-filter></C:prop-filter></C:filter><C:limit><C:nresults>1</C:nresults></C:limit></C:addressbook-query>"#.to_owned(),
    ];
    let tokens: [&[u8]; 10] = [
        b"<",
        b">",
        b"</",
        b"&amp;",
        b"&#1;",
        b"&#x10FFFF;",
        b"\"",
        b" xmlns:d=\"DAV:\"",
        b"<![CDATA[<x>]]>",
        b"\xff",
    ];
    let rules = NumberRules {
        region: "DE".parse().ok(),
        max_extension_digits: 6,
    };
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let well_formed = |xml: String| {
        if let Err(e) = roxmltree::Document::parse(&xml) {
            panic!("not well-formed ({e}): {xml}");
        }
    };
    for round in 0..3000 {
        let mut body = seeds[round % seeds.len()].clone().into_bytes();
        for _ in 0..1 + next(4) {
            let at = next(body.len() + 1);
            match next(3) {
                0 => {
                    body.truncate(at);
                }
                1 if at < body.len() => body[at] = next(256) as u8,
                _ => {
                    let t = tokens[next(tokens.len())];
                    body.splice(at..at, t.iter().copied());
                }
            }
        }
        if let Ok(props) = xml::propfind(&body) {
            well_formed(propfind(ctx.clone(), Res::Book, Depth::One, props).render());
        }
        match xml::report(&body) {
            Ok(Report::Multiget { props, hrefs }) => {
                well_formed(multiget(ctx.clone(), props, hrefs).render())
            }
            Ok(Report::Query {
                props,
                filter,
                limit,
            }) => well_formed(query(ctx.clone(), props, &filter, limit, &rules).render()),
            _ => {}
        }
    }
}
