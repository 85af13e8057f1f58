//! The CardDAV logic over one directory's book: which resources there are, what their
//! properties are, and the answers to PROPFIND and the three reports. No HTTP here: the
//! adapter (`dav::http`) authenticates, reads bodies and sends what this module writes.
//!
//! What real clients need from these answers (see docs/carddav.md): the `200` propstat first
//! and status lines exactly `HTTP/1.1 200 OK` (Thunderbird), a `getetag` on every card
//! (DAVx5, vdirsyncer), `getctag` (macOS), `current-user-privilege-set` holding `read` only
//! (DAVx5, Thunderbird and Evolution then treat the book as read-only), every href of a
//! multiget answered, and sync tokens that are URIs.

use super::query;
use super::write::{self, MULTISTATUS_HEAD, MULTISTATUS_TAIL, NOT_FOUND, OK};
use super::xml::{Filter, Name, Props, VcardVersion, CALSERVER, CARDDAV, DAV};
use super::{DavError, Precondition};
use crate::book::{Book, BookError, Books};
use crate::domain::{ApiKey, ContactId};
use crate::phone::NumberRules;
use crate::render::vcard;
use std::sync::Arc;

/// Where discovery starts (`/.well-known/carddav` points here).
pub const ROOT: &str = "/dav/";
const VCARD_TYPE: &str = "text/vcard; charset=utf-8";
/// Sync tokens (and ctags) are `urn:phonedir:sync:{book id}:{version}`: URIs as RFC 6578
/// wants, with `:` in them so Evolution does not take them for a ctag.
const TOKEN_PREFIX: &str = "urn:phonedir:sync:";

/// A request's path, read before the credentials say whose book it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Root,
    Principal(String),
    Home(String),
    Book(String),
    Card(String, String),
}

/// Reads a path (`/dav/books/{id}/contacts/{card}`, trailing slash or not); None for a
/// path that is not one of ours. `/` reads as the root, for clients that are given only
/// the server's address and ask it first.
pub fn target(path: &str) -> Option<Target> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        })
        .collect::<Option<_>>()?;
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    Some(match segs.as_slice() {
        [] | ["dav"] => Target::Root,
        ["dav", "principals", id] => Target::Principal((*id).to_owned()),
        ["dav", "books", id] => Target::Home((*id).to_owned()),
        ["dav", "books", id, "contacts"] => Target::Book((*id).to_owned()),
        ["dav", "books", id, "contacts", card] => {
            Target::Card((*id).to_owned(), (*card).to_owned())
        }
        _ => return None,
    })
}

/// The public id of a directory in CardDAV URLs: stable for the directory's life, unique,
/// and telling nothing (not the key, not how many directories there are). Salted with the
/// database's random salt.
pub fn public_id(salt: &[u8; 16], directory_id: i64) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"phonedir carddav book\0");
    ctx.update(salt);
    ctx.update(&directory_id.to_be_bytes());
    let d = ctx.finish();
    d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The newest book of `key`, logged in the change log so its version may be handed out as
/// a sync token, and when that version was logged. A push between reading the book and
/// logging it means another round.
pub fn current(books: &Books, key: &ApiKey) -> Result<(Arc<Book>, i64), DavError> {
    for _ in 0..8 {
        let book = books.get(key)?.ok_or(DavError::NotFound)?;
        let (version, at) = books.logged_at(&book)?;
        if version == book.version() {
            return Ok((book, at));
        }
    }
    Err(BookError::Busy.into())
}

/// One directory's book as CardDAV shows it: every answer is written from this.
#[derive(Clone)]
pub struct Ctx {
    pub book: Arc<Book>,
    /// `public_id` of the directory.
    pub id: String,
    /// When the book's version was logged (Unix seconds): the cards' `getlastmodified`.
    pub logged_at: i64,
    /// The root's href as the client asked for it (`/dav/`, or `/` for clients given only
    /// the server's address): DAVx5 takes a response as the resource it asked about only
    /// when the hrefs are equal.
    root: &'static str,
}

/// A resource, once the credentials said whose book it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Res {
    Root,
    Principal,
    Home,
    Book,
    /// A card, by its position in the book.
    Card(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    Zero,
    One,
}

impl Ctx {
    pub fn new(book: Arc<Book>, id: String, logged_at: i64) -> Ctx {
        Ctx {
            book,
            id,
            logged_at,
            root: ROOT,
        }
    }

    /// This context for a request to the server's own root, `/`.
    pub fn at_server_root(mut self) -> Ctx {
        self.root = "/";
        self
    }

    pub fn principal(&self) -> String {
        format!("/dav/principals/{}/", self.id)
    }

    pub fn home(&self) -> String {
        format!("/dav/books/{}/", self.id)
    }

    pub fn book_href(&self) -> String {
        format!("/dav/books/{}/contacts/", self.id)
    }

    pub fn card_href(&self, id: ContactId) -> String {
        format!("/dav/books/{}/contacts/{id}.vcf", self.id)
    }

    pub fn sync_token(&self) -> String {
        token(&self.id, self.book.version())
    }

    fn href_of(&self, res: Res) -> String {
        match res {
            Res::Root => self.root.to_owned(),
            Res::Principal => self.principal(),
            Res::Home => self.home(),
            Res::Book => self.book_href(),
            Res::Card(pos) => self.card_href(self.book.contacts[pos as usize].id),
        }
    }

    /// The resource a path names in this book; another directory's path is "not found",
    /// whether or not that directory exists.
    pub fn resolve(&self, t: &Target) -> Result<Res, DavError> {
        let mine = |id: &str| {
            if id == self.id {
                Ok(())
            } else {
                Err(DavError::NotFound)
            }
        };
        Ok(match t {
            Target::Root => Res::Root,
            Target::Principal(id) => mine(id).map(|_| Res::Principal)?,
            Target::Home(id) => mine(id).map(|_| Res::Home)?,
            Target::Book(id) => mine(id).map(|_| Res::Book)?,
            Target::Card(id, name) => {
                mine(id)?;
                Res::Card(self.card_named(name).ok_or(DavError::NotFound)?)
            }
        })
    }

    /// The position of the card `{contact id}.vcf`.
    fn card_named(&self, name: &str) -> Option<u32> {
        let id = ContactId::parse(name.strip_suffix(".vcf")?)?;
        let c = self.book.get(id)?;
        self.book.index_of(c).map(|p| p as u32)
    }

    /// The card an href of a multiget names: a path or an absolute URL, percent-encoded
    /// or not.
    fn card_of_href(&self, href: &str) -> Option<u32> {
        let path = match href.find("://") {
            Some(i) => {
                let rest = &href[i + 3..];
                &rest[rest.find('/')?..]
            }
            None => href,
        };
        let path = path.split(['?', '#']).next().unwrap_or(path);
        match target(path)? {
            Target::Card(id, name) if id == self.id => self.card_named(&name),
            _ => None,
        }
    }

    /// One card as GET answers it: the vCard 3.0 and its strong ETag.
    pub fn card(&self, pos: u32) -> (String, String) {
        let mut body = String::new();
        self.vcard(&mut body, pos, VcardVersion::V3);
        (body, self.etag(pos))
    }

    fn etag(&self, pos: u32) -> String {
        format!("\"{:016x}\"", self.book.etag(pos as usize))
    }

    fn vcard(&self, out: &mut String, pos: u32, v: VcardVersion) {
        let p = self.book.address_book_presenter();
        let v = match v {
            VcardVersion::V3 => vcard::Version::V3,
            VcardVersion::V4 => vcard::Version::V4,
        };
        vcard::card(out, &self.book.contacts[pos as usize], &p, v);
    }

    fn title(&self) -> &str {
        crate::render::title(self.book.title())
    }
}

pub fn token(id: &str, version: i64) -> String {
    format!("{TOKEN_PREFIX}{id}:{version}")
}

/// The version a sync token of this book stands for; None for anything else (another
/// book's token, a ctag, garbage).
fn token_version(id: &str, token: &str) -> Option<i64> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (tid, v) = rest.rsplit_once(':')?;
    if tid != id {
        return None;
    }
    v.parse().ok().filter(|v: &i64| *v >= 0)
}

/// The properties this server knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prop {
    ResourceType,
    DisplayName,
    CurrentUserPrincipal,
    PrincipalUrl,
    PrivilegeSet,
    Owner,
    SupportedReportSet,
    SyncToken,
    GetEtag,
    GetContentType,
    GetContentLength,
    GetLastModified,
    HomeSet,
    Description,
    SupportedAddressData,
    AddressData,
    Ctag,
}

const PROPS: [(Prop, &str, &str); 17] = [
    (Prop::ResourceType, DAV, "resourcetype"),
    (Prop::DisplayName, DAV, "displayname"),
    (Prop::CurrentUserPrincipal, DAV, "current-user-principal"),
    (Prop::PrincipalUrl, DAV, "principal-URL"),
    (Prop::PrivilegeSet, DAV, "current-user-privilege-set"),
    (Prop::Owner, DAV, "owner"),
    (Prop::SupportedReportSet, DAV, "supported-report-set"),
    (Prop::SyncToken, DAV, "sync-token"),
    (Prop::GetEtag, DAV, "getetag"),
    (Prop::GetContentType, DAV, "getcontenttype"),
    (Prop::GetContentLength, DAV, "getcontentlength"),
    (Prop::GetLastModified, DAV, "getlastmodified"),
    (Prop::HomeSet, CARDDAV, "addressbook-home-set"),
    (Prop::Description, CARDDAV, "addressbook-description"),
    (
        Prop::SupportedAddressData,
        CARDDAV,
        "supported-address-data",
    ),
    (Prop::AddressData, CARDDAV, "address-data"),
    (Prop::Ctag, CALSERVER, "getctag"),
];

impl Prop {
    fn of(n: &Name) -> Option<Prop> {
        PROPS
            .iter()
            .find(|(_, ns, local)| n.is(ns, local))
            .map(|(p, _, _)| *p)
    }

    fn name(self) -> Name {
        PROPS
            .iter()
            .find(|(p, _, _)| *p == self)
            .map(|(_, ns, local)| Name::new(ns, local))
            .unwrap_or_default()
    }
}

/// The properties of each kind of resource; allprop answers all of them but `address-data`
/// (RFC 6352 §10.4).
fn props_of(res: Res) -> &'static [Prop] {
    use Prop::*;
    match res {
        Res::Root => &[
            ResourceType,
            DisplayName,
            CurrentUserPrincipal,
            PrivilegeSet,
            HomeSet,
        ],
        Res::Principal => &[
            ResourceType,
            DisplayName,
            CurrentUserPrincipal,
            PrincipalUrl,
            HomeSet,
            PrivilegeSet,
        ],
        Res::Home => &[
            ResourceType,
            DisplayName,
            CurrentUserPrincipal,
            Owner,
            PrivilegeSet,
        ],
        Res::Book => &[
            ResourceType,
            DisplayName,
            Description,
            CurrentUserPrincipal,
            Owner,
            PrivilegeSet,
            SupportedReportSet,
            SupportedAddressData,
            SyncToken,
            Ctag,
            GetLastModified,
        ],
        Res::Card(_) => &[
            ResourceType,
            GetEtag,
            GetContentType,
            GetContentLength,
            GetLastModified,
            PrivilegeSet,
            AddressData,
        ],
    }
}

/// One entry of a multistatus.
#[derive(Debug)]
enum Item {
    Res(Res),
    /// A card under the href the client used for it (multiget), else its own.
    Card {
        pos: u32,
        href: Option<Box<str>>,
    },
    /// An href that names no card of this book.
    Missing(Box<str>),
    /// A card gone since the client's sync token.
    Removed(ContactId),
    /// The query's limit cut the answer (RFC 6352 §8.6.1).
    Truncated,
}

/// A multistatus answer, written one entry at a time so a 100,000-card answer can go out
/// in chunks: what it holds is the book (shared) and a small entry per card.
pub struct Listing {
    ctx: Ctx,
    props: Props,
    items: Vec<Item>,
    /// The `D:sync-token` a sync-collection answer ends with.
    token: Option<String>,
}

impl Listing {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether writing the entries renders vCards.
    pub fn renders_cards(&self) -> bool {
        self.props.wants_address_data()
            && self
                .items
                .iter()
                .any(|i| matches!(i, Item::Card { .. } | Item::Res(Res::Card(_))))
    }

    /// Appends entry `i`; `buf` is scratch space reused across entries.
    pub fn write_item(&self, i: usize, out: &mut String, buf: &mut String) {
        let Some(item) = self.items.get(i) else {
            return;
        };
        match item {
            Item::Res(res) => self.response(out, &self.ctx.href_of(*res), *res, buf),
            Item::Card { pos, href } => {
                let own;
                let h = match href {
                    Some(h) => h,
                    None => {
                        own = self.ctx.href_of(Res::Card(*pos));
                        own.as_str()
                    }
                };
                self.response(out, h, Res::Card(*pos), buf)
            }
            Item::Missing(h) => write::status_response(out, h, NOT_FOUND),
            Item::Removed(id) => write::status_response(out, &self.ctx.card_href(*id), NOT_FOUND),
            Item::Truncated => {
                write::status_response(out, &self.ctx.book_href(), write::INSUFFICIENT_STORAGE)
            }
        }
    }

    pub fn head(&self) -> &'static str {
        MULTISTATUS_HEAD
    }

    pub fn write_tail(&self, out: &mut String) {
        if let Some(t) = &self.token {
            out.push_str("<D:sync-token>");
            write::text(out, t);
            out.push_str("</D:sync-token>\n");
        }
        out.push_str(MULTISTATUS_TAIL);
    }

    /// The whole answer at once (small answers, tests).
    pub fn render(&self) -> String {
        let mut out = String::from(MULTISTATUS_HEAD);
        let mut buf = String::new();
        for i in 0..self.items.len() {
            self.write_item(i, &mut out, &mut buf);
        }
        self.write_tail(&mut out);
        out
    }

    fn response(&self, out: &mut String, href: &str, res: Res, buf: &mut String) {
        out.push_str("<D:response>");
        write::href(out, href);
        let all = props_of(res);
        match &self.props {
            Props::All => {
                let props: Vec<Prop> = all
                    .iter()
                    .copied()
                    .filter(|p| *p != Prop::AddressData)
                    .collect();
                self.propstat(out, res, &props, VcardVersion::V3, buf);
            }
            Props::Names => {
                out.push_str("<D:propstat><D:prop>");
                for p in all {
                    write::empty_element(out, &p.name());
                }
                out.push_str("</D:prop><D:status>");
                out.push_str(OK);
                out.push_str("</D:status></D:propstat>");
            }
            Props::Some {
                names,
                address_data,
            } => {
                let mut found = Vec::with_capacity(names.len());
                let mut missing = Vec::new();
                for n in names {
                    match Prop::of(n).filter(|p| all.contains(p)) {
                        Some(p) => found.push(p),
                        None => missing.push(n),
                    }
                }
                // The 200 propstat first: Thunderbird reads only the first status.
                self.propstat(out, res, &found, address_data.unwrap_or_default(), buf);
                if !missing.is_empty() {
                    out.push_str("<D:propstat><D:prop>");
                    for n in missing {
                        write::empty_element(out, n);
                    }
                    out.push_str("</D:prop><D:status>");
                    out.push_str(NOT_FOUND);
                    out.push_str("</D:status></D:propstat>");
                }
            }
        }
        out.push_str("</D:response>\n");
    }

    fn propstat(
        &self,
        out: &mut String,
        res: Res,
        props: &[Prop],
        v: VcardVersion,
        buf: &mut String,
    ) {
        if props.is_empty() {
            return;
        }
        out.push_str("<D:propstat><D:prop>");
        for p in props {
            self.value(out, res, *p, v, buf);
        }
        out.push_str("</D:prop><D:status>");
        out.push_str(OK);
        out.push_str("</D:status></D:propstat>");
    }

    fn value(&self, out: &mut String, res: Res, p: Prop, v: VcardVersion, buf: &mut String) {
        let ctx = &self.ctx;
        let element = |out: &mut String, tag: &str, inner: &str| {
            out.push('<');
            out.push_str(tag);
            out.push('>');
            out.push_str(inner);
            out.push_str("</");
            out.push_str(tag);
            out.push('>');
        };
        let href_in = |out: &mut String, tag: &str, h: &str| {
            let mut inner = String::new();
            write::href(&mut inner, h);
            element(out, tag, &inner);
        };
        let text_in = |out: &mut String, tag: &str, t: &str| {
            let mut inner = String::new();
            write::text(&mut inner, t);
            element(out, tag, &inner);
        };
        match p {
            Prop::ResourceType => out.push_str(match res {
                Res::Root | Res::Home => "<D:resourcetype><D:collection/></D:resourcetype>",
                Res::Principal => "<D:resourcetype><D:principal/><D:collection/></D:resourcetype>",
                Res::Book => "<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>",
                Res::Card(_) => "<D:resourcetype/>",
            }),
            Prop::DisplayName => match res {
                Res::Root => text_in(out, "D:displayname", "phonedir"),
                _ => text_in(out, "D:displayname", ctx.title()),
            },
            Prop::CurrentUserPrincipal => {
                href_in(out, "D:current-user-principal", &ctx.principal())
            }
            Prop::PrincipalUrl => href_in(out, "D:principal-URL", &ctx.principal()),
            Prop::Owner => href_in(out, "D:owner", &ctx.principal()),
            Prop::HomeSet => href_in(out, "C:addressbook-home-set", &ctx.home()),
            Prop::PrivilegeSet => out.push_str(
                "<D:current-user-privilege-set><D:privilege><D:read/></D:privilege></D:current-user-privilege-set>",
            ),
            Prop::SupportedReportSet => out.push_str(concat!(
                "<D:supported-report-set>",
                "<D:supported-report><D:report><C:addressbook-multiget/></D:report></D:supported-report>",
                "<D:supported-report><D:report><C:addressbook-query/></D:report></D:supported-report>",
                "<D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report>",
                "</D:supported-report-set>"
            )),
            Prop::SupportedAddressData => out.push_str(concat!(
                "<C:supported-address-data>",
                "<C:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>",
                "<C:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>",
                "</C:supported-address-data>"
            )),
            Prop::Description => text_in(
                out,
                "C:addressbook-description",
                &format!("{}: the phone directory, read-only", ctx.title()),
            ),
            Prop::SyncToken => text_in(out, "D:sync-token", &ctx.sync_token()),
            Prop::Ctag => text_in(out, "CS:getctag", &ctx.sync_token()),
            Prop::GetLastModified => {
                let t = std::time::UNIX_EPOCH
                    + std::time::Duration::from_secs(u64::try_from(ctx.logged_at).unwrap_or(0));
                text_in(
                    out,
                    "D:getlastmodified",
                    &actix_web::http::header::HttpDate::from(t).to_string(),
                )
            }
            Prop::GetEtag | Prop::GetContentType | Prop::GetContentLength | Prop::AddressData => {
                let Res::Card(pos) = res else { return };
                match p {
                    Prop::GetEtag => element(out, "D:getetag", &ctx.etag(pos)),
                    Prop::GetContentType => element(out, "D:getcontenttype", VCARD_TYPE),
                    Prop::GetContentLength => {
                        buf.clear();
                        ctx.vcard(buf, pos, VcardVersion::V3);
                        element(out, "D:getcontentlength", &buf.len().to_string());
                    }
                    _ => {
                        buf.clear();
                        ctx.vcard(buf, pos, v);
                        out.push_str("<C:address-data>");
                        write::text(out, buf);
                        out.push_str("</C:address-data>");
                    }
                }
            }
        }
    }
}

/// PROPFIND: the resource, and with Depth 1 its members (the home set's one address
/// book; the address book's cards).
pub fn propfind(ctx: Ctx, res: Res, depth: Depth, props: Props) -> Listing {
    let mut items = vec![Item::Res(res)];
    if depth == Depth::One {
        match res {
            Res::Home => items.push(Item::Res(Res::Book)),
            Res::Book => items.extend(
                (0..ctx.book.contacts.len() as u32).map(|pos| Item::Card { pos, href: None }),
            ),
            _ => {}
        }
    }
    Listing {
        ctx,
        props,
        items,
        token: None,
    }
}

/// `addressbook-multiget`: every href answered, in the order asked, under the href as the
/// client wrote it; an href that names no card of this book gets a 404 response.
pub fn multiget(ctx: Ctx, props: Props, hrefs: Vec<String>) -> Listing {
    let items = hrefs
        .into_iter()
        .map(|h| match ctx.card_of_href(&h) {
            Some(pos) => Item::Card {
                pos,
                href: Some(h.into_boxed_str()),
            },
            None => Item::Missing(h.into_boxed_str()),
        })
        .collect();
    Listing {
        ctx,
        props,
        items,
        token: None,
    }
}

/// `addressbook-query`: the cards the filter matches, in book order, at most `limit` (then
/// a 507 response for the book says the answer was cut).
pub fn query(
    ctx: Ctx,
    props: Props,
    filter: &Filter,
    limit: Option<usize>,
    rules: &NumberRules,
) -> Listing {
    let found = query::matching(&ctx.book, filter, rules);
    let cut = limit.is_some_and(|l| found.len() > l);
    let mut items: Vec<Item> = found
        .into_iter()
        .take(limit.unwrap_or(usize::MAX))
        .map(|pos| Item::Card { pos, href: None })
        .collect();
    if cut {
        items.push(Item::Truncated);
    }
    Listing {
        ctx,
        props,
        items,
        token: None,
    }
}

/// `sync-collection` (RFC 6578): with no token every card; with a token of this book what
/// the change log says changed since (removed cards as 404 responses); the answer ends
/// with the token of the version it leads to. The current token costs no vCard: nothing
/// changed, so there is nothing to write.
pub fn sync(
    books: &Books,
    key: &ApiKey,
    salt: &[u8; 16],
    token: &str,
    props: Props,
    limit: Option<usize>,
) -> Result<Listing, DavError> {
    let invalid = |why: String| DavError::forbidden(Precondition::ValidSyncToken, why);
    let (ctx, items) = if token.is_empty() {
        let (book, logged_at) = current(books, key)?;
        let ctx = Ctx::new(book.clone(), public_id(salt, book.directory.id), logged_at);
        let items = (0..ctx.book.contacts.len() as u32)
            .map(|pos| Item::Card { pos, href: None })
            .collect();
        (ctx, items)
    } else {
        // The book's id is needed to read the token; the directory's id does not change.
        let (book, _) = current(books, key)?;
        let id = public_id(salt, book.directory.id);
        let since = token_version(&id, token).ok_or_else(|| {
            invalid(format!(
                "the sync token `{token}` is not one of this address book's; sync again without a token"
            ))
        })?;
        let (book, changes) = books
            .changes(key, since)
            .map_err(|e| match e {
                BookError::Changes(c) => invalid(c.to_string()),
                other => other.into(),
            })?
            .ok_or(DavError::NotFound)?;
        let (_, logged_at) = books.logged_at(&book)?;
        let ctx = Ctx::new(book, id, logged_at);
        let mut items = Vec::with_capacity(changes.added.len() + changes.changed.len());
        for id in changes.added.iter().chain(&changes.changed) {
            if let Some(pos) = ctx.book.get(*id).and_then(|c| ctx.book.index_of(c)) {
                items.push(Item::Card {
                    pos: pos as u32,
                    href: None,
                });
            }
        }
        items.extend(changes.removed.iter().map(|id| Item::Removed(*id)));
        (ctx, items)
    };
    if let Some(l) = limit.filter(|l| items.len() > *l) {
        // Truncating needs a token for a state between two versions, which the log does
        // not have; RFC 6578 §3.7 lets the server refuse instead.
        return Err(DavError::forbidden(
            Precondition::NumberOfMatchesWithinLimits,
            format!(
                "{} changes are more than the limit of {l}; ask without a limit",
                items.len()
            ),
        ));
    }
    let token = Some(ctx.sync_token());
    Ok(Listing {
        ctx,
        props,
        items,
        token,
    })
}

#[cfg(test)]
mod tests;
