//! A sign-in counts only if the passkey it checked is still the one stored when it records the
//! use: the update is conditional on the credential as read.

use mailbox::domain::AccountId;
use mailbox::passkeys::store::{PasskeyStore, StoredPasskey};

use crate::support::app::TestApp;
use crate::support::passkey::{Passkey, account_handle, account_uuid};

/// An account with a passkey on a SoftToken (whose counter moves with each sign-in), the
/// store, and the passkey as a sign-in reads it.
async fn a_passkey_as_read(
    app: &TestApp,
    email: &str,
) -> (Passkey<webauthn_authenticator_rs::softtoken::SoftToken>, PasskeyStore, StoredPasskey) {
    let browser = app.signed_up(email, "Racer").await;
    let mut passkey = Passkey::token();
    passkey.enrol(app, &browser, "Token").await;
    let store = PasskeyStore::new(app.db.clone(), app.clock.clone());
    let account = AccountId::from(account_uuid(app, email).await);
    let read = store.find(account, passkey.credential_id()).await.unwrap().expect("the stored passkey");
    (passkey, store, read)
}

#[tokio::test]
async fn passkey_race_a_sign_in_whose_counter_was_overtaken_records_nothing() {
    // Arrange: a sign-in read the passkey; meanwhile another sign-in moved its counter on.
    let app = TestApp::spawn(&[]).await;
    let (mut passkey, store, read) = a_passkey_as_read(&app, "race@example.com").await;
    let handle = account_handle(&app, "race@example.com").await;
    assert_eq!(passkey.sign_in(&app.browser(), &handle).await.redirect(), Some("/account"));

    // Act: the first sign-in records its use of the passkey it read.
    let recorded = store.record_use(&read, &read.passkey).await.unwrap();

    // Assert
    assert!(!recorded, "two sign-ins that read the same counter both counted");
}

#[tokio::test]
async fn passkey_race_a_sign_in_of_a_passkey_removed_meanwhile_records_nothing() {
    // Arrange: a sign-in read the passkey; meanwhile its owner removed it.
    let app = TestApp::spawn(&[]).await;
    let (_passkey, store, read) = a_passkey_as_read(&app, "gone@example.com").await;
    let account = AccountId::from(account_uuid(&app, "gone@example.com").await);
    assert!(store.remove(account, read.id).await.unwrap());

    // Act
    let recorded = store.record_use(&read, &read.passkey).await.unwrap();

    // Assert
    assert!(!recorded, "a removed passkey still signed in");
}

#[tokio::test]
async fn passkey_race_an_unchanged_passkey_records_its_use() {
    let app = TestApp::spawn(&[]).await;
    let (_passkey, store, read) = a_passkey_as_read(&app, "calm@example.com").await;

    assert!(store.record_use(&read, &read.passkey).await.unwrap());
}
