//! A source's settings as the management API takes them: common fields (`interval_s`,
//! `priority`, `region`) plus the fields of its kind. Secrets are sealed before they are
//! stored and masked whenever settings are shown.

use super::secret::{Sealer, SecretError};
use crate::phone::Region;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a masked secret reads as; sending it back keeps the stored secret.
pub const MASK: &str = "********";
pub const DEFAULT_INTERVAL_S: u64 = 3600;
pub const DEFAULT_PRIORITY: i64 = 100;
/// Scheduled syncs no more often than this; on demand is always possible.
pub const MIN_INTERVAL_S: u64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the source settings are not valid JSON of the expected shape: {0}")]
    Shape(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("`{changed}` changed, so the stored {secret} is not sent to the new destination; send the {secret} again")]
    SecretNotKept {
        secret: &'static str,
        changed: &'static str,
    },
    #[error("`{0}` is `********`, but no {0} is stored to keep; send the {0} itself")]
    NothingToKeep(&'static str),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SourceConfig {
    pub interval_s: u64,
    pub priority: i64,
    pub region: Option<String>,
    /// Store an empty answer even when the source held contacts (off: an empty answer is
    /// taken for a fault and the last good contacts stay).
    pub allow_empty: bool,
    /// The PEM of a CA to trust besides the public roots (an internal CA), for every kind
    /// that connects with TLS. Certificates are always verified.
    pub ca_cert: Option<String>,
    pub spec: Spec,
}

/// A source's settings as `PUT …/sources/{name}` takes them and `GET` shows them (secrets
/// as `********`): the common fields beside the fields of its kind. `SourceConfig::parse`
/// reads the common fields by hand (for sentences a person can act on); this type gives them
/// their schema in the OpenAPI document.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SourceSettingsSchema {
    /// Seconds between scheduled syncs (default 3600, minimum 60; 0 = only on demand).
    pub interval_s: Option<u64>,
    /// Lower wins merge conflicts (default 100).
    pub priority: Option<i64>,
    /// Country for national numbers (`DE`).
    pub region: Option<String>,
    /// Store an empty answer even when the source held contacts.
    pub allow_empty: Option<bool>,
    #[serde(flatten)]
    pub spec: Spec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Spec {
    /// CSV pushes; only the common fields apply.
    Push {},
    Graph(GraphSpec),
    Carddav(CarddavSpec),
    Rest(Box<RestSpec>),
    Google(GoogleSpec),
    Ldap(Box<LdapSpec>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GraphMode {
    #[default]
    Users,
    Contacts,
    OrgContacts,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphSpec {
    pub tenant_id: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub mode: GraphMode,
    /// Defaults to `https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// Defaults to `https://graph.microsoft.com/v1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarddavSpec {
    /// The address book, or any URL on the way to it (the server's base URL, the
    /// principal, the address book home): the sync finds the book as clients do.
    pub url: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// Which address book, by display name or path, when the account has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoogleMode {
    /// The account's own contacts (`people/me/connections`).
    #[default]
    Contacts,
    /// A Google Workspace domain's directory (`people:listDirectoryPeople`).
    Directory,
}

/// Google Contacts over the People API, with an OAuth refresh token obtained once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoogleSpec {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub refresh_token: String,
    #[serde(default)]
    pub mode: GoogleMode,
    /// Defaults to `https://oauth2.googleapis.com/token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// Defaults to `https://people.googleapis.com/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

/// Which directory schema the LDAP source's defaults are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LdapSchema {
    /// Active Directory and inetOrgPerson at once: each field from whichever attribute an
    /// entry has.
    #[default]
    Auto,
    /// Active Directory users (disabled accounts left out).
    Ad,
    /// OpenLDAP, 389 DS and others with inetOrgPerson entries.
    Inetorgperson,
}

/// An on-premises directory (Active Directory, OpenLDAP) read with a simple bind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LdapSpec {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    #[serde(default)]
    pub starttls: bool,
    /// Empty for an anonymous bind.
    #[serde(default)]
    pub bind_dn: String,
    #[serde(default)]
    pub password: String,
    /// Where the search starts, e.g. `OU=Staff,DC=corp,DC=example`.
    pub base: String,
    /// An LDAP filter; defaults to the people with a phone number (see `ldap.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default)]
    pub schema: LdapSchema,
    /// Which attribute holds which field, over the schema's defaults.
    #[serde(default)]
    pub attributes: LdapAttributes,
}

/// Attribute names for the contact's fields; empty ones keep the schema's default.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LdapAttributes {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub given_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub family_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub company: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub department: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub position: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// Number type (WORK, MOBILE, HOME, FAX, PAGER, OTHER, EXTENSION) → attributes; when
    /// given, it replaces the default number attributes whole.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub numbers: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RestAuth {
    #[default]
    None,
    Bearer,
    Basic,
    Apikey,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestSpec {
    pub url: String,
    /// `easyconnect` fills auth and the field mapping for innovaphone's EasyConnect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    #[serde(default)]
    pub auth: RestAuth,
    #[serde(default)]
    pub username: String,
    /// The password (basic), token (bearer) or key (apikey).
    #[serde(default)]
    pub secret: String,
    /// The query parameter an `apikey` goes in.
    #[serde(default = "apikey_param")]
    pub apikey_param: String,
    /// JSON pointer to the array of records; empty = the answer itself, or its first array
    /// under `value`, `items`, `data`, `contacts` or `records`.
    #[serde(default)]
    pub records: String,
    /// JSON pointer to the next page's URL; absent or null ends the paging.
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub fields: RestFields,
}

fn apikey_param() -> String {
    "apikey".into()
}

/// Which record field (a key, or a JSON pointer starting with `/`) holds what.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestFields {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub id: String,
    /// Number type (WORK, MOBILE, HOME, FAX, EXTENSION, …) → field(s); a field may hold
    /// one number or an array of them.
    #[serde(default)]
    pub numbers: std::collections::BTreeMap<String, Vec<String>>,
}

impl RestSpec {
    /// The spec with its preset's defaults filled in where the user gave nothing.
    pub fn resolved(&self) -> Result<RestSpec, SpecError> {
        let mut s = self.clone();
        match s.preset.as_deref() {
            None => {}
            Some("easyconnect") => {
                if s.auth == RestAuth::None {
                    s.auth = RestAuth::Apikey;
                }
                let f = &mut s.fields;
                for (field, name) in [
                    (&mut f.display_name, "cn"),
                    (&mut f.given_name, "givenname"),
                    (&mut f.family_name, "sn"),
                    (&mut f.company, "company"),
                    (&mut f.email, "email"),
                    (&mut f.id, "dbsid"),
                ] {
                    if field.is_empty() {
                        *field = name.into();
                    }
                }
                if f.numbers.is_empty() {
                    for (t, name) in [
                        ("WORK", "telephonenumber"),
                        ("MOBILE", "mobile"),
                        ("HOME", "homephone"),
                    ] {
                        f.numbers.insert(t.into(), vec![name.into()]);
                    }
                }
            }
            Some(other) => {
                return Err(SpecError::Invalid(format!(
                    "`{other}` is not a preset; the one preset is `easyconnect`"
                )))
            }
        }
        Ok(s)
    }
}

/// serde's message without the values it quotes: a secret sent in the wrong field or with
/// the wrong type (`"password": 1234`) must not come back in an error or a log line. Field
/// names and the names of kinds, modes and auth schemes (`unknown variant`) stay: they are
/// ours or the caller's choice of a word, never a secret's slot.
pub(crate) fn redacted(e: &serde_json::Error) -> String {
    static VALUE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(invalid (?:type|value|length): [a-z ]*?)(?:"(?:[^"\\]|\\.)*"|`[^`]*`)"#,
        )
        .ok()
    });
    let msg = e.to_string();
    match VALUE.as_ref() {
        Some(re) => re.replace_all(&msg, "${1}(value not shown)").into_owned(),
        None => "the settings do not have the expected shape".to_owned(),
    }
}

impl Spec {
    pub fn kind(&self) -> &'static str {
        match self {
            Spec::Push {} => "push",
            Spec::Graph(_) => "graph",
            Spec::Carddav(_) => "carddav",
            Spec::Rest(_) => "rest",
            Spec::Google(_) => "google",
            Spec::Ldap(_) => "ldap",
        }
    }

    /// The secrets' field names, in the order of `secrets_mut`.
    fn secret_names(&self) -> &'static [&'static str] {
        match self {
            Spec::Push {} => &[],
            Spec::Graph(_) => &["client_secret"],
            Spec::Carddav(_) => &["password"],
            Spec::Rest(_) => &["secret"],
            Spec::Google(_) => &["client_secret", "refresh_token"],
            Spec::Ldap(_) => &["password"],
        }
    }

    /// Where the secrets go: the fields that, changed, make a kept secret go somewhere its
    /// owner never sent it (`token_url` and `graph_url` with their defaults filled in).
    fn destination(&self) -> Vec<(&'static str, String)> {
        match self {
            Spec::Push {} => vec![],
            Spec::Graph(g) => vec![
                ("tenant_id", g.tenant_id.clone()),
                ("client_id", g.client_id.clone()),
                ("token_url", g.token_url.clone().unwrap_or_default()),
                ("graph_url", g.graph_url.clone().unwrap_or_default()),
            ],
            Spec::Carddav(c) => vec![("url", c.url.clone()), ("username", c.username.clone())],
            Spec::Rest(r) => vec![("url", r.url.clone()), ("username", r.username.clone())],
            Spec::Google(g) => vec![
                ("client_id", g.client_id.clone()),
                ("token_url", g.token_url.clone().unwrap_or_default()),
                ("api_url", g.api_url.clone().unwrap_or_default()),
            ],
            Spec::Ldap(l) => vec![
                ("url", l.url.clone()),
                ("bind_dn", l.bind_dn.clone()),
                // Without TLS the password would cross the network in the clear.
                ("starttls", l.starttls.to_string()),
            ],
        }
    }

    pub(crate) fn secrets_mut(&mut self) -> Vec<&mut String> {
        match self {
            Spec::Push {} => vec![],
            Spec::Graph(g) => vec![&mut g.client_secret],
            Spec::Carddav(c) => vec![&mut c.password],
            Spec::Rest(r) => vec![&mut r.secret],
            Spec::Google(g) => vec![&mut g.client_secret, &mut g.refresh_token],
            Spec::Ldap(l) => vec![&mut l.password],
        }
    }
}

/// The first field of a destination (URL, account) that differs between the settings sent
/// and the stored ones: a kept secret must not follow it there.
pub fn moved_field(
    now: Vec<(&'static str, String)>,
    before: Vec<(&'static str, String)>,
) -> Option<&'static str> {
    now.into_iter()
        .zip(before)
        .find(|(now, then)| now.1 != then.1)
        .map(|(now, _)| now.0)
}

/// Fills secrets sent empty or masked (`new`, named `names`) from the stored ones (`old`,
/// same order), unless the destination `moved`: then a masked or empty secret that had a
/// stored value is refused, and a mask with nothing behind it is refused always. Shared by
/// every kind of settings that holds secrets (sources, targets).
pub fn keep_secrets(
    names: &[&'static str],
    new: Vec<&mut String>,
    mut old: Vec<String>,
    moved: Option<&'static str>,
) -> Result<(), SpecError> {
    old.resize(names.len(), String::new());
    for ((new, old), name) in new.into_iter().zip(old).zip(names) {
        if !(new.is_empty() || new == MASK) {
            continue;
        }
        match (old.is_empty(), moved) {
            (true, _) if new == MASK => return Err(SpecError::NothingToKeep(name)),
            (true, _) => {}
            (false, Some(changed)) => {
                return Err(SpecError::SecretNotKept {
                    secret: name,
                    changed,
                })
            }
            (false, None) => *new = old,
        }
    }
    Ok(())
}

impl SourceConfig {
    /// Reads and checks settings sent to the API.
    pub fn parse(body: &[u8]) -> Result<SourceConfig, SpecError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| SpecError::Shape(redacted(&e)))?;
        let cfg = SourceConfig::from_json(value)?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn from_json(value: Value) -> Result<SourceConfig, SpecError> {
        let Value::Object(mut map) = value else {
            return Err(SpecError::Shape("expected a JSON object".into()));
        };
        let interval_s = match map.remove("interval_s") {
            None | Some(Value::Null) => DEFAULT_INTERVAL_S,
            Some(v) => v.as_u64().ok_or_else(|| {
                SpecError::Invalid(
                    "`interval_s` is a whole number of seconds (0 = only on demand)".into(),
                )
            })?,
        };
        let priority = match map.remove("priority") {
            None | Some(Value::Null) => DEFAULT_PRIORITY,
            Some(v) => v.as_i64().ok_or_else(|| {
                SpecError::Invalid(
                    "`priority` is a whole number; lower wins merge conflicts".into(),
                )
            })?,
        };
        let region = match map.remove("region") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                return Err(SpecError::Invalid(
                    "`region` is a country code such as \"DE\"".into(),
                ))
            }
        };
        let allow_empty = match map.remove("allow_empty") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(SpecError::Invalid("`allow_empty` is true or false".into())),
        };
        let ca_cert = match map.remove("ca_cert") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                return Err(SpecError::Invalid(
                    "`ca_cert` is the PEM text of a CA certificate, as a string".into(),
                ))
            }
        };
        if !map.contains_key("kind") {
            return Err(SpecError::Invalid(
                "`kind` is missing: one of graph, carddav, google, ldap, rest, push".into(),
            ));
        }
        let spec: Spec = serde_json::from_value(Value::Object(map))
            .map_err(|e| SpecError::Shape(redacted(&e)))?;
        Ok(SourceConfig {
            interval_s,
            priority,
            region,
            allow_empty,
            ca_cert,
            spec,
        })
    }

    fn validate(&self) -> Result<(), SpecError> {
        let bad = |m: &str| Err(SpecError::Invalid(m.to_owned()));
        if self.interval_s != 0 && self.interval_s < MIN_INTERVAL_S {
            return bad("`interval_s` is 0 (only on demand) or at least 60 seconds");
        }
        if let Some(r) = &self.region {
            r.parse::<Region>()
                .map_err(|e| SpecError::Invalid(format!("`region`: {e}")))?;
        }
        if let Some(pem) = &self.ca_cert {
            super::net::ca_certificates(pem).map_err(SpecError::Invalid)?;
            if matches!(self.spec, Spec::Push {}) {
                return bad("`ca_cert` is for pulled sources; a push source connects nowhere");
            }
        }
        let url_ok = |u: &str| u.starts_with("http://") || u.starts_with("https://");
        match &self.spec {
            Spec::Push {} => Ok(()),
            Spec::Carddav(c) if !url_ok(&c.url) => {
                bad("`url` must be the address book's http(s) URL")
            }
            Spec::Carddav(c) if c.book.as_deref().is_some_and(|b| b.trim().is_empty()) => {
                bad("`book` is the display name or path of an address book; leave it out to take the only one")
            }
            Spec::Carddav(_) => Ok(()),
            Spec::Google(g) => {
                if g.client_id.trim().is_empty() {
                    return bad("`client_id` is required (the OAuth client of a Google Cloud project)");
                }
                if g.refresh_token.trim().is_empty() {
                    return bad("`refresh_token` is required; docs/sources.md shows how to get one once");
                }
                for u in [&g.token_url, &g.api_url].into_iter().flatten() {
                    if !url_ok(u) {
                        return bad("`token_url` and `api_url` must be http(s) URLs");
                    }
                }
                Ok(())
            }
            Spec::Ldap(l) => super::ldap::validate(l).map_err(SpecError::Invalid),
            Spec::Rest(r) => {
                let r = r.resolved()?;
                if !url_ok(&r.url) {
                    return bad("`url` must be an http(s) URL");
                }
                if r.fields.display_name.is_empty()
                    && r.fields.given_name.is_empty()
                    && r.fields.family_name.is_empty()
                {
                    return bad("`fields` needs a name: display_name, given_name or family_name");
                }
                if r.fields.numbers.is_empty() {
                    return bad("`fields.numbers` maps number types to fields, e.g. {\"WORK\": [\"phone\"]}");
                }
                for t in r.fields.numbers.keys() {
                    if crate::domain::NumberType::from_alias(t).is_none() {
                        return Err(SpecError::Invalid(format!(
                            "`{t}` in `fields.numbers` is not a number type; use WORK, HOME, MOBILE, FAX, PAGER, OTHER or EXTENSION"
                        )));
                    }
                }
                Ok(())
            }
            Spec::Graph(g) => {
                if g.tenant_id.trim().is_empty() || g.client_id.trim().is_empty() {
                    return bad(
                        "`tenant_id` and `client_id` are required (Azure app registration)",
                    );
                }
                for u in [&g.token_url, &g.graph_url].into_iter().flatten() {
                    if !url_ok(u) {
                        return bad("`token_url` and `graph_url` must be http(s) URLs");
                    }
                }
                Ok(())
            }
        }
    }

    /// Keeps stored secrets for fields sent empty or masked, so a settings round trip
    /// (GET, edit, PUT) does not need the password again, but only while they would go
    /// where they went before: with a new URL, host, tenant or account the secret must be
    /// sent again (else whoever may edit a source could point it at their own server and
    /// receive a password they never knew).
    pub fn keep_secrets_from(&mut self, previous: Option<&SourceConfig>) -> Result<(), SpecError> {
        let previous = previous.filter(|p| p.spec.kind() == self.spec.kind());
        let moved = previous.and_then(|p| {
            moved_field(self.spec.destination(), p.spec.destination())
                // Another CA trusted could make another server pass for the configured one.
                .or_else(|| (p.ca_cert != self.ca_cert).then_some("ca_cert"))
        });
        let mut prev = previous.map(|p| p.spec.clone());
        let old: Vec<String> = prev
            .as_mut()
            .map(|p| p.secrets_mut().into_iter().map(std::mem::take).collect())
            .unwrap_or_default();
        let names = self.spec.secret_names();
        keep_secrets(names, self.spec.secrets_mut(), old, moved)
    }

    fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(&self.spec).unwrap_or(Value::Object(Map::new()));
        if let Value::Object(m) = &mut v {
            m.insert("interval_s".into(), self.interval_s.into());
            m.insert("priority".into(), self.priority.into());
            if let Some(r) = &self.region {
                m.insert("region".into(), r.clone().into());
            }
            m.insert("allow_empty".into(), self.allow_empty.into());
            if let Some(c) = &self.ca_cert {
                m.insert("ca_cert".into(), c.clone().into());
            }
        }
        v
    }

    pub fn region(&self) -> Option<Region> {
        self.region.as_deref().and_then(|r| r.parse().ok())
    }
}

/// Settings with secrets in them (a source's, a target's): masked for the API, sealed at
/// rest, opened when read back. One copy of those three steps for both.
pub trait SealedSettings: Clone + Sized {
    /// Every secret field, to mask, seal or open in place.
    fn secrets(&mut self) -> Vec<&mut String>;
    fn to_value(&self) -> Value;
    fn from_value(value: Value) -> Result<Self, SpecError>;

    /// The settings as shown by the API: secrets masked.
    fn masked(&self) -> Value {
        let mut c = self.clone();
        for s in c.secrets() {
            if !s.is_empty() {
                *s = MASK.into();
            }
        }
        c.to_value()
    }

    /// The settings as stored: secrets sealed.
    fn sealed(&self, sealer: &Sealer) -> Result<String, SpecError> {
        let mut c = self.clone();
        for s in c.secrets() {
            if !s.is_empty() {
                *s = sealer.seal(s)?;
            }
        }
        Ok(c.to_value().to_string())
    }

    /// Reads stored settings and opens their secrets.
    fn unsealed(stored: &str, sealer: &Sealer) -> Result<Self, SpecError> {
        let value: Value =
            serde_json::from_str(stored).map_err(|e| SpecError::Shape(e.to_string()))?;
        let mut c = Self::from_value(value)?;
        for s in c.secrets() {
            if !s.is_empty() {
                *s = sealer.open(s)?;
            }
        }
        Ok(c)
    }
}

impl SealedSettings for SourceConfig {
    fn secrets(&mut self) -> Vec<&mut String> {
        self.spec.secrets_mut()
    }

    fn to_value(&self) -> Value {
        self.to_json()
    }

    fn from_value(value: Value) -> Result<Self, SpecError> {
        SourceConfig::from_json(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_echo_values() {
        for body in [
            r#"{"kind":"carddav","url":"https://x","password":98765432}"#,
            r#"{"kind":"rest","url":"https://x","secret":{"a":"hunter2secret"}}"#,
            r#"{"kind":"graph","tenant_id":"t","client_id":"c","client_secret":["hunter2secret"]}"#,
            r#"{"kind":"carddav","url":"https://x","username":"u","password":false}"#,
        ] {
            let e = SourceConfig::parse(body.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(!e.contains("hunter2") && !e.contains("98765432"), "{e}");
            assert!(
                e.contains("(value not shown)") || e.contains("expected"),
                "{e}"
            );
        }
    }

    #[test]
    fn parses_masks_seals_and_keeps_secrets() {
        let body = br#"{"kind":"carddav","url":"https://dav.example/ab/","username":"u",
                        "password":"pw","priority":5}"#;
        let cfg = SourceConfig::parse(body).unwrap();
        assert_eq!((cfg.interval_s, cfg.priority), (3600, 5));
        assert_eq!(cfg.masked()["password"], MASK);
        let sealer = Sealer::from_bytes(&[1u8; 32]).unwrap();
        let stored = cfg.sealed(&sealer).unwrap();
        assert!(!stored.contains("\"pw\""), "{stored}");
        assert_eq!(SourceConfig::unsealed(&stored, &sealer).unwrap(), cfg);

        let mut again = SourceConfig::parse(
            br#"{"kind":"carddav","url":"https://dav.example/ab/","username":"u","password":"********"}"#,
        )
        .unwrap();
        again.keep_secrets_from(Some(&cfg)).unwrap();
        assert_eq!(again.spec, cfg.spec);
    }

    #[test]
    fn a_kept_secret_goes_only_where_it_went() {
        let graph = |token_url: &str, secret: &str| {
            SourceConfig::parse(
                format!(
                    r#"{{"kind":"graph","tenant_id":"t","client_id":"c","client_secret":"{secret}","token_url":"{token_url}"}}"#
                )
                .as_bytes(),
            )
            .unwrap()
        };
        let stored = graph("https://login.example/t/token", "s3cret");
        let mut same = graph("https://login.example/t/token", MASK);
        same.keep_secrets_from(Some(&stored)).unwrap();
        assert_eq!(same, stored);
        for secret in [MASK, ""] {
            let mut moved = graph("https://evil.example/token", secret);
            let e = moved
                .keep_secrets_from(Some(&stored))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("token_url") && e.contains("client_secret"),
                "{e}"
            );
        }
        // A new secret for the new destination is fine.
        let mut fresh = graph("https://evil.example/token", "new");
        fresh.keep_secrets_from(Some(&stored)).unwrap();
        // CardDAV: another account on the same server is another destination too.
        let dav = |user: &str, pw: &str| {
            SourceConfig::parse(
                format!(r#"{{"kind":"carddav","url":"https://dav.example/ab/","username":"{user}","password":"{pw}"}}"#)
                    .as_bytes(),
            )
            .unwrap()
        };
        let e = dav("mallory", MASK)
            .keep_secrets_from(Some(&dav("anna", "pw")))
            .unwrap_err();
        assert!(e.to_string().contains("username"), "{e}");
        // A mask with nothing behind it is not a password.
        let e = dav("anna", MASK).keep_secrets_from(None).unwrap_err();
        assert!(matches!(e, SpecError::NothingToKeep("password")), "{e}");
        dav("anna", "").keep_secrets_from(None).unwrap();
    }

    #[test]
    fn refuses_what_cannot_work_with_a_sentence() {
        for (body, needle) in [
            (r#"{"url":"x"}"#, "kind"),
            (r#"{"kind":"carddav","url":"ftp://x"}"#, "url"),
            (
                r#"{"kind":"carddav","url":"https://x","pasword":"p"}"#,
                "pasword",
            ),
            (
                r#"{"kind":"carddav","url":"https://x","interval_s":5}"#,
                "interval_s",
            ),
            (
                r#"{"kind":"rest","url":"https://x","preset":"nope"}"#,
                "preset",
            ),
            (
                r#"{"kind":"graph","tenant_id":"","client_id":"c"}"#,
                "tenant_id",
            ),
            (r#"{"kind":"ldap"}"#, "url"),
            (r#"{"kind":"ldapx"}"#, "ldapx"),
            (
                r#"{"kind":"carddav","url":"https://x","ca_cert":"nope"}"#,
                "ca_cert",
            ),
            (r#"{"kind":"google","client_id":"c"}"#, "refresh_token"),
            (
                r#"{"kind":"ldap","url":"http://x","base":"dc=x"}"#,
                "ldap://",
            ),
        ] {
            let e = SourceConfig::parse(body.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{body}: {e}");
        }
        let ec = SourceConfig::parse(
            br#"{"kind":"rest","preset":"easyconnect","url":"https://pbx/contacts","secret":"k"}"#,
        )
        .unwrap();
        let Spec::Rest(r) = ec.spec else { panic!() };
        let r = r.resolved().unwrap();
        assert_eq!(r.auth, RestAuth::Apikey);
        assert_eq!(r.fields.numbers["MOBILE"], vec!["mobile".to_owned()]);
    }
}
