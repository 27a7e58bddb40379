//! Assertions on the pages the sample app answers with, worded to say what went wrong.

use reqwest::StatusCode;

use super::app::Page;

/// Asserts a redirect (303) to `path`.
#[track_caller]
pub fn assert_redirect(page: &Page, path: &str, what: &str) {
    assert!(
        page.redirects_to(path),
        "{what}: expected 303 to {path}, got {} to {:?}: {}",
        page.status,
        page.location,
        page.body
    );
}

/// Asserts the status and that the body contains `text`.
#[track_caller]
pub fn assert_page(page: &Page, status: StatusCode, text: &str, what: &str) {
    assert_eq!(page.status, status, "{what}: status; body: {}", page.body);
    assert!(page.body.contains(text), "{what}: page lacks {text:?}: {}", page.body);
}

/// The value of the first `name="..."` attribute in `body`.
pub fn attribute<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let start = body.find(&format!("{name}=\""))? + name.len() + 2;
    let end = body[start..].find('"')?;
    Some(&body[start..start + end])
}
