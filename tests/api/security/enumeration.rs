//! No user enumeration: signing up or logging in answers alike whether or not an account exists.

use reqwest::StatusCode;

use crate::support::app::{TestApp, find_code};
use crate::support::security::{assert_notice_without_code, assert_same_answer, assert_same_resend, challenges, users};

#[tokio::test]
async fn signup_with_a_taken_address_looks_like_signup_with_a_new_one() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("a1@example.com", "Owner").await;
    let (taken, new) = (app.browser(), app.browser());

    let taken_started = taken.signup("a1@example.com", "Someone").await;
    let new_started = new.signup("a2@example.com", "Someone").await;

    assert_same_answer(
        (&taken, &taken_started, "a1@example.com"),
        (&new, &new_started, "a2@example.com"),
        "a***@example.com",
    )
    .await;
    assert_notice_without_code(&app, "a1@example.com", "Someone tried to sign up with your email", "/login").await;
    assert!(find_code(&app.mail_to("a2@example.com").await.text).is_some(), "the new address gets a code");
}

#[tokio::test]
async fn login_with_an_unknown_address_looks_like_login_with_a_known_one() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("k1@example.com", "Known").await;
    let (known, unknown) = (app.browser(), app.browser());

    let known_started = known.login("k1@example.com").await;
    let unknown_started = unknown.login("k2@example.com").await;

    assert_same_answer(
        (&known, &known_started, "k1@example.com"),
        (&unknown, &unknown_started, "k2@example.com"),
        "k***@example.com",
    )
    .await;
    assert_notice_without_code(&app, "k2@example.com", "There is no account for this email", "/signup").await;
    assert!(find_code(&app.mail_to("k1@example.com").await.text).is_some(), "the account holder gets a code");
}

#[tokio::test]
async fn every_branch_creates_one_challenge_and_sends_one_email() {
    let app = TestApp::spawn(&[]).await;
    app.signed_up("owner@example.com", "Owner").await;

    let attempts: [(&str, &str); 4] = [
        ("/signup", "owner@example.com"),
        ("/signup", "newcomer@example.com"),
        ("/login", "owner@example.com"),
        ("/login", "stranger@example.com"),
    ];
    for (path, address) in attempts {
        let browser = app.browser();
        let (challenges_before, mail_before) = (challenges(&app.db).await, app.smtp.received().len());

        let page = browser.post(path, &[("email", address), ("name", "Someone")]).await;

        assert!(page.redirects_to("/verify"), "POST {path} for {address}: {}", page.status);
        assert_eq!(challenges(&app.db).await, challenges_before + 1, "POST {path} for {address}: one challenge");
        let sent = app.smtp.received();
        assert_eq!(sent.len(), mail_before + 1, "POST {path} for {address}: one email");
        assert_eq!(sent.last().unwrap().envelope_to, vec![address.to_owned()]);
    }
}

#[tokio::test]
async fn no_code_signs_in_to_an_address_without_an_account() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.login("nobody@example.com").await.redirects_to("/verify"));

    for (i, code) in ["000001", "000002", "000003", "000004"].into_iter().enumerate() {
        let page = browser.refused_code(code).await;
        assert!(page.body.contains("That code is not right"), "attempt {}: {}", i + 1, page.body);
        assert!(!browser.is_signed_in().await);
    }
    let last = browser.submit_code("000005").await;

    assert_eq!(last.status, StatusCode::BAD_REQUEST);
    assert!(last.body.contains("Let&#39;s start over") || last.body.contains("Let's start over"), "{}", last.body);
    assert!(!browser.is_signed_in().await);
    assert!(browser.get("/verify").await.redirects_to("/"), "the pending login is gone");
    assert_eq!(users(&app.db).await, 0);
}

/// Each flow, for an account typed in capitals and for an unknown address typed the same way:
/// the answers, the code pages and a resend must be the same but for the CSRF token and cookie
/// values. Each flow has an account of its own, so that the rate limits tell nothing either.
#[tokio::test]
async fn enumeration_through_letter_case_finds_nothing_in_any_flow() {
    let app = TestApp::spawn(&[]).await;
    for account in ["jane@example.com", "jack@example.com", "june@example.com", "jill@example.com"] {
        app.signed_up(account, "Known").await;
    }
    let mover = app.signed_up("mover@example.com", "Mover").await;
    let other_mover = app.signed_in_by_email("mover@example.com").await;

    for (path, known, unknown) in
        [("/login", "JANE@EXAMPLE.COM", "JOAN@EXAMPLE.COM"), ("/recover", "JACK@EXAMPLE.COM", "JUDE@EXAMPLE.COM")]
    {
        let (known_browser, unknown_browser) = (app.browser(), app.browser());
        let known_started = known_browser.post(path, &[("email", known)]).await;
        let unknown_started = unknown_browser.post(path, &[("email", unknown)]).await;
        assert_same_answer(
            (&known_browser, &known_started, known),
            (&unknown_browser, &unknown_started, unknown),
            "J***@EXAMPLE.COM",
        )
        .await;
        app.clock.advance(std::time::Duration::from_secs(31));
        assert_same_resend(&known_browser, &unknown_browser).await;
    }

    let (taken, new) = (app.browser(), app.browser());
    let taken_started = taken.signup("JUNE@EXAMPLE.COM", "Someone").await;
    let new_started = new.signup("JADE@EXAMPLE.COM", "Someone").await;
    assert_same_answer(
        (&taken, &taken_started, "JUNE@EXAMPLE.COM"),
        (&new, &new_started, "JADE@EXAMPLE.COM"),
        "J***@EXAMPLE.COM",
    )
    .await;

    let to_taken = mover.change_email("JILL@EXAMPLE.COM").await;
    let to_free = other_mover.change_email("JOEL@EXAMPLE.COM").await;
    assert_same_answer(
        (&mover, &to_taken, "JILL@EXAMPLE.COM"),
        (&other_mover, &to_free, "JOEL@EXAMPLE.COM"),
        "J***@EXAMPLE.COM",
    )
    .await;
}
