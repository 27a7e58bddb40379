//! Naming, renaming, removing and the ownership of passkeys on the account page, and what the
//! page tells the device about them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;

use crate::support::app::{Browser, TestApp};
use crate::support::pages::{assert_page, assert_redirect, attribute};
use crate::support::passkey::{Passkey, account_uuid, passkey_row};

/// The account page's list item of the passkey named `name`.
fn row_of<'a>(page: &'a str, name: &str) -> &'a str {
    let start =
        page.find(&format!(r#"<strong class="name">{name}</strong>"#)).unwrap_or_else(|| panic!("no {name}: {page}"));
    &page[start..start + page[start..].find("</li>").expect("the row's end")]
}

/// The account page's `data-passkey-signals` element, from its opening tag on.
async fn device_signals(browser: &Browser) -> String {
    let page = browser.get("/account").await;
    let start =
        page.body.find("<div hidden data-passkey-signals").unwrap_or_else(|| panic!("no signals: {}", page.body));
    page.body[start..start + page.body[start..].find('>').expect("the tag's end")].to_owned()
}

#[tokio::test]
async fn a_passkey_named_with_nothing_is_named_passkey_and_the_day_when_its_provider_is_unknown() {
    // Arrange: the software authenticator reports an all-zero AAGUID, as if it said nothing.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("mae@example.com", "Mae").await;
    let mut passkey = Passkey::soft();

    // Act
    passkey.enrol(&app, &browser, "   ").await;

    // Assert: the day once in the name, the time once in the row.
    let row = passkey_row(&app, passkey.credential_id()).await.expect("row");
    assert_eq!(row.name, "Passkey, 1 January 2026");
    let page = browser.get("/account").await;
    let listed = row_of(&page.body, "Passkey, 1 January 2026");
    assert_eq!(listed.matches("added").count(), 1, "{listed}");
    assert!(listed.contains(r#"added <time datetime="2026-01-01T00:00:00Z""#), "{listed}");
    assert!(listed.contains("last used never"), "{listed}");
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
async fn each_field_and_button_of_a_passkey_names_it_and_the_field_fits_the_name() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("ria@example.com", "Ria").await;
    let id = Passkey::soft().enrol(&app, &browser, "Work laptop").await;
    Passkey::soft().enrol(&app, &browser, "A much longer name for the passkey on my tablet").await;

    // Act
    let page = browser.get("/account").await;

    // Assert
    let row = row_of(&page.body, "Work laptop");
    for label in ["New name for Work laptop", "Rename Work laptop", "Remove Work laptop"] {
        assert!(row.contains(&format!(r#"aria-label="{label}""#)), "{label:?} in {row}");
    }
    assert!(row.contains(&format!(r#"href="/account/passkeys/{id}/remove""#)), "a link to the confirmation: {row}");
    assert_eq!(attribute(row, "size"), Some("12"), "11 characters and room for the caret: {row}");
    let long = row_of(&page.body, "A much longer name for the passkey on my tablet");
    assert_eq!(attribute(long, "size"), Some("41"), "a long name's field stops at what a row holds: {long}");
}

#[tokio::test]
async fn removing_a_passkey_asks_first_and_says_what_it_changes() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("ned@example.com", "Ned").await;
    let mut passkey = Passkey::soft();
    let id = passkey.enrol(&app, &browser, "Work laptop").await;
    let remove = format!("/account/passkeys/{id}/remove");

    // Act 1: the account page's Remove link.
    let asked = browser.get(&remove).await;

    // Assert 1: a question, nothing removed yet.
    assert_page(&asked, StatusCode::OK, "<h1>Remove “Work laptop”?</h1>", "the confirmation");
    assert!(asked.body.contains("This passkey will no longer sign in to your account."), "{}", asked.body);
    assert!(
        asked.body.contains("It is your only passkey: afterwards you sign in with a code sent to"),
        "{}",
        asked.body
    );
    assert!(asked.body.contains(&format!(r#"<form method="post" action="{remove}">"#)), "{}", asked.body);
    assert!(
        asked.body.contains(r#"<button class="danger" type="submit">Remove “Work laptop”</button>"#),
        "{}",
        asked.body
    );
    assert!(asked.body.contains(r#"<a href="/account">Cancel</a>"#), "{}", asked.body);
    assert!(passkey_row(&app, passkey.credential_id()).await.is_some(), "asking removes nothing");

    // Act 2: its button.
    let removed = browser.post(&remove, &[]).await;

    // Assert 2
    assert_redirect(&removed, "/account", "the removal");
    assert!(passkey_row(&app, passkey.credential_id()).await.is_none(), "removed");
    let page = browser.get("/account").await;
    assert!(page.body.contains("Passkey removed. It can no longer sign in to your account."), "{}", page.body);
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
    let asked = nia.get(&format!("/account/passkeys/{id}/remove")).await;
    let removed = nia.post(&format!("/account/passkeys/{id}/remove"), &[]).await;

    // Assert
    assert_eq!(renamed.status, StatusCode::NOT_FOUND);
    assert_eq!(asked.status, StatusCode::NOT_FOUND, "not even its name: {}", asked.body);
    assert_eq!(removed.status, StatusCode::NOT_FOUND);
    let row = passkey_row(&app, passkey.credential_id()).await.expect("still there");
    assert_eq!(row.name, "Max's key");
}

#[tokio::test]
async fn the_account_page_tells_the_device_the_accounts_passkeys_and_its_current_details() {
    // Arrange: two passkeys, then one removed and the name changed.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("ola@example.com", "Ola").await;
    let mut kept = Passkey::soft();
    kept.enrol(&app, &browser, "Phone").await;
    let removed = Passkey::soft().enrol(&app, &browser, "Old laptop").await;
    let before = device_signals(&browser).await;

    // Act
    browser.post(&format!("/account/passkeys/{removed}/remove"), &[]).await;
    browser.post("/account/name", &[("name", "Ola Nordmann")]).await;
    let after = device_signals(&browser).await;

    // Assert: what the Signal API needs, as the browser's WebAuthn JSON writes it.
    let user_id = URL_SAFE_NO_PAD.encode(account_uuid(&app, "ola@example.com").await.as_bytes());
    assert_eq!(attribute(&after, "data-rp-id"), Some("localhost"));
    assert_eq!(attribute(&after, "data-user-id"), Some(user_id.as_str()));
    assert_eq!(attribute(&after, "data-user-name"), Some("ola@example.com"));
    assert_eq!(attribute(&before, "data-display-name"), Some("Ola"));
    assert_eq!(attribute(&after, "data-display-name"), Some("Ola Nordmann"));
    let accepted = |signals: &str| attribute(signals, "data-accepted-credentials").map(|ids| ids.split(' ').count());
    assert_eq!(accepted(&before), Some(2), "{before}");
    assert_eq!(
        attribute(&after, "data-accepted-credentials"),
        Some(URL_SAFE_NO_PAD.encode(kept.credential_id()).as_str())
    );
}
