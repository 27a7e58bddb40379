//! Naming, renaming and the ownership of passkeys on the account page.

use reqwest::StatusCode;

use crate::support::START_TIME;
use crate::support::app::TestApp;
use crate::support::passkey::{Passkey, passkey_row};

#[tokio::test]
async fn a_passkey_named_with_nothing_gets_a_dated_name() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("mae@example.com", "Mae").await;
    let mut passkey = Passkey::soft();

    // Act
    passkey.enrol(&app, &browser, "   ").await;

    // Assert
    let row = passkey_row(&app, passkey.credential_id()).await.expect("row");
    assert_eq!(row.name, format!("Passkey added {START_TIME}"));
}

#[tokio::test]
async fn renaming_a_passkey_shows_the_new_name() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("kim@example.com", "Kim").await;
    let id = Passkey::soft().enrol(&app, &browser, "Old name").await;

    // Act
    let renamed = browser.post(&format!("/account/passkeys/{id}/rename"), &[("name", "  Work laptop ")]).await;

    // Assert
    assert!(renamed.redirects_to("/account"), "{} {:?}", renamed.status, renamed.location);
    let page = browser.get("/account").await;
    assert!(page.body.contains("Passkey renamed."), "{}", page.body);
    assert!(page.body.contains("Work laptop") && !page.body.contains("Old name"), "{}", page.body);
}

#[tokio::test]
async fn another_accounts_passkey_can_be_neither_renamed_nor_removed() {
    // Arrange: Max's passkey; Nia signed in.
    let app = TestApp::spawn(&[]).await;
    let max = app.signed_up("max@example.com", "Max").await;
    let mut passkey = Passkey::soft();
    let id = passkey.enrol(&app, &max, "Max's key").await;
    let nia = app.signed_up("nia@example.com", "Nia").await;

    // Act
    let renamed = nia.post(&format!("/account/passkeys/{id}/rename"), &[("name", "Mine now")]).await;
    let removed = nia.post(&format!("/account/passkeys/{id}/remove"), &[]).await;

    // Assert
    assert_eq!(renamed.status, StatusCode::NOT_FOUND);
    assert_eq!(removed.status, StatusCode::NOT_FOUND);
    let row = passkey_row(&app, passkey.credential_id()).await.expect("still there");
    assert_eq!(row.name, "Max's key");
}
