//! A challenge only completes the flow it was issued for (the flows library on the real engine).

use mailbox::accounts::flows::{Completed, Flow, FlowError};

use crate::support::flows_harness::{FlowsHarness, forged};
use crate::support::security::users;
use crate::support::{email, name};

#[tokio::test]
async fn an_unforged_flow_completes() {
    let lib = FlowsHarness::start().await;
    let mut pending = lib.flows.start(Flow::Signup { email: email("a@example.com"), name: name("A") }).await.unwrap();
    let code = lib.code_to("a@example.com").await;

    let done = lib.flows.verify(&mut pending, &code).await.unwrap();

    assert!(matches!(done, Completed::SignedIn(_)), "{done:?}");
    assert_eq!(users(&lib.t.db).await, 1);
}

#[tokio::test]
async fn a_signup_challenge_does_not_complete_a_login() {
    let lib = FlowsHarness::start().await;
    let signup = lib.flows.start(Flow::Signup { email: email("a@example.com"), name: name("A") }).await.unwrap();
    let code = lib.code_to("a@example.com").await;
    let mut login = forged(Flow::Login { email: email("a@example.com") }, &signup);

    let result = lib.flows.verify(&mut login, &code).await;

    assert!(matches!(result, Err(FlowError::Mismatch)), "{result:?}");
    assert_eq!(users(&lib.t.db).await, 0);
}

#[tokio::test]
async fn a_login_challenge_does_not_complete_an_email_change() {
    let lib = FlowsHarness::start().await;
    let user = lib.account("a@example.com").await;
    let login = lib.flows.start(Flow::Login { email: email("a@example.com") }).await.unwrap();
    let code = lib.code_to("a@example.com").await;
    let mut change = forged(Flow::EmailChange { account: user.id, new_email: email("a@example.com") }, &login);

    let result = lib.flows.verify(&mut change, &code).await;

    assert!(matches!(result, Err(FlowError::Mismatch)), "{result:?}");
    assert_eq!(lib.email_of(&user).await.as_str(), "a@example.com");
    assert!(lib.mailbox.latest_to("a@example.com").await.unwrap().unwrap().subject != "Your email address was changed");
}

#[tokio::test]
async fn an_email_change_challenge_of_one_user_does_not_complete_anothers() {
    let lib = FlowsHarness::start().await;
    let (x, y) = (lib.account("x@example.com").await, lib.account("y@example.com").await);
    let xs = lib.flows.start(Flow::EmailChange { account: x.id, new_email: email("new@example.com") }).await.unwrap();
    let code = lib.code_to("new@example.com").await;
    let mut ys = forged(Flow::EmailChange { account: y.id, new_email: email("new@example.com") }, &xs);

    let result = lib.flows.verify(&mut ys, &code).await;

    assert!(matches!(result, Err(FlowError::Mismatch)), "{result:?}");
    assert_eq!(lib.email_of(&y).await.as_str(), "y@example.com");
    assert_eq!(lib.email_of(&x).await.as_str(), "x@example.com");
}

#[tokio::test]
async fn a_signup_challenge_for_one_address_does_not_sign_up_another() {
    let lib = FlowsHarness::start().await;
    let for_a = lib.flows.start(Flow::Signup { email: email("a@example.com"), name: name("A") }).await.unwrap();
    let code = lib.code_to("a@example.com").await;
    let mut for_b = forged(Flow::Signup { email: email("b@example.com"), name: name("B") }, &for_a);

    let result = lib.flows.verify(&mut for_b, &code).await;

    assert!(matches!(result, Err(FlowError::Mismatch)), "{result:?}");
    assert_eq!(users(&lib.t.db).await, 0);
}
