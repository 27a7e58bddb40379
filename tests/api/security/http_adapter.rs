//! The app over the HTTP adapter: its flows use the challenge API, and say so when the API is down.

use reqwest::StatusCode;

use crate::support::TestService;
use crate::support::app::TestApp;
use crate::support::security::{challenges, unused_port};

#[tokio::test]
async fn over_http_the_flows_work_and_challenges_live_in_the_api() {
    let t = TestService::start(&[]).await;
    let endpoint = t.api_url.to_string();
    let app = TestApp::spawn(&[
        ("PASSLOCK_ENDPOINT", &endpoint),
        ("PASSLOCK_TENANCY_ID", &t.tenancy_id),
        ("PASSLOCK_API_KEY", &t.api_key),
        ("CHALLENGE_API_ADDR", ""),
    ])
    .await;

    let browser = app.signed_up("jane@example.com", "Jane").await;
    assert!(browser.logout().await.redirects_to("/"));
    assert!(!browser.is_signed_in().await);
    assert!(browser.login("jane@example.com").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    assert!(browser.is_signed_in().await);

    assert_eq!(challenges(&app.db).await, 0, "the app's own engine was not used");
    assert_eq!(challenges(&t.db).await, 2, "sign-up and login challenges are in the API's database");
}

#[tokio::test]
async fn with_the_api_down_signup_says_unavailable() {
    let endpoint = format!("http://127.0.0.1:{}", unused_port());
    let app = TestApp::spawn(&[("PASSLOCK_ENDPOINT", &endpoint), ("CHALLENGE_API_ADDR", "")]).await;
    let browser = app.browser();

    let page = browser.signup("jane@example.com", "Jane").await;

    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(page.body.contains("unavailable"), "{}", page.body);
    assert!(page.body.contains("value=\"jane@example.com\""));
    assert!(app.smtp.received().is_empty());
    assert!(browser.get("/verify").await.redirects_to("/"));
}
