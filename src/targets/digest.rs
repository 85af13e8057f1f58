//! HTTP Digest authentication, client side (RFC 7616, RFC 2617): what the innovaphone
//! Contacts upload and the FRITZ!Box TR-064 interface ask for. MD5 (their algorithm) and
//! SHA-256, `qop=auth` or none. A challenge is kept and reused with a rising nonce count, so
//! a run does not pay a 401 round trip per request.

use md5::{Digest, Md5};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// `auth` when the server offers it (we never do `auth-int`).
    pub qop: Option<String>,
    pub algorithm: Algorithm,
    /// The server says the nonce is old, not that the password is wrong.
    pub stale: bool,
    nc: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

/// The longest challenge read; a real one is a few hundred bytes.
const MAX_HEADER: usize = 4096;

impl Challenge {
    /// The Digest challenge of a `WWW-Authenticate` header; None for another scheme, an
    /// algorithm we do not speak, or a malformed one.
    pub fn parse(header: &str) -> Option<Challenge> {
        if header.len() > MAX_HEADER {
            return None;
        }
        let rest = header.trim_start();
        let (scheme, params) = rest.split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let mut realm = None;
        let mut nonce = None;
        let mut opaque = None;
        let mut qop = None;
        let mut algorithm = Algorithm::Md5;
        let mut stale = false;
        for (k, v) in params_of(params)? {
            match k.to_ascii_lowercase().as_str() {
                "realm" => realm = Some(v),
                "nonce" => nonce = Some(v),
                "opaque" => opaque = Some(v),
                "qop" => {
                    // A list such as "auth,auth-int": we take auth if it is offered.
                    if v.split(',').any(|q| q.trim().eq_ignore_ascii_case("auth")) {
                        qop = Some("auth".to_owned());
                    } else {
                        return None;
                    }
                }
                "algorithm" => {
                    algorithm = match v.to_ascii_uppercase().as_str() {
                        "MD5" => Algorithm::Md5,
                        "SHA-256" => Algorithm::Sha256,
                        _ => return None,
                    }
                }
                "stale" => stale = v.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        Some(Challenge {
            realm: realm?,
            nonce: nonce?,
            opaque,
            qop,
            algorithm,
            stale,
            nc: 0,
        })
    }

    /// The `Authorization` header for one request (`uri` is its path and query as sent).
    pub fn authorization(&mut self, method: &str, uri: &str, user: &str, password: &str) -> String {
        self.nc = self.nc.wrapping_add(1);
        let cnonce = cnonce();
        self.answer(method, uri, user, password, &cnonce)
    }

    fn answer(&self, method: &str, uri: &str, user: &str, password: &str, cnonce: &str) -> String {
        let h = |s: &str| hash(self.algorithm, s);
        let ha1 = h(&format!("{user}:{}:{password}", self.realm));
        let ha2 = h(&format!("{method}:{uri}"));
        let nc = format!("{:08x}", self.nc);
        let response = match &self.qop {
            Some(qop) => h(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", self.nonce)),
            None => h(&format!("{ha1}:{}:{ha2}", self.nonce)),
        };
        let mut out = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}",
            quoted(user),
            quoted(&self.realm),
            quoted(&self.nonce),
            quoted(uri),
            match self.algorithm {
                Algorithm::Md5 => "MD5",
                Algorithm::Sha256 => "SHA-256",
            }
        );
        if let Some(qop) = &self.qop {
            out.push_str(&format!(", qop={qop}, nc={nc}, cnonce=\"{cnonce}\""));
        }
        if let Some(o) = &self.opaque {
            out.push_str(&format!(", opaque=\"{}\"", quoted(o)));
        }
        out
    }
}

/// `k=v, k="quoted, v"` pairs; None when the text is not of that shape.
fn params_of(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let mut key = String::new();
        while let Some(c) = chars.peek().copied() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        chars.next()?; // '='
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => value.push(chars.next()?),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_owned(), value.trim().to_owned()));
        if out.len() > 32 {
            return None;
        }
    }
}

/// A value inside `"…"`: backslash and quote escaped.
fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn hash(alg: Algorithm, s: &str) -> String {
    let bytes: Vec<u8> = match alg {
        Algorithm::Md5 => Md5::digest(s.as_bytes()).to_vec(),
        Algorithm::Sha256 => ring::digest::digest(&ring::digest::SHA256, s.as_bytes())
            .as_ref()
            .to_vec(),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn cnonce() -> String {
    let mut b = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2617_example() {
        let mut c = Challenge::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        c.nc = 1;
        let a = c.answer(
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle Of Life",
            "0a4f113b",
        );
        assert!(
            a.contains(r#"response="6629fae49393a05397450978507c4ef1""#),
            "{a}"
        );
        assert!(
            a.contains("nc=00000001") && a.contains(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#)
        );
    }

    #[test]
    fn rfc_7616_sha256_example() {
        let mut c = Challenge::parse(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        )
        .unwrap();
        c.nc = 1;
        let a = c.answer(
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle of Life",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        );
        assert!(
            a.contains(
                r#"response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1""#
            ),
            "{a}"
        );
    }

    #[test]
    fn other_schemes_and_garbage_are_no_challenge() {
        for h in [
            "Basic realm=\"x\"",
            "Digest realm=\"x\"",
            "Digest nonce=\"n\", realm=\"unterminated",
            "Digest realm=\"x\", nonce=\"n\", algorithm=MD4",
            "Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\"",
            "",
        ] {
            assert!(Challenge::parse(h).is_none(), "{h}");
        }
        let c = Challenge::parse("digest realm=Innovaphone,nonce=abc,stale=TRUE").unwrap();
        assert_eq!(
            (c.realm.as_str(), c.nonce.as_str(), c.stale),
            ("Innovaphone", "abc", true)
        );
        assert_eq!(c.qop, None);
        assert!(Challenge::parse(&format!("Digest realm=\"{}\"", "x".repeat(5000))).is_none());
    }
}
