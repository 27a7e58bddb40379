//! The throttle: a burst of posts is refused with Retry-After while pages still load.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use crate::support::app::TestApp;

#[tokio::test]
async fn a_burst_of_posts_is_throttled_but_pages_still_load() {
    let app = TestApp::spawn(&[("APP_THROTTLE_PER_MINUTE", "3")]).await;
    let browser = app.browser();
    let token = browser.csrf().await;
    let form = [("csrf", token.as_str()), ("email", "jane@example.com")];

    for i in 1..=3 {
        assert!(browser.post_raw("/login", &form).await.redirects_to("/verify"), "POST {i} passes");
    }
    let refused = browser.http.post(format!("{}/login", app.base)).form(&form).send().await.expect("POST");

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1, "Retry-After {retry_after}");
    assert!(refused.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(refused.text().await.unwrap().contains("Too many requests"));
    assert_eq!(app.mail_count("jane@example.com"), 3, "the refused POST sent nothing");
    for path in ["/login", "/", "/verify"] {
        assert_eq!(browser.get(path).await.status, StatusCode::OK, "GET {path}");
    }
}
