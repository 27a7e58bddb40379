//! The stylesheet and script, built into the binary so the app runs from any folder.

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok().insert_header((CONTENT_TYPE, content_type)).insert_header((CACHE_CONTROL, "no-cache")).body(body)
}

pub async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", include_str!("../../static/app.css"))
}

pub async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", include_str!("../../static/app.js"))
}

pub async fn passkey_script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", include_str!("../../static/passkeys.js"))
}
