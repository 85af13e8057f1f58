//! A target's settings as the management API takes them: `{"kind", "url", …}` plus the
//! fields of its kind and the common ones (`interval_s`, `debounce_s`, `delete`, `adopt`,
//! `max_delete_percent`, `numbers`). Secrets are sealed, masked and kept exactly as the
//! sources' are (`sources::spec`'s shared rules).

use crate::domain::Shape;
use crate::sources::spec::{keep_secrets, moved_field, redacted, SealedSettings, SpecError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const DEFAULT_INTERVAL_S: u64 = 3600;
pub const DEFAULT_DEBOUNCE_S: u64 = 10;
pub const DEFAULT_MAX_DELETE_PERCENT: u8 = 20;
/// Reconciling runs no more often than this; runs after changes and on demand are not bound.
pub const MIN_INTERVAL_S: u64 = 60;
pub const MAX_DEBOUNCE_S: u64 = 86_400;
pub const PLACETEL_URL: &str = "https://api.placetel.de/v2";
/// TR-064 over HTTP on the box's LAN address (49443 for HTTPS).
pub const FRITZBOX_URL: &str = "http://fritz.box:49000";

/// What happens to an entry phonedir wrote once its contact left the book.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletePolicy {
    /// Removed, when phonedir created or adopted it; foreign entries never.
    #[default]
    Own,
    /// Left in the PBX.
    Never,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TargetConfig {
    pub interval_s: u64,
    pub debounce_s: u64,
    pub delete: DeletePolicy,
    /// On the first run, take over an existing entry that matches exactly one contact.
    pub adopt: bool,
    pub max_delete_percent: u8,
    /// The shape numbers are written in (the directory's region for national ones).
    pub numbers: Shape,
    pub spec: TargetSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetSpec {
    Innovaphone(InnovaphoneSpec),
    Easyconnect(EasyconnectSpec),
    #[serde(rename = "3cx")]
    Threecx(ThreecxSpec),
    Placetel(PlacetelSpec),
    Fritzbox(FritzboxSpec),
}

/// The innovaphone Contacts app: `url` is the app's URL (`https://pbx/DOMAIN/contacts`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InnovaphoneSpec {
    pub url: String,
    pub username: String,
    #[serde(default)]
    pub password: String,
    pub phonebook: String,
}

/// XQTING EasyConnect: `url` is the App URL the contacts API hangs under.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EasyconnectSpec {
    pub url: String,
    #[serde(default)]
    pub apikey: String,
    /// The Contacts database entries go to (`dbsid` of the seed article); left out if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbsid: Option<String>,
}

/// 3CX v20: `url` is the PBX's address (`https://pbx.example`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreecxSpec {
    pub url: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacetelSpec {
    #[serde(default = "placetel_url")]
    pub url: String,
    #[serde(default)]
    pub token: String,
}

fn placetel_url() -> String {
    PLACETEL_URL.into()
}

/// A FRITZ!Box over TR-064; `phonebook` is the book's id (`0` is the first) or its name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FritzboxSpec {
    #[serde(default = "fritzbox_url")]
    pub url: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default = "first_phonebook")]
    pub phonebook: String,
}

fn fritzbox_url() -> String {
    FRITZBOX_URL.into()
}

fn first_phonebook() -> String {
    "0".into()
}

impl TargetSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            TargetSpec::Innovaphone(_) => "innovaphone",
            TargetSpec::Easyconnect(_) => "easyconnect",
            TargetSpec::Threecx(_) => "3cx",
            TargetSpec::Placetel(_) => "placetel",
            TargetSpec::Fritzbox(_) => "fritzbox",
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TargetSpec::Innovaphone(s) => &s.url,
            TargetSpec::Easyconnect(s) => &s.url,
            TargetSpec::Threecx(s) => &s.url,
            TargetSpec::Placetel(s) => &s.url,
            TargetSpec::Fritzbox(s) => &s.url,
        }
    }

    fn secret_names(&self) -> &'static [&'static str] {
        match self {
            TargetSpec::Innovaphone(_) | TargetSpec::Fritzbox(_) => &["password"],
            TargetSpec::Easyconnect(_) => &["apikey"],
            TargetSpec::Threecx(_) => &["client_secret"],
            TargetSpec::Placetel(_) => &["token"],
        }
    }

    pub(crate) fn secrets_mut(&mut self) -> Vec<&mut String> {
        match self {
            TargetSpec::Innovaphone(s) => vec![&mut s.password],
            TargetSpec::Fritzbox(s) => vec![&mut s.password],
            TargetSpec::Easyconnect(s) => vec![&mut s.apikey],
            TargetSpec::Threecx(s) => vec![&mut s.client_secret],
            TargetSpec::Placetel(s) => vec![&mut s.token],
        }
    }

    /// Where the secrets go: changed, a kept secret would reach a place its owner never
    /// sent it to.
    fn destination(&self) -> Vec<(&'static str, String)> {
        match self {
            TargetSpec::Innovaphone(s) => {
                vec![("url", s.url.clone()), ("username", s.username.clone())]
            }
            TargetSpec::Fritzbox(s) => {
                vec![("url", s.url.clone()), ("username", s.username.clone())]
            }
            TargetSpec::Easyconnect(s) => vec![("url", s.url.clone())],
            TargetSpec::Threecx(s) => {
                vec![("url", s.url.clone()), ("client_id", s.client_id.clone())]
            }
            TargetSpec::Placetel(s) => vec![("url", s.url.clone())],
        }
    }

    /// What the stored mapping is about: another kind, PBX or phone book makes it void.
    pub fn store_identity(&self) -> (String, String, String) {
        let book = match self {
            TargetSpec::Innovaphone(s) => s.phonebook.clone(),
            TargetSpec::Fritzbox(s) => s.phonebook.clone(),
            TargetSpec::Easyconnect(s) => s.dbsid.clone().unwrap_or_default(),
            _ => String::new(),
        };
        (self.kind().to_owned(), self.url().to_owned(), book)
    }
}

impl TargetConfig {
    /// Reads and checks settings sent to the API.
    pub fn parse(body: &[u8]) -> Result<TargetConfig, SpecError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| SpecError::Shape(redacted(&e)))?;
        let cfg = TargetConfig::from_json(value)?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn from_json(value: Value) -> Result<TargetConfig, SpecError> {
        let Value::Object(mut map) = value else {
            return Err(SpecError::Shape("expected a JSON object".into()));
        };
        let invalid = |m: &str| SpecError::Invalid(m.to_owned());
        let seconds = |v: Option<Value>, default: u64, what: &str| match v {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_u64().ok_or_else(|| invalid(what)),
        };
        let interval_s = seconds(
            map.remove("interval_s"),
            DEFAULT_INTERVAL_S,
            "`interval_s` is a whole number of seconds (0 = no reconciling runs)",
        )?;
        let debounce_s = seconds(
            map.remove("debounce_s"),
            DEFAULT_DEBOUNCE_S,
            "`debounce_s` is a whole number of seconds",
        )?;
        let delete = match map.remove("delete") {
            None | Some(Value::Null) => DeletePolicy::Own,
            Some(Value::String(s)) if s == "own" => DeletePolicy::Own,
            Some(Value::String(s)) if s == "never" => DeletePolicy::Never,
            Some(_) => return Err(invalid("`delete` is \"own\" (remove entries phonedir created or adopted once their contact is gone) or \"never\"")),
        };
        let adopt = match map.remove("adopt") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(invalid("`adopt` is true or false")),
        };
        let max_delete_percent = match map.remove("max_delete_percent") {
            None | Some(Value::Null) => DEFAULT_MAX_DELETE_PERCENT,
            Some(v) => v
                .as_u64()
                .filter(|p| *p <= 100)
                .and_then(|p| u8::try_from(p).ok())
                .ok_or_else(|| invalid("`max_delete_percent` is a whole number from 0 to 100"))?,
        };
        let numbers = match map.remove("numbers") {
            None | Some(Value::Null) => Shape::E164,
            Some(Value::String(s)) => s
                .parse::<Shape>()
                .map_err(|e| SpecError::Invalid(format!("`numbers`: {e}")))?,
            Some(_) => return Err(invalid("`numbers` is e164, intl00, national or auto")),
        };
        if !map.contains_key("kind") {
            return Err(invalid(
                "`kind` is missing: one of innovaphone, easyconnect, 3cx, placetel, fritzbox",
            ));
        }
        let spec: TargetSpec = serde_json::from_value(Value::Object(map))
            .map_err(|e| SpecError::Shape(redacted(&e)))?;
        Ok(TargetConfig {
            interval_s,
            debounce_s,
            delete,
            adopt,
            max_delete_percent,
            numbers,
            spec,
        })
    }

    fn validate(&self) -> Result<(), SpecError> {
        let bad = |m: &str| Err(SpecError::Invalid(m.to_owned()));
        if self.interval_s != 0 && self.interval_s < MIN_INTERVAL_S {
            return bad("`interval_s` is 0 (no reconciling runs) or at least 60 seconds");
        }
        if self.debounce_s > MAX_DEBOUNCE_S {
            return bad("`debounce_s` is at most 86400 seconds (a day)");
        }
        let url = self.spec.url();
        let parsed = url::Url::parse(url).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.query().is_none()
        });
        if parsed.is_none() {
            return bad("`url` must be an http(s) URL without a query");
        }
        let book_ok = |b: &str| {
            !b.trim().is_empty()
                && b.len() <= 64
                && !b.contains(['/', '?', '#', '\\', '%'])
                && !b.chars().any(char::is_control)
        };
        match &self.spec {
            TargetSpec::Innovaphone(s) => {
                if s.username.trim().is_empty() {
                    return bad("`username` is the Contacts app's HTTP Post user");
                }
                if !book_ok(&s.phonebook) {
                    return bad("`phonebook` is the name of the Contacts phone book phonedir fills (up to 64 characters, no `/ ? # % \\`)");
                }
            }
            TargetSpec::Fritzbox(s) if !book_ok(&s.phonebook) => {
                return bad(
                    "`phonebook` is the FRITZ!Box phone book's id (0 is the first) or its name",
                );
            }
            TargetSpec::Threecx(s) if s.client_id.trim().is_empty() => {
                return bad(
                    "`client_id` is the 3CX API client's id (Admin Console → Integrations → API)",
                );
            }
            TargetSpec::Easyconnect(s)
                if s.dbsid
                    .as_deref()
                    .is_some_and(|d| d.len() > 64 || d.chars().any(char::is_control)) =>
            {
                return bad("`dbsid` is the Contacts database id EasyConnect writes to");
            }
            _ => {}
        }
        Ok(())
    }

    /// Keeps stored secrets sent empty or masked, while the destination stays the same.
    pub fn keep_secrets_from(&mut self, previous: Option<&TargetConfig>) -> Result<(), SpecError> {
        let previous = previous.filter(|p| p.spec.kind() == self.spec.kind());
        let moved =
            previous.and_then(|p| moved_field(self.spec.destination(), p.spec.destination()));
        let mut prev = previous.map(|p| p.spec.clone());
        let old: Vec<String> = prev
            .as_mut()
            .map(|p| p.secrets_mut().into_iter().map(std::mem::take).collect())
            .unwrap_or_default();
        let names = self.spec.secret_names();
        keep_secrets(names, self.spec.secrets_mut(), old, moved)
    }

    /// The secret a run cannot do without is there.
    pub fn missing_secret(&self) -> Option<&'static str> {
        let mut c = self.spec.clone();
        let names = c.secret_names();
        c.secrets_mut()
            .into_iter()
            .zip(names)
            .find(|(s, _)| s.is_empty())
            .map(|(_, n)| *n)
    }

    fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(&self.spec).unwrap_or(Value::Object(Map::new()));
        if let Value::Object(m) = &mut v {
            m.insert("interval_s".into(), self.interval_s.into());
            m.insert("debounce_s".into(), self.debounce_s.into());
            m.insert(
                "delete".into(),
                serde_json::to_value(self.delete).unwrap_or(Value::Null),
            );
            m.insert("adopt".into(), self.adopt.into());
            m.insert("max_delete_percent".into(), self.max_delete_percent.into());
            m.insert("numbers".into(), self.numbers.name().into());
        }
        v
    }
}

impl SealedSettings for TargetConfig {
    fn secrets(&mut self) -> Vec<&mut String> {
        self.spec.secrets_mut()
    }

    fn to_value(&self) -> Value {
        self.to_json()
    }

    fn from_value(value: Value) -> Result<Self, SpecError> {
        TargetConfig::from_json(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Sealer;
    use crate::sources::spec::MASK;

    #[test]
    fn parses_defaults_masks_seals_and_keeps_secrets() {
        let body = br#"{"kind":"3cx","url":"https://pbx.example","client_id":"phonedir",
                        "client_secret":"s3cret"}"#;
        let cfg = TargetConfig::parse(body).unwrap();
        assert_eq!(
            (cfg.interval_s, cfg.debounce_s, cfg.delete, cfg.adopt),
            (3600, 10, DeletePolicy::Own, true)
        );
        assert_eq!((cfg.max_delete_percent, cfg.numbers), (20, Shape::E164));
        assert_eq!(cfg.masked()["client_secret"], MASK);
        assert_eq!(cfg.masked()["kind"], "3cx");
        let sealer = Sealer::from_bytes(&[3u8; 32]).unwrap();
        let stored = cfg.sealed(&sealer).unwrap();
        assert!(!stored.contains("s3cret"), "{stored}");
        assert_eq!(TargetConfig::unsealed(&stored, &sealer).unwrap(), cfg);

        let mut again = TargetConfig::parse(
            br#"{"kind":"3cx","url":"https://pbx.example","client_id":"phonedir","client_secret":"********"}"#,
        )
        .unwrap();
        again.keep_secrets_from(Some(&cfg)).unwrap();
        assert_eq!(again.spec, cfg.spec);
        // Another PBX: the secret is not sent there.
        let mut moved = TargetConfig::parse(
            br#"{"kind":"3cx","url":"https://evil.example","client_id":"phonedir","client_secret":"********"}"#,
        )
        .unwrap();
        let e = moved.keep_secrets_from(Some(&cfg)).unwrap_err().to_string();
        assert!(e.contains("url") && e.contains("client_secret"), "{e}");
        let placetel = TargetConfig::parse(br#"{"kind":"placetel"}"#).unwrap();
        assert_eq!(placetel.spec.url(), PLACETEL_URL);
        assert_eq!(placetel.missing_secret(), Some("token"));
    }

    #[test]
    fn refuses_what_cannot_work_with_a_sentence() {
        for (body, needle) in [
            (r#"{"url":"https://x"}"#, "kind"),
            (r#"{"kind":"sipgate","url":"https://x"}"#, "sipgate"),
            (r#"{"kind":"placetel","url":"ftp://x"}"#, "url"),
            (r#"{"kind":"placetel","url":"https://x?a=1"}"#, "url"),
            (r#"{"kind":"placetel","tokn":"t"}"#, "tokn"),
            (r#"{"kind":"placetel","interval_s":5}"#, "interval_s"),
            (r#"{"kind":"placetel","debounce_s":-1}"#, "debounce_s"),
            (r#"{"kind":"placetel","delete":"all"}"#, "delete"),
            (r#"{"kind":"placetel","adopt":"yes"}"#, "adopt"),
            (
                r#"{"kind":"placetel","max_delete_percent":101}"#,
                "max_delete_percent",
            ),
            (r#"{"kind":"placetel","numbers":"roman"}"#, "roman"),
            (
                r#"{"kind":"innovaphone","url":"https://pbx/d/contacts","username":"u","phonebook":"a/b"}"#,
                "phonebook",
            ),
            (
                r#"{"kind":"innovaphone","url":"https://pbx/d/contacts","username":"","phonebook":"b"}"#,
                "username",
            ),
            (
                r#"{"kind":"3cx","url":"https://pbx","client_id":" "}"#,
                "client_id",
            ),
        ] {
            let e = TargetConfig::parse(body.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{body}: {e}");
        }
        // A secret in the wrong shape is never echoed.
        let e = TargetConfig::parse(br#"{"kind":"placetel","token":12345678}"#)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("12345678"), "{e}");
    }
}
