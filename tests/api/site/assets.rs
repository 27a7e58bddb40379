//! The stylesheet, scripts and icon: linked by a hash of their content, cached for a year, compressed.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};

use crate::support::app::{TestApp, plain_client};

/// The `href` or `src` of the first element of `body` opened by `opening`.
fn link_in<'a>(body: &'a str, opening: &str, attribute: &str) -> &'a str {
    let element = &body[body.find(opening).unwrap_or_else(|| panic!("no {opening} in {body}"))..];
    let start = element.find(&format!("{attribute}=\"")).expect("the attribute") + attribute.len() + 2;
    &element[start..][..element[start..].find('"').unwrap()]
}

/// `/static/{stem}.{8 hex digits}.{extension}`.
fn is_hashed(url: &str, stem: &str, extension: &str) -> bool {
    let Some(hash) =
        url.strip_prefix(&format!("/static/{stem}.")).and_then(|rest| rest.strip_suffix(&format!(".{extension}")))
    else {
        return false;
    };
    hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn pages_link_assets_by_content_hash_which_are_cached_for_a_year_and_compressed() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let http = plain_client();
    let login = http.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();

    // Act
    let links = [
        (link_in(&login, "<link rel=\"stylesheet\"", "href"), "app", "css", "text/css"),
        (link_in(&login, "<link rel=\"icon\"", "href"), "favicon", "svg", "image/svg+xml"),
        (link_in(&login, "<script src=", "src"), "passkeys", "js", "text/javascript"),
    ];

    // Assert
    for (url, stem, extension, content_type) in links {
        assert!(is_hashed(url, stem, extension), "{url} is not {stem}.<hash>.{extension}");
        let response = http.get(format!("{}{url}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable", "{url}");
        assert!(response.headers()[CONTENT_TYPE].to_str().unwrap().starts_with(content_type), "{url}");
    }
    let stylesheet = links[0].0;
    let gzipped = http.get(format!("{}{stylesheet}", app.base)).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(gzipped.headers().get(CONTENT_ENCODING).map(|v| v.as_bytes()), Some(&b"gzip"[..]));
    let body = gzipped.bytes().await.unwrap();
    assert_eq!(&body[..2], [0x1f, 0x8b], "not a gzip stream");
}

#[tokio::test]
async fn an_asset_under_another_hash_or_its_plain_name_is_not_found() {
    let app = TestApp::spawn(&[]).await;
    let http = plain_client();

    for path in ["/static/app.00000000.css", "/static/app.css", "/static/passkeys.js", "/static/nothing.js"] {
        let response = http.get(format!("{}{path}", app.base)).send().await.unwrap();

        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store", "{path}: a miss must not be kept");
    }
}

#[tokio::test]
async fn pages_are_not_compressed_beside_their_csrf_token() {
    let app = TestApp::spawn(&[]).await;

    let response =
        plain_client().get(format!("{}/login", app.base)).header(ACCEPT_ENCODING, "gzip, br").send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(CONTENT_ENCODING).is_none(), "{:?}", response.headers());
}
