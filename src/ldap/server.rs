//! LDAP listeners on the server's tokio runtime: plain LDAP (with StartTLS) and LDAPS, with
//! the HTTPS certificate. Every connection is bounded: a cap on connections (and on those
//! of one client address), an idle timeout, a largest message, timeouts on the TLS
//! handshake and on writes, and a cap on the blocking work (binds, searches) running at
//! once. A message that is not LDAP closes that connection only, with a notice of
//! disconnection.

use super::auth::directory_for;
use super::session::{notice, Ctx, Session, Step};
use futures_util::{SinkExt, StreamExt};
use ldap3_proto::proto::{LdapMsg, LdapResultCode};
use ldap3_proto::LdapCodec;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder, Framed};

/// Largest LDAP message read; a phone's search request is a few hundred bytes.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// Deepest nesting of a message (filters nest).
const MAX_BER_DEPTH: usize = 32;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, Default)]
pub struct LdapConfig {
    /// Plain LDAP with StartTLS (`--ldap`).
    pub plain: Option<String>,
    /// LDAPS (`--ldaps`).
    pub tls: Option<String>,
    /// Most entries one search answers (`--ldap-max-hits`).
    pub max_hits: usize,
    /// Most connections at once (`--ldap-max-connections`); one client address may hold a
    /// quarter of them (at least 4).
    pub max_connections: usize,
    /// A connection that sends nothing (or only part of a message) this long is closed
    /// (`--ldap-idle-seconds`).
    pub idle_timeout: Duration,
    /// A port that cannot be bound is a warning, not an error (the demo's fixed ports).
    pub best_effort: bool,
}

/// The ports `serve --demo` listens on for LDAP and LDAPS unless told otherwise:
/// unprivileged, so the demo needs no root.
pub const DEMO_LDAP: &str = "0.0.0.0:3890";
pub const DEMO_LDAPS: &str = "0.0.0.0:6360";

impl LdapConfig {
    pub fn enabled(&self) -> bool {
        self.plain.is_some() || self.tls.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    #[error("cannot listen for LDAP on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

struct Shared {
    ctx: Arc<Ctx>,
    acceptor: TlsAcceptor,
    connections: Arc<Semaphore>,
    per_client: Mutex<HashMap<IpAddr, usize>>,
    per_client_max: usize,
    /// Binds and searches running on blocking threads at once.
    work: Arc<Semaphore>,
    access_log: bool,
    idle_timeout: Duration,
    last_full_warning: Mutex<Option<Instant>>,
}

/// Binds the listeners `cfg` names and serves them on the current tokio runtime; answers
/// (scheme, address) of each, for the log.
pub async fn start(
    cfg: &LdapConfig,
    ctx: Arc<Ctx>,
    tls: Arc<rustls::ServerConfig>,
    workers: usize,
    access_log: bool,
) -> Result<Vec<(&'static str, SocketAddr)>, LdapError> {
    let max = cfg.max_connections.max(1);
    let shared = Arc::new(Shared {
        ctx,
        acceptor: TlsAcceptor::from(tls),
        connections: Arc::new(Semaphore::new(max)),
        per_client: Mutex::new(HashMap::new()),
        per_client_max: (max / 4).max(4).min(max),
        work: Arc::new(Semaphore::new(workers.max(1))),
        access_log,
        idle_timeout: cfg.idle_timeout,
        last_full_warning: Mutex::new(None),
    });
    let mut listeners = Vec::new();
    for (addr, scheme, tls) in [(&cfg.plain, "ldap", false), (&cfg.tls, "ldaps", true)] {
        let Some(addr) = addr else { continue };
        let l = TcpListener::bind(addr.as_str())
            .await
            .map_err(|source| LdapError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let local = l.local_addr().map_err(|source| LdapError::Bind {
            addr: addr.clone(),
            source,
        })?;
        listeners.push((l, scheme, tls, local));
    }
    let mut out = Vec::new();
    for (l, scheme, tls, local) in listeners {
        tokio::spawn(accept_loop(l, shared.clone(), tls));
        out.push((scheme, local));
    }
    Ok(out)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, tls: bool) {
    loop {
        let (sock, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors, most likely: wait instead of spinning.
                tracing::warn!(error = %e, "LDAP: accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = Slot::take(&shared, peer.ip()) else {
            shared.warn_full(peer.ip());
            drop(sock);
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _slot = slot;
            connection(sock, peer, &shared, tls).await;
        });
    }
}

/// A connection's place under the caps; freed when dropped.
struct Slot {
    shared: Arc<Shared>,
    client: IpAddr,
    _permit: OwnedSemaphorePermit,
}

impl Slot {
    fn take(shared: &Arc<Shared>, client: IpAddr) -> Option<Slot> {
        let permit = shared.connections.clone().try_acquire_owned().ok()?;
        let mut per = shared.per_client.lock().unwrap_or_else(|p| p.into_inner());
        let n = per.entry(client).or_insert(0);
        if *n >= shared.per_client_max {
            return None;
        }
        *n += 1;
        Some(Slot {
            shared: shared.clone(),
            client,
            _permit: permit,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per = self
            .shared
            .per_client
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                per.remove(&self.client);
            }
        }
    }
}

impl Shared {
    /// At most one warning a minute, so a flood cannot fill the log.
    fn warn_full(&self, client: IpAddr) {
        let mut last = self
            .last_full_warning
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
            *last = Some(Instant::now());
            tracing::warn!(
                %client,
                "LDAP: connection refused, the server or this address holds as many connections as allowed (--ldap-max-connections)"
            );
        }
    }
}

/// The codec every connection reads and writes with.
pub fn codec() -> Codec {
    Codec(LdapCodec::new(Some(MAX_MESSAGE_BYTES), Some(MAX_BER_DEPTH)))
}

/// ldap3_proto's codec, with the message's header read first: anything that is not a BER
/// sequence (`GET / HTTP/1.1`), or that announces more than `MAX_MESSAGE_BYTES`, is refused
/// at once instead of waiting for bytes that never come (or for 4 GiB).
pub struct Codec(LdapCodec);

impl Decoder for Codec {
    type Item = LdapMsg;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<LdapMsg>, std::io::Error> {
        match announced_length(buf) {
            Header::Incomplete => Ok(None),
            Header::Length(n) if n <= MAX_MESSAGE_BYTES => self.0.decode(buf),
            Header::Length(_) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the message is larger than the server reads",
            )),
            Header::NotLdap => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a BER sequence",
            )),
        }
    }
}

impl Encoder<LdapMsg> for Codec {
    type Error = std::io::Error;

    fn encode(&mut self, msg: LdapMsg, buf: &mut BytesMut) -> Result<(), std::io::Error> {
        // The entries of a search, most of what is sent, are written directly (`ber`).
        match &msg.op {
            ldap3_proto::proto::LdapOp::SearchResultEntry(e) if msg.ctrl.is_empty() => {
                super::ber::entry_message(msg.msgid, e, buf);
                Ok(())
            }
            _ => self.0.encode(msg, buf),
        }
    }
}

enum Header {
    Incomplete,
    /// Bytes of the whole message, header included.
    Length(usize),
    NotLdap,
}

/// Reads the tag and length of the next message: an LDAPMessage is a SEQUENCE (0x30) with a
/// definite length of at most four length bytes (RFC 4511 §5.1).
fn announced_length(buf: &[u8]) -> Header {
    let (Some(&tag), Some(&first)) = (buf.first(), buf.get(1)) else {
        return match buf.first() {
            Some(&t) if t != 0x30 => Header::NotLdap,
            _ => Header::Incomplete,
        };
    };
    if tag != 0x30 {
        return Header::NotLdap;
    }
    if first < 0x80 {
        return Header::Length(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return Header::NotLdap;
    }
    let Some(bytes) = buf.get(2..2 + n) else {
        return Header::Incomplete;
    };
    let len = bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Header::Length(2 + n + len)
}

async fn connection(sock: TcpStream, peer: SocketAddr, shared: &Arc<Shared>, tls: bool) {
    let _ = sock.set_nodelay(true);
    if tls {
        let Some(stream) = handshake(shared, sock, peer).await else {
            return;
        };
        let session = Session {
            tls: true,
            ..Default::default()
        };
        serve(Framed::new(stream, codec()), session, peer, shared).await;
        return;
    }
    let Ended::StartTls(framed, mut session) =
        serve(Framed::new(sock, codec()), Session::default(), peer, shared).await
    else {
        return;
    };
    let parts = framed.into_parts();
    // Bytes sent after the StartTLS request and before the handshake would be read as
    // plain text inside the TLS session: a client doing so is not speaking the protocol.
    if !parts.read_buf.is_empty() {
        return;
    }
    let Some(stream) = handshake(shared, parts.io, peer).await else {
        return;
    };
    session.tls = true;
    serve(Framed::new(stream, codec()), session, peer, shared).await;
}

async fn handshake(
    shared: &Shared,
    sock: TcpStream,
    peer: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, shared.acceptor.accept(sock)).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "LDAP: TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "LDAP: TLS handshake timed out");
            None
        }
    }
}

enum Ended<S> {
    Closed,
    StartTls(Framed<S, Codec>, Session),
}

async fn serve<S>(
    mut framed: Framed<S, Codec>,
    mut session: Session,
    peer: SocketAddr,
    shared: &Arc<Shared>,
) -> Ended<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let msg = match tokio::time::timeout(shared.idle_timeout, framed.next()).await {
            Err(_) => {
                let bye = notice(
                    LdapResultCode::Unavailable,
                    "the connection was idle too long",
                );
                let _ = send(&mut framed, vec![bye]).await;
                return Ended::Closed;
            }
            Ok(None) => return Ended::Closed,
            Ok(Some(Err(e))) => {
                tracing::debug!(%peer, error = %e, "LDAP: not an LDAP message; closing");
                let bye = notice(
                    LdapResultCode::ProtocolError,
                    "the message could not be read as LDAP",
                );
                let _ = send(&mut framed, vec![bye]).await;
                return Ended::Closed;
            }
            Ok(Some(Ok(m))) => m,
        };
        let answers = match session.step(msg) {
            Step::Send(m) => m,
            Step::Nothing => continue,
            Step::Close(m) => {
                let _ = send(&mut framed, m.into_iter().collect()).await;
                return Ended::Closed;
            }
            Step::StartTls(m) => {
                if send(&mut framed, vec![m]).await.is_err() {
                    return Ended::Closed;
                }
                return Ended::StartTls(framed, session);
            }
            Step::Bind { msgid, password } => {
                let ctx = shared.ctx.clone();
                let client = peer.ip();
                let verdict = blocking(shared, move || {
                    directory_for(&ctx.gate, &password, client).map_err(|e| {
                        tracing::error!(error = %e, "LDAP bind: checking the key failed");
                        "the directory cannot be read right now; try again later".to_owned()
                    })
                })
                .await
                .and_then(|r| r);
                vec![session.bound(msgid, verdict)]
            }
            Step::Search { msgid, req, paged } => {
                let ctx = shared.ctx.clone();
                let s = session.clone();
                let client = peer.ip();
                let started = Instant::now();
                let log = shared.access_log;
                let answers = blocking(shared, move || {
                    let out = s.search(&ctx, client, msgid, &req, paged);
                    if log {
                        log_search(client, &s, &req, &out, started);
                    }
                    out
                })
                .await;
                match answers {
                    Ok(a) => a,
                    Err(e) => vec![super::session::failed_search(msgid, &e)],
                }
            }
        };
        if send(&mut framed, answers).await.is_err() {
            return Ended::Closed;
        }
    }
}

/// Runs blocking work (a key check, a search that may build a book) on a worker thread,
/// at most `work` of them at once across all connections.
async fn blocking<T: Send + 'static>(
    shared: &Shared,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let busy = || "the server is shutting down".to_owned();
    let _permit = shared
        .work
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| busy())?;
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "LDAP: a worker failed");
        "the server failed to answer; try again".to_owned()
    })
}

async fn send<S>(framed: &mut Framed<S, Codec>, msgs: Vec<LdapMsg>) -> Result<(), ()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let write = async {
        for m in msgs {
            framed.feed(m).await?;
        }
        framed.flush().await
    };
    match tokio::time::timeout(WRITE_TIMEOUT, write).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// One line per search, like the HTTP access log: the key masked, never the password.
fn log_search(
    client: IpAddr,
    s: &Session,
    req: &ldap3_proto::proto::LdapSearchRequest,
    out: &[LdapMsg],
    started: Instant,
) {
    use ldap3_proto::proto::LdapOp;
    let code = out.last().and_then(|m| match &m.op {
        LdapOp::SearchResultDone(r) => Some(r.code.clone()),
        _ => None,
    });
    tracing::info!(
        %client,
        bound = s.opened.as_ref().map(|o| o.presented.masked()).unwrap_or_default(),
        base = super::dn::parse_base(&req.base).kind(),
        entries = out.len().saturating_sub(1),
        result = ?code,
        us = started.elapsed().as_micros() as u64,
        "LDAP search"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_refuse_what_is_not_ldap_or_too_large_at_once() {
        assert!(matches!(announced_length(b""), Header::Incomplete));
        assert!(matches!(announced_length(b"\x30"), Header::Incomplete));
        assert!(matches!(announced_length(b"G"), Header::NotLdap));
        assert!(matches!(
            announced_length(b"GET / HTTP/1.1"),
            Header::NotLdap
        ));
        assert!(matches!(
            announced_length(b"\x30\x05\x02"),
            Header::Length(7)
        ));
        assert!(matches!(
            announced_length(b"\x30\x82\x01"),
            Header::Incomplete
        ));
        assert!(matches!(
            announced_length(b"\x30\x82\x01\x00"),
            Header::Length(260)
        ));
        // Indefinite lengths and more than four length bytes are not LDAP.
        assert!(matches!(announced_length(b"\x30\x80"), Header::NotLdap));
        assert!(matches!(
            announced_length(b"\x30\x85\x01\x00\x00\x00\x00"),
            Header::NotLdap
        ));
        let mut c = codec();
        let mut huge = BytesMut::from(&b"\x30\x84\xff\xff\xff\xff\x02\x01\x01"[..]);
        assert!(c.decode(&mut huge).is_err());
    }
}
