//! Nobody can make our mail greet a stranger with text of their choosing, and no name carries
//! invisible characters that reorder or hide what it says.

use crate::support::app::TestApp;

#[tokio::test]
async fn unverified_name_is_not_put_in_a_sign_up_code_email() {
    let app = TestApp::spawn(&[]).await;

    assert!(
        app.browser()
            .signup("victim@example.com", "Call +1 555 0100 or visit evil.example")
            .await
            .redirects_to("/verify")
    );

    let mail = app.mail_to("victim@example.com").await;
    assert!(!mail.text.contains("evil.example") && !mail.html.contains("evil.example"), "{}", mail.text);
    assert!(!mail.text.contains("555 0100"), "{}", mail.text);
    assert!(mail.text.starts_with("Hi,"), "greets nobody by name: {}", mail.text);
}

#[tokio::test]
async fn unverified_name_of_an_account_is_not_put_in_the_code_to_a_new_address() {
    // An attacker names their own account, then asks to move it to a stranger's address.
    let app = TestApp::spawn(&[]).await;
    let attacker = app.signed_up("attacker@example.com", "Call +1 555 0100 or visit evil.example").await;

    assert!(attacker.change_email("stranger@example.com").await.redirects_to("/verify"));

    let mail = app.mail_to("stranger@example.com").await;
    assert!(!mail.text.contains("evil.example") && !mail.html.contains("evil.example"), "{}", mail.text);
    assert!(mail.text.starts_with("Hi,"), "greets nobody by name: {}", mail.text);
}

#[tokio::test]
async fn unverified_name_with_bidi_overrides_and_zero_width_characters_is_stripped() {
    // Arrange: a name with a right-to-left override, a zero-width space and a BOM.
    let app = TestApp::spawn(&[]).await;
    let browser = app.signed_up("bidi@example.com", "Ann\u{202E}gnp.exe\u{200B}\u{FEFF}").await;

    // Act: the account page, and a login code, which greets the confirmed account by name.
    let account = browser.get("/account").await;
    let seen = app.mail_count("bidi@example.com");
    assert!(app.browser().login("bidi@example.com").await.redirects_to("/verify"));
    let mail = app.mail_after("bidi@example.com", seen).await;

    // Assert
    for (what, text) in [("the account page", &account.body), ("the login email", &mail.text), ("its HTML", &mail.html)]
    {
        for invisible in ['\u{202E}', '\u{200B}', '\u{FEFF}'] {
            assert!(!text.contains(invisible), "{what} keeps U+{:04X}", invisible as u32);
        }
    }
    assert!(account.body.contains("Anngnp.exe"), "{}", account.body);
    assert!(mail.text.contains("Hi Anngnp.exe,"), "{}", mail.text);
}
