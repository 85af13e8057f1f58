use super::*;

fn id(n: u64) -> ContactId {
    ContactId::from_u64(n)
}

fn payload(name: &str, number: &str) -> Payload {
    Payload {
        fields: [("cn".to_owned(), name.to_owned())].into(),
        numbers: vec![("telephonenumber".to_owned(), number.to_owned())],
    }
}

fn desired(n: u64, name: &str, number: &str) -> Desired {
    Desired {
        contact: id(n),
        name: name.into(),
        payload: payload(name, number),
        warnings: vec![],
    }
}

fn held(n: u64, remote: Option<&str>, p: &Payload) -> Held {
    Held {
        contact: id(n),
        remote_id: remote.map(str::to_owned),
        origin: Origin::Created,
        fingerprint: p.fingerprint(),
        payload: p.clone(),
        since: 0,
    }
}

fn remote(rid: &str, name: &str, number: &str) -> RemoteEntry {
    RemoteEntry {
        id: rid.into(),
        payload: payload(name, number),
        marker: None,
    }
}

fn rules(first_run: bool) -> Rules {
    Rules {
        first_run,
        adopt: true,
        delete: DeletePolicy::Own,
        max_delete_percent: 20,
        last_book: None,
        book_len: 0,
        force: false,
        now: 1_000_000,
    }
}

fn run(
    desired: &[Desired],
    held: &[Held],
    view: View,
    candidates: &[(&str, &[u64])],
    rules: Rules,
) -> Result<Plan, Refused> {
    let candidates: HashMap<String, Vec<ContactId>> = candidates
        .iter()
        .map(|(r, cs)| (r.to_string(), cs.iter().map(|c| id(*c)).collect()))
        .collect();
    plan(&Input {
        desired,
        held,
        view,
        scope: Scope::Book,
        candidates: &candidates,
        rules: Rules {
            book_len: desired.len(),
            ..rules
        },
    })
}

fn ids(v: impl IntoIterator<Item = ContactId>) -> Vec<u64> {
    v.into_iter().map(ContactId::as_u64).collect()
}

#[test]
fn first_run_adopts_one_to_one_creates_the_rest_and_skips_what_is_ambiguous() {
    let want = [
        desired(1, "Anna", "+491"),
        desired(2, "Bernd", "+492"),
        desired(3, "Carla", "+493"),
        desired(4, "Dora", "+494"),
        desired(5, "Emil", "+495"),
    ];
    let pbx = [
        // Anna's number, under another spelling: adopted and corrected.
        remote("r1", "Anna S.", "+491"),
        // Two entries both match Bernd: neither is taken, Bernd is not created.
        remote("r2a", "Bernd", "+492"),
        remote("r2b", "B. Meier", "+492"),
        // One entry matches both Dora and Emil (a shared number): both skipped.
        remote("r45", "Switchboard", "+4945"),
        // A foreign entry matching nobody is left alone.
        remote("rx", "Foreign", "+499"),
    ];
    let cands: &[(&str, &[u64])] = &[("r1", &[1]), ("r2a", &[2]), ("r2b", &[2]), ("r45", &[4, 5])];
    let p = run(&want, &[], View::Complete(&pbx), cands, rules(true)).unwrap();
    assert_eq!(ids(p.create.iter().map(|c| c.contact)), vec![3]);
    assert_eq!(p.update.len(), 1);
    assert_eq!(
        (p.update[0].remote_id.as_str(), p.update[0].origin),
        ("r1", Origin::Adopted)
    );
    assert_eq!(p.update[0].changes["cn"].to, "Anna");
    assert_eq!(ids(p.skipped.iter().map(|s| s.contact)), vec![2, 4, 5]);
    assert!(
        p.skipped[0].reason.contains("2 entries"),
        "{}",
        p.skipped[0].reason
    );
    assert!(p.delete.is_empty(), "foreign entries are never deleted");
    assert_eq!(ids(p.undecided.iter().copied()), vec![2, 4, 5]);
    let json = p.to_json();
    assert_eq!(json["update"][0]["adopted"], true);

    // Later runs go on looking for the undecided and never create them while ambiguous …
    let undecided: Vec<Held> = [2, 4, 5]
        .map(|n| Held {
            contact: id(n),
            remote_id: None,
            origin: Origin::Undecided,
            fingerprint: String::new(),
            payload: Payload::default(),
            since: 0,
        })
        .to_vec();
    let later = run(
        &want[1..2],
        &undecided,
        View::Complete(&pbx),
        cands,
        rules(false),
    )
    .unwrap();
    assert_eq!((later.create.len(), later.skipped.len()), (0, 1));
    assert!(later.undecided.is_empty(), "recorded once");
    // … and adopt the one left once the PBX was cleaned up.
    let cleaned = [remote("r2a", "Bernd", "+492")];
    let later = run(
        &want[1..2],
        &undecided,
        View::Complete(&cleaned),
        &[("r2a", &[2])],
        rules(false),
    )
    .unwrap();
    assert_eq!((later.unchanged, later.link.len()), (1, 1));
    assert_eq!(later.link[0].origin, Origin::Adopted);
    assert_eq!(
        ids(later.forget.iter().copied()),
        vec![4, 5],
        "left the book: forgotten"
    );
    assert_eq!(json["skipped"].as_array().unwrap().len(), 3);

    // An exact match is adopted without a write: only the mapping is stored.
    let pbx = [remote("r3", "Carla", "+493")];
    let p = run(
        &want[2..3],
        &[],
        View::Complete(&pbx),
        &[("r3", &[3])],
        rules(true),
    )
    .unwrap();
    assert_eq!((p.writes(), p.unchanged, p.link.len()), (0, 1, 1));
    assert_eq!(p.link[0].origin, Origin::Adopted);

    // Not on later runs, and not with adopt off: created.
    let p = run(
        &want[2..3],
        &[],
        View::Complete(&pbx),
        &[("r3", &[3])],
        rules(false),
    )
    .unwrap();
    assert_eq!(p.create.len(), 1);
    let off = Rules {
        adopt: false,
        ..rules(true)
    };
    let p = run(&want[2..3], &[], View::Complete(&pbx), &[("r3", &[3])], off).unwrap();
    assert_eq!(p.create.len(), 1);
}

#[test]
fn nothing_changed_writes_nothing_and_changes_write_exactly_themselves() {
    let want = [desired(1, "Anna", "+491"), desired(2, "Bernd", "+492")];
    let have = [
        held(1, Some("r1"), &want[0].payload),
        held(2, Some("r2"), &want[1].payload),
    ];
    let p = run(&want, &have, View::Trusted, &[], rules(false)).unwrap();
    assert_eq!((p.writes(), p.unchanged, p.link.len()), (0, 2, 0));

    let changed = [desired(1, "Anna", "+4910"), desired(2, "Bernd", "+492")];
    let p = run(&changed, &have, View::Trusted, &[], rules(false)).unwrap();
    assert_eq!(p.update.len(), 1);
    assert_eq!(
        p.update[0].changes.keys().collect::<Vec<_>>(),
        vec!["telephonenumber"]
    );
    assert_eq!(p.unchanged, 1);

    // A change made on the PBX is found by a complete view and put back.
    let pbx = [
        remote("r1", "Anna", "+491"),
        remote("r2", "Bernd (old)", "+492"),
    ];
    let p = run(&want, &have, View::Complete(&pbx), &[], rules(false)).unwrap();
    assert_eq!(p.update.len(), 1);
    assert_eq!(p.update[0].changes["cn"].from, "Bernd (old)");
}

#[test]
fn a_vanished_entry_is_created_anew_and_gone_contacts_are_deleted_only_if_owned() {
    let want = [desired(1, "Anna", "+491")];
    let old = payload("Old", "+499");
    let have = [
        held(1, Some("r1"), &want[0].payload),
        held(7, Some("r7"), &old),
        held(8, Some("r8"), &old),
    ];
    // r1 was deleted in the PBX; r8 too (its contact is gone as well); r7 is there.
    let pbx = [remote("r7", "Old", "+499"), remote("rx", "Foreign", "+1")];
    let p = run(&want, &have, View::Complete(&pbx), &[], rules(false)).unwrap();
    assert_eq!(ids(p.create.iter().map(|c| c.contact)), vec![1]);
    assert_eq!(p.delete.len(), 1);
    assert_eq!(p.delete[0].remote_id, "r7");
    assert_eq!(ids(p.forget.iter().copied()), vec![8]);

    let never = Rules {
        delete: DeletePolicy::Never,
        ..rules(false)
    };
    let p = run(&want, &have, View::Complete(&pbx), &[], never).unwrap();
    assert!(p.delete.is_empty());
}

#[test]
fn a_book_that_shrank_too_much_writes_nothing_unless_forced() {
    let want: Vec<Desired> = (1..=7)
        .map(|i| desired(i, &format!("N{i}"), "+49"))
        .collect();
    let r = Rules {
        last_book: Some(10),
        ..rules(false)
    };
    let e = run(&want, &[], View::Trusted, &[], r).unwrap_err();
    assert!(e.reason.contains("from 10 to 7"), "{}", e.reason);
    assert_eq!(e.plan.create.len(), 7, "the plan that was not run is shown");
    let p = run(&want, &[], View::Trusted, &[], Rules { force: true, ..r });
    assert!(p.is_ok());
    let p = run(
        &want[..],
        &[],
        View::Trusted,
        &[],
        Rules {
            max_delete_percent: 30,
            ..r
        },
    );
    assert!(p.is_ok(), "30 % allowed");
    // An empty book after a full one: refused.
    let e = run(&[], &[], View::Trusted, &[], r).unwrap_err();
    assert!(e.reason.contains("to 0"), "{}", e.reason);
}

#[test]
fn markers_find_entries_whose_mapping_was_lost() {
    let want = [desired(1, "Anna", "+491"), desired(2, "Bernd", "+492")];
    let mut mine = remote("r1", "Anna", "+491");
    mine.marker = Some(id(1));
    let mut twice_a = remote("r2a", "Bernd", "+492");
    twice_a.marker = Some(id(2));
    let mut twice_b = twice_a.clone();
    twice_b.id = "r2b".into();
    // Another directory's marker: never adopted, never deleted.
    let mut other = remote("ro", "Anna", "+491");
    other.marker = Some(id(99));
    let pbx = [mine, twice_a, twice_b, other];
    let p = run(
        &want,
        &[],
        View::Complete(&pbx),
        &[("ro", &[1])],
        rules(true),
    )
    .unwrap();
    assert_eq!((p.unchanged, p.link.len()), (1, 1));
    assert_eq!(p.link[0].remote_id, "r1");
    assert_eq!(ids(p.skipped.iter().map(|s| s.contact)), vec![2]);
    assert!(p.create.is_empty() && p.delete.is_empty());
}

#[test]
fn an_interrupted_create_is_found_before_it_is_sent_again() {
    let want = [desired(1, "Anna", "+491")];
    let pending = [held(1, None, &want[0].payload)];
    // It did arrive: taken, not created again.
    let pbx = [remote("r1", "Anna", "+491")];
    let p = run(&want, &pending, View::Complete(&pbx), &[], rules(false)).unwrap();
    assert_eq!((p.create.len(), p.link.len()), (0, 1));
    // It did not: created — unless it was sent so recently that it may be under way.
    let p = run(&want, &pending, View::Complete(&[]), &[], rules(false)).unwrap();
    assert_eq!(p.create.len(), 1);
    let mut recent = pending.clone();
    recent[0].since = 1_000_000 - 5;
    let p = run(&want, &recent, View::Complete(&[]), &[], rules(false)).unwrap();
    assert_eq!((p.create.len(), p.skipped.len()), (0, 1));
    assert!(
        p.skipped[0].reason.contains("5 s ago"),
        "{}",
        p.skipped[0].reason
    );
    // Two look like it: neither taken, nothing created.
    let two = [remote("a", "Anna", "+491"), remote("b", "Anna", "+491")];
    let p = run(&want, &pending, View::Complete(&two), &[], rules(false)).unwrap();
    assert_eq!((p.create.len(), p.skipped.len()), (0, 1));
    // Without reading the PBX it is not decided at all.
    let p = run(&want, &pending, View::Trusted, &[], rules(false)).unwrap();
    assert_eq!((p.create.len(), p.skipped.len()), (0, 1));
}

#[test]
fn a_run_over_changes_touches_only_them() {
    let want = [desired(2, "Bernd", "+4920")];
    let have = [
        held(1, Some("r1"), &payload("Anna", "+491")),
        held(2, Some("r2"), &payload("Bernd", "+492")),
        held(3, Some("r3"), &payload("Carla", "+493")),
    ];
    let removed = [id(3)];
    let p = plan(&Input {
        desired: &want,
        held: &have,
        view: View::Trusted,
        scope: Scope::Changes {
            removed: &removed,
            untouched: 5,
        },
        candidates: &HashMap::new(),
        rules: Rules {
            book_len: 6,
            ..rules(false)
        },
    })
    .unwrap();
    assert_eq!(p.update.len(), 1);
    assert_eq!(p.delete.len(), 1);
    assert_eq!(p.delete[0].remote_id, "r3");
    assert_eq!(p.unchanged, 5, "contact 1 is not touched");
}
