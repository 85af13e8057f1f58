//! The other vendors' phone books, read the way the phones read them: parse the XML (or
//! the vCard), check element and attribute names, numbers, escaping and device limits.

use crate::helpers::{Server, KEY};
use roxmltree::Document;

const BOOK: &str = "internal_id,display_name,family_name,given_name,phone,email\r\n\
1,Jörg Müller,Müller,Jörg,WORK:+4923648873040;EXTENSION:42;MOBILE:+4915112345678;HOME:+4930901820;FAX:+4923648873099,j@example.de\r\n\
2,Alpen & <Söhne>,,,WORK:+436641234567,\r\n\
3,Empfang,,,EXTENSION:10,\r\n";

fn pushed(csv: &str) -> Server {
    let s = Server::start(&[]);
    let r = s.push(&format!("/contacts/{KEY}"), csv.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["warnings"].as_array().unwrap().len(),
        0,
        "{}",
        r.body
    );
    s
}

fn texts<'a>(doc: &'a Document, tag: &str) -> Vec<&'a str> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .map(|n| n.text().unwrap_or(""))
        .collect()
}

fn child_text<'a>(n: roxmltree::Node<'a, '_>, tag: &str) -> &'a str {
    n.children()
        .find(|c| c.has_tag_name(tag))
        .and_then(|c| c.text())
        .unwrap_or("")
}

#[test]
fn grandstream_address_book_has_typed_phones_and_escaped_names() {
    let s = pushed(BOOK);
    // The phone appends /phonebook.xml to the configured path.
    let r = s.get(&format!(
        "/contacts/{KEY}/grandstream/v1/phonebook.xml?numbers=intl00"
    ));
    assert_eq!(r.header("content-type"), Some("text/xml; charset=utf-8"));
    assert!(
        r.body
            .contains("<LastName>Alpen &amp; &lt;Söhne&gt;</LastName>"),
        "{}",
        r.body
    );
    let doc = r.xml();
    assert_eq!(doc.root_element().tag_name().name(), "AddressBook");
    let contacts: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("Contact"))
        .collect();
    assert_eq!(contacts.len(), 3);
    let m = contacts
        .iter()
        .find(|c| child_text(**c, "LastName") == "Müller")
        .unwrap();
    assert_eq!(child_text(*m, "FirstName"), "Jörg");
    let phones: Vec<(&str, &str, &str)> = m
        .children()
        .filter(|c| c.has_tag_name("Phone"))
        .map(|p| {
            (
                p.attribute("type").unwrap(),
                child_text(p, "phonenumber"),
                child_text(p, "accountindex"),
            )
        })
        .collect();
    assert_eq!(
        phones,
        vec![
            ("Work", "004923648873040", "1"),
            ("Work", "42", "1"),
            ("Mobile", "004915112345678", "1"),
            ("Home", "004930901820", "1"),
            ("Fax", "004923648873099", "1"),
        ]
    );
}

#[test]
fn fanvil_directory_lists_every_number_per_entry() {
    let s = pushed(BOOK);
    let r = s.get(&format!(
        "/contacts/{KEY}/fanvil/v1?numbers=national&region=DE"
    ));
    let doc = r.xml();
    assert_eq!(
        doc.root_element().tag_name().name(),
        "FanvilIPPhoneDirectory"
    );
    let entries: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("DirectoryEntry"))
        .collect();
    let names: Vec<&str> = entries.iter().map(|e| child_text(*e, "Name")).collect();
    assert_eq!(names, vec!["Alpen & <Söhne>", "Empfang", "Jörg Müller"]);
    let tels: Vec<&str> = entries[2]
        .children()
        .filter(|c| c.has_tag_name("Telephone"))
        .filter_map(|c| c.text())
        .collect();
    assert_eq!(
        tels,
        vec![
            "023648873040",
            "42",
            "015112345678",
            "030901820",
            "023648873099"
        ]
    );
    assert_eq!(texts(&doc, "Telephone")[0], "+436641234567");
}

#[test]
fn snom_dect_entries_have_home_office_and_mobile() {
    let s = pushed(BOOK);
    let r = s.book("snom/dect");
    let doc = r.xml();
    assert_eq!(doc.root_element().tag_name().name(), "IPPhoneDirectory");
    let m = doc
        .descendants()
        .find(|n| n.has_tag_name("DirectoryEntry") && child_text(*n, "Name") == "Jörg Müller")
        .unwrap();
    assert_eq!(child_text(m, "Telephone"), "+4930901820");
    assert_eq!(child_text(m, "Office"), "+4923648873040");
    assert_eq!(child_text(m, "Mobile"), "+4915112345678");
    // The extension and the fax have no slot: said in the header, not silently dropped.
    let notice = r.header("x-phonedir-notice").expect("notice");
    assert!(notice.contains("2 numbers left out"), "{notice}");
}

#[test]
fn fritzbox_import_file_has_typed_numbers_and_enforces_its_limits() {
    let mut csv = String::from(BOOK);
    let many: Vec<String> = (0..11)
        .map(|i| format!("WORK:+49309018{:02}", 20 + i))
        .collect();
    // Quoted: the ingest sniffs the delimiter from the densest early line (see report).
    csv.push_str(&format!("4,Viele Nummern,,,\"{}\",\r\n", many.join(";")));
    let s = pushed(&csv);
    let r = s.get(&format!(
        "/contacts/{KEY}/fritzbox/v1?numbers=national&region=DE"
    ));
    let doc = r.xml();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "phonebooks");
    let book = root
        .children()
        .find(|n| n.has_tag_name("phonebook"))
        .unwrap();
    assert!(book.attribute("name").is_some());
    let contact = |name: &str| {
        book.children()
            .filter(|n| n.has_tag_name("contact"))
            .find(|c| {
                c.descendants()
                    .find(|n| n.has_tag_name("realName"))
                    .and_then(|n| n.text())
                    == Some(name)
            })
            .unwrap_or_else(|| panic!("{name}"))
    };
    let nums: Vec<(&str, &str, &str)> = contact("Jörg Müller")
        .descendants()
        .filter(|n| n.has_tag_name("number"))
        .map(|n| {
            (
                n.attribute("type").unwrap(),
                n.attribute("prio").unwrap(),
                n.text().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        nums,
        vec![
            ("work", "1", "023648873040"),
            ("work", "0", "42"),
            ("mobile", "0", "015112345678"),
            ("home", "0", "030901820"),
            ("fax_work", "0", "023648873099"),
        ]
    );
    let email = contact("Jörg Müller")
        .descendants()
        .find(|n| n.has_tag_name("email"))
        .unwrap();
    assert_eq!(email.text(), Some("j@example.de"));
    let viele = contact("Viele Nummern")
        .descendants()
        .filter(|n| n.has_tag_name("number"))
        .count();
    assert_eq!(viele, 9);
    let notice = r.header("x-phonedir-notice").expect("notice");
    assert!(notice.contains("2 numbers left out"), "{notice}");
    assert!(notice.contains("Fritz!Box"), "{notice}");
}

#[test]
fn fritzbox_cuts_after_2000_contacts() {
    let mut csv = String::from("display_name,phone\r\n");
    for i in 0..2003 {
        csv.push_str(&format!("Kontakt {i:04},+4930{:07}\r\n", 9_000_000 + i));
    }
    let s = Server::start(&[]);
    let r = s.push(&format!("/contacts/{KEY}"), csv.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 2003, "{}", r.body);
    let r = s.book("fritzbox/v1");
    let doc = r.xml();
    let n = doc
        .descendants()
        .filter(|n| n.has_tag_name("contact"))
        .count();
    assert_eq!(n, 2000);
    // The cut is predictable: the book's order, the last three go.
    let last = doc
        .descendants()
        .rfind(|n| n.has_tag_name("realName"))
        .and_then(|n| n.text());
    assert_eq!(last, Some("Kontakt 1999"));
    let notice = r.header("x-phonedir-notice").expect("notice");
    assert!(notice.contains("3 contacts left out"), "{notice}");
}

#[test]
fn cisco_directory_pages_with_softkeys_and_searches() {
    let mut csv = String::from("display_name,phone\r\n");
    for i in 0..40 {
        csv.push_str(&format!("Person {i:02},+4930{:07}\r\n", 9_000_000 + i));
    }
    csv.push_str("Zoë O'Brien & Partner,WORK:+442079460958;MOBILE:+4915112345678\r\n");
    let s = pushed(&csv);
    let r = s.book("cisco/v1?numbers=intl00");
    let doc = r.xml();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "CiscoIPPhoneDirectory");
    let entries: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("DirectoryEntry"))
        .collect();
    assert_eq!(entries.len(), 32);
    assert_eq!(child_text(entries[0], "Name"), "Person 00");
    assert_eq!(child_text(entries[0], "Telephone"), "0049309000000");
    assert_eq!(child_text(root, "Prompt"), "Page 1 of 2");
    let keys: Vec<(String, String, String)> = root
        .children()
        .filter(|n| n.has_tag_name("SoftKeyItem"))
        .map(|k| {
            (
                child_text(k, "Name").to_owned(),
                child_text(k, "URL").to_owned(),
                child_text(k, "Position").to_owned(),
            )
        })
        .collect();
    let names: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    assert_eq!(names, vec!["Dial", "Next", "Search", "Exit"]);
    assert_eq!(keys[0].1, "SoftKey:Dial");
    let next = &keys[1].1;
    assert!(next.starts_with("http://"), "{next}");
    assert!(
        next.contains("numbers=intl00") && next.ends_with("page=2"),
        "{next}"
    );
    // Follow the link as the phone would.
    let path = &next[next.find("/contacts/").unwrap()..];
    let r2 = s.get(path);
    let doc2 = r2.xml();
    let root2 = doc2.root_element();
    let entries2: Vec<_> = root2
        .children()
        .filter(|n| n.has_tag_name("DirectoryEntry"))
        .collect();
    assert_eq!(entries2.len(), 10);
    assert!(
        r2.body.contains("Zoë O&apos;Brien &amp; Partner (Work)"),
        "{}",
        r2.body
    );
    let names2: Vec<&str> = root2
        .children()
        .filter(|n| n.has_tag_name("SoftKeyItem"))
        .map(|k| child_text(k, "Name"))
        .collect();
    assert_eq!(names2, vec!["Dial", "Previous", "Search", "Exit"]);
    assert_eq!(child_text(root2, "Prompt"), "Page 2 of 2");
    // Names are cut to the 32 characters Cisco displays, keeping the label.
    for e in &entries2 {
        assert!(child_text(*e, "Name").chars().count() <= 32);
    }
    let r = s.book("cisco/v1?q=obrien");
    let doc = r.xml();
    assert_eq!(
        texts(&doc, "Telephone"),
        vec!["+442079460958", "+4915112345678"]
    );
    let r = s.book("cisco/v1?page=x");
    assert_eq!(r.status, 400);
}

/// Unfolds a vCard stream and splits it into cards of (name with params, value) lines.
fn vcards(body: &str) -> Vec<Vec<(String, String)>> {
    let unfolded = body.replace("\r\n ", "");
    let mut cards = Vec::new();
    let mut cur = Vec::new();
    for l in unfolded.split("\r\n").filter(|l| !l.is_empty()) {
        let (k, v) = l.split_once(':').expect("content line");
        match (k, v) {
            ("BEGIN", "VCARD") => cur = Vec::new(),
            ("END", "VCARD") => cards.push(std::mem::take(&mut cur)),
            _ => cur.push((k.to_owned(), v.to_owned())),
        }
    }
    cards
}

fn prop<'a>(card: &'a [(String, String)], name: &str) -> Vec<&'a (String, String)> {
    card.iter()
        .filter(|(k, _)| k == name || k.starts_with(&format!("{name};")))
        .collect()
}

#[test]
fn vcard_3_and_4_carry_every_contact() {
    let s = pushed(BOOK);
    let r = s.book("vcard");
    assert_eq!(r.header("content-type"), Some("text/vcard; charset=utf-8"));
    assert!(r.body.lines().all(|l| l.len() <= 76), "{}", r.body);
    let cards = vcards(&r.body);
    assert_eq!(cards.len(), 3);
    let m = cards
        .iter()
        .find(|c| prop(c, "FN")[0].1 == "Jörg Müller")
        .unwrap();
    assert_eq!(prop(m, "VERSION")[0].1, "3.0");
    assert_eq!(prop(m, "N")[0].1, "Müller;Jörg;;;");
    let tels: Vec<(&str, &str)> = prop(m, "TEL")
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        tels,
        vec![
            ("TEL;TYPE=WORK,VOICE", "+4923648873040"),
            ("TEL;TYPE=WORK,VOICE", "42"),
            ("TEL;TYPE=CELL,VOICE", "+4915112345678"),
            ("TEL;TYPE=HOME,VOICE", "+4930901820"),
            ("TEL;TYPE=WORK,FAX", "+4923648873099"),
        ]
    );
    assert_eq!(prop(m, "EMAIL")[0].1, "j@example.de");
    let a = cards
        .iter()
        .find(|c| prop(c, "FN")[0].1.starts_with("Alpen"))
        .unwrap();
    assert_eq!(prop(a, "FN")[0].1, "Alpen & <Söhne>");

    let r = s.get(&format!(
        "/contacts/{KEY}/vcard?version=4.0&numbers=national&region=DE"
    ));
    let cards = vcards(&r.body);
    let m = cards
        .iter()
        .find(|c| prop(c, "FN")[0].1 == "Jörg Müller")
        .unwrap();
    assert_eq!(prop(m, "VERSION")[0].1, "4.0");
    let tels: Vec<(&str, &str)> = prop(m, "TEL")
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(tels[0], ("TEL;TYPE=\"work,voice\"", "023648873040"));
    let r = s.book("vcard?version=4.0");
    let cards = vcards(&r.body);
    let a = cards
        .iter()
        .find(|c| prop(c, "FN")[0].1.starts_with("Alpen"))
        .unwrap();
    // split_once(':') keeps the URI's own colon in the value.
    assert_eq!(
        prop(a, "TEL")[0],
        &(
            "TEL;VALUE=uri;TYPE=\"work,voice\"".to_owned(),
            "tel:+436641234567".to_owned()
        )
    );
    let r = s.book("vcard?version=2.1");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("3.0 or 4.0"));
}

#[test]
fn new_formats_answer_404_for_unknown_keys_and_304_when_current() {
    let s = pushed(BOOK);
    for f in [
        "cisco/v1",
        "grandstream/v1",
        "fanvil/v1",
        "fritzbox/v1",
        "snom/dect",
        "vcard",
    ] {
        assert_eq!(
            s.get(&format!("/contacts/ZZZZZZZZZZZZZZ/{f}")).status,
            404,
            "{f}"
        );
        let r = s.book(f);
        assert_eq!(r.status, 200, "{f}");
        let tag = r.header("etag").expect("etag").to_owned();
        let url = s.url(&format!("/contacts/{KEY}/{f}"));
        let r = s.request("GET", &url, &[("If-None-Match", &tag)], None);
        assert_eq!(r.status, 304, "{f}");
    }
}

#[test]
fn directory_status_lists_what_device_limits_cut() {
    let mut csv = String::from(BOOK);
    let many: Vec<String> = (0..11)
        .map(|i| format!("WORK:+49309018{:02}", 20 + i))
        .collect();
    csv.push_str(&format!("4,Viele Nummern,,,\"{}\",\r\n", many.join(";")));
    let s = pushed(&csv);
    let url = s.url(&format!("/api/v1/directories/{KEY}"));
    let r = s.request(
        "GET",
        &url,
        &[("Authorization", &format!("Bearer {KEY}"))],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let w = j["device_warnings"].as_array().expect("device_warnings");
    let fritz = w
        .iter()
        .find(|w| w["format"] == "fritzbox")
        .expect("fritzbox warning");
    let header = s
        .get(&format!("/contacts/{KEY}/fritzbox/v1"))
        .header("x-phonedir-notice")
        .unwrap()
        .to_owned();
    // The status says exactly what the phone's download says.
    assert_eq!(fritz["notice"], header.as_str());
    assert!(w.iter().any(|w| w["format"] == "yealink"));
}

/// Cisco: a search page like snom's, reached from the directory's Search key, and a notice
/// when names are cut to the display's 32 characters.
#[test]
fn cisco_search_page_and_cut_names_are_told() {
    let long = "Hochschule für angewandte Wissenschaften Nord";
    let s = pushed(&format!(
        "display_name,phone\r\nAnna Schmidt,+4930901820\r\n{long},WORK:+4930901821;FAX:+4930901829\r\n"
    ));
    let r = s.book("cisco/v1?numbers=intl00");
    let notice = r.header("x-phonedir-notice").expect("notice");
    assert!(
        notice.starts_with("2 names cut to the 32 characters a Cisco phone shows"),
        "{notice}"
    );
    let doc = r.xml();
    let search = doc
        .descendants()
        .filter(|n| n.has_tag_name("SoftKeyItem"))
        .find(|k| child_text(*k, "Name") == "Search")
        .map(|k| child_text(k, "URL").to_owned())
        .expect("Search key");
    assert!(search.ends_with("/cisco/search?numbers=intl00"), "{search}");
    let st = s.api().status().json();
    assert!(
        st["device_warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["format"] == "cisco" && w["notice"].as_str() == Some(notice)),
        "{st}"
    );

    // The search page, as the phone gets it from the key.
    let r = s.get(&search[search.find("/contacts/").unwrap()..]);
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.xml();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "CiscoIPPhoneInput");
    assert_eq!(child_text(root, "Prompt"), "Enter a name or number");
    let item = root
        .children()
        .find(|n| n.has_tag_name("InputItem"))
        .unwrap();
    assert_eq!(child_text(item, "QueryStringParam"), "q");
    let url = child_text(root, "URL");
    assert!(url.ends_with("/cisco/v1?numbers=intl00&page=1"), "{url}");
    // The phone adds what was typed, as `&q=`.
    let typed = format!("{}&q=schmidt", &url[url.find("/contacts/").unwrap()..]);
    let found = s.get(&typed);
    assert_eq!(texts(&found.xml(), "Telephone"), vec!["004930901820"]);
    assert_eq!(s.book("cisco/search?q=x").status, 400);
}

/// snom: the local directory dials every number it holds and has no fax type, so faxes
/// stay out (and are counted); the search page asks in words.
#[test]
fn snom_tbook_keeps_faxes_out_and_the_search_page_has_a_prompt() {
    let s = pushed(
        "display_name,phone\r\nReception,WORK:+4930901820;FAX:+4930901829\r\nFax Room,FAX:+4930901830\r\n",
    );
    let r = s.book("snom/tbook");
    let doc = r.xml();
    let numbers: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("number"))
        .map(|n| (n.attribute("no").unwrap(), n.attribute("type").unwrap()))
        .collect();
    assert_eq!(numbers, vec![("+4930901820", "business")]);
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("contact"))
            .count(),
        1,
        "a contact with only a fax has nothing to dial"
    );
    assert!(
        r.header("x-phonedir-notice")
            .unwrap_or_default()
            .starts_with("2 fax numbers left out"),
        "{:?}",
        r.header("x-phonedir-notice")
    );
    let r = s.book("snom/search");
    let doc = r.xml();
    let prompt = child_text(doc.root_element(), "Prompt");
    assert_eq!(prompt, "Enter a name or number");
    let r = s.book("snom/v1");
    assert_eq!(child_text(r.xml().root_element(), "Prompt"), "3 entries");
}
