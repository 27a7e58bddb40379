//! The throttle: a burst of posts is refused with Retry-After while pages still load.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, REFERER, RETRY_AFTER};

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
    let typed = [("csrf", token.as_str()), ("email", "jane+<b>@example.com")];
    let refused = browser.http.post(format!("{}/login", app.base)).header(REFERER, format!("{}/login", app.base));
    let refused = refused.form(&typed).send().await.expect("POST");

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1, "Retry-After {retry_after}");
    assert!(refused.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let page = refused.text().await.unwrap();
    for (what, text) in [
        ("the page shell", r#"<meta name="viewport""#),
        ("the stylesheet", r#"<link rel="stylesheet" href="/static/app."#),
        ("the main landmark", "<main>"),
        ("the heading", "<h1>Too many requests</h1>"),
        ("when to try again, in words", "You can try again in "),
        ("the form, to send again", r#"<form method="post" action="/login">"#),
        ("the address as typed, escaped", r#"value="jane+&lt;b&gt;@example.com""#),
        ("the way back to the form", r#"<a href="/login">Back to the form</a>"#),
    ] {
        assert!(page.contains(text), "the 429 page lacks {what} ({text}): {page}");
    }
    assert_eq!(app.mail_count("jane@example.com"), 3, "the refused POST sent nothing");
    for path in ["/login", "/", "/verify"] {
        assert_eq!(browser.get(path).await.status, StatusCode::OK, "GET {path}");
    }
}

/// POSTs `/login` with this session's token as if relayed by a proxy that set `header`.
async fn login_via_proxy(app: &TestApp, browser: &crate::support::app::Browser, header: (&str, &str)) -> StatusCode {
    let token = browser.csrf().await;
    let form = [("csrf", token.as_str()), ("email", "jane@example.com")];
    let response = browser.http.post(format!("{}/login", app.base)).header(header.0, header.1).form(&form).send();
    response.await.expect("POST").status()
}

#[tokio::test]
async fn proxy_clients_behind_a_trusted_proxy_have_separate_budgets() {
    // Arrange: the app behind a proxy on 127.0.0.1, which names each client in a header.
    let app = TestApp::spawn(&[("APP_THROTTLE_PER_MINUTE", "3"), ("APP_TRUSTED_PROXIES", "127.0.0.0/8, ::1")]).await;
    let (busy, other) = (app.browser(), app.browser());

    // Act: one client spends its budget.
    for i in 1..=3 {
        assert_eq!(
            login_via_proxy(&app, &busy, ("X-Forwarded-For", "203.0.113.7")).await,
            StatusCode::SEE_OTHER,
            "POST {i}"
        );
    }
    let refused = login_via_proxy(&app, &busy, ("X-Forwarded-For", "203.0.113.7")).await;

    // Assert: the other client still has its budget.
    assert_eq!(refused, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login_via_proxy(&app, &other, ("X-Forwarded-For", "203.0.113.8")).await, StatusCode::SEE_OTHER);
    // A client cannot get out of its bucket by naming another hop to the left of its own.
    let spoofed = ("X-Forwarded-For", "198.51.100.1, 203.0.113.7");
    assert_eq!(login_via_proxy(&app, &busy, spoofed).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn proxy_clients_named_in_forwarded_have_separate_budgets_when_the_proxy_uses_it() {
    let app = TestApp::spawn(&[
        ("APP_THROTTLE_PER_MINUTE", "3"),
        ("APP_TRUSTED_PROXIES", "127.0.0.1"),
        ("APP_TRUSTED_PROXY_HEADER", "forwarded"),
    ])
    .await;
    let (busy, other) = (app.browser(), app.browser());
    let busy_hop = ("Forwarded", "for=\"[2001:db8::9]:4711\";proto=https");

    for i in 1..=3 {
        assert_eq!(login_via_proxy(&app, &busy, busy_hop).await, StatusCode::SEE_OTHER, "POST {i}");
    }

    assert_eq!(login_via_proxy(&app, &busy, busy_hop).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login_via_proxy(&app, &other, ("Forwarded", "for=203.0.113.8")).await, StatusCode::SEE_OTHER);
}

/// The proxy appends to `X-Forwarded-For` and passes on a `Forwarded` header the client wrote.
#[tokio::test]
async fn proxy_passing_on_a_forwarded_header_of_the_clients_own_chooses_no_bucket() {
    let app = TestApp::spawn(&[("APP_THROTTLE_PER_MINUTE", "3"), ("APP_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let browser = app.browser();

    let mut statuses = Vec::new();
    for n in 1..=6 {
        let token = browser.csrf().await;
        let form = [("csrf", token.as_str()), ("email", "jane@example.com")];
        let response = browser
            .http
            .post(format!("{}/login", app.base))
            .header("X-Forwarded-For", "203.0.113.7")
            .header("Forwarded", format!("for=198.51.100.{n}"))
            .form(&form)
            .send();
        statuses.push(response.await.expect("POST").status());
    }

    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(refused, 3, "a made-up Forwarded header bought a fresh budget: {statuses:?}");
}

#[tokio::test]
async fn proxy_headers_from_a_client_that_is_no_trusted_proxy_choose_no_bucket() {
    let app = TestApp::spawn(&[("APP_THROTTLE_PER_MINUTE", "3")]).await;
    let browser = app.browser();

    let statuses = futures_util::future::join_all((1..=6).map(|n| {
        let (app, browser) = (&app, &browser);
        async move {
            let header = if n % 2 == 0 { "X-Forwarded-For" } else { "Forwarded" };
            let value = if n % 2 == 0 { format!("203.0.113.{n}") } else { format!("for=203.0.113.{n}") };
            login_via_proxy(app, browser, (header, value.as_str())).await
        }
    }))
    .await;

    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(refused, 3, "a fresh address in a header bought a fresh budget: {statuses:?}");
}

#[tokio::test]
async fn proxy_or_not_opening_the_login_page_spends_no_post_of_the_budget() {
    // Arrange
    let app = TestApp::spawn(&[("APP_THROTTLE_PER_MINUTE", "3")]).await;
    let browser = app.browser();

    // Act: the login page opened three times, each starting the passkey autofill as its script does.
    for _ in 0..3 {
        assert_eq!(browser.get("/login").await.status, StatusCode::OK);
        let token = crate::support::passkey::page_token(&browser).await;
        let started =
            crate::support::passkey::post_json_with(&browser, &token, "/passkeys/login/start", &serde_json::json!({}))
                .await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    }

    // Assert: the form budget is whole.
    for i in 1..=3 {
        assert_eq!(login_via_proxy(&app, &browser, ("X-Nothing", "")).await, StatusCode::SEE_OTHER, "POST {i}");
    }
}
