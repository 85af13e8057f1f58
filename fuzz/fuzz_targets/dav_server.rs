//! Any bytes as the body of a CardDAV PROPFIND or REPORT: the reader answers a typed
//! request or a refusal, and what it accepts is answered over a small book as well-formed
//! XML; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonedir::book::Book;
use phonedir::dav::carddav::{self, Ctx, Depth, Res};
use phonedir::dav::xml::{self, Report};
use phonedir::domain::merge::Sourced;
use phonedir::domain::{ApiKey, Contact, DirectorySettings, NumberType, PhoneNumber};
use phonedir::phone::NumberRules;
use phonedir::store::Directory;
use std::sync::{Arc, OnceLock};

fn book() -> Arc<Book> {
    static BOOK: OnceLock<Arc<Book>> = OnceLock::new();
    BOOK.get_or_init(|| {
        let entry = |name: &str, number: &str, kind| Sourced {
            contact: Contact {
                display_name: name.into(),
                email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
                numbers: vec![PhoneNumber {
                    kind,
                    value: number.into(),
                }],
                ..Default::default()
            },
            source: "push".into(),
            priority: 100,
        };
        Arc::new(Book::build(
            Directory {
                id: 1,
                key: ApiKey::parse("FUZZ0123456789").unwrap(),
                settings: DirectorySettings::default(),
                version: 3,
            },
            vec![
                entry("Anna & <Schmidt>", "+492311234567", NumberType::Work),
                entry("Bernd Meier", "+49307654321", NumberType::Mobile),
                entry("Empfang", "100", NumberType::Extension),
            ],
        ))
    })
    .clone()
}

fn well_formed(xml: &str) {
    if let Err(e) = roxmltree::Document::parse(xml) {
        panic!("not well-formed ({e}): {xml}");
    }
}

fuzz_target!(|data: &[u8]| {
    let ctx = Ctx::new(book(), "0123456789abcdef".into(), 0);
    if let Ok(props) = xml::propfind(data) {
        well_formed(&carddav::propfind(ctx.clone(), Res::Book, Depth::One, props).render());
    }
    match xml::report(data) {
        Ok(Report::Multiget { props, hrefs }) => {
            well_formed(&carddav::multiget(ctx, props, hrefs).render())
        }
        Ok(Report::Query {
            props,
            filter,
            limit,
        }) => {
            let rules = NumberRules {
                region: "DE".parse().ok(),
                max_extension_digits: 6,
            };
            well_formed(&carddav::query(ctx, props, &filter, limit, &rules).render())
        }
        _ => {}
    }
});
