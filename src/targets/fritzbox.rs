//! AVM FRITZ!Box over TR-064, service `X_AVM-DE_OnTel` at `{url}/upnp/control/x_contact`
//! with HTTP Digest: `GetPhonebookList`/`GetPhonebook` find the book and the URL of its XML
//! (the listing), `SetPhonebookEntryUID` creates (no `<uniqueid>`) or changes (with it) an
//! entry and answers its unique id, `DeletePhonebookEntryUID` removes one. At most 9 numbers
//! per entry. Errors are UPnP faults (HTTP 500 with an `errorCode`: 713 = no such entry).

use super::client::{Client, RemoteError};
use super::entry::{Layout, Payload, Src};
use super::kind::{Kind, Reading};
use super::plan::RemoteEntry;
use super::spec::FritzboxSpec;
use crate::domain::NumberType as T;
use crate::sources::net::{origin, same_origin};

const SERVICE: &str = "urn:dslforum-org:service:X_AVM-DE_OnTel:1";
const CONTROL: &str = "/upnp/control/x_contact";

/// The entry XML's parts; the box takes at most 9 numbers [code: carddav2fb]; name length
/// is not documented (255 is a guess).
const LAYOUT: Layout = Layout {
    text: &[("realName", Src::Display), ("email", Src::Email)],
    slots: &[
        ("work", &[T::Work, T::Extension, T::Other, T::Pager]),
        ("mobile", &[T::Mobile]),
        ("home", &[T::Home]),
        ("fax_work", &[T::Fax]),
    ],
    repeat: true,
    max_numbers: 9,
    max_chars: 255,
    name: &["realName"],
    email: Some("email"),
};

/// Entries read from one phone book at most (a box holds about 2000).
const MAX_ENTRIES: usize = 100_000;

pub struct Fritzbox {
    url: String,
    phonebook: String,
    /// The book's id once looked up.
    id: Option<String>,
    client: Client,
}

impl Fritzbox {
    pub fn new(s: &FritzboxSpec, mut client: Client) -> Fritzbox {
        client.soap = true;
        Fritzbox {
            url: s.url.trim_end_matches('/').to_owned(),
            phonebook: s.phonebook.clone(),
            id: None,
            client,
        }
    }

    /// Calls a TR-064 action; answers the response's arguments by name.
    fn action(
        &mut self,
        name: &str,
        args: &[(&str, &str)],
    ) -> Result<Vec<(String, String)>, RemoteError> {
        let url = format!("{}{CONTROL}", self.url);
        let mut body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
             <s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>\
             <u:{name} xmlns:u=\"{SERVICE}\">"
        );
        for (k, v) in args {
            body.push_str(&format!("<{k}>{}</{k}>", escape(v)));
        }
        body.push_str(&format!("</u:{name}></s:Body></s:Envelope>"));
        let action = format!("\"{SERVICE}#{name}\"");
        let reply = self.client.send(
            "POST",
            &url,
            &[
                ("Content-Type", "text/xml; charset=\"utf-8\""),
                ("SOAPAction", &action),
            ],
            Some(body.as_bytes()),
        )?;
        if reply.status == 500 {
            if let Some(code) = fault(&reply.body) {
                return Err(match code {
                    713 | 714 => RemoteError::NotFound,
                    606 => RemoteError::Auth(format!(
                        "the FRITZ!Box at {} refused the action {name} (UPnP error 606); give the user the right \"FRITZ!Box settings\" or \"voice messages, faxes, FRITZ!App Fon and call list\"",
                        origin(&url)
                    )),
                    c => RemoteError::Entry(format!(
                        "the FRITZ!Box at {} refused {name} (UPnP error {c})",
                        origin(&url)
                    )),
                });
            }
        }
        let reply = self
            .client
            .expect(&url, reply, &format!("calling {name}"))?;
        let doc = crate::sources::xml::parse(&reply.body).map_err(|e| {
            RemoteError::Stop(format!(
                "the FRITZ!Box at {} answered {name} with XML that cannot be read: {e}",
                origin(&url)
            ))
        })?;
        let response = format!("{name}Response");
        let args = doc
            .descendants()
            .find(|n| n.tag_name().name() == response)
            .map(|r| {
                r.children()
                    .filter(|c| c.is_element())
                    .map(|c| {
                        (
                            c.tag_name().name().to_owned(),
                            c.text().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(args)
    }

    /// The id of the configured phone book: given as a number, or found by its name.
    fn book(&mut self) -> Result<String, RemoteError> {
        if let Some(id) = &self.id {
            return Ok(id.clone());
        }
        let list = self.action("GetPhonebookList", &[])?;
        let ids: Vec<String> = arg(&list, "NewPhonebookList")
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .take(64)
            .collect();
        let wanted = self.phonebook.trim().to_owned();
        let found = if ids.contains(&wanted) {
            Some(wanted.clone())
        } else {
            let mut by_name = None;
            for id in &ids {
                let book = self.action("GetPhonebook", &[("NewPhonebookID", id)])?;
                if arg(&book, "NewPhonebookName") == wanted {
                    by_name = Some(id.clone());
                    break;
                }
            }
            by_name
        };
        let id = found.ok_or_else(|| {
            RemoteError::Stop(format!(
                "the FRITZ!Box has no phone book `{wanted}` (its phone books are {}); set `phonebook` to one of them",
                ids.join(", ")
            ))
        })?;
        self.id = Some(id.clone());
        Ok(id)
    }

    fn set(&mut self, p: &Payload, id: Option<&str>) -> Result<String, RemoteError> {
        let book = self.book()?;
        let data = entry_xml(p, id);
        let out = self.action(
            "SetPhonebookEntryUID",
            &[("NewPhonebookID", &book), ("NewPhonebookEntryData", &data)],
        )?;
        Ok(arg(&out, "NewPhonebookEntryUniqueID").trim().to_owned())
    }
}

fn arg<'a>(args: &'a [(String, String)], name: &str) -> &'a str {
    args.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The UPnP error code of a SOAP fault.
fn fault(body: &str) -> Option<u32> {
    let doc = crate::sources::xml::parse(body).ok()?;
    let code = doc
        .descendants()
        .find(|n| n.tag_name().name() == "errorCode")?;
    code.text()?.trim().parse().ok()
}

fn escape(s: &str) -> String {
    use askama::filters::Escaper;
    let mut out = String::with_capacity(s.len());
    // The phone books' own escaper: five entities, nothing XML 1.0 cannot carry.
    let _ = crate::render::XmlEscaper.write_escaped_str(&mut out, s);
    out
}

/// The `<contact>` XML of an entry; with `id`, it changes that entry.
fn entry_xml(p: &Payload, id: Option<&str>) -> String {
    let mut x = String::from("<contact><category>0</category><person><realName>");
    x.push_str(&escape(p.field("realName")));
    x.push_str("</realName></person>");
    x.push_str(&format!("<telephony nid=\"{}\">", p.numbers.len()));
    for (i, (kind, n)) in p.numbers.iter().enumerate() {
        x.push_str(&format!(
            "<number type=\"{}\" prio=\"{}\" id=\"{i}\">{}</number>",
            escape(kind),
            u8::from(i == 0),
            escape(n)
        ));
    }
    x.push_str("</telephony>");
    let email = p.field("email");
    if email.is_empty() {
        x.push_str("<services/>");
    } else {
        x.push_str(&format!(
            "<services><email classifier=\"work\" id=\"0\">{}</email></services>",
            escape(email)
        ));
    }
    if let Some(id) = id {
        x.push_str(&format!("<uniqueid>{}</uniqueid>", escape(id)));
    }
    x.push_str("</contact>");
    x
}

/// The entries of a phone book's XML (`<phonebooks><phonebook><contact>…`).
fn entries(xml: &str) -> Result<Vec<RemoteEntry>, String> {
    let doc = crate::sources::xml::parse(xml).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for c in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "contact")
        .take(MAX_ENTRIES)
    {
        let child_text = |path: &[&str]| -> String {
            let mut node = Some(c);
            for p in path {
                node = node.and_then(|n| n.children().find(|x| x.tag_name().name() == *p));
            }
            node.and_then(|n| n.text()).unwrap_or("").trim().to_owned()
        };
        let id = child_text(&["uniqueid"]);
        if id.is_empty() {
            continue;
        }
        let mut p = Payload::default();
        p.fields
            .insert("realName".into(), child_text(&["person", "realName"]));
        p.fields
            .insert("email".into(), child_text(&["services", "email"]));
        if let Some(t) = c.children().find(|x| x.tag_name().name() == "telephony") {
            for n in t
                .children()
                .filter(|x| x.tag_name().name() == "number")
                .take(LAYOUT.max_numbers * 4)
            {
                let v = n.text().unwrap_or("").trim();
                if !v.is_empty() {
                    let kind = n.attribute("type").unwrap_or("work");
                    p.numbers.push((kind.to_owned(), v.to_owned()));
                }
            }
        }
        out.push(RemoteEntry {
            id,
            payload: p,
            marker: None,
        });
    }
    Ok(out)
}

impl Kind for Fritzbox {
    fn layout(&self) -> &'static Layout {
        &LAYOUT
    }

    fn reading(&self) -> Reading {
        Reading::List
    }

    fn list(&mut self) -> Result<Vec<RemoteEntry>, RemoteError> {
        let book = self.book()?;
        let out = self.action("GetPhonebook", &[("NewPhonebookID", &book)])?;
        let given = arg(&out, "NewPhonebookURL").trim().to_owned();
        // The box names itself as it likes (fritz.box, an address); the book is fetched
        // from the configured origin only, so nothing else is ever asked.
        let url =
            match url::Url::parse(&given) {
                Ok(u) if same_origin(&given, &self.url) => u.to_string(),
                Ok(u) => {
                    let path = match u.query() {
                        Some(q) => format!("{}?{q}", u.path()),
                        None => u.path().to_owned(),
                    };
                    format!("{}{path}", self.url)
                }
                Err(_) if given.starts_with('/') => format!("{}{given}", self.url),
                Err(_) => return Err(RemoteError::Stop(
                    "the FRITZ!Box did not answer where its phone book can be read (GetPhonebook)"
                        .into(),
                )),
            };
        let reply = self.client.send("GET", &url, &[], None)?;
        let reply = self.client.expect(&url, reply, "reading the phone book")?;
        entries(&reply.body).map_err(|e| {
            RemoteError::Stop(format!("the FRITZ!Box's phone book cannot be read: {e}"))
        })
    }

    fn create(&mut self, p: &Payload) -> Result<Option<String>, RemoteError> {
        let id = self.set(p, None)?;
        Ok(Some(id).filter(|i| !i.is_empty()))
    }

    fn update(&mut self, id: &str, p: &Payload) -> Result<(), RemoteError> {
        self.set(p, Some(id)).map(drop)
    }

    fn delete(&mut self, id: &str) -> Result<(), RemoteError> {
        let book = self.book()?;
        self.action(
            "DeletePhonebookEntryUID",
            &[("NewPhonebookID", &book), ("NewPhonebookEntryUniqueID", id)],
        )
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_xml_round_trips_and_escapes() {
        let p = Payload {
            fields: [
                ("realName".to_owned(), "Müller & <Söhne>".to_owned()),
                ("email".to_owned(), "a@b.example".to_owned()),
            ]
            .into(),
            numbers: vec![
                ("work".into(), "+49231".into()),
                ("work".into(), "+49232".into()),
                ("mobile".into(), "+49171".into()),
            ],
        };
        let x = entry_xml(&p, Some("28"));
        let book = format!("<phonebooks><phonebook name=\"x\">{x}</phonebook></phonebooks>");
        let got = entries(&book).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, "28");
        assert!(p.changes_from(&got[0].payload).is_empty(), "{x}");
        assert!(!entry_xml(&p, None).contains("uniqueid"));
        assert!(entries("<a><b>").is_err());
        assert_eq!(
            fault("<s:Envelope xmlns:s=\"x\"><s:Body><s:Fault><detail><UPnPError><errorCode>713</errorCode></UPnPError></detail></s:Fault></s:Body></s:Envelope>"),
            Some(713)
        );
    }
}
