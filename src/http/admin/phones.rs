//! For each phone vendor: the URL to paste and where it goes, each with a copy button (and
//! selectable without JavaScript). Phones get a read key: signed in with one, the page fills
//! it in; signed in with the directory key, the page offers to make a read key for phones
//! and fills in the new one, once.

use super::{page, see_other, Nav, Rejected, Signed};
use crate::domain::Scope;
use crate::http::error::ApiError;
use crate::http::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

pub struct Vendor {
    pub id: &'static str,
    pub name: &'static str,
    pub url: String,
    /// Where the URL goes, and what else to set.
    pub settings: String,
    /// The file in docs/phones/ with the whole story.
    pub doc: &'static str,
}

#[derive(Template)]
#[template(path = "admin/phones.html")]
struct Phones {
    n: Nav,
    vendors: Vec<Vendor>,
    /// Whether the URLs hold a real key (else a placeholder).
    filled: bool,
    /// A key made just now for these URLs.
    fresh: bool,
}

/// Stands where the key goes until one is made.
const PLACEHOLDER: &str = "READ_KEY";

fn vendors(base: &str, key: &str) -> Vec<Vendor> {
    let c = format!("{base}/contacts/{key}");
    let host_path = c
        .split_once("://")
        .map_or(c.as_str(), |(_, rest)| rest)
        .to_owned();
    vec![
        Vendor {
            id: "yealink",
            name: "Yealink (T4x/T5x, W-series DECT)",
            url: format!("{c}/yealink/v1?q=#SEARCH"),
            settings: format!("Web UI: Directory → Remote Phone Book → Remote URL = the URL above, Display Name = your company.\nProvisioning:\nremote_phonebook.data.1.url = {c}/yealink/v1?q=#SEARCH\nremote_phonebook.data.1.name = Company"),
            doc: "yealink.md",
        },
        Vendor {
            id: "snom",
            name: "snom (D3xx/D7xx)",
            url: format!("{c}/snom/tbook"),
            settings: format!("Setup → Directory → Remote XML Directory = the URL above (tbook, searched on the phone).\nMinibrowser with search, on the directory key:\ndkey_directory = url {c}/snom/search"),
            doc: "snom.md",
        },
        Vendor {
            id: "gigaset",
            name: "Gigaset DECT (N510, N720, C530 IP, …)",
            url: format!("{c}/gigaset/v1"),
            settings: format!("Settings → Online Services → Online Directory: provider Other, server address = the URL above, name = your company; enable caller display.\nProvisioning:\nBS_XML_Netdirs.astNetdirProvider[0].aucServerURL[0] = {c}/gigaset/v1"),
            doc: "gigaset.md",
        },
        Vendor {
            id: "gigaset-central",
            name: "Gigaset N610/N670/N870 central book",
            url: format!("{c}/gigaset/central"),
            settings: "The central directory's download address in the base's web UI = the URL above (2000 entries, names cut to 32 characters).".into(),
            doc: "gigaset.md",
        },
        Vendor {
            id: "cisco",
            name: "Cisco IP phones",
            url: format!("{c}/cisco/v1"),
            settings: format!("In the phone's configuration (SEP<MAC>.cnf.xml):\n<directoryURL>{c}/cisco/v1</directoryURL>"),
            doc: "cisco.md",
        },
        Vendor {
            id: "grandstream",
            name: "Grandstream",
            url: host_path.clone() + "/grandstream/v1",
            settings: "Phonebook → Phonebook Management: Enable Phonebook XML Download = HTTPS, Phonebook XML Server Path = the text above (without https://; the phone appends /phonebook.xml), Download Interval = 60, Remove manually-edited entries on download = Yes.".into(),
            doc: "grandstream.md",
        },
        Vendor {
            id: "fanvil",
            name: "Fanvil",
            url: format!("{c}/fanvil/v1"),
            settings: "Phonebook → Cloud Phonebook: Name = your company, URL = the URL above.".into(),
            doc: "fanvil.md",
        },
        Vendor {
            id: "fritzbox",
            name: "AVM Fritz!Box",
            url: format!("{c}/fritzbox/v1?numbers=national"),
            settings: "Download the file from the URL above, then Telefonie → Telefonbuch → Wiederherstellen (Restore) → choose phonebook.xml.".into(),
            doc: "fritzbox.md",
        },
        Vendor {
            id: "vcard",
            name: "Address books (vCard)",
            url: format!("{c}/vcard"),
            settings: "Import the .vcf; re-importing updates the same contacts (each card's UID is the contact's stable id).".into(),
            doc: "vcard.md",
        },
        Vendor {
            id: "lookup",
            name: "PBX caller-ID lookup (Asterisk, FreePBX, 3CX, innovaphone)",
            url: format!("{c}/lookup?format=text&number="),
            settings: format!("Asterisk:\nsame => n,Set(CALLERID(name)=${{CURL({c}/lookup?format=text&number=${{URIENCODE(${{CALLERID(num)}})}})}})"),
            doc: "pbx-lookup.md",
        },
    ]
}

pub async fn page_handler(
    req: HttpRequest,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let n = me.nav("phones");
    let made = n.flash.as_ref().and_then(|f| f.new_key.clone());
    // A read key's holder may see it; the directory key or a push key never goes to a phone.
    let (key, filled, fresh) = match (made, me.access.scope) {
        (Some(k), _) => (k, true, true),
        (None, Scope::Read) => (me.key.clone(), true, false),
        (None, _) => (PLACEHOLDER.to_owned(), false, false),
    };
    let _ = &state;
    Ok(page(&Phones {
        n,
        vendors: vendors(&super::origin(&req), &key),
        filled,
        fresh,
    }))
}

/// Makes a read key labelled for phones and shows the page with it, once.
pub async fn make_key(
    body: web::Bytes,
    me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.form(Scope::Admin, &body)?;
    let (st, dir) = (state.clone(), me.access.directory.clone());
    let (key, _) = web::block(move || {
        st.store
            .create_key(&dir, Scope::Read, "phones (admin page)")
    })
    .await?
    .map_err(ApiError::from)?;
    tracing::info!(key = %key.masked(), "read key created on the admin page");
    me.flash(
        &state,
        true,
        "a read key for phones was made; the URLs below hold it. It is shown this once: copy what you need now",
        Some(key.as_str().to_owned()),
    );
    Ok(see_other("/admin/phones"))
}
