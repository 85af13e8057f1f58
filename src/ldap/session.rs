//! One LDAP connection's protocol, without the network: what each message asks for, what
//! the answer is, and what the connection knows (which directory a bind opened, whether
//! TLS is on). `server` reads messages, runs the blocking parts (`bind`, `search`) on a
//! worker thread and writes the answers.

use super::attrs::{fixed_entry, Selection};
use super::auth::{directory_for, Opened, Verdict};
use super::dn::{self, Base};
use super::filter::Query;
use super::search::{search, Answer, Ask, NumberDefaults, Within};
use crate::access::Gate;
use crate::book::{BookError, Books};
use crate::store::Store;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindResponse, LdapExtendedResponse, LdapMsg, LdapOp, LdapResult,
    LdapResultCode, LdapSearchRequest, LdapSearchScope,
};
use std::net::IpAddr;
use std::sync::Arc;

pub const OID_STARTTLS: &str = "1.3.6.1.4.1.1466.20037";
pub const OID_WHOAMI: &str = "1.3.6.1.4.1.4203.1.11.3";
pub const OID_PAGED_RESULTS: &str = "1.2.840.113556.1.4.319";
pub const OID_MANAGE_DSA_IT: &str = "2.16.840.1.113730.3.4.2";
/// RFC 4511 §4.4.1: sent unasked before the server closes a connection.
pub const OID_NOTICE_OF_DISCONNECTION: &str = "1.3.6.1.4.1.1466.20036";

/// What the searches of every connection share.
pub struct Ctx {
    pub store: Arc<Store>,
    pub books: Arc<Books>,
    /// Decides what a presented key opens, and throttles guessing.
    pub gate: Arc<Gate>,
    pub numbers: NumberDefaults,
    /// Most entries one search answers (`--ldap-max-hits`).
    pub max_hits: usize,
}

/// One connection's state.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// What the last successful bind opened; None while anonymous.
    pub opened: Option<Opened>,
    /// TLS is on (LDAPS, or after StartTLS).
    pub tls: bool,
}

/// What to do with one message.
#[derive(Debug)]
pub enum Step {
    /// Send these answers.
    Send(Vec<LdapMsg>),
    /// Check a simple bind's password (blocking), then answer with `Session::bound`.
    Bind { msgid: i32, password: String },
    /// Run a search (blocking) with `Session::search`.
    Search {
        msgid: i32,
        req: Box<LdapSearchRequest>,
        paged: bool,
    },
    /// Send this answer, then start TLS on the same socket.
    StartTls(LdapMsg),
    /// Close the connection, after sending this if given.
    Close(Option<LdapMsg>),
    /// No answer (abandon).
    Nothing,
}

impl Session {
    pub fn step(&mut self, msg: LdapMsg) -> Step {
        let id = msg.msgid;
        let ctrl = &msg.ctrl;
        // Answers to operations a critical control phonedir does not know would change.
        let refused = |code_for: fn(LdapResult) -> LdapOp| {
            critical_unsupported(ctrl).map(|oid| {
                Step::Send(vec![reply(
                    id,
                    code_for(result(
                        LdapResultCode::UnavailableCriticalExtension,
                        &format!("the critical control {oid} is not supported"),
                    )),
                )])
            })
        };
        match msg.op {
            LdapOp::BindRequest(b) => {
                if let Some(s) = refused(bind_response) {
                    return s;
                }
                // A bind starts over as anonymous, whatever it ends with (RFC 4513 §5.1).
                self.opened = None;
                if b.version != 3 && b.version != 2 {
                    return Step::Send(vec![reply(
                        id,
                        bind_response(result(
                            LdapResultCode::ProtocolError,
                            "only LDAP version 3 is supported; set the phone's LDAP version to 3",
                        )),
                    )]);
                }
                match b.cred {
                    // An empty password is an anonymous bind, whatever the name (RFC 4513
                    // §5.1.2 calls it unauthenticated; phones send it with a user name left in).
                    LdapBindCred::Simple(p) if p.is_empty() => Step::Send(vec![reply(
                        id,
                        bind_response(result(LdapResultCode::Success, "")),
                    )]),
                    LdapBindCred::Simple(password) => Step::Bind {
                        msgid: id,
                        password,
                    },
                    LdapBindCred::SASL(_) | LdapBindCred::Unsupported => Step::Send(vec![reply(
                        id,
                        bind_response(result(
                            LdapResultCode::AuthMethodNotSupported,
                            "use a simple bind with a key of the directory as the password",
                        )),
                    )]),
                }
            }
            LdapOp::SearchRequest(req) => {
                if let Some(s) = refused(LdapOp::SearchResultDone) {
                    return s;
                }
                let paged = ctrl
                    .iter()
                    .any(|c| matches!(c, LdapControl::SimplePagedResults { .. }));
                Step::Search {
                    msgid: id,
                    req: Box::new(req),
                    paged,
                }
            }
            LdapOp::ExtendedRequest(x) => {
                if let Some(s) = refused(extended_response) {
                    return s;
                }
                match x.name.as_str() {
                    OID_STARTTLS if self.tls => Step::Send(vec![reply(
                        id,
                        extended_response(result(
                            LdapResultCode::OperationsError,
                            "TLS is already on",
                        )),
                    )]),
                    OID_STARTTLS => Step::StartTls(reply(
                        id,
                        LdapOp::ExtendedResponse(LdapExtendedResponse {
                            res: result(LdapResultCode::Success, ""),
                            name: Some(OID_STARTTLS.to_owned()),
                            value: None,
                        }),
                    )),
                    OID_WHOAMI => {
                        let who = self
                            .opened
                            .as_ref()
                            .map(|o| format!("dn:{}", dn::directory(o.presented.as_str())))
                            .unwrap_or_default();
                        Step::Send(vec![reply(
                            id,
                            LdapOp::ExtendedResponse(LdapExtendedResponse {
                                res: result(LdapResultCode::Success, ""),
                                name: None,
                                value: Some(who.into_bytes()),
                            }),
                        )])
                    }
                    other => Step::Send(vec![reply(
                        id,
                        extended_response(result(
                            LdapResultCode::ProtocolError,
                            &format!(
                                "the extended operation {} is not supported",
                                other.chars().take(64).collect::<String>()
                            ),
                        )),
                    )]),
                }
            }
            LdapOp::UnbindRequest => Step::Close(None),
            LdapOp::AbandonRequest(_) => Step::Nothing,
            LdapOp::ModifyRequest(_) => read_only(id, LdapOp::ModifyResponse),
            LdapOp::AddRequest(_) => read_only(id, LdapOp::AddResponse),
            LdapOp::DelRequest(_) => read_only(id, LdapOp::DelResponse),
            LdapOp::ModifyDNRequest(_) => read_only(id, LdapOp::ModifyDNResponse),
            LdapOp::CompareRequest(_) => Step::Send(vec![reply(
                id,
                LdapOp::CompareResult(result(
                    LdapResultCode::UnwillingToPerform,
                    "phonedir answers searches; use a search with an equality filter",
                )),
            )]),
            // Answers are the server's to send: a client sending one is confused.
            _ => Step::Close(Some(notice(
                LdapResultCode::ProtocolError,
                "the client sent an answer instead of a request",
            ))),
        }
    }

    /// The answer to a simple bind, once its password is checked.
    pub fn bound(&mut self, msgid: i32, verdict: Result<Verdict, String>) -> LdapMsg {
        let res = match verdict {
            Ok(Verdict::Open(o)) => {
                self.opened = Some(o);
                result(LdapResultCode::Success, "")
            }
            Ok(Verdict::Wrong) => result(
                LdapResultCode::InvalidCredentials,
                "the password is not a key of any directory",
            ),
            Ok(Verdict::Throttled {
                retry_after_seconds,
            }) => throttled(retry_after_seconds),
            Err(e) => result(LdapResultCode::Unavailable, &e),
        };
        reply(msgid, bind_response(res))
    }

    /// The answers to a search: entries, then the result (blocking: may build a book).
    pub fn search(
        &self,
        ctx: &Ctx,
        client: IpAddr,
        msgid: i32,
        req: &LdapSearchRequest,
        paged: bool,
    ) -> Vec<LdapMsg> {
        let sel = Selection::new(&req.attrs);
        let (entries, res) = self.answer(ctx, client, req, &sel);
        let mut out: Vec<LdapMsg> = entries
            .into_iter()
            .map(|e| reply(msgid, LdapOp::SearchResultEntry(e)))
            .collect();
        let mut done = reply(msgid, LdapOp::SearchResultDone(res));
        if paged {
            // Everything in one page: an empty cookie says there is no next one.
            done.ctrl.push(LdapControl::SimplePagedResults {
                size: 0,
                cookie: Vec::new(),
            });
        }
        out.push(done);
        out
    }

    fn answer(
        &self,
        ctx: &Ctx,
        client: IpAddr,
        req: &LdapSearchRequest,
        sel: &Selection,
    ) -> (Vec<ldap3_proto::proto::LdapSearchResultEntry>, LdapResult) {
        let ok = |entries| (entries, result(LdapResultCode::Success, ""));
        let base_scope = req.scope == LdapSearchScope::Base;
        let (opened, within) = match dn::parse_base(&req.base) {
            Base::RootDse if base_scope => {
                return ok(if matches_any_entry(&req.filter) {
                    vec![root_dse(sel, req.typesonly)]
                } else {
                    Vec::new()
                })
            }
            Base::Root if base_scope => {
                return ok(if matches_any_entry(&req.filter) {
                    vec![fixed_entry(
                        dn::ROOT.to_owned(),
                        &[
                            ("objectClass", vec!["top".into(), "domain".into()]),
                            ("dc", vec!["phonedir".into()]),
                        ],
                        sel,
                        req.typesonly,
                    )]
                } else {
                    Vec::new()
                });
            }
            Base::RootDse | Base::Root | Base::Elsewhere => match &self.opened {
                // A bound phone finds its directory whatever base its template has.
                Some(o) if !base_scope => (o.clone(), Within::Directory),
                Some(_) => return (Vec::new(), no_such_object()),
                // Anonymous without a key in the base: nothing.
                None => return ok(Vec::new()),
            },
            Base::Missing => return (Vec::new(), no_such_object()),
            Base::Directory(k) => match self.open(ctx, client, &k) {
                Ok(o) if base_scope => {
                    return ok(if matches_any_entry(&req.filter) {
                        vec![fixed_entry(
                            dn::directory(o.presented.as_str()),
                            &[
                                (
                                    "objectClass",
                                    vec!["top".into(), "organizationalUnit".into()],
                                ),
                                ("ou", vec![o.presented.as_str().to_owned()]),
                            ],
                            sel,
                            req.typesonly,
                        )]
                    } else {
                        Vec::new()
                    });
                }
                Ok(o) => (o, Within::Directory),
                Err(res) => return (Vec::new(), res),
            },
            Base::Entry(id, k) => match self.open(ctx, client, &k) {
                // A contact has no entries below it.
                Ok(_)
                    if matches!(
                        req.scope,
                        LdapSearchScope::OneLevel | LdapSearchScope::Children
                    ) =>
                {
                    return ok(Vec::new())
                }
                Ok(o) => (o, Within::Entry(id)),
                Err(res) => return (Vec::new(), res),
            },
        };
        let book =
            match ctx.books.get(&opened.directory) {
                Ok(Some(b)) => b,
                // Deleted since the bind.
                Ok(None) => return (Vec::new(), no_such_object()),
                Err(BookError::Busy) => return (
                    Vec::new(),
                    result(
                        LdapResultCode::Busy,
                        "the server is busy building other phone books; try again in a few seconds",
                    ),
                ),
                Err(e) => {
                    tracing::error!(error = %e, "LDAP search: reading the book failed");
                    return (
                        Vec::new(),
                        result(
                            LdapResultCode::Unavailable,
                            "the directory cannot be read right now; try again later",
                        ),
                    );
                }
            };
        // sizeLimit 0 means no limit of the client's; the server's always holds.
        let limit = usize::try_from(req.sizelimit)
            .ok()
            .filter(|l| *l > 0)
            .map_or(ctx.max_hits, |l| l.min(ctx.max_hits));
        let ask = Ask {
            filter: &req.filter,
            selection: sel,
            types_only: req.typesonly,
            limit,
        };
        match search(&book, opened.presented.as_str(), within, &ask, ctx.numbers) {
            Ok(Answer { entries, more }) => {
                let res = if more {
                    result(
                        LdapResultCode::SizeLimitExceeded,
                        &format!("more than {limit} entries match; type more letters"),
                    )
                } else {
                    result(LdapResultCode::Success, "")
                };
                (entries, res)
            }
            Err(e) => (
                Vec::new(),
                result(LdapResultCode::AdminLimitExceeded, &e.to_string()),
            ),
        }
    }

    /// What a key in a search base opens: the bound directory if it is the key the bind
    /// presented, else whatever the key opens by itself (an anonymous phone names its key
    /// in the base).
    fn open(&self, ctx: &Ctx, client: IpAddr, key: &str) -> Result<Opened, LdapResult> {
        if let Some(o) = self.opened.as_ref().filter(|o| o.presented.as_str() == key) {
            return Ok(o.clone());
        }
        match directory_for(&ctx.gate, key, client) {
            Ok(Verdict::Open(o)) => Ok(o),
            Ok(Verdict::Wrong) => Err(no_such_object()),
            Ok(Verdict::Throttled {
                retry_after_seconds,
            }) => Err(throttled(retry_after_seconds)),
            Err(e) => {
                tracing::error!(error = %e, "LDAP: checking a key failed");
                Err(result(
                    LdapResultCode::Unavailable,
                    "the directory cannot be read right now; try again later",
                ))
            }
        }
    }
}

/// Whether a filter can match an entry whatever its attributes (`(objectClass=*)`, as
/// clients send for the root DSE and containers).
fn matches_any_entry(f: &ldap3_proto::proto::LdapFilter) -> bool {
    matches!(Query::from_ldap(f), Ok(Query::True))
}

fn root_dse(sel: &Selection, types_only: bool) -> ldap3_proto::proto::LdapSearchResultEntry {
    fixed_entry(
        String::new(),
        &[
            ("objectClass", vec!["top".into()]),
            ("namingContexts", vec![dn::ROOT.into()]),
            ("supportedLDAPVersion", vec!["3".into()]),
            (
                "supportedExtension",
                vec![OID_STARTTLS.into(), OID_WHOAMI.into()],
            ),
            (
                "supportedControl",
                vec![OID_PAGED_RESULTS.into(), OID_MANAGE_DSA_IT.into()],
            ),
            ("vendorName", vec!["phonedir".into()]),
            ("vendorVersion", vec![env!("CARGO_PKG_VERSION").into()]),
        ],
        sel,
        types_only,
    )
}

/// The OID of a critical control phonedir cannot honour, if the message has one. Paged
/// results are answered in one page; ManageDsaIT holds trivially (there are no referrals);
/// a sort request is met by the display-name order or ignored as non-critical (the codec
/// does not keep its criticality).
fn critical_unsupported(ctrl: &[LdapControl]) -> Option<String> {
    ctrl.iter().find_map(|c| match c {
        LdapControl::Unknown {
            oid,
            criticality: true,
            ..
        } => Some(oid.chars().take(64).collect()),
        LdapControl::SyncRequest {
            criticality: true, ..
        } => Some("1.3.6.1.4.1.4203.1.9.1.1".into()),
        LdapControl::PasswordPolicyRequest { criticality: true } => {
            Some("1.3.6.1.4.1.42.2.27.8.5.1".into())
        }
        LdapControl::SearchOptions {
            criticality: true, ..
        } => Some("1.2.840.113556.1.4.1340".into()),
        LdapControl::ShowDeleted { criticality: true } => Some("1.2.840.113556.1.4.417".into()),
        LdapControl::SdFlags {
            criticality: true, ..
        } => Some("1.2.840.113556.1.4.801".into()),
        LdapControl::ExtendedDn {
            criticality: true, ..
        } => Some("1.2.840.113556.1.4.529".into()),
        _ => None,
    })
}

pub fn result(code: LdapResultCode, message: &str) -> LdapResult {
    LdapResult {
        code,
        matcheddn: String::new(),
        message: message.to_owned(),
        referral: Vec::new(),
    }
}

fn no_such_object() -> LdapResult {
    LdapResult {
        matcheddn: dn::ROOT.to_owned(),
        ..result(
            LdapResultCode::NoSuchObject,
            "no such entry; search under ou=<KEY>,dc=phonedir or bind with a key as the password",
        )
    }
}

fn throttled(seconds: u64) -> LdapResult {
    result(
        LdapResultCode::UnwillingToPerform,
        &format!("too many wrong keys from your address; try again in {seconds} seconds"),
    )
}

fn reply(msgid: i32, op: LdapOp) -> LdapMsg {
    LdapMsg {
        msgid,
        op,
        ctrl: Vec::new(),
    }
}

fn bind_response(res: LdapResult) -> LdapOp {
    LdapOp::BindResponse(LdapBindResponse {
        res,
        saslcreds: None,
    })
}

fn extended_response(res: LdapResult) -> LdapOp {
    LdapOp::ExtendedResponse(LdapExtendedResponse {
        res,
        name: None,
        value: None,
    })
}

fn read_only(msgid: i32, op: fn(LdapResult) -> LdapOp) -> Step {
    Step::Send(vec![reply(
        msgid,
        op(result(
            LdapResultCode::UnwillingToPerform,
            "the directory is read-only over LDAP; push changes over HTTPS",
        )),
    )])
}

/// The end of a search that could not run.
pub fn failed_search(msgid: i32, message: &str) -> LdapMsg {
    reply(
        msgid,
        LdapOp::SearchResultDone(result(LdapResultCode::Unavailable, message)),
    )
}

/// The notice sent before the server closes a connection (message id 0).
pub fn notice(code: LdapResultCode, message: &str) -> LdapMsg {
    reply(
        0,
        LdapOp::ExtendedResponse(LdapExtendedResponse {
            res: result(code, message),
            name: Some(OID_NOTICE_OF_DISCONNECTION.to_owned()),
            value: None,
        }),
    )
}

#[cfg(test)]
mod tests;
