//! Query parameters, read strictly: a handler takes the parameters it knows one by one, and
//! whatever is left is an error that names the parameter and the ones the URL takes. A typo
//! (`?dryrun=true`, `?qq=anna`) never passes silently, and parameters that change nothing
//! cannot make a cached answer look new.

use super::error::ApiError;
use actix_web::http::StatusCode;

/// The most parameters a URL may carry: phones send a dozen at most.
const MAX_PARAMS: usize = 64;

pub struct Params {
    pairs: Vec<(String, String)>,
    taken: Vec<bool>,
}

impl Params {
    pub fn parse(query: &str) -> Result<Params, ApiError> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .take(MAX_PARAMS + 1)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.len() > MAX_PARAMS {
            return Err(bad(format!(
                "the URL carries more than {MAX_PARAMS} parameters"
            )));
        }
        Ok(Params {
            taken: vec![false; pairs.len()],
            pairs,
        })
    }

    /// The value of `name`, if given; giving it twice is an error, since which one counts
    /// would be a guess.
    pub fn take(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        let mut found = None;
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if k == name {
                if found.is_some() {
                    return Err(bad(format!("{name} is given twice; give it once")));
                }
                self.taken[i] = true;
                found = Some(v.clone());
            }
        }
        Ok(found)
    }

    /// Every value given for `name`, without taking it.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A yes/no parameter: `true/false`, `1/0`, `yes/no`, `on/off`, or the bare name (`?dry_run`)
    /// for yes.
    pub fn flag(&mut self, name: &str) -> Result<bool, ApiError> {
        match self.take(name)? {
            None => Ok(false),
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "" | "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(bad(format!(
                    "{name} is `{v}`; use true or false (also 1/0, yes/no)"
                ))),
            },
        }
    }

    /// A number from 1 on, if given (`page`, `first`).
    pub fn positive(&mut self, name: &str) -> Result<Option<usize>, ApiError> {
        self.take(name)?
            .map(|p| match p.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(bad(format!(
                    "{name} is `{p}`; use a whole number from 1 on"
                ))),
            })
            .transpose()
    }

    /// Parameters a protocol sends that change nothing here (a Gigaset base's `mac`): taken
    /// without being read.
    pub fn accept(&mut self, names: &[&str]) {
        for (i, (k, _)) in self.pairs.iter().enumerate() {
            if names.contains(&k.as_str()) {
                self.taken[i] = true;
            }
        }
    }

    /// The first parameter nobody took, if any: the name and its value.
    pub fn unknown(&self) -> Option<(&str, &str)> {
        self.pairs
            .iter()
            .zip(&self.taken)
            .find(|(_, t)| !**t)
            .map(|((k, v), _)| (k.as_str(), v.as_str()))
    }

    /// Ends the reading: a parameter nobody took is refused, naming what this URL takes.
    pub fn finish(self, accepted: &[&str]) -> Result<(), ApiError> {
        match self.unknown() {
            None => Ok(()),
            Some((k, _)) => Err(unknown(k, accepted)),
        }
    }
}

/// The management API's query: besides its own parameters, every URL takes `apikey` (the
/// directory key, which `auth` reads).
pub fn api(query: &str) -> Result<Params, ApiError> {
    let mut p = Params::parse(query)?;
    p.accept(&[API_KEY]);
    Ok(p)
}

pub const API_KEY: &str = "apikey";

/// A management URL that takes no parameter but `apikey`: anything else is refused, as on
/// every other URL (`?dryrun=1` on a settings change must not pass unnoticed).
pub struct KeyOnly;

impl actix_web::FromRequest for KeyOnly {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            api(req.query_string())
                .and_then(|p| p.finish(&[API_KEY]))
                .map(|()| KeyOnly),
        )
    }
}

pub fn unknown(name: &str, accepted: &[&str]) -> ApiError {
    let name: String = name.chars().take(40).collect();
    let list = if accepted.is_empty() {
        "this URL takes no parameters".to_owned()
    } else {
        format!("this URL takes {}", accepted.join(", "))
    };
    bad(format!("unknown parameter `{name}`; {list}"))
}

fn bad(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_known_refuses_unknown_and_twice() {
        let mut p = Params::parse("q=M%C3%BCller&numbers=national&bust=1").unwrap();
        assert_eq!(p.take("q").unwrap().as_deref(), Some("Müller"));
        assert_eq!(p.take("numbers").unwrap().as_deref(), Some("national"));
        let e = p.finish(&["q", "numbers"]).unwrap_err();
        assert!(e.message.contains("`bust`") && e.message.contains("q, numbers"));
        let mut p = Params::parse("q=a&q=b").unwrap();
        assert!(p.take("q").unwrap_err().message.contains("twice"));
    }

    #[test]
    fn flags_in_every_spelling() {
        for (q, want) in [
            ("dry_run", true),
            ("dry_run=", true),
            ("dry_run=1", true),
            ("dry_run=YES", true),
            ("dry_run=false", false),
            ("dry_run=0", false),
            ("", false),
        ] {
            assert_eq!(
                Params::parse(q).unwrap().flag("dry_run").unwrap(),
                want,
                "{q}"
            );
        }
        assert!(Params::parse("dry_run=maybe")
            .unwrap()
            .flag("dry_run")
            .is_err());
    }

    #[test]
    fn positive_numbers_only() {
        assert_eq!(
            Params::parse("page=3").unwrap().positive("page").unwrap(),
            Some(3)
        );
        for bad in [
            "page=0",
            "page=-1",
            "page=x",
            "page=99999999999999999999999",
        ] {
            assert!(
                Params::parse(bad).unwrap().positive("page").is_err(),
                "{bad}"
            );
        }
    }
}
