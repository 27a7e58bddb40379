//! The page a throttled form gets: when to try again, in words, and the form as it was typed.

use actix_web::dev::ServiceRequest;
use actix_web::http::{StatusCode, Uri, header};
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::forms::email_field;
use super::layout::bare_page;
use crate::domain::wait_in_words;

/// The 429 answer to `req`, which may be tried again after `retry_after` seconds.
pub async fn answer(req: &mut ServiceRequest, retry_after: u64) -> HttpResponse {
    let typed = req.extract::<web::Form<Vec<(String, String)>>>().await.ok().map(|form| form.into_inner());
    let back = referring_page(req);
    let page = bare_page("Too many requests", content(req.path(), typed, back.as_deref(), retry_after));
    HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
        .insert_header((header::RETRY_AFTER, retry_after))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(page.into_string())
}

fn content(action: &str, typed: Option<Vec<(String, String)>>, back: Option<&str>, retry_after: u64) -> Markup {
    // Only a form with an address is offered again: the others hold a code or nothing to keep.
    let email_form = typed.and_then(|fields| {
        let email = fields.iter().find(|(name, _)| name == "email")?.1.clone();
        Some((email, fields.into_iter().filter(|(name, _)| name != "email").collect::<Vec<_>>()))
    });
    html! {
        h1 { "Too many requests" }
        p { "Too many forms came from your network in a short time. You can try again in " (wait_in_words(retry_after)) "." }
        @if let Some((email, others)) = email_form {
            form method="post" action=(action) {
                // The rest of the form (its CSRF token, a name) goes back as it came.
                @for (name, value) in &others { input type="hidden" name=(name) value=(value); }
                (email_field("Email", &email))
                button type="submit" { "Try again" }
            }
        }
        p {
            @match back {
                Some(path) => a href=(path) { "Back to the form" },
                None => a href="/" { "Back to the start" },
            }
        }
    }
}

/// The path and query of the page the form was on, from `Referer`; only the path is kept, so
/// the link stays on this site whoever wrote the header.
fn referring_page(req: &ServiceRequest) -> Option<String> {
    let referer: Uri = req.headers().get(header::REFERER)?.to_str().ok()?.parse().ok()?;
    let path = referer.path_and_query()?.as_str();
    // `//host` (or `/\host`, which browsers read alike) would leave the site.
    let stays_here = path.starts_with('/') && !path[1..].starts_with(['/', '\\']);
    stays_here.then(|| path.to_owned())
}
