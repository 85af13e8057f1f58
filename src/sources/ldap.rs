//! On-premises directories: Active Directory, OpenLDAP, 389 DS, … read over LDAP v3 with
//! a simple bind, over `ldaps://`, StartTLS or (where the operator's network allows it)
//! plain `ldap://`.
//!
//! A small blocking client on `ldap3_proto`'s typed messages and codec, run inside the
//! sync's job: every connection goes to an address `NetPolicy` permits (resolved and
//! checked here, before connecting), every read and write has the job's time left as its
//! timeout, every message is size-capped by the codec (an entry of a hostile server cannot
//! take the memory), and each page of results is capped at `--max-response-bytes`.
//! Results are paged (RFC 2696 simple paged results; Active Directory answers at most
//! 1,000 entries otherwise); disabled AD accounts (`userAccountControl` bit 2) are left out.
//! TLS is rustls with the public roots plus the source's `ca_cert`; certificates are always
//! verified.

use super::build::{Builder, Record, RecordRules};
use super::net::{refusal, Http};
use super::spec::{LdapAttributes, LdapSchema, LdapSpec};
use super::{Fetched, SyncError};
use crate::domain::{Contact, NumberType};
use crate::ingest::Role;
use bytes::BytesMut;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapDerefAliases, LdapExtendedRequest, LdapFilter, LdapMsg,
    LdapOp, LdapResult, LdapResultCode, LdapSearchRequest, LdapSearchResultEntry, LdapSearchScope,
};
use ldap3_proto::LdapCodec;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::codec::{Decoder, Encoder};

/// Entries asked per page: under Active Directory's MaxPageSize of 1,000.
const PAGE_SIZE: i64 = 500;
/// The largest single LDAP message read (one entry with the attributes asked for).
const MAX_MESSAGE: usize = 4 * 1024 * 1024;
/// Pages followed at most.
const MAX_PAGES: usize = 10_000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const STARTTLS_OID: &str = "1.3.6.1.4.1.1466.20037";
/// `userAccountControl` bit ACCOUNTDISABLE.
const ACCOUNT_DISABLED: u32 = 2;

/// Which attributes hold which field: the schema's defaults, overridden by the settings.
struct Map {
    texts: Vec<(Role, &'static str, Vec<String>)>,
    numbers: Vec<(NumberType, Vec<String>)>,
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Map {
    fn of(spec: &LdapSpec) -> Map {
        let (ad, inet) = match spec.schema {
            LdapSchema::Auto => (true, true),
            LdapSchema::Ad => (true, false),
            LdapSchema::Inetorgperson => (false, true),
        };
        let pick = |both: &[&str], ad_only: &[&str], inet_only: &[&str]| {
            let mut v = names(both);
            if ad {
                v.extend(names(ad_only));
            }
            if inet {
                v.extend(names(inet_only));
            }
            v
        };
        let a: &LdapAttributes = &spec.attributes;
        let or = |given: &str, default: Vec<String>| {
            if given.trim().is_empty() {
                default
            } else {
                vec![given.trim().to_owned()]
            }
        };
        let texts = vec![
            (
                Role::DisplayName,
                "display_name",
                or(&a.display_name, names(&["displayName", "cn"])),
            ),
            (
                Role::GivenName,
                "given_name",
                or(&a.given_name, names(&["givenName"])),
            ),
            (
                Role::FamilyName,
                "family_name",
                or(&a.family_name, names(&["sn"])),
            ),
            (
                Role::Company,
                "company",
                or(&a.company, pick(&[], &["company"], &["o"])),
            ),
            (
                Role::Department,
                "department",
                or(&a.department, pick(&[], &["department"], &["ou"])),
            ),
            (
                Role::Position,
                "position",
                or(&a.position, names(&["title"])),
            ),
            (Role::Email, "email", or(&a.email, names(&["mail"]))),
        ];
        let numbers = if a.numbers.is_empty() {
            vec![
                (
                    NumberType::Work,
                    pick(&["telephoneNumber"], &["otherTelephone", "ipPhone"], &[]),
                ),
                (NumberType::Mobile, pick(&["mobile"], &["otherMobile"], &[])),
                (
                    NumberType::Home,
                    pick(&["homePhone"], &["otherHomePhone"], &[]),
                ),
                (
                    NumberType::Fax,
                    pick(
                        &["facsimileTelephoneNumber"],
                        &["otherFacsimileTelephoneNumber"],
                        &[],
                    ),
                ),
                (NumberType::Pager, names(&["pager"])),
            ]
        } else {
            NumberType::ALL
                .into_iter()
                .map(|kind| {
                    let attrs = a
                        .numbers
                        .iter()
                        .filter(|(t, _)| NumberType::from_alias(t) == Some(kind))
                        .flat_map(|(_, v)| v.iter().cloned())
                        .collect::<Vec<_>>();
                    (kind, attrs)
                })
                .filter(|(_, v)| !v.is_empty())
                .collect()
        };
        Map { texts, numbers }
    }

    /// Every attribute to ask for.
    fn attributes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .texts
            .iter()
            .flat_map(|(_, _, a)| a.iter().cloned())
            .chain(self.numbers.iter().flat_map(|(_, a)| a.iter().cloned()))
            .collect();
        v.push("userAccountControl".into());
        let mut seen = std::collections::HashSet::new();
        v.retain(|a| seen.insert(a.to_ascii_lowercase()));
        v
    }

    /// The default filter: people (AD users, inetOrgPerson entries) with one of the number
    /// attributes.
    fn default_filter(&self, schema: LdapSchema) -> String {
        let people = match schema {
            LdapSchema::Ad => "(&(objectCategory=person)(objectClass=user))",
            LdapSchema::Inetorgperson => "(objectClass=inetOrgPerson)",
            // An attribute a server does not know (objectCategory in OpenLDAP) makes its
            // part undefined, which the other part of the OR outweighs.
            LdapSchema::Auto => {
                "(|(objectClass=inetOrgPerson)(&(objectCategory=person)(objectClass=user)))"
            }
        };
        let phones: String = self
            .numbers
            .iter()
            .flat_map(|(_, a)| a.iter())
            .map(|a| format!("({a}=*)"))
            .collect();
        format!("(&{people}(|{phones}))")
    }
}

/// Checks settings before they are stored; the sentence says what is wrong.
pub fn validate(spec: &LdapSpec) -> Result<(), String> {
    let url = url::Url::parse(&spec.url).map_err(|_| {
        "`url` is the directory's address, ldap://host:389 or ldaps://host:636".to_owned()
    })?;
    match url.scheme() {
        "ldap" => {}
        "ldaps" if spec.starttls => return Err(
            "`starttls` is for ldap:// URLs; an ldaps:// connection is encrypted from the start"
                .into(),
        ),
        "ldaps" => {}
        _ => {
            return Err(
                "`url` is the directory's address, ldap://host:389 or ldaps://host:636".into(),
            )
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("`url` needs a host: ldap://dc1.corp.example:389".into());
    }
    if spec.base.trim().is_empty() {
        return Err(
            "`base` is where the search starts, e.g. \"OU=Staff,DC=corp,DC=example\"".into(),
        );
    }
    if let Some(f) = &spec.filter {
        filter(f)?;
    }
    for t in spec.attributes.numbers.keys() {
        if NumberType::from_alias(t).is_none() {
            return Err(format!(
                "`{t}` in `attributes.numbers` is not a number type; use WORK, HOME, MOBILE, FAX, PAGER, OTHER or EXTENSION"
            ));
        }
    }
    let a = &spec.attributes;
    for name in [
        &a.display_name,
        &a.given_name,
        &a.family_name,
        &a.company,
        &a.department,
        &a.position,
        &a.email,
    ]
    .into_iter()
    .chain(a.numbers.values().flatten())
    {
        let ok = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ';' | '.'));
        if !ok || name.len() > 100 {
            return Err(format!(
                "`{}` in `attributes` is not an attribute name",
                crate::ingest::field::excerpt(name)
            ));
        }
    }
    Ok(())
}

fn filter(f: &str) -> Result<LdapFilter, String> {
    let f = f.trim();
    // A bare `objectClass=person` is written in parentheses by many; accept both.
    let wrapped;
    let f = if f.starts_with('(') {
        f
    } else {
        wrapped = format!("({f})");
        &wrapped
    };
    ldap3_proto::parse_ldap_filter_str(f).map_err(|e| {
        format!(
            "`filter` is not an LDAP filter ({e}), e.g. (&(objectClass=person)(telephoneNumber=*))"
        )
    })
}

pub fn fetch(http: &Http, spec: &LdapSpec, rules: &RecordRules) -> Result<Fetched, SyncError> {
    let map = Map::of(spec);
    let filter_text = spec
        .filter
        .clone()
        .unwrap_or_else(|| map.default_filter(spec.schema));
    let filter = filter(&filter_text).map_err(SyncError::new)?;
    let mut conn = Conn::open(http, spec)?;
    conn.bind(spec)?;
    let mut b = Builder::default();
    let mut contacts: Vec<Contact> = Vec::new();
    let mut disabled = 0usize;
    let mut entries = 0usize;
    conn.search(spec, filter, map.attributes(), &mut |e| {
        entries += 1;
        if is_disabled(&e) {
            disabled += 1;
            return Ok(());
        }
        if let Some(c) = b.build(record(&e, &map), rules) {
            rules.room_for(contacts.len() + 1).map_err(SyncError::new)?;
            contacts.push(c);
        }
        Ok(())
    })?;
    conn.unbind();
    tracing::info!(entries, disabled, "ldap search");
    b.log("ldap", contacts.len());
    Ok(Fetched::Contacts {
        contacts,
        state: None,
        warnings: b.warnings,
    })
}

/// Values of an attribute (names compare case-insensitively, as LDAP's do), as text.
fn values<'a>(e: &'a LdapSearchResultEntry, attr: &'a str) -> impl Iterator<Item = String> + 'a {
    e.attributes
        .iter()
        .filter(move |a| {
            // `telephoneNumber;lang-de` is the attribute with an option.
            let base = a.atype.split(';').next().unwrap_or("");
            base.eq_ignore_ascii_case(attr) || a.atype.eq_ignore_ascii_case(attr)
        })
        .flat_map(|a| a.vals.iter())
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

fn is_disabled(e: &LdapSearchResultEntry) -> bool {
    values(e, "userAccountControl")
        .next()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .is_some_and(|uac| uac & ACCOUNT_DISABLED != 0)
}

fn record(e: &LdapSearchResultEntry, map: &Map) -> Record {
    let mut r = Record::new("dn", &e.dn);
    for (role, _, attrs) in &map.texts {
        // The first attribute the entry has decides (displayName before cn, …).
        if let Some((attr, v)) = attrs
            .iter()
            .find_map(|a| values(e, a).find(|v| !v.trim().is_empty()).map(|v| (a, v)))
        {
            r.text(*role, attr, &v);
        }
    }
    for (kind, attrs) in &map.numbers {
        for a in attrs {
            for v in values(e, a) {
                r.number(*kind, a, &v);
            }
        }
    }
    r
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// One connection to the directory.
struct Conn<'a> {
    http: &'a Http,
    stream: Option<Stream>,
    codec: LdapCodec,
    buf: BytesMut,
    msgid: i32,
    /// `ldaps://host:port` for messages.
    place: String,
    url: String,
    /// Bytes read since the counter was last reset (a page's size).
    read: u64,
}

impl<'a> Conn<'a> {
    fn open(http: &'a Http, spec: &LdapSpec) -> Result<Conn<'a>, SyncError> {
        let url = url::Url::parse(&spec.url)
            .map_err(|_| SyncError::new("`url` is not an ldap:// or ldaps:// URL"))?;
        let tls = url.scheme() == "ldaps";
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_matches(['[', ']'])
            .to_owned();
        let port = url.port().unwrap_or(if tls { 636 } else { 389 });
        let place = format!("{}://{}:{port}", url.scheme(), url.host_str().unwrap_or(""));
        // The same rule as every HTTP source: resolved here, checked, then connected to.
        let netloc = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let addrs = http.policy().resolve(&netloc).map_err(|e| {
            refusal(&spec.url, &e).unwrap_or_else(|| unreachable(&place, &e.to_string()))
        })?;
        let mut last = String::from("no address");
        let mut tcp = None;
        for addr in addrs {
            let wait = http.request_time()?.min(CONNECT_TIMEOUT);
            match TcpStream::connect_timeout(&addr, wait) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let tcp = tcp.ok_or_else(|| unreachable(&place, &last))?;
        let _ = tcp.set_nodelay(true);
        let mut conn = Conn {
            http,
            stream: Some(Stream::Plain(tcp)),
            codec: LdapCodec::new(Some(MAX_MESSAGE), None),
            buf: BytesMut::new(),
            msgid: 0,
            place,
            url: spec.url.clone(),
            read: 0,
        };
        if tls {
            conn.start_tls(&host)?;
        } else if spec.starttls {
            let reply = conn.call(LdapOp::ExtendedRequest(LdapExtendedRequest {
                name: STARTTLS_OID.into(),
                value: None,
            }))?;
            match reply.op {
                LdapOp::ExtendedResponse(r) if r.res.code == LdapResultCode::Success => {}
                LdapOp::ExtendedResponse(r) => {
                    return Err(SyncError::new(format!(
                        "{} refused StartTLS ({}); use ldaps:// or check that the server has a certificate",
                        conn.place,
                        result_text(&r.res)
                    )))
                }
                _ => return Err(conn.unexpected("StartTLS")),
            }
            conn.start_tls(&host)?;
        }
        Ok(conn)
    }

    fn start_tls(&mut self, host: &str) -> Result<(), SyncError> {
        let config: Arc<rustls::ClientConfig> = self.http.tls_config()?;
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|_| SyncError::new(format!("`{host}` is not a host name TLS can verify")))?;
        let tls = rustls::ClientConnection::new(config, name)
            .map_err(|e| SyncError::new(format!("TLS cannot start: {e}")))?;
        let Some(Stream::Plain(tcp)) = self.stream.take() else {
            return Err(SyncError::new("TLS was started twice"));
        };
        let mut s = rustls::StreamOwned::new(tls, tcp);
        self.timeouts(s.get_ref())?;
        // The handshake now, so a certificate problem is named as one.
        while s.conn.is_handshaking() {
            if let Err(e) = s.conn.complete_io(&mut s.sock) {
                tracing::warn!(place = %self.place, error = %e, "LDAP TLS handshake failed");
                return Err(SyncError::new(format!(
                    "the TLS handshake with {} failed; check that its certificate is valid for this host name and issued by a public CA or the one in `ca_cert`",
                    self.place
                )));
            }
        }
        self.stream = Some(Stream::Tls(Box::new(s)));
        Ok(())
    }

    /// Sets the socket's timeouts to the job's time left (at most one request's limit).
    fn timeouts(&self, tcp: &TcpStream) -> Result<(), SyncError> {
        let left = self.http.request_time()?.max(Duration::from_millis(1));
        let _ = tcp.set_read_timeout(Some(left));
        let _ = tcp.set_write_timeout(Some(left));
        Ok(())
    }

    fn send(&mut self, op: LdapOp, ctrl: Vec<LdapControl>) -> Result<i32, SyncError> {
        self.msgid += 1;
        let msg = LdapMsg {
            msgid: self.msgid,
            op,
            ctrl,
        };
        let mut out = BytesMut::new();
        self.codec
            .encode(msg, &mut out)
            .map_err(|e| SyncError::new(format!("cannot encode an LDAP request: {e}")))?;
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| SyncError::new("not connected"))?;
        let tcp = stream.tcp().try_clone().ok();
        if let Some(t) = &tcp {
            self.timeouts(t)?;
        }
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| SyncError::new("not connected"))?;
        stream
            .write_all(&out)
            .and_then(|()| stream.flush())
            .map_err(|e| self.broke(&e))?;
        Ok(self.msgid)
    }

    /// The next message from the server.
    fn receive(&mut self) -> Result<LdapMsg, SyncError> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(m)) => return Ok(m),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(place = %self.place, error = %e, "unreadable LDAP message");
                    return Err(SyncError::new(format!(
                        "{} answered something that is not LDAP, or a message larger than {} MiB; nothing was changed",
                        self.place,
                        MAX_MESSAGE >> 20
                    )));
                }
            }
            let stream = self
                .stream
                .as_ref()
                .ok_or_else(|| SyncError::new("not connected"))?;
            if let Ok(t) = stream.tcp().try_clone() {
                self.timeouts(&t)?;
            }
            let mut chunk = [0u8; 16 * 1024];
            let stream = self
                .stream
                .as_mut()
                .ok_or_else(|| SyncError::new("not connected"))?;
            let n = match stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(SyncError::new(format!(
                        "{} closed the connection in the middle of an answer; nothing was changed",
                        self.place
                    )))
                }
                Ok(n) => n,
                Err(e) => return Err(self.broke(&e)),
            };
            self.read += n as u64;
            if self.read > self.http.max_body() {
                return Err(SyncError::new(format!(
                    "a page of {}'s answer is larger than {} bytes (--max-response-bytes); nothing was changed",
                    self.place,
                    self.http.max_body()
                )));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// A request and the one answer to it.
    fn call(&mut self, op: LdapOp) -> Result<LdapMsg, SyncError> {
        let id = self.send(op, Vec::new())?;
        loop {
            let m = self.receive()?;
            if m.msgid == id {
                return Ok(m);
            }
            // Unsolicited notifications (msgid 0: the server is going away) end the sync.
            if m.msgid == 0 {
                return Err(SyncError::new(format!(
                    "{} ended the session (notice of disconnection); the next sync tries again",
                    self.place
                )));
            }
        }
    }

    fn bind(&mut self, spec: &LdapSpec) -> Result<(), SyncError> {
        let reply = self.call(LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: spec.bind_dn.clone(),
            cred: LdapBindCred::Simple(spec.password.clone()),
        }))?;
        let LdapOp::BindResponse(r) = reply.op else {
            return Err(self.unexpected("the bind"));
        };
        match r.res.code {
            LdapResultCode::Success => Ok(()),
            LdapResultCode::InvalidCredentials => Err(SyncError::new(format!(
                "{} refused bind_dn and password (invalidCredentials{}); check them in the source settings (Active Directory also takes user@domain as bind_dn)",
                self.place,
                if r.res.message.is_empty() { String::new() } else { format!(": {}", r.res.message.trim()) }
            ))),
            LdapResultCode::StrongerAuthRequired | LdapResultCode::ConfidentialityRequired => {
                Err(SyncError::new(format!(
                    "{} requires an encrypted connection for binding ({}); use ldaps:// or set \"starttls\": true",
                    self.place,
                    result_text(&r.res)
                )))
            }
            _ => Err(SyncError::new(format!(
                "{} refused the bind ({})",
                self.place,
                result_text(&r.res)
            ))),
        }
    }

    /// Every entry of the search, page by page, to `each`.
    fn search(
        &mut self,
        spec: &LdapSpec,
        filter: LdapFilter,
        attrs: Vec<String>,
        each: &mut dyn FnMut(LdapSearchResultEntry) -> Result<(), SyncError>,
    ) -> Result<(), SyncError> {
        let mut cookie = Vec::new();
        for _ in 0..MAX_PAGES {
            self.read = 0;
            let id = self.send(
                LdapOp::SearchRequest(LdapSearchRequest {
                    base: spec.base.clone(),
                    scope: LdapSearchScope::Subtree,
                    aliases: LdapDerefAliases::Never,
                    sizelimit: 0,
                    timelimit: 0,
                    typesonly: false,
                    filter: filter.clone(),
                    attrs: attrs.clone(),
                }),
                vec![LdapControl::SimplePagedResults {
                    size: PAGE_SIZE,
                    cookie: std::mem::take(&mut cookie),
                }],
            )?;
            let done = loop {
                let m = self.receive()?;
                if m.msgid != id {
                    if m.msgid == 0 {
                        return Err(SyncError::new(format!(
                            "{} ended the session during the search; the next sync tries again",
                            self.place
                        )));
                    }
                    continue;
                }
                match m.op {
                    LdapOp::SearchResultEntry(e) => each(e)?,
                    // Referrals to other servers are not followed (credentials stay here).
                    LdapOp::SearchResultReference(_) => {}
                    LdapOp::SearchResultDone(res) => break (res, m.ctrl),
                    _ => return Err(self.unexpected("the search")),
                }
            };
            let (res, ctrl) = done;
            match res.code {
                LdapResultCode::Success => {}
                LdapResultCode::NoSuchObject => {
                    return Err(SyncError::new(format!(
                        "{} has no entry {} (noSuchObject); check `base`",
                        self.place, spec.base
                    )))
                }
                LdapResultCode::SizeLimitExceeded | LdapResultCode::AdminLimitExceeded => {
                    return Err(SyncError::new(format!(
                        "{} stopped the search at its size limit ({}) and does not page the results; raise the limit for the bind user, or narrow `base` or `filter`",
                        self.place,
                        result_text(&res)
                    )))
                }
                LdapResultCode::InsufficentAccessRights => {
                    return Err(SyncError::new(format!(
                        "{} does not let bind_dn read {} ({})",
                        self.place,
                        spec.base,
                        result_text(&res)
                    )))
                }
                _ => {
                    return Err(SyncError::new(format!(
                        "{} refused the search ({}); check `base` and `filter`",
                        self.place,
                        result_text(&res)
                    )))
                }
            }
            let next = ctrl.into_iter().find_map(|c| match c {
                LdapControl::SimplePagedResults { cookie, .. } => Some(cookie),
                _ => None,
            });
            match next {
                Some(c) if !c.is_empty() => cookie = c,
                // No cookie: the last page, or a server that does not page and sent all.
                _ => return Ok(()),
            }
        }
        Err(SyncError::new(format!(
            "{} answered more than {MAX_PAGES} pages",
            self.place
        )))
    }

    fn unbind(&mut self) {
        let _ = self.send(LdapOp::UnbindRequest, Vec::new());
    }

    fn unexpected(&self, during: &str) -> SyncError {
        SyncError::new(format!(
            "{} answered {during} with a message that does not belong to it; nothing was changed",
            self.place
        ))
    }

    fn broke(&self, e: &std::io::Error) -> SyncError {
        // The job's deadline or cancellation is the reason if there is one.
        if let Err(stop) = self.http.request_time() {
            return stop;
        }
        tracing::warn!(url = %super::net::origin(&self.url), error = %e, "LDAP connection broke");
        SyncError::new(format!(
            "the connection to {} broke off or timed out; the next sync tries again",
            self.place
        ))
    }
}

fn result_text(r: &LdapResult) -> String {
    let code = format!("{:?}", r.code);
    match r.message.trim() {
        "" => code,
        m => format!("{code}: {}", crate::ingest::field::excerpt(m)),
    }
}

/// As for HTTP sources: what to check, not how the connection failed (the log has it).
fn unreachable(place: &str, detail: &str) -> SyncError {
    tracing::warn!(place, error = detail, "cannot reach an LDAP server");
    SyncError::new(format!(
        "cannot reach {place}; check the URL, that the server is up and reachable from here, and its port"
    ))
}

#[cfg(test)]
mod tests {
    use super::super::build::build;
    use super::*;
    use ldap3_proto::proto::LdapPartialAttribute;

    fn spec(json: &str) -> LdapSpec {
        serde_json::from_str(json).unwrap()
    }

    fn entry(dn: &str, attrs: &[(&str, &[&str])]) -> LdapSearchResultEntry {
        LdapSearchResultEntry {
            dn: dn.into(),
            attributes: attrs
                .iter()
                .map(|(a, v)| LdapPartialAttribute {
                    atype: (*a).into(),
                    vals: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn defaults_for_ad_and_inetorgperson_and_overrides() {
        let s = spec(r#"{"url":"ldap://dc","base":"dc=x","schema":"ad"}"#);
        let m = Map::of(&s);
        let f = m.default_filter(s.schema);
        assert!(
            f.contains("(objectCategory=person)") && f.contains("(ipPhone=*)"),
            "{f}"
        );
        assert!(filter(&f).is_ok());
        assert!(m.attributes().contains(&"userAccountControl".to_owned()));
        let e = entry(
            "CN=Anna Schmidt,OU=Staff,DC=corp",
            &[
                ("displayName", &["Anna Schmidt"]),
                ("company", &["ACME"]),
                ("Department", &["Sales"]),
                ("telephoneNumber", &["+49 30 1234567"]),
                ("otherTelephone", &["+49 30 1234568", "+49 30 1234569"]),
                ("ipPhone", &["4711"]),
                ("userAccountControl", &["514"]),
            ],
        );
        assert!(is_disabled(&e));
        let r = record(&e, &m);
        assert_eq!(r.id, "CN=Anna Schmidt,OU=Staff,DC=corp");
        assert_eq!(r.first(Role::Department), Some("Sales"));
        assert_eq!(r.numbers().len(), 4);

        let s = spec(r#"{"url":"ldaps://ldap","base":"dc=x","schema":"inetorgperson"}"#);
        let m = Map::of(&s);
        let r = record(
            &entry(
                "uid=b",
                &[("cn", &["Bernd Meier"]), ("o", &["ACME"]), ("ou", &["IT"])],
            ),
            &m,
        );
        assert_eq!(r.first(Role::DisplayName), Some("Bernd Meier"));
        assert_eq!(r.first(Role::Company), Some("ACME"));
        assert!(!m.default_filter(s.schema).contains("objectCategory"));

        let s = spec(
            r#"{"url":"ldap://x","base":"dc=x","attributes":{"display_name":"name","numbers":{"EXTENSION":["ipPhone"]}}}"#,
        );
        let m = Map::of(&s);
        assert_eq!(
            m.numbers,
            vec![(NumberType::Extension, vec!["ipPhone".to_owned()])]
        );
        assert_eq!(m.default_filter(s.schema).matches("=*)").count(), 1);
    }

    /// What a hostile directory may send: mutated and cut encodings of an entry and of a
    /// search's end decode to a message or an error, never a panic, and what decodes goes
    /// through the record builder.
    #[test]
    fn mutated_answers_decode_or_fail_but_never_panic() {
        let map = Map::of(&spec(r#"{"url":"ldap://x","base":"dc=x"}"#));
        let rules = RecordRules {
            numbers: crate::phone::NumberRules::default(),
            max_field_chars: 100,
            max_numbers: 10,
            max_contacts: 10,
        };
        let mut seeds = Vec::new();
        for op in [
            LdapOp::SearchResultEntry(entry(
                "uid=a,dc=x",
                &[
                    ("cn", &["Anna"]),
                    ("telephoneNumber", &["+49 30 1234567", "x"]),
                ],
            )),
            LdapOp::SearchResultDone(LdapResult {
                code: LdapResultCode::Success,
                matcheddn: String::new(),
                message: String::new(),
                referral: vec![],
            }),
        ] {
            let mut buf = BytesMut::new();
            LdapCodec::default()
                .encode(
                    LdapMsg {
                        msgid: 2,
                        op,
                        ctrl: vec![LdapControl::SimplePagedResults {
                            size: 0,
                            cookie: b"c".to_vec(),
                        }],
                    },
                    &mut buf,
                )
                .unwrap();
            seeds.push(buf.to_vec());
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let mut bytes = seeds[round % seeds.len()].clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % bytes.len();
                bytes[i] = next() as u8;
            }
            if next() % 4 == 0 {
                let cut = (next() as usize) % bytes.len();
                bytes.truncate(cut);
            }
            let mut buf = BytesMut::from(&bytes[..]);
            let mut codec = LdapCodec::new(Some(MAX_MESSAGE), None);
            if let Ok(Some(LdapMsg {
                op: LdapOp::SearchResultEntry(e),
                ..
            })) = codec.decode(&mut buf)
            {
                let _ = is_disabled(&e);
                let _ = build(record(&e, &map), &rules, 0);
            }
        }
    }

    #[test]
    fn validation_says_what_is_wrong() {
        for (json, needle) in [
            (r#"{"url":"http://x","base":"dc=x"}"#, "ldap://"),
            (
                r#"{"url":"ldaps://x","base":"dc=x","starttls":true}"#,
                "starttls",
            ),
            (r#"{"url":"ldap://x","base":" "}"#, "base"),
            (
                r#"{"url":"ldap://x","base":"dc=x","filter":"(&(cn=a)"}"#,
                "filter",
            ),
            (
                r#"{"url":"ldap://x","base":"dc=x","attributes":{"numbers":{"BOAT":["a"]}}}"#,
                "BOAT",
            ),
            (
                r#"{"url":"ldap://x","base":"dc=x","attributes":{"email":"ma il)"}}"#,
                "attribute name",
            ),
        ] {
            let e = validate(&spec(json)).unwrap_err();
            assert!(e.contains(needle), "{json}: {e}");
        }
        validate(&spec(
            r#"{"url":"ldap://x","base":"dc=x","filter":"objectClass=person"}"#,
        ))
        .unwrap();
    }
}
