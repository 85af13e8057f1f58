//! Any bytes a CardDAV server may answer: the multistatus readers (PROPFIND listing and
//! addressbook-multiget), the vCard reader and the record builder its cards go through must
//! answer or refuse, never panic, and never recurse with the input's nesting depth (that
//! would overflow the stack).
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonedir::phone::NumberRules;
use phonedir::sources::build::{build, RecordRules};
use phonedir::sources::{carddav, vcard, xml};

const RULES: RecordRules = RecordRules {
    numbers: NumberRules {
        region: None,
        max_extension_digits: 6,
    },
    max_field_chars: 1_000,
    max_numbers: 100,
    max_contacts: 1_000,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = carddav::listing(&text);
    if let Ok(cards) = carddav::cards(&text) {
        for (_, _, card) in cards {
            let _ = vcard::parse(&card);
        }
    }
    for (i, record) in vcard::parse(&text).into_iter().enumerate() {
        let _ = build(record, &RULES, i);
    }
    // The pre-scan never under-counts: whatever parses is within the depth bound.
    if let Ok(doc) = xml::parse(&text) {
        let deepest = doc
            .descendants()
            .map(|n| n.ancestors().filter(|a| a.is_element()).count())
            .max()
            .unwrap_or(0);
        assert!(deepest <= xml::MAX_DEPTH, "{deepest}");
    }
});
