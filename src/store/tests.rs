use super::*;
use crate::domain::{NumberType, PhoneNumber};

/// The merged book as readers see it.
fn merged(store: &Store, k: &ApiKey) -> Option<crate::book::Book> {
    store
        .snapshot(k)
        .unwrap()
        .map(|s| crate::book::Book::build(s.directory, s.entries))
}

fn key(s: &str) -> ApiKey {
    ApiKey::parse(s).unwrap()
}

fn contact(name: &str, number: &str) -> Contact {
    Contact {
        display_name: name.into(),
        numbers: vec![PhoneNumber {
            kind: NumberType::Work,
            value: number.into(),
        }],
        ..Default::default()
    }
}

#[test]
fn push_creates_replaces_and_versions() {
    let dir = tempdir();
    let store = Store::open(dir.path()).unwrap();
    let k = key("ACME0123456789");
    assert!(matches!(
        store.replace_source(&k, "push", "push", &[contact("A", "+491")], false),
        Err(StoreError::UnknownDirectory)
    ));
    let first = store
        .replace_source(
            &k,
            "push",
            "push",
            &[contact("b", "+492"), contact("Ä", "+491")],
            true,
        )
        .unwrap();
    assert_eq!((first.version, first.contacts, first.changed), (1, 2, true));
    let book = merged(&store, &k).unwrap();
    let names: Vec<&str> = book
        .contacts
        .iter()
        .map(|c| c.display_name.as_str())
        .collect();
    assert_eq!(names, vec!["Ä", "b"], "sorted accent-insensitively");

    let same = store
        .replace_source(
            &k,
            "push",
            "push",
            &[contact("b", "+492"), contact("Ä", "+491")],
            true,
        )
        .unwrap();
    assert_eq!(
        (same.version, same.changed),
        (1, false),
        "identical push keeps the version"
    );

    let other = store
        .replace_source(&k, "crm", "push", &[contact("C", "+493")], true)
        .unwrap();
    assert_eq!(other.version, 2);
    let replaced = store
        .replace_source(&k, "push", "push", &[contact("D", "+494")], true)
        .unwrap();
    assert_eq!(replaced.version, 3);
    let book = merged(&store, &k).unwrap();
    let names: Vec<&str> = book
        .contacts
        .iter()
        .map(|c| c.display_name.as_str())
        .collect();
    assert_eq!(names, vec!["C", "D"], "a push replaces its own source only");
    assert_eq!(book.directory.version, 3);
}

#[test]
fn reopening_keeps_data_and_schema() {
    let dir = tempdir();
    let k = key("ACME0123456789");
    {
        let store = Store::open(dir.path()).unwrap();
        store.create_directory(&k).unwrap();
        assert!(matches!(
            store.create_directory(&k),
            Err(StoreError::DirectoryExists)
        ));
        store
            .replace_source(&k, "push", "push", &[contact("A", "+491")], false)
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let list = store.list_directories().unwrap();
    assert_eq!((list.len(), list[0].contacts, list[0].sources), (1, 1, 1));
    assert!(store.delete_directory(&k).unwrap());
    assert!(merged(&store, &k).is_none());
}

#[test]
fn refuses_a_newer_schema() {
    let dir = tempdir();
    drop(Store::open(dir.path()).unwrap());
    let conn = Connection::open(dir.path().join("phonedir.sqlite3")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::SchemaTooNew { found: 99, .. })
    ));
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn versions_follow_writes_of_this_and_other_processes() {
    let dir = tempdir();
    let k = key("ACME0123456789");
    let calm = key("CALM0123456789");
    // The store as the server runs it: its own writes are not another process's.
    let store = Store::open(dir.path())
        .unwrap()
        .with_guards(Quota::NONE, DiskFloor::Bytes(0))
        .unwrap();
    assert_eq!(store.version(&k).unwrap(), None);
    store
        .replace_source(&k, "push", "push", &[contact("A", "+491")], true)
        .unwrap();
    store
        .replace_source(&calm, "push", "push", &[contact("Z", "+499")], true)
        .unwrap();
    let (id, v1) = store.version(&k).unwrap().unwrap();
    assert_eq!(v1, 1);
    let calm_version = store.version(&calm).unwrap();
    assert!(store.resolve(&calm).unwrap().is_some());
    store
        .replace_source(&k, "push", "push", &[contact("B", "+492")], true)
        .unwrap();
    assert_eq!(
        store.version(&k).unwrap(),
        Some((id, 2)),
        "own writes at once"
    );
    // A write to one directory leaves what memory knows of the others, also after the
    // watcher has seen the commit: their phones keep being answered without the database.
    for wait in [0, 300] {
        std::thread::sleep(std::time::Duration::from_millis(wait));
        assert_eq!(store.cached_version(&calm).unwrap(), calm_version);
        assert!(store.resolve_cached(&calm).unwrap().is_some());
    }

    // Another process writes the same file.
    let other = Store::open(dir.path()).unwrap();
    other
        .replace_source(&k, "push", "push", &[contact("C", "+493")], true)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        store.version(&k).unwrap(),
        Some((id, 3)),
        "other writers within 250 ms"
    );
    // It may have changed anything (revoked a key, say): memory starts over.
    assert_eq!(store.cached_version(&calm).unwrap(), None);
    assert!(store.resolve_cached(&calm).unwrap().is_none());
}

#[test]
fn a_big_replacement_lets_other_directories_write_and_readers_see_old_or_new() {
    let dir = tempdir();
    let store = std::sync::Arc::new(
        Store::open(dir.path())
            .unwrap()
            .with_guards(Quota::NONE, DiskFloor::Bytes(0))
            .unwrap(),
    );
    let big = key("BIGB0123456789");
    let small = key("SMAL0123456789");
    let old: Vec<Contact> = (0..30_000)
        .map(|i| contact(&format!("old {i}"), &format!("+4930{i:07}")))
        .collect();
    let new: Vec<Contact> = (0..30_000)
        .map(|i| contact(&format!("new {i}"), &format!("+4931{i:07}")))
        .collect();
    store
        .replace_source(&big, "push", "push", &old, true)
        .unwrap();
    store
        .replace_source(&small, "push", "push", &[contact("s", "+491")], true)
        .unwrap();
    // Keys are stored hashed: readers below find the directory by its id.
    let big_id = store.directory(&big).unwrap().unwrap().id;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (s, d) = (store.clone(), done.clone());
    let writer = std::thread::spawn(move || {
        let t = std::time::Instant::now();
        s.replace_source(&big, "push", "push", &new, true).unwrap();
        d.store(true, std::sync::atomic::Ordering::SeqCst);
        t.elapsed()
    });
    // Another directory's writes meanwhile, and reads of the big one.
    let mut slowest = std::time::Duration::ZERO;
    let mut i = 0;
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        let t = std::time::Instant::now();
        store
            .replace_source(
                &small,
                "push",
                "push",
                &[contact("s", &format!("+49{i}"))],
                true,
            )
            .unwrap();
        slowest = slowest.max(t.elapsed());
        i += 1;
        // What readers see (the filter of `load_entries`), counted in SQL: building the
        // whole book each round would leave no time for rounds.
        let (rows, kinds): (i64, i64) = store
            .read(|tx| {
                Ok(tx.query_row(
                    "SELECT count(*), count(DISTINCT substr(c.display_name, 1, 3))
                       FROM contacts c JOIN sources s ON c.source_id = s.id
                      WHERE s.directory_id = ?1 AND c.generation = s.generation",
                    [big_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap();
        assert_eq!((rows, kinds), (30_000, 1), "never half a push, never a mix");
    }
    let whole = writer.join().unwrap();
    assert!(
        i > 1,
        "other writes went on during the replacement ({whole:?})"
    );
    assert!(
        slowest < whole / 2 + std::time::Duration::from_millis(200),
        "a small write waited {slowest:?} while the replacement took {whole:?}"
    );
    let book = merged(&store, &key("BIGB0123456789")).unwrap();
    assert!(book
        .contacts
        .iter()
        .all(|c| c.display_name.starts_with("new")));
    // The old generation is gone from the table, not only hidden.
    let rows: i64 = store
        .read(|tx| Ok(tx.query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(rows, 30_001);
}

#[test]
fn quotas_and_the_disk_floor_refuse_with_a_sentence() {
    let dir = tempdir();
    let quota = Quota {
        sources: 2,
        contacts: 3,
        bytes: 10_000,
    };
    let store = Store::open(dir.path())
        .unwrap()
        .with_guards(quota, DiskFloor::Bytes(0))
        .unwrap();
    let k = key("ACME0123456789");
    let four: Vec<Contact> = (0..4)
        .map(|i| contact(&format!("x{i}"), &format!("+49{i}")))
        .collect();
    let e = store
        .replace_source(&k, "a", "push", &four, true)
        .unwrap_err();
    assert!(e.to_string().contains("more than the 3"), "{e}");
    store
        .replace_source(&k, "a", "push", &four[..2], true)
        .unwrap();
    store
        .replace_source(&k, "b", "push", &four[2..3], true)
        .unwrap();
    let e = store
        .replace_source(&k, "c", "push", &four[..1], true)
        .unwrap_err();
    assert!(e.to_string().contains("--max-sources"), "{e}");
    let e = store
        .replace_source(&k, "b", "push", &four[..2], true)
        .unwrap_err();
    assert!(e.to_string().contains("--max-contacts"), "{e}");
    let huge = vec![contact(&"x".repeat(20_000), "+491")];
    let e = store
        .replace_source(&k, "b", "push", &huge, true)
        .unwrap_err();
    assert!(e.to_string().contains("--max-directory-bytes"), "{e}");

    let full = Store::open(dir.path())
        .unwrap()
        .with_guards(quota, DiskFloor::Bytes(u64::MAX))
        .unwrap();
    let e = full
        .replace_source(&k, "a", "push", &four[..1], true)
        .unwrap_err();
    assert!(matches!(e, StoreError::DiskFull { .. }), "{e}");
    assert_eq!(merged(&full, &k).unwrap().contacts.len(), 3, "reads go on");
}
