//! WebDAV answers written by hand: a multistatus is a flat list of small, fixed elements,
//! and writing it straight into a `String` lets a 100,000-card answer go out in chunks
//! without a tree. Every value from a book or a request passes through `text`/`attr`.

use super::xml::{Name, CALSERVER, CARDDAV, DAV};
use super::Precondition;

pub const CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// The opening of every multistatus, with the prefixes the answers use.
pub const MULTISTATUS_HEAD: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:carddav\" ",
    "xmlns:CS=\"http://calendarserver.org/ns/\">\n"
);
pub const MULTISTATUS_TAIL: &str = "</D:multistatus>\n";

/// Status lines exactly as Thunderbird compares them.
pub const OK: &str = "HTTP/1.1 200 OK";
pub const NOT_FOUND: &str = "HTTP/1.1 404 Not Found";
pub const INSUFFICIENT_STORAGE: &str = "HTTP/1.1 507 Insufficient Storage";

/// Appends `s` escaped for element text or a double-quoted attribute value.
pub fn text(out: &mut String, s: &str) {
    use askama::filters::Escaper;
    // Writing into a String cannot fail.
    let _ = crate::render::XmlEscaper.write_escaped_str(&mut *out, s);
}

/// `<D:href>…</D:href>`.
pub fn href(out: &mut String, h: &str) {
    out.push_str("<D:href>");
    text(out, h);
    out.push_str("</D:href>");
}

/// A response that is only a status (a card that is gone, an href that names nothing).
pub fn status_response(out: &mut String, h: &str, status: &str) {
    out.push_str("<D:response>");
    href(out, h);
    out.push_str("<D:status>");
    out.push_str(status);
    out.push_str("</D:status></D:response>\n");
}

/// The start tag's name for a property: the multistatus prefixes for the namespaces it
/// declares, else a prefix declared on the element itself.
pub fn empty_element(out: &mut String, n: &Name) {
    let prefix = match n.ns.as_str() {
        DAV => Some("D"),
        CARDDAV => Some("C"),
        CALSERVER => Some("CS"),
        _ => None,
    };
    out.push('<');
    match prefix {
        Some(p) => {
            out.push_str(p);
            out.push(':');
            out.push_str(&n.local);
        }
        None if n.ns.is_empty() => {
            out.push_str(&n.local);
            out.push_str(" xmlns=\"\"");
        }
        None => {
            out.push_str("X:");
            out.push_str(&n.local);
            out.push_str(" xmlns:X=\"");
            text(out, &n.ns);
            out.push('"');
        }
    }
    out.push_str("/>");
}

/// The body of an error: the precondition (if any) and a sentence a person can act on.
pub fn error_body(precondition: Option<Precondition>, message: &str) -> String {
    let mut out = String::from(concat!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
        "<D:error xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:carddav\">"
    ));
    if let Some(p) = precondition {
        out.push_str(p.element());
    }
    out.push_str("<P:message xmlns:P=\"urn:phonedir\">");
    text(&mut out, message);
    out.push_str("</P:message></D:error>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_names_keep_their_namespace() {
        let mut out = String::new();
        text(&mut out, "A&B <x> \"q\"\u{1}");
        // Characters XML cannot carry are dropped (the shared escaper, `render::XmlEscaper`).
        assert_eq!(out, "A&amp;B &lt;x&gt; &quot;q&quot;");
        let mut out = String::new();
        empty_element(&mut out, &Name::new("urn:x&y", "foo"));
        empty_element(&mut out, &Name::new(DAV, "getetag"));
        empty_element(&mut out, &Name::new("", "bare"));
        assert_eq!(
            out,
            "<X:foo xmlns:X=\"urn:x&amp;y\"/><D:getetag/><bare xmlns=\"\"/>"
        );
    }

    #[test]
    fn error_bodies_parse_and_name_the_precondition() {
        let body = error_body(Some(Precondition::NeedPrivileges), "read-only <book>");
        let doc = roxmltree::Document::parse(&body).unwrap();
        let root = doc.root_element();
        assert!(root.has_tag_name((DAV, "error")));
        assert!(root
            .children()
            .any(|c| c.has_tag_name((DAV, "need-privileges"))));
        assert!(body.contains("read-only &lt;book&gt;"));
    }
}
