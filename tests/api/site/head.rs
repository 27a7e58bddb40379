//! `HEAD` answers as `GET` does, without the body.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};

use crate::support::app::{TestApp, plain_client};

#[tokio::test]
async fn head_of_a_page_answers_like_get_without_the_body() {
    let app = TestApp::spawn(&[]).await;
    let http = plain_client();

    for path in ["/", "/login", "/signup"] {
        let get = http.get(format!("{}{path}", app.base)).send().await.unwrap();
        let head = http.head(format!("{}{path}", app.base)).send().await.unwrap();

        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");
        assert_eq!(head.headers()[CONTENT_TYPE], get.headers()[CONTENT_TYPE], "HEAD {path}");
        assert!(head.headers().contains_key(CONTENT_LENGTH), "HEAD {path}: {:?}", head.headers());
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has a body");
    }
    let unknown = http.head(format!("{}/no-such-page", app.base)).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND, "HEAD of an unknown page");
}
