//! Microsoft 365 through Microsoft Graph.

use super::net::Http;
use super::spec::GraphSpec;
use super::{Fetched, SyncError};
use crate::phone::NumberRules;

pub fn fetch(
    _http: &Http,
    _spec: &GraphSpec,
    _state: Option<&str>,
    _rules: &NumberRules,
) -> Result<Fetched, SyncError> {
    Err(SyncError::new("graph sources are not implemented yet"))
}
