//! Any bytes pushed as a file: the CSV and JSON readers must answer with contacts and a
//! report, or a refusal, and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonedir::ingest::{parse_csv, parse_json, IngestOptions, Mapping};
use phonedir::phone::NumberRules;

fuzz_target!(|data: &[u8]| {
    let map: Mapping = "display_name:Kontakt,phone.mobile:Handy".parse().unwrap();
    for region in [None, "DE".parse().ok()] {
        let opts = IngestOptions {
            rules: NumberRules {
                region,
                max_extension_digits: 6,
            },
            max_rows: 10_000,
            max_field_chars: 1_000,
            max_numbers: 100,
            map: None,
        };
        if let Ok(p) = parse_csv(data, &opts) {
            for c in &p.contacts {
                assert!(!c.display_name.is_empty());
                assert!(!c.numbers.is_empty());
            }
        }
        let _ = parse_csv(data, &IngestOptions { map: Some(&map), ..opts });
        let _ = parse_json(data, &opts);
    }
});
