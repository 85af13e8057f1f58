//! The directory's settings: name, region, number shapes, outside prefix, shrink guard. The
//! form becomes the same `RawSettings` the API takes, checked by the same rules.

use super::{blocking, page, page_with, see_other, Nav, Rejected, Signed};
use crate::domain::{DirectorySettings, RawSettings, Scope, Shape};
use crate::http::error::ApiError;
use crate::http::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    n: Nav,
    error: Option<String>,
    name: String,
    region: String,
    numbers: Vec<(&'static str, bool)>,
    address_book_numbers: Vec<(&'static str, bool)>,
    outside_prefix: String,
    max_shrink_percent: String,
}

fn choices(current: Option<&str>) -> Vec<(&'static str, bool)> {
    std::iter::once("")
        .chain(Shape::NAMES)
        .map(|n| (n, current.unwrap_or("") == n))
        .collect()
}

fn filled(n: Nav, raw: &RawSettings, error: Option<String>) -> SettingsPage {
    SettingsPage {
        n,
        error,
        name: raw.name.clone().unwrap_or_default(),
        region: raw.region.clone().unwrap_or_default(),
        numbers: choices(raw.numbers.as_deref()),
        address_book_numbers: choices(raw.address_book_numbers.as_deref()),
        outside_prefix: raw.outside_prefix.clone().unwrap_or_default(),
        max_shrink_percent: raw
            .max_shrink_percent
            .map(|p| p.to_string())
            .unwrap_or_default(),
    }
}

fn raw_of(s: &DirectorySettings) -> RawSettings {
    RawSettings {
        name: s.name.clone(),
        region: s.region.map(|r| r.code().to_owned()),
        numbers: s.numbers.map(|n| n.name().to_owned()),
        outside_prefix: s.outside_prefix.as_ref().map(|p| p.as_str().to_owned()),
        address_book_numbers: s.address_book_numbers.map(|n| n.name().to_owned()),
        max_shrink_percent: s.max_shrink_percent,
    }
}

pub async fn form(mut me: Signed) -> Result<HttpResponse, Rejected> {
    let raw = raw_of(&me.directory.settings);
    Ok(page(&filled(me.nav("settings"), &raw, None)))
}

pub async fn save(
    body: web::Bytes,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let f = me.form(Scope::Admin, &body)?;
    let shrink = f.text("max_shrink_percent");
    let raw = RawSettings {
        name: f.text("name"),
        region: f.text("region").map(|r| r.to_ascii_uppercase()),
        numbers: f.text("numbers"),
        outside_prefix: f.text("outside_prefix"),
        address_book_numbers: f.text("address_book_numbers"),
        max_shrink_percent: None,
    };
    let percent = match shrink.as_deref().map(str::parse::<u8>) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            let msg = format!(
                "max_shrink_percent is `{}`; use a whole number from 0 to 100, or leave it empty",
                shrink.unwrap_or_default()
            );
            return Ok(page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &filled(me.nav("settings"), &raw, Some(msg)),
            ));
        }
    };
    let raw = RawSettings {
        max_shrink_percent: percent,
        ..raw
    };
    // The API's rules: valid values, and a region where a shape needs one.
    let checked = DirectorySettings::try_from(raw.clone())
        .and_then(|s| s.check_region(state.limits.default_region).map(|()| s));
    let settings = match checked {
        Ok(s) => s,
        Err(e) => {
            return Ok(page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &filled(me.nav("settings"), &raw, Some(e.to_string())),
            ))
        }
    };
    let (st, key) = (state.clone(), me.access.directory.clone());
    blocking(move || {
        st.store
            .set_settings(&key, &settings)
            .map_err(ApiError::from)
    })
    .await?;
    me.flash(
        &state,
        true,
        "settings saved; phones get the book anew at their next fetch",
        None,
    );
    Ok(see_other("/admin/settings"))
}
