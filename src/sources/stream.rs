//! Reading a JSON answer as a stream: the records array at one JSON pointer is handed over
//! one record at a time, a few small values at other pointers (the next-page link) are kept,
//! and everything else is skipped without being built. Memory follows the largest record,
//! not the size of the answer. serde_json bounds the nesting depth (128) on every path,
//! including the skipped ones.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;

/// A JSON pointer (RFC 6901) as its unescaped tokens; the empty pointer is the whole answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pointer(Vec<String>);

impl Pointer {
    pub fn parse(p: &str) -> Pointer {
        Pointer(
            p.split('/')
                .skip(1)
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect(),
        )
    }

    fn starts_with(&self, path: &[String]) -> bool {
        self.0.len() >= path.len() && self.0[..path.len()] == *path
    }
}

/// Where the records are.
pub enum Records<'a> {
    At(&'a Pointer),
    /// The answer itself if it is an array, else the first array in document order under
    /// one of these top-level keys.
    Guess(&'a [&'a str]),
}

/// What the stream kept besides the records.
#[derive(Debug, Default)]
pub struct Kept {
    pub values: HashMap<Pointer, Value>,
    /// Whether a records array was found.
    pub found_records: bool,
}

/// Reads `reader` as one JSON document, calling `each` for every record. `each` may stop
/// the reading with an error message.
pub fn read(
    reader: impl Read,
    records: Records,
    keep: &[Pointer],
    each: &mut dyn FnMut(Value) -> Result<(), String>,
) -> Result<Kept, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut kept = Kept::default();
    let mut walk = Walk {
        path: Vec::new(),
        records: &records,
        keep,
        each,
        kept: &mut kept,
    };
    (&mut walk).deserialize(&mut de)?;
    de.end()?;
    Ok(kept)
}

struct Walk<'a, 'b> {
    path: Vec<String>,
    records: &'a Records<'a>,
    keep: &'a [Pointer],
    each: &'b mut dyn FnMut(Value) -> Result<(), String>,
    kept: &'b mut Kept,
}

impl Walk<'_, '_> {
    fn at_records(&self) -> bool {
        match self.records {
            Records::At(p) => p.0 == self.path,
            Records::Guess(keys) => {
                !self.kept.found_records
                    && (self.path.is_empty()
                        || (self.path.len() == 1 && keys.contains(&self.path[0].as_str())))
            }
        }
    }

    /// Whether anything wanted lies at or below the current path.
    fn wanted_below(&self) -> bool {
        let records = match self.records {
            Records::At(p) => p.starts_with(&self.path),
            Records::Guess(keys) => {
                self.path.is_empty()
                    || (self.path.len() == 1 && keys.contains(&self.path[0].as_str()))
            }
        };
        records || self.keep.iter().any(|k| k.starts_with(&self.path))
    }

    fn keep_here(&self) -> Option<Pointer> {
        self.keep.iter().find(|k| k.0 == self.path).cloned()
    }
}

impl<'de> DeserializeSeed<'de> for &mut Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if let Some(p) = self.keep_here() {
            let v = Value::deserialize(d)?;
            self.kept.values.insert(p, v);
            return Ok(());
        }
        if !self.wanted_below() {
            IgnoredAny::deserialize(d)?;
            return Ok(());
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            self.path.push(key);
            let r = map.next_value_seed(&mut *self);
            self.path.pop();
            r?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.at_records() {
            self.kept.found_records = true;
            while let Some(v) = seq.next_element::<Value>()? {
                (self.each)(v).map_err(serde::de::Error::custom)?;
            }
            return Ok(());
        }
        let mut i = 0usize;
        loop {
            self.path.push(i.to_string());
            let r = seq.next_element_seed(&mut *self);
            self.path.pop();
            if r?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(doc: &str, records: Records, keep: &[Pointer]) -> (Vec<Value>, Kept) {
        let mut got = Vec::new();
        let kept = read(doc.as_bytes(), records, keep, &mut |v| {
            got.push(v);
            Ok(())
        })
        .unwrap();
        (got, kept)
    }

    #[test]
    fn streams_records_and_keeps_the_next_link() {
        let doc =
            r#"{"meta": {"big": [1,2,3], "next": "/p2"}, "data": {"items": [{"a": 1}, {"a": 2}]}}"#;
        let next = Pointer::parse("/meta/next");
        let (got, kept) = run(
            doc,
            Records::At(&Pointer::parse("/data/items")),
            std::slice::from_ref(&next),
        );
        assert_eq!(got, vec![json!({"a": 1}), json!({"a": 2})]);
        assert_eq!(kept.values[&next], json!("/p2"));
        assert!(kept.found_records);
    }

    #[test]
    fn guesses_like_the_rest_reader() {
        let (got, _) = run(r#"[{"x":1}]"#, Records::Guess(&["value"]), &[]);
        assert_eq!(got.len(), 1);
        let keep = [Pointer::parse("/@odata.nextLink")];
        let (got, kept) = run(
            r#"{"@odata.nextLink": "u", "skip": [[1]], "value": [{"id": "1"}]}"#,
            Records::Guess(&["value", "items"]),
            &keep,
        );
        assert_eq!(got, vec![json!({"id": "1"})]);
        assert_eq!(kept.values[&keep[0]], json!("u"));
        let (got, kept) = run(r#"{"x": 1}"#, Records::Guess(&["value"]), &[]);
        assert!(got.is_empty() && !kept.found_records);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        // Skipped without recursion (serde_json skips with a loop), so no crash either way.
        let doc = format!(r#"{{"skipped": {deep}, "value": []}}"#);
        assert!(read(
            doc.as_bytes(),
            Records::Guess(&["value"]),
            &[],
            &mut |_| Ok(())
        )
        .is_ok());
        let doc = format!(r#"{{"value": [{deep}]}}"#);
        assert!(read(
            doc.as_bytes(),
            Records::Guess(&["value"]),
            &[],
            &mut |_| Ok(())
        )
        .is_err());
    }

    #[test]
    fn a_record_can_stop_the_reading() {
        let r = read(
            r#"[1, 2, 3]"#.as_bytes(),
            Records::Guess(&[]),
            &[],
            &mut |v| {
                if v == json!(2) {
                    Err("enough".into())
                } else {
                    Ok(())
                }
            },
        );
        assert!(r.unwrap_err().to_string().contains("enough"));
    }
}
