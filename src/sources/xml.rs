//! Reading XML from remote systems (WebDAV multistatus answers) without letting them crash
//! the process.
//!
//! roxmltree's tokenizer descends one Rust stack frame pair (`parse_element` →
//! `parse_content`) per nesting level, so an answer nested a few thousand levels deep
//! overflows a thread's stack; that is an abort, which no `catch_unwind` can stop. This module
//! measures the nesting depth with a flat loop first and refuses anything deeper than a
//! multistatus can be, and bounds the number of nodes the document may build.

/// A WebDAV multistatus is about 8 levels deep; room for namespaced extensions.
pub const MAX_DEPTH: usize = 64;
/// Nodes (elements, attributes' parents, text) one answer may build.
pub const MAX_NODES: u32 = 2_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the XML is nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("{0}")]
    Syntax(String),
}

/// Parses `text` into a document if it is no deeper than `MAX_DEPTH` and has at most
/// `MAX_NODES` nodes.
pub fn parse(text: &str) -> Result<roxmltree::Document<'_>, XmlError> {
    if depth(text) > MAX_DEPTH {
        return Err(XmlError::TooDeep);
    }
    let opt = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    roxmltree::Document::parse_with_options(text, opt).map_err(|e| XmlError::Syntax(e.to_string()))
}

/// The deepest element nesting of `text`, never less than the true one: comments, CDATA,
/// processing instructions and declarations are skipped whole, quoted attribute values
/// cannot end a tag, and only a start tag ending in `/>` closes itself. Malformed input
/// may be over-counted (and refused), never under-counted.
pub fn depth(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut i, mut cur, mut max) = (0usize, 0usize, 0usize);
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        i += off;
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = skip_past(b, i + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_past(b, i + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            i = skip_past(b, i + 2, b"?>");
        } else if rest.starts_with(b"<!") {
            // A DOCTYPE may hold `[...]` with `>` inside; roxmltree refuses DTDs anyway.
            i = skip_past(b, i + 2, b">");
        } else if rest.starts_with(b"</") {
            cur = cur.saturating_sub(1);
            i = skip_past(b, i + 2, b">");
        } else {
            // A start tag: find its end outside quoted attribute values.
            let mut j = i + 1;
            let mut quote = None;
            let mut self_closing = false;
            while j < b.len() {
                let c = b[j];
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == b'"' || c == b'\'' => quote = Some(c),
                    None if c == b'>' => {
                        self_closing = j > i + 1 && b[j - 1] == b'/';
                        break;
                    }
                    None => {}
                }
                j += 1;
            }
            if !self_closing {
                cur += 1;
                max = max.max(cur);
            }
            i = (j + 1).min(b.len());
        }
        if i >= b.len() {
            break;
        }
    }
    max
}

/// The index just after the next `end` at or after `from`; the end of `b` if none.
fn skip_past(b: &[u8], from: usize, end: &[u8]) -> usize {
    if from >= b.len() {
        return b.len();
    }
    b[from..]
        .windows(end.len())
        .position(|w| w == end)
        .map_or(b.len(), |p| from + p + end.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_elements_only() {
        assert_eq!(depth("<a><b/><c>x</c></a>"), 2);
        assert_eq!(
            depth("<?xml version=\"1.0\"?><!-- <x><y> --><a t='>'><![CDATA[<q><q>]]></a>"),
            1
        );
        assert_eq!(depth("<a>1 /> 2<b>x</b></a>"), 2);
        assert_eq!(depth("<a"), 1);
        assert_eq!(depth(""), 0);
    }

    #[test]
    fn refuses_deep_nesting_without_touching_the_stack() {
        // 100,000 levels: far beyond what the recursive tokenizer survives on any stack.
        let n = 100_000;
        let text = "<a>".repeat(n) + &"</a>".repeat(n);
        assert_eq!(depth(&text), n);
        assert_eq!(parse(&text).err(), Some(XmlError::TooDeep));
        // Unclosed openers count as well.
        assert_eq!(parse(&"<a>".repeat(5_000)).err(), Some(XmlError::TooDeep));
        let fine = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn dtds_are_refused() {
        let billion = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><l>&b;</l>";
        assert!(matches!(parse(billion), Err(XmlError::Syntax(_))));
    }
}
