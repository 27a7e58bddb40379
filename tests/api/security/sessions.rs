//! Sessions: missing, garbage, tampered, planted and replayed cookies, and what the session table keeps.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use mailbox::db::on_backend;
use reqwest::StatusCode;
use reqwest::header::COOKIE;

use crate::support::app::{TestApp, plain_client};
use crate::support::security::{count, location};

#[tokio::test]
async fn a_client_without_a_session_cannot_post_a_form() {
    let app = TestApp::spawn(&[]).await;
    let client = plain_client();

    for token in ["", "anything", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let response = client
            .post(format!("{}/verify", app.base))
            .form(&[("csrf", token), ("code", "123456")])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {token:?}");
    }
    let response =
        client.post(format!("{}/signup", app.base)).form(&[("email", "a@example.com"), ("name", "A")]).send().await;
    assert_eq!(response.expect("POST").status(), StatusCode::FORBIDDEN);
    assert!(app.smtp.received().is_empty());
}

#[tokio::test]
async fn a_garbage_session_cookie_counts_as_no_session() {
    let app = TestApp::spawn(&[]).await;
    let garbage = format!("session={}", "A".repeat(120));

    let account = app.get_with_cookie("/account", &garbage).await;
    assert_eq!(account.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&account), Some("/login"));
    assert_eq!(app.get_with_cookie("/", &garbage).await.status(), StatusCode::OK);

    let post = plain_client()
        .post(format!("{}/verify", app.base))
        .header(COOKIE, &garbage)
        .form(&[("csrf", "A".repeat(43).as_str()), ("code", "123456")])
        .send()
        .await
        .expect("POST");
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_tampered_session_cookie_counts_as_no_session() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let cookie = browser.session_cookie();
    // The untouched cookie works outside the browser too.
    assert_eq!(app.get_with_cookie("/account", &format!("session={cookie}")).await.status(), StatusCode::OK);

    let middle = cookie.len() / 2;
    let flipped = if &cookie[middle..=middle] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &cookie[..middle], &cookie[middle + 1..]);
    let account = app.get_with_cookie("/account", &format!("session={tampered}")).await;

    assert_eq!(account.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&account), Some("/login"));
}

#[tokio::test]
async fn signing_in_replaces_the_session_cookie() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    // What an attacker could have planted before the victim signed in.
    let before = browser.session_cookie();
    let code = app.code_for("jane@example.com").await;

    assert!(browser.submit_code(&code).await.redirects_to("/account"));

    let after = browser.session_cookie();
    assert_ne!(before, after);
    let planted = app.get_with_cookie("/account", &format!("session={before}")).await;
    assert_eq!(planted.status(), StatusCode::SEE_OTHER, "the planted cookie is not signed in");
    assert_eq!(location(&planted), Some("/login"));
}

#[tokio::test]
async fn a_cookie_replayed_after_logout_is_not_signed_in() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let cookie = format!("session={}", browser.session_cookie());

    assert!(browser.logout().await.redirects_to("/"));

    let replayed = app.get_with_cookie("/account", &cookie).await;
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER, "the session ended on the server too");
    assert_eq!(location(&replayed), Some("/login"));
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL").await, 0);
}

#[tokio::test]
async fn the_session_table_holds_no_usable_key() {
    let app = TestApp::spawn(&[]).await;
    let browser = app.browser();
    assert!(browser.signup("jane@example.com", "Jane").await.redirects_to("/verify"));
    let code = app.code_for("jane@example.com").await;
    assert!(browser.submit_code(&code).await.redirects_to("/account"));
    let cookie = browser.session_cookie();

    let rows: Vec<(Vec<u8>, String)> =
        on_backend!(app.db.reader(), pool => sqlx::query_as("SELECT key_hash, state FROM sessions").fetch_all(pool).await)
            .unwrap();

    assert!(!rows.is_empty());
    for (key_hash, state) in &rows {
        assert_eq!(key_hash.len(), 32, "a SHA-256");
        let hex: String = key_hash.iter().map(|b| format!("{b:02x}")).collect();
        for encoded in [hex, STANDARD.encode(key_hash), URL_SAFE_NO_PAD.encode(key_hash)] {
            assert!(!cookie.contains(&encoded), "the cookie carries a stored hash");
        }
        assert!(!state.contains(&cookie), "the state holds the cookie");
    }
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL").await, 1);
}

#[tokio::test]
async fn session_flood_of_cookieless_page_views_writes_no_session() {
    // Arrange
    let app = TestApp::spawn(&[]).await;
    let client = plain_client();
    let before = count(&app.db, "SELECT COUNT(*) FROM sessions").await;

    // Act: 500 views of each public page, none sending a cookie back.
    for path in ["/", "/login", "/signup", "/recover"] {
        let views = (0..500).map(|_| {
            let url = format!("{}{path}", app.base);
            let client = client.clone();
            async move { client.get(url).send().await.expect("GET").status() }
        });
        for status in futures_util::future::join_all(views).await {
            assert_eq!(status, StatusCode::OK, "GET {path}");
        }
    }

    // Assert: no session was stored; a person's forms still work, and a forged post does not.
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM sessions").await, before, "a page view stored a session");
    let person = app.browser();
    assert!(person.signup("flood@example.com", "Flood").await.redirects_to("/verify"));
    let forger = app.browser();
    let forged = crate::support::security::post_with_token(
        &forger,
        "/login",
        Some(&person.csrf().await),
        &[("email", "x@example.com")],
    )
    .await;
    crate::support::security::assert_forbidden(&forged, "a token from another browser");
}
