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
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.version(&k).unwrap(), None);
    store
        .replace_source(&k, "push", "push", &[contact("A", "+491")], true)
        .unwrap();
    let (id, v1) = store.version(&k).unwrap().unwrap();
    assert_eq!(v1, 1);
    store
        .replace_source(&k, "push", "push", &[contact("B", "+492")], true)
        .unwrap();
    assert_eq!(
        store.version(&k).unwrap(),
        Some((id, 2)),
        "own writes at once"
    );

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
}
