//! The book as readers see it: stable ids that survive re-pushes and insertions, one
//! change log answering "what changed since version V", strict parameters, and the status
//! counting the merged book.

use crate::helpers::Server;
use serde_json::Value;

const FIRST: &str = "internal_id,display_name,phone\n\
    1,Anna Schmidt,WORK:+493011122233\n\
    2,Ben Meyer,WORK:+493022233344\n\
    3,Cleo Wolf,WORK:+493033344455\n";

fn uids(vcard: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut uid = String::new();
    for line in vcard.lines() {
        if let Some(u) = line.strip_prefix("UID:") {
            uid = u.to_owned();
        }
        if let Some(n) = line.strip_prefix("FN:") {
            out.push((n.to_owned(), uid.clone()));
        }
    }
    out
}

fn ids(v: &Value) -> Vec<String> {
    let mut v: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn ids_survive_repushes_and_insertions_and_the_change_log_says_what_moved() {
    let s = Server::start(&[]);
    assert_eq!(s.push_csv(FIRST).status, 200);
    // A second source that numbers its rows 1, 2, 3 too.
    let r = s.push_source(
        "crm",
        "internal_id,display_name,phone\n1,Dora Crm,+493044455566\n",
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let before = uids(&s.book("vcard").body);
    let all: std::collections::HashSet<_> = before.iter().map(|(_, u)| u.clone()).collect();
    assert_eq!(all.len(), 4, "ids of two sources never collide: {before:?}");
    let v1 = s.api().status().json()["version"].as_i64().unwrap();
    // The change log starts at the version a reader first saw.
    let c = s.api().changes(v1).json();
    assert_eq!(c["version"], v1);
    assert_eq!(c["added"], serde_json::json!([]));

    // Someone is inserted before everybody, Ben's number changes, Cleo leaves.
    let second = "internal_id,display_name,phone\n\
        0,Aaron Albers,WORK:+493000011122\n\
        1,Anna Schmidt,WORK:+493011122233\n\
        2,Ben Meyer,WORK:+493099988877\n";
    assert_eq!(s.push_csv(second).status, 200);
    let after = uids(&s.book("vcard").body);
    let uid = |book: &[(String, String)], n: &str| {
        book.iter().find(|(m, _)| m == n).map(|(_, u)| u.clone())
    };
    assert_eq!(uid(&before, "Anna Schmidt"), uid(&after, "Anna Schmidt"));
    assert_eq!(uid(&before, "Ben Meyer"), uid(&after, "Ben Meyer"));
    assert_eq!(uid(&before, "Dora Crm"), uid(&after, "Dora Crm"));
    let c = s.api().changes(v1).json();
    let v2 = c["version"].as_i64().unwrap();
    assert!(v2 > v1);
    assert_eq!(ids(&c["added"]), vec![uid(&after, "Aaron Albers").unwrap()]);
    assert_eq!(ids(&c["changed"]), vec![uid(&after, "Ben Meyer").unwrap()]);
    assert_eq!(ids(&c["removed"]), vec![uid(&before, "Cleo Wolf").unwrap()]);

    // The same file again changes nothing: same version, no changes.
    assert_eq!(s.push_csv(second).json()["changed"], false);
    let c = s.api().changes(v2).json();
    assert_eq!(c["version"], v2);
    assert!(
        ids(&c["added"]).is_empty()
            && ids(&c["changed"]).is_empty()
            && ids(&c["removed"]).is_empty()
    );

    // A version never handed out has no answer, said clearly.
    let r = s.api().changes(v2 + 50);
    assert_eq!(r.status, 410, "{}", r.body);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("fetch the whole book"));
    let r = s.api().changes(-1);
    assert_eq!(r.status, 400);

    // Address books in another number shape: every card's bytes change, so every ETag.
    let r = s
        .api()
        .settings(r#"{"region":"DE","address_book_numbers":"national"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(s
        .book("vcard")
        .body
        .contains("TEL;TYPE=WORK,VOICE:03099988877"));
    let c = s.api().changes(v2).json();
    assert_eq!(
        ids(&c["changed"]).len(),
        4,
        "every card, Dora of the crm too: {c}"
    );

    // The lookup answers with the contact's id.
    let hit = s.lookup("+493099988877").json();
    assert_eq!(
        hit["contact"]["id"].as_str(),
        uid(&after, "Ben Meyer").as_deref()
    );
}

#[test]
fn status_counts_what_phones_see_and_parameters_are_never_ignored() {
    let s = Server::start(&[]);
    s.push_csv(FIRST);
    // The same three people from a second source fold into the same three entries.
    s.push_source("crm", FIRST, "");
    let st = s.api().status().json();
    assert_eq!(st["contacts"], 3, "{st}");
    let per_source: i64 = st["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["contacts"].as_i64().unwrap())
        .sum();
    assert_eq!(per_source, 6);
    assert_eq!(st["numbers"], 3);
    // The CLI counts the same way, with the sources' sum beside it.
    let (ok, out, err) = crate::helpers::cli(&[
        "directory",
        "list",
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let row: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with(crate::helpers::KEY))
        .unwrap_or_else(|| panic!("{out}"))
        .split_whitespace()
        .collect();
    assert_eq!(
        row[1..4],
        ["3", "6", "2"],
        "contacts, in sources, sources: {out}"
    );
    assert!(
        out.starts_with("key") && out.contains("in sources"),
        "{out}"
    );

    for (url, name) in [
        ("yealink/v1?qq=anna", "qq"),
        ("yealink/v1?bust=1", "bust"),
        ("snom/v1?group_by=group", "group_by"),
        ("cisco/v1?style=directory", "style"),
        ("vcard?versoin=4.0", "versoin"),
        ("lookup?number=%2B493011122233&fromat=text", "fromat"),
    ] {
        let r = s.book(url);
        assert_eq!(r.status, 400, "{url}: {}", r.body);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains(&format!("`{name}`")),
            "{url}: {}",
            r.body
        );
    }
    let r = s.book("yealink/v1?style=foo");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("book or directory"), "{}", r.body);
    let r = s.book("snom/v1?page=0");
    assert_eq!(r.status, 400);
    // A parameter given twice is refused, not guessed.
    assert_eq!(s.book("yealink/v1?q=a&q=b").status, 400);
    // Gigaset answers in its own protocol, also for parameters it does not know.
    let r = s.book("gigaset/v1?command=get_list&first=99999999999999999999999");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<errorid>2</errorid>"), "{}", r.body);
    let r = s.book("gigaset/v1?command=get_list&first=1&count=18446744073709551615");
    assert!(r.body.contains("total=\"3\""), "{}", r.body);
    let r = s.book("gigaset/v1?command=get_list&colour=red");
    assert!(r.body.contains("unknown parameter colour"), "{}", r.body);
    // The parameters a base sends and that change nothing are taken.
    let r = s.book("gigaset/v1?command=get_list&type=pb&fn=*&ln=*&ct=*&st=*&hm=03011122233&nr=*&mb=*&fx=*&sip=*&zc=*&em=*&lang=9&first=1&count=1&mac=000000000000&reqsrc=auto&limit=2048&region=DE");
    assert!(r.body.contains("<ln>Anna Schmidt</ln>"), "{}", r.body);
}

#[test]
fn lookup_as_text_never_answers_a_json_error() {
    let s = Server::start(&[]);
    s.push_csv(FIRST);
    for q in [
        "format=text&number=",
        "format=text&number=%2B493011122233&region=XX",
        "format=text&number=%2B493011122233&bust=1",
        "format=text&number=%2B493055566677",
        // Refused before any parameter is read (more than 64), and encoded.
        &format!("number=1{}&%66ormat=%74ext", "&x=1".repeat(70)),
    ] {
        let r = s.book(&format!("lookup?{q}"));
        assert_ne!(r.status, 200, "{q}");
        assert_eq!(r.body, "", "{q}");
        assert!(r.header("x-phonedir-error").is_some(), "{q}");
    }
    let r = s.get("/contacts/NOPE0123456789/lookup?format=text&number=%2B493011122233");
    assert_eq!((r.status, r.body.as_str()), (404, ""));
    assert_eq!(
        s.book("lookup?format=text&number=%2B493011122233").body,
        "Anna Schmidt"
    );
}
