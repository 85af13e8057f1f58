//! Any text as a phone number, with and without a region: a typed E.164 number, an
//! extension or an error, never a panic; and what comes out reads back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonedir::domain::NumberType;
use phonedir::phone::NumberRules;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for region in [None, "DE".parse().ok(), "US".parse().ok(), "IT".parse().ok()] {
        let rules = NumberRules {
            region,
            max_extension_digits: 6,
        };
        if let Ok(n) = rules.parse_typed(s, NumberType::Work) {
            if n.kind != NumberType::Extension {
                assert!(n.value.starts_with('+'), "{s:?} -> {n}");
                let again = rules.parse(&n.value, n.kind).expect("E.164 reads back");
                assert_eq!(again, n, "{s:?}");
            }
        }
    }
});
