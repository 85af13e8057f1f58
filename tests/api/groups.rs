//! Yealink folders: one Menu per group, company or source.

use crate::helpers::{Server, KEY};

fn menus(s: &Server, query: &str) -> Vec<(String, Vec<String>)> {
    let r = s.book(&format!("yealink/v1{query}"));
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    let doc = r.xml();
    doc.descendants()
        .filter(|n| n.has_tag_name("Menu"))
        .map(|m| {
            (
                m.attribute("Name").unwrap().to_owned(),
                m.children()
                    .filter(|u| u.has_tag_name("Unit"))
                    .map(|u| u.attribute("Name").unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn yealink_menus_by_group_company_and_source() {
    let s = Server::start(&[]);
    let crm = "display_name,company,group,phone\r\n\
               Anna Alt,Ärzte & Co,Kunden,+4930901820\r\n\
               Bernd Berg,Bau AG,Lieferanten,+4930901821\r\n\
               Carla Chor,ärzte & co,kunden,+4930901822\r\n\
               Dora Dorn,,,+4930901823\r\n";
    let pbx = "display_name,phone\r\nEmpfang,EXTENSION:10\r\n";
    assert_eq!(
        s.push(&format!("/contacts/{KEY}?source=crm"), crm.as_bytes())
            .status,
        200
    );
    assert_eq!(
        s.push(&format!("/contacts/{KEY}?source=pbx"), pbx.as_bytes())
            .status,
        200
    );

    let by_group = menus(&s, "?group_by=group");
    assert_eq!(
        by_group,
        vec![
            // One folder for both spellings, named as first seen.
            (
                "Kunden".to_owned(),
                vec!["Anna Alt".to_owned(), "Carla Chor".to_owned()]
            ),
            ("Lieferanten".to_owned(), vec!["Bernd Berg".to_owned()]),
            (
                "Other".to_owned(),
                vec!["Dora Dorn".to_owned(), "Empfang".to_owned()]
            ),
        ]
    );
    let by_company: Vec<String> = menus(&s, "?group_by=company")
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(by_company, vec!["Ärzte & Co", "Bau AG", "Other"]);
    let by_source = menus(&s, "?group_by=source");
    assert_eq!(by_source.len(), 2);
    assert_eq!(by_source[0].0, "crm");
    assert_eq!(by_source[0].1.len(), 4);
    assert_eq!(by_source[1], ("pbx".to_owned(), vec!["Empfang".to_owned()]));
    // Search narrows inside the menus; without group_by one Menu as always.
    let hits = menus(&s, "?group_by=group&q=chor");
    assert_eq!(
        hits,
        vec![("kunden".to_owned(), vec!["Carla Chor".to_owned()])]
    );
    assert_eq!(menus(&s, "").len(), 1);
    let r = s.book("yealink/v1?group_by=colour");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("group, company or source"));
}
