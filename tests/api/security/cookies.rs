//! The session and CSRF cookies' flags: HttpOnly and SameSite=Lax always, Secure in production.

use crate::support::app::TestApp;
use crate::support::security::cookie_attributes;

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax_in_development() {
    let app = TestApp::spawn(&[]).await;

    let (attributes, csrf_attributes) = cookie_attributes(&app, "csrf").await;

    assert!(attributes.contains(&"httponly".to_owned()), "{attributes:?}");
    assert!(attributes.contains(&"samesite=lax".to_owned()), "{attributes:?}");
    assert!(!attributes.contains(&"secure".to_owned()), "plain-HTTP development needs no Secure: {attributes:?}");
    for flag in ["httponly", "samesite=lax", "path=/"] {
        assert!(csrf_attributes.contains(&flag.to_owned()), "CSRF cookie: {csrf_attributes:?}");
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_in_production() {
    let session_key = "s".repeat(64);
    let app = TestApp::spawn(&[
        ("APP_ENV", "production"),
        ("PASSLOCK_API_KEY", "the-production-api-key-of-this-test"),
        ("SESSION_KEY", &session_key),
        ("CHALLENGE_HASH_KEY", &"h".repeat(32)),
    ])
    .await;

    let (attributes, csrf_attributes) = cookie_attributes(&app, "__Host-csrf").await;

    assert!(attributes.contains(&"secure".to_owned()), "{attributes:?}");
    for flag in ["secure", "httponly", "samesite=lax", "path=/"] {
        assert!(csrf_attributes.contains(&flag.to_owned()), "CSRF cookie: {csrf_attributes:?}");
    }
    assert!(attributes.contains(&"httponly".to_owned()), "{attributes:?}");
    assert!(attributes.contains(&"samesite=lax".to_owned()), "{attributes:?}");
}
