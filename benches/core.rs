//! Micro-benchmarks of the hot paths: number normalization (canonical and messy input),
//! CSV ingest, each renderer for a 1,000-contact book, and a Yealink search-as-you-type
//! sequence over LDAP filters on 1,000 and 100,000 contacts (the server's side of a search,
//! without the network), and caller-ID lookups on 1,000 and 100,000 contacts. Run with `cargo bench`; the end-to-end comparisons against nginx
//! and libphonenumber, and LDAP over the network, live in bench/run.sh.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use phonedir::domain::{Contact, NumberType, PhoneNumber};
use phonedir::ingest::{parse_csv, IngestOptions};
use phonedir::phone::NumberRules;
use phonedir::render::{Format, Presenter, ShapeParams};
use std::hint::black_box;

fn rules() -> NumberRules {
    NumberRules {
        region: "DE".parse().ok(),
        max_extension_digits: 6,
    }
}

fn book(n: usize) -> Vec<Contact> {
    (0..n)
        .map(|i| Contact {
            external_id: i.to_string(),
            display_name: format!("Müller-Lüdenscheidt {i:05} & Söhne"),
            given_name: format!("Jörg {i}"),
            family_name: "Müller-Lüdenscheidt".into(),
            company: "Bäckerei Groß".into(),
            email: format!("user{i}@example.de"),
            numbers: vec![
                PhoneNumber {
                    kind: NumberType::Work,
                    value: format!("+49231{:07}", 1_000_000 + i),
                },
                PhoneNumber {
                    kind: NumberType::Mobile,
                    value: format!("+49151{:08}", 10_000_000 + i),
                },
                PhoneNumber {
                    kind: NumberType::Extension,
                    value: format!("{}", 100 + i % 900),
                },
            ],
            ..Default::default()
        })
        .collect()
}

fn normalization(c: &mut Criterion) {
    let r = rules();
    let mut g = c.benchmark_group("normalize");
    g.throughput(Throughput::Elements(1));
    g.bench_function("e164", |b| {
        b.iter(|| r.parse_typed(black_box("WORK:+4923648873040"), NumberType::Work))
    });
    g.bench_function("national_messy", |b| {
        b.iter(|| r.parse_typed(black_box("+49 (0)231 12345-67"), NumberType::Work))
    });
    // The reference table: 250 inputs of 26 countries, the mix a real book has.
    let table = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/numbers.tsv"
    ))
    .unwrap_or_default();
    let mixed: Vec<(String, NumberRules)> = table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("input\t"))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let input = cols.next()?.to_owned();
            let region = cols.next()?.parse().ok();
            Some((
                input,
                NumberRules {
                    region,
                    max_extension_digits: 6,
                },
            ))
        })
        .collect();
    g.bench_function("mixed_countries_250", |b| {
        b.iter(|| {
            for (input, rules) in &mixed {
                let _ = black_box(rules.parse(input, NumberType::Work));
            }
        })
    });
    g.bench_function("extension", |b| {
        b.iter(|| r.parse_typed(black_box("EXT:201"), NumberType::Work))
    });
    g.finish();
}

fn ingest(c: &mut Criterion) {
    let mut csv = String::from("internal_id,display_name,phone,email\n");
    for (i, ct) in book(1000).iter().enumerate() {
        csv.push_str(&format!(
            "{i},{},WORK:{};MOBILE:{},{}\n",
            ct.display_name, ct.numbers[0].value, ct.numbers[1].value, ct.email
        ));
    }
    let opts = IngestOptions {
        rules: rules(),
        ..Default::default()
    };
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("csv_1000_contacts", |b| {
        b.iter(|| parse_csv(black_box(csv.as_bytes()), &opts))
    });
    g.finish();
}

fn render(c: &mut Criterion) {
    let owned = book(1000);
    let contacts: Vec<&Contact> = owned.iter().collect();
    let presenter = Presenter::default();
    let mut g = c.benchmark_group("render_1000_contacts");
    g.throughput(Throughput::Elements(1000));
    for f in Format::NAMES {
        let Some(format) = Format::from_name(f) else {
            continue;
        };
        g.bench_function(f, |b| {
            b.iter(|| format.render("ACME", black_box(&contacts), &presenter))
        });
    }
    // Phones behind a German PBX: national at home, 00 abroad; numbers of many countries.
    let mixed_owned = mixed_book(1000);
    let mixed: Vec<&Contact> = mixed_owned.iter().collect();
    let auto = Presenter::resolve(
        &ShapeParams::parse(Some("auto"), Some("0"), Some("DE")).expect("valid shape"),
        None,
        None,
    );
    g.bench_function("yealink_auto_outside_prefix_mixed_countries", |b| {
        b.iter(|| Format::Yealink.render("ACME", black_box(&mixed), &auto))
    });
    g.finish();
}

/// A book whose numbers come from the reference table's countries.
fn mixed_book(n: usize) -> Vec<Contact> {
    let numbers = [
        "+4923648873040",
        "+442079460958",
        "+33123456789",
        "+390212345678",
        "+41446681801",
        "+14255550109",
        "+4915112345678",
        "+31201234567",
        "+4532123456",
        "+48512345678",
    ];
    (0..n)
        .map(|i| Contact {
            display_name: format!("Contact {i:05}"),
            numbers: vec![PhoneNumber {
                kind: NumberType::Work,
                value: numbers[i % numbers.len()].to_owned(),
            }],
            ..Default::default()
        })
        .collect()
}

/// A book of `n` people with family names from syllables (4,096 of them, as a large company
/// has many), sorted by name as the store hands them over.
fn people(n: usize) -> phonedir::book::Book {
    use phonedir::domain::merge::Sourced;
    use phonedir::domain::text::sort_key;
    const SYL: [&str; 16] = [
        "ba", "ker", "mül", "ler", "schm", "idt", "ro", "sa", "ti", "no", "we", "ber", "ko", "va",
        "li", "na",
    ];
    const GIVEN: [&str; 8] = ["Anna", "Jörg", "Zoë", "Lars", "Mia", "Ben", "Lena", "Tom"];
    let mut entries: Vec<Sourced> = (0..n)
        .map(|i| {
            let f = i % 4096;
            let mut family: String = [SYL[f % 16], SYL[(f / 16) % 16], SYL[f / 256]].concat();
            family[..1].make_ascii_uppercase();
            let given = GIVEN[(i / 4096) % GIVEN.len()];
            let mut c = book(1).remove(0);
            c.external_id = i.to_string();
            c.display_name = format!("{given} {family}");
            c.given_name = given.into();
            c.family_name = family;
            c.numbers[0].value = format!("+49231{:07}", 1_000_000 + i);
            c.numbers[1].value = format!("+49151{:08}", 10_000_000 + i);
            Sourced {
                contact: c,
                source: "push".into(),
                priority: 100,
            }
        })
        .collect();
    entries.sort_by_cached_key(|e| sort_key(&e.contact.display_name));
    phonedir::book::Book::build(
        phonedir::store::Directory {
            id: 1,
            key: phonedir::domain::ApiKey::parse("BENCH000000001").expect("key"),
            settings: Default::default(),
            version: 1,
        },
        entries,
    )
}

fn ldap_search(c: &mut Criterion) {
    use ldap3_proto::parse_ldap_filter_str;
    use phonedir::ldap::attrs::Selection;
    use phonedir::ldap::search::{search, Ask, NumberDefaults, Within};
    // What a Yealink sends while its user types four letters of 20 family names: its
    // default name filter, its attributes, its default max_hits (50).
    let typed: Vec<String> = ["bakerba", "mülleridt", "rosati", "webervana", "kolili"]
        .iter()
        .cycle()
        .take(20)
        .enumerate()
        .flat_map(|(i, name)| {
            let name: String = name.chars().skip(i % 3).collect();
            (1..=4)
                .map(|n| name.chars().take(n).collect::<String>())
                .collect::<Vec<_>>()
        })
        .collect();
    let filters: Vec<_> = typed
        .iter()
        .filter_map(|t| parse_ldap_filter_str(&format!("(|(cn={t}*)(sn={t}*))")).ok())
        .collect();
    let yealink_attrs = Selection::new(&[
        "cn".into(),
        "telephoneNumber".into(),
        "mobile".into(),
        "ipPhone".into(),
    ]);
    // DNs only: what finding costs, apart from writing the entries' attributes.
    let dn_only = Selection::new(&["1.1".into()]);
    let defaults = NumberDefaults {
        region: "DE".parse().ok(),
        max_extension_digits: 6,
    };
    let mut g = c.benchmark_group("ldap_search_as_you_type");
    g.throughput(Throughput::Elements(filters.len() as u64));
    for n in [1_000, 100_000] {
        let b = people(n);
        for (name, sel) in [("yealink", &yealink_attrs), ("dn_only", &dn_only)] {
            g.bench_function(format!("{name}_{n}_contacts"), |bench| {
                bench.iter(|| {
                    for f in &filters {
                        let ask = Ask {
                            filter: f,
                            selection: sel,
                            types_only: false,
                            limit: 50,
                        };
                        let _ = black_box(search(
                            &b,
                            "BENCH000000001",
                            Within::Directory,
                            &ask,
                            defaults,
                        ));
                    }
                })
            });
        }
    }
    g.finish();
}

/// A Yealink's `?q=` search as the server answers it uncached: the index, then the answer
/// rendered. Whole family names typed: one hit each in 1,000 contacts, about 24 in 100,000,
/// so this shows what a search costs apart from the HTTP around it, and how it grows with
/// the answer (bench/book.py measures it end to end).
fn yealink_search(c: &mut Criterion) {
    use phonedir::domain::search::Query;
    let mut g = c.benchmark_group("yealink_search");
    for n in [1_000, 100_000] {
        let b = people(n);
        // 2,000 different names, as many phones ask: the answers are not all in the CPU's
        // caches, as a few names asked again and again would be.
        let queries: Vec<Query> = (0..2000)
            .filter_map(|i| Query::parse(&b.contacts[i * 7919 % n].family_name))
            .collect();
        g.throughput(Throughput::Elements(queries.len() as u64));
        let p = Presenter::default();
        g.bench_function(format!("find_{n}_contacts"), |bench| {
            bench.iter(|| {
                for q in &queries {
                    black_box(b.search(q));
                }
            })
        });
        // A family name and the first letters of a given name: every entry of the family
        // is checked for the second word.
        let two: Vec<Query> = (0..2000)
            .filter_map(|i| {
                let c = &b.contacts[i * 7919 % n];
                let given: String = c.given_name.chars().take(2).collect();
                Query::parse(&format!("{} {given}", c.family_name))
            })
            .collect();
        g.bench_function(format!("find_two_words_{n}_contacts"), |bench| {
            bench.iter(|| {
                for q in &two {
                    black_box(b.search(q));
                }
            })
        });
        g.bench_function(format!("find_and_render_{n}_contacts"), |bench| {
            bench.iter(|| {
                for q in &queries {
                    let _ = black_box(Format::Yealink.render("ACME", &b.search(q), &p));
                }
            })
        });
    }
    g.finish();
}

/// Storing a rendered answer (every uncached search stores one) in a render cache holding
/// one answer and in one full of small answers: a full cache costs the eviction of one
/// answer, not a pass over all it holds (80 µs per insert at 21,700 answers before 4061eb1).
fn render_cache(c: &mut Criterion) {
    use phonedir::http::cache::{BookCache, CacheKey, Cached};
    use std::sync::Arc;
    let mut g = c.benchmark_group("render_cache_insert");
    let key = |q: usize| CacheKey {
        directory_id: (q % 50) as i64,
        version: 1,
        view: "yealink",
        query: format!("q={q}"),
    };
    let answer = || {
        Arc::new(Cached::new(
            "\"e\"".into(),
            "\"e-gz\"".into(),
            1,
            "text/xml",
            None,
            "x".repeat(600),
        ))
    };
    // Empty: the same answer stored again and again, so the cache holds one. Full: a new
    // answer each time into a cache at its bound (about 21,700 answers), which forgets one.
    let empty = BookCache::new(16 << 20);
    g.bench_function("holding_1_answer", |b| {
        b.iter(|| empty.insert(key(0), answer()))
    });
    let full = BookCache::new(16 << 20);
    let mut q = 0;
    while full.usage().1 + 1024 < 16 << 20 {
        full.insert(key(q), answer());
        q += 1;
    }
    g.bench_function(format!("holding_{}_answers", full.usage().0), |b| {
        b.iter(|| {
            q += 1;
            full.insert(key(q), answer());
        })
    });
    g.finish();
}

/// Caller-ID lookups of 500 numbers in the shapes PBXs deliver (E.164, `00…`, national
/// with and without separators) on 1,000 and 100,000 contacts: the book's side of
/// `/lookup`, without HTTP. The 100,000 case shows what cache misses the index costs.
fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    let r = rules();
    for n in [1_000, 100_000] {
        let b = people(n);
        let asked: Vec<String> = (0..500)
            .map(|i| {
                let number = &b.contacts[i * 7919 % n].numbers[i % 2].value;
                let national = format!("0{}", &number[3..]);
                match i % 5 {
                    0 => number.clone(),
                    1 => format!("00{}", &number[1..]),
                    2 => national,
                    3 => format!("{} {}", &national[..4], &national[4..]),
                    _ => format!("{}-{}", &national[..4], &national[4..]),
                }
            })
            .collect();
        g.throughput(Throughput::Elements(asked.len() as u64));
        g.bench_function(format!("500_numbers_{n}_contacts"), |bench| {
            bench.iter(|| {
                for a in &asked {
                    let hits = b.lookup(a, &r, "", 1);
                    assert_eq!(hits.len(), 1, "{a}");
                    black_box(hits);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    normalization,
    ingest,
    render,
    ldap_search,
    yealink_search,
    render_cache,
    lookup
);
criterion_main!(benches);
