//! `/admin`: stub.
use actix_web::web;
#[derive(Default)]
pub struct Sessions;
pub fn routes(_cfg: &mut web::ServiceConfig) {}
