//! The planner: what a run writes, from what the book wants (`Desired`), what phonedir
//! holds in the target (`Held`: the stored mapping and fingerprints) and what the target
//! answered (`View`). A pure function: a dry run and the run after it plan the same.
//!
//! Matching never creates a duplicate and never guesses, in this order:
//! 1. the stored mapping (contact id → remote id);
//! 2. phonedir's own marker in the target (3CX `Tag`), for an entry whose mapping was lost;
//! 3. a create that was sent but whose answer was never stored (a crash): the entry that
//!    looks exactly like it, if there is exactly one;
//! 4. on the first run only, with `adopt`: an unowned entry that matches exactly one
//!    contact (by number or e-mail, else exact name) which matches only it. More than one
//!    candidate on either side: skipped and reported.
//!
//! Deletions touch only entries phonedir holds (created or adopted) whose contact left the
//! book, and only with `delete: own`. A book that shrank by more than `max_delete_percent`
//! since the last run plans nothing at all.

use super::entry::{Change, Payload};
use super::spec::DeletePolicy;
use crate::domain::ContactId;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A contact of the book as the target should hold it.
#[derive(Clone, Debug)]
pub struct Desired {
    pub contact: ContactId,
    pub name: String,
    pub payload: Payload,
    /// What the kind's limits cut (field lengths, numbers).
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Created,
    Adopted,
    /// Not written: adoption found several candidates. Kept so later runs go on looking
    /// (once the PBX is cleaned up, the one left is adopted) instead of creating a
    /// duplicate because the first run is over.
    Undecided,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Created => "created",
            Origin::Adopted => "adopted",
            Origin::Undecided => "undecided",
        }
    }

    pub fn parse(s: &str) -> Origin {
        match s {
            "adopted" => Origin::Adopted,
            "undecided" => Origin::Undecided,
            _ => Origin::Created,
        }
    }
}

/// An entry phonedir holds in the target (a stored mapping row).
#[derive(Clone, Debug)]
pub struct Held {
    pub contact: ContactId,
    /// None: a create was sent and its answer never stored.
    pub remote_id: Option<String>,
    pub origin: Origin,
    pub fingerprint: String,
    /// What was last written (or, for a pending create, what was sent).
    pub payload: Payload,
    /// Unix seconds of the write (of the create sent, for a pending one).
    pub since: i64,
}

/// A create sent this recently and not found in the target may still be under way there
/// (a slow PBX goes on after phonedir stopped waiting): it is not sent again yet.
pub const PENDING_GRACE_S: i64 = 120;

/// An entry as the target answered it.
#[derive(Clone, Debug)]
pub struct RemoteEntry {
    pub id: String,
    pub payload: Payload,
    /// The contact phonedir's marker in the entry names, if it carries one.
    pub marker: Option<ContactId>,
}

/// What the target was asked before planning.
#[derive(Clone, Copy, Debug)]
pub enum View<'a> {
    /// Nothing: the mapping and fingerprints are taken as true (a run after a change, or a
    /// target that cannot be read, such as the innovaphone upload).
    Trusted,
    /// Everything it holds: an entry not in it is gone.
    Complete(&'a [RemoteEntry]),
    /// What searches found: an entry not in it may still exist.
    Partial(&'a [RemoteEntry]),
}

/// Which contacts the run is about.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// The whole book: `desired` is every contact, a held contact not in it is gone.
    Book,
    /// What changed since the last run: `desired` are the added and changed contacts,
    /// `removed` those that left, `untouched` the contacts of the book left out.
    Changes {
        removed: &'a [ContactId],
        untouched: usize,
    },
}

#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub first_run: bool,
    pub adopt: bool,
    pub delete: DeletePolicy,
    pub max_delete_percent: u8,
    /// The book's size at the last complete run.
    pub last_book: Option<usize>,
    pub book_len: usize,
    /// Write even though the book shrank more than `max_delete_percent` (asked for once).
    pub force: bool,
    /// Unix seconds now.
    pub now: i64,
}

pub struct Input<'a> {
    pub desired: &'a [Desired],
    pub held: &'a [Held],
    pub view: View<'a>,
    pub scope: Scope<'a>,
    /// For remote entries phonedir does not hold: the contacts of the book each matches by
    /// number or e-mail, else by exact display name (what adoption decides on).
    pub candidates: &'a HashMap<String, Vec<ContactId>>,
    pub rules: Rules,
}

#[derive(Clone, Debug)]
pub struct Create {
    pub contact: ContactId,
    pub name: String,
    pub payload: Payload,
}

#[derive(Clone, Debug)]
pub struct Update {
    pub contact: ContactId,
    pub remote_id: String,
    pub changes: BTreeMap<String, Change>,
    pub payload: Payload,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub struct Delete {
    pub contact: ContactId,
    pub remote_id: String,
}

#[derive(Clone, Debug)]
pub struct Skipped {
    pub contact: ContactId,
    pub reason: String,
}

/// A mapping to store without writing to the target: the entry holds what it should.
#[derive(Clone, Debug)]
pub struct Link {
    pub contact: ContactId,
    pub remote_id: String,
    pub origin: Origin,
    pub payload: Payload,
}

#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub create: Vec<Create>,
    pub update: Vec<Update>,
    pub delete: Vec<Delete>,
    pub skipped: Vec<Skipped>,
    pub unchanged: usize,
    pub link: Vec<Link>,
    /// Mapping rows to drop: their entry is gone, or their pending create is void.
    pub forget: Vec<ContactId>,
    /// Contacts newly skipped as ambiguous, remembered as undecided.
    pub undecided: Vec<ContactId>,
    pub warnings: Vec<(ContactId, String)>,
}

/// Why a run writes nothing at all.
#[derive(Clone, Debug)]
pub struct Refused {
    pub reason: String,
    pub plan: Box<Plan>,
}

impl Plan {
    pub fn writes(&self) -> usize {
        self.create.len() + self.update.len() + self.delete.len()
    }

    /// The plan as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "create": self.create.iter().map(|c| json!({
                "contact": c.contact.to_string(), "name": c.name,
            })).collect::<Vec<_>>(),
            "update": self.update.iter().map(|u| {
                let mut v = json!({
                    "contact": u.contact.to_string(), "remote_id": u.remote_id,
                    "changes": u.changes,
                });
                if u.origin == Origin::Adopted {
                    v["adopted"] = true.into();
                }
                v
            }).collect::<Vec<_>>(),
            "delete": self.delete.iter().map(|d| json!({
                "contact": d.contact.to_string(), "remote_id": d.remote_id,
            })).collect::<Vec<_>>(),
            "skipped": self.skipped.iter().map(|s| json!({
                "contact": s.contact.to_string(), "reason": s.reason,
            })).collect::<Vec<_>>(),
            "unchanged": self.unchanged,
            "warnings": self.warnings.iter().map(|(c, w)| json!({
                "contact": c.to_string(), "warning": w,
            })).collect::<Vec<_>>(),
        })
    }
}

/// How adoption decided for one contact.
enum Adoption<'a> {
    Take(&'a RemoteEntry),
    /// Entries that match it, or the one entry that matches it matches others too.
    Ambiguous(usize),
    None,
}

pub fn plan(input: &Input) -> Result<Plan, Refused> {
    let mut plan = Plan::default();
    let held: HashMap<ContactId, &Held> = input.held.iter().map(|h| (h.contact, h)).collect();
    let owned: HashSet<&str> = input
        .held
        .iter()
        .filter(|h| h.origin != Origin::Undecided)
        .filter_map(|h| h.remote_id.as_deref())
        .collect();
    let (remote, complete): (&[RemoteEntry], bool) = match input.view {
        View::Trusted => (&[], false),
        View::Complete(r) => (r, true),
        View::Partial(r) => (r, false),
    };
    let readable = !matches!(input.view, View::Trusted);
    let by_id: HashMap<&str, &RemoteEntry> = remote.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut by_marker: HashMap<ContactId, Vec<&RemoteEntry>> = HashMap::new();
    for r in remote {
        if let Some(m) = r.marker {
            if !owned.contains(r.id.as_str()) {
                by_marker.entry(m).or_default().push(r);
            }
        }
    }
    // Entries nobody holds and no phonedir marker claims: the only ones adoption and the
    // search for an interrupted create may take. Searches can find an entry twice.
    let mut free: Vec<&RemoteEntry> = Vec::new();
    let mut free_ids = HashSet::new();
    for r in remote {
        if r.marker.is_none() && !owned.contains(r.id.as_str()) && free_ids.insert(r.id.as_str()) {
            free.push(r);
        }
    }
    let mut claimed: HashSet<String> = HashSet::new();
    let adoption = adoption(input, &free);

    for d in input.desired {
        plan.warnings
            .extend(d.warnings.iter().map(|w| (d.contact, w.clone())));
        let found = match held.get(&d.contact) {
            Some(h) if h.origin == Origin::Undecided => Found::Nothing(true),
            Some(h) => match &h.remote_id {
                Some(id) => Found::Held(h, id),
                None => Found::Pending(h),
            },
            None => Found::Nothing(false),
        };
        match found {
            Found::Held(h, id) => match by_id.get(id.as_str()) {
                Some(r) => compare(&mut plan, d, id, h.origin, &r.payload, Some(h)),
                None if complete => create(&mut plan, d),
                None => {
                    if h.fingerprint == d.payload.fingerprint() {
                        plan.unchanged += 1;
                    } else {
                        update(&mut plan, d, id, h.origin, &h.payload);
                    }
                }
            },
            Found::Pending(h) => {
                if !readable {
                    plan.skipped.push(Skipped {
                        contact: d.contact,
                        reason: "its create was interrupted; the next complete run looks for it in the PBX before creating it again".into(),
                    });
                    continue;
                }
                if let Some(r) = marked(&by_marker, d.contact, &claimed) {
                    claimed.insert(r.id.clone());
                    compare(&mut plan, d, &r.id, Origin::Created, &r.payload, None);
                    continue;
                }
                let like: Vec<&&RemoteEntry> = free
                    .iter()
                    .filter(|r| !claimed.contains(&r.id))
                    .filter(|r| {
                        d.payload.changes_from(&r.payload).is_empty()
                            || h.payload.changes_from(&r.payload).is_empty()
                    })
                    .collect();
                let age = input.rules.now.saturating_sub(h.since);
                match like.as_slice() {
                    [] if age < PENDING_GRACE_S => plan.skipped.push(Skipped {
                        contact: d.contact,
                        reason: format!(
                            "its create was sent {age} s ago and is not in the PBX yet; it may still be under way there, so it is not sent again before {PENDING_GRACE_S} s have passed"
                        ),
                    }),
                    [] => create(&mut plan, d),
                    [r] => {
                        claimed.insert(r.id.clone());
                        compare(&mut plan, d, &r.id, Origin::Created, &r.payload, None);
                    }
                    more => plan.skipped.push(Skipped {
                        contact: d.contact,
                        reason: format!(
                            "its create was interrupted, and {} entries in the PBX look like the one it sent; none is taken, none created — remove the extra ones in the PBX",
                            more.len()
                        ),
                    }),
                }
            }
            Found::Nothing(undecided) => {
                if undecided && !readable {
                    plan.skipped.push(Skipped {
                        contact: d.contact,
                        reason: "several entries in the PBX matched it before; the next complete run looks again".into(),
                    });
                    continue;
                }
                let marks = by_marker
                    .get(&d.contact)
                    .map(|v| v.iter().filter(|r| !claimed.contains(&r.id)).count())
                    .unwrap_or(0);
                if marks > 1 {
                    plan.skipped.push(Skipped {
                        contact: d.contact,
                        reason: format!(
                            "{marks} entries in the PBX carry phonedir's marker for this contact; none is taken, none created — remove the extra ones in the PBX"
                        ),
                    });
                    continue;
                }
                if let Some(r) = marked(&by_marker, d.contact, &claimed) {
                    claimed.insert(r.id.clone());
                    compare(&mut plan, d, &r.id, Origin::Created, &r.payload, None);
                    continue;
                }
                let adopting = input.rules.first_run || undecided;
                match adoption.get(&d.contact).filter(|_| adopting) {
                    Some(Adoption::Take(r)) if !claimed.contains(&r.id) => {
                        claimed.insert(r.id.clone());
                        compare(&mut plan, d, &r.id, Origin::Adopted, &r.payload, None);
                    }
                    Some(Adoption::Ambiguous(n)) => {
                        plan.skipped.push(Skipped {
                            contact: d.contact,
                            reason: format!(
                                "{n} entries in the PBX could be this contact (same number, e-mail or name), or the one that matches it matches other contacts too; none is taken over and none created, so nothing is duplicated — make them unique in the PBX, or set \"adopt\": false to create it anew"
                            ),
                        });
                        if !undecided {
                            plan.undecided.push(d.contact);
                        }
                    }
                    _ => create(&mut plan, d),
                }
            }
        }
    }

    // Held entries whose contact left the book (or the run's changes say it left).
    let desired_ids: HashSet<ContactId> = input.desired.iter().map(|d| d.contact).collect();
    let gone: Vec<&Held> = match input.scope {
        Scope::Book => input
            .held
            .iter()
            .filter(|h| !desired_ids.contains(&h.contact))
            .collect(),
        Scope::Changes { removed, untouched } => {
            plan.unchanged += untouched;
            let removed: HashSet<&ContactId> = removed.iter().collect();
            input
                .held
                .iter()
                .filter(|h| removed.contains(&h.contact) && !desired_ids.contains(&h.contact))
                .collect()
        }
    };
    for h in gone {
        if h.origin == Origin::Undecided {
            plan.forget.push(h.contact);
            continue;
        }
        match &h.remote_id {
            Some(id) if complete && !by_id.contains_key(id.as_str()) => plan.forget.push(h.contact),
            Some(id) if input.rules.delete == DeletePolicy::Own => {
                plan.delete.push(Delete {
                    contact: h.contact,
                    remote_id: id.clone(),
                });
            }
            Some(_) => {}
            None if readable => {
                // An interrupted create of a contact that left: its entry, if it arrived.
                let like: Vec<&&RemoteEntry> = free
                    .iter()
                    .filter(|r| !claimed.contains(&r.id))
                    .filter(|r| h.payload.changes_from(&r.payload).is_empty())
                    .collect();
                match (like.as_slice(), input.rules.delete) {
                    ([r], DeletePolicy::Own) => {
                        claimed.insert(r.id.clone());
                        plan.delete.push(Delete {
                            contact: h.contact,
                            remote_id: r.id.clone(),
                        });
                    }
                    _ => plan.forget.push(h.contact),
                }
            }
            None => {}
        }
    }

    let r = &input.rules;
    if let Some(last) = r.last_book.filter(|l| *l > 0) {
        let shrunk = last.saturating_sub(r.book_len);
        if !r.force && shrunk * 100 > last * usize::from(r.max_delete_percent) {
            return Err(Refused {
                reason: format!(
                    "the book shrank from {last} to {} contacts since the last run, more than max_delete_percent ({} %); taken for a fault, nothing is written — if the book is right, run once with ?force=true or raise max_delete_percent",
                    r.book_len, r.max_delete_percent
                ),
                plan: Box::new(plan),
            });
        }
    }
    Ok(plan)
}

enum Found<'a> {
    Held(&'a Held, &'a String),
    Pending(&'a Held),
    /// Not held; true if it was undecided before.
    Nothing(bool),
}

/// The one unclaimed entry carrying the contact's marker.
fn marked<'a>(
    by_marker: &HashMap<ContactId, Vec<&'a RemoteEntry>>,
    contact: ContactId,
    claimed: &HashSet<String>,
) -> Option<&'a RemoteEntry> {
    by_marker
        .get(&contact)?
        .iter()
        .find(|r| !claimed.contains(&r.id))
        .copied()
}

/// Which contacts adoption pairs with which entry: only on the first run, only with
/// `adopt`, only exactly one entry for one contact and one contact for that entry.
fn adoption<'a>(input: &Input, free: &[&'a RemoteEntry]) -> HashMap<ContactId, Adoption<'a>> {
    let mut out = HashMap::new();
    if !input.rules.adopt {
        return out;
    }
    let mut per_contact: HashMap<ContactId, Vec<&'a RemoteEntry>> = HashMap::new();
    for r in free {
        for c in input.candidates.get(&r.id).into_iter().flatten() {
            per_contact.entry(*c).or_default().push(r);
        }
    }
    for (c, entries) in per_contact {
        let decided = match entries.as_slice() {
            [r] if input.candidates.get(&r.id).map_or(0, Vec::len) == 1 => Adoption::Take(r),
            [r] => Adoption::Ambiguous(input.candidates.get(&r.id).map_or(2, Vec::len)),
            [] => Adoption::None,
            more => Adoption::Ambiguous(more.len()),
        };
        out.insert(c, decided);
    }
    out
}

fn create(plan: &mut Plan, d: &Desired) {
    plan.create.push(Create {
        contact: d.contact,
        name: d.name.clone(),
        payload: d.payload.clone(),
    });
}

fn update(plan: &mut Plan, d: &Desired, id: &str, origin: Origin, current: &Payload) {
    plan.update.push(Update {
        contact: d.contact,
        remote_id: id.to_owned(),
        changes: d.payload.changes_from(current),
        payload: d.payload.clone(),
        origin,
    });
}

/// An entry the target holds for `d`: updated where it differs, else only (re)mapped when
/// the mapping does not say so already.
fn compare(
    plan: &mut Plan,
    d: &Desired,
    id: &str,
    origin: Origin,
    current: &Payload,
    held: Option<&Held>,
) {
    if d.payload.changes_from(current).is_empty() {
        plan.unchanged += 1;
        let known = held.is_some_and(|h| h.fingerprint == d.payload.fingerprint());
        if !known {
            plan.link.push(Link {
                contact: d.contact,
                remote_id: id.to_owned(),
                origin,
                payload: d.payload.clone(),
            });
        }
    } else {
        update(plan, d, id, origin, current);
    }
}

#[cfg(test)]
mod tests;
