//! The sample app's flows over real HTTP, with codes read from mail delivered over SMTP.

use reqwest::StatusCode;

use crate::support::app::TestApp;

#[tokio::test]
async fn sign_up_creates_a_verified_account_and_signs_in() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();

    let started = browser.signup("jane@example.com", "Jane Doe").await;
    assert!(started.redirects_to("/verify"), "{}", started.status);
    let code_page = browser.get("/verify").await;
    assert!(code_page.body.contains("j***@example.com"));
    assert!(code_page.body.contains("autocomplete=\"one-time-code\"") && code_page.body.contains("inputmode=\"numeric\""));
    let code = app.code_for("jane@example.com").await;

    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("Jane Doe") && account.body.contains("jane@example.com"));
    assert!(account.body.contains("verified"));
}
