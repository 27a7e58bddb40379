//! The session store keeps only the key's hash, honours expiry on every read and write, and ends
//! every session of an account at once, so that no request in flight can bring one back. It
//! lists an account's tagged sessions, notes when each was last seen (at most every five
//! minutes), and ends one, or all but one, of an account's sessions and never another's.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use mailbox::accounts::session_store::{DbSessionStore, NEW_KEY_KEY, RECOVERY_KEY, SessionTag, TAG_KEY, USER_ID_KEY};
use mailbox::db::{Database, on_backend};
use mailbox::domain::{AccountId, Device};
use sha2::{Digest, Sha256};

use super::Fixture;
use crate::support::START_MS;
use crate::support::postgres::Backend;

const TTL: Duration = Duration::hours(1);

/// actix-session's state map.
type SessionState = HashMap<String, String>;

storage_contract!(
    save_then_load_round_trips,
    key_is_64_url_safe_chars_and_never_stored,
    unknown_key_loads_as_none,
    expired_session_loads_as_none,
    update_keeps_the_key_and_replaces_state_and_user,
    update_extends_expiry,
    update_asking_for_a_new_key_moves_the_session_to_it_in_one_step,
    a_new_key_for_a_session_that_has_ended_begins_a_new_one,
    save_asking_for_a_new_key_stores_no_trace_of_the_request,
    update_of_unknown_key_starts_an_empty_session_under_a_new_key,
    a_request_in_flight_cannot_bring_back_a_session_signed_out_everywhere,
    update_of_expired_key_saves_under_a_new_key,
    update_ttl_extends_but_does_not_revive,
    a_recovery_session_belongs_to_its_account_and_is_signed_out_with_it,
    delete_ends_the_session,
    delete_all_for_user_removes_only_that_users_sessions,
    deleting_the_user_cascades_to_sessions,
    purge_expired_removes_only_expired_rows,
    unknown_user_is_an_error_not_a_panic,
    user_id_that_is_not_a_json_string_is_refused,
    corrupt_state_is_a_deserialization_error,
    an_accounts_tagged_sessions_are_listed_with_device_and_times,
    a_recovery_session_is_listed_as_recovering,
    last_seen_is_written_at_most_every_five_minutes_and_with_every_change,
    ending_one_session_needs_its_account,
    ending_all_but_one_keeps_that_one_and_other_accounts,
    a_tag_that_is_not_a_session_tag_is_refused,
);

struct Sessions {
    f: Fixture,
    store: DbSessionStore,
    user_a: AccountId,
    user_b: AccountId,
}

async fn sessions(backend: Backend) -> Sessions {
    let f = Fixture::new(backend).await;
    let user_a = f.account("a@example.com").await;
    let user_b = f.account("b@example.com").await;
    let store = DbSessionStore::new(f.db.clone(), f.clock.clone());
    Sessions { f, store, user_a, user_b }
}

/// A state as actix-session builds it: every value JSON-encoded.
fn state(entries: &[(&str, &str)]) -> SessionState {
    entries.iter().map(|(k, v)| (k.to_string(), serde_json::to_string(v).unwrap())).collect()
}

fn user_state(user: AccountId) -> SessionState {
    state(&[(USER_ID_KEY, &user.to_string())])
}

const FIREFOX_ON_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0";

/// A session of `user`, tagged as signed in on `user_agent`; and its tag.
fn tagged_state(user: AccountId, user_agent: &str) -> (SessionState, SessionTag) {
    let tag = SessionTag::new(Device::from_user_agent(user_agent));
    let mut signed_in = user_state(user);
    signed_in.insert(TAG_KEY.to_owned(), serde_json::to_string(&tag).unwrap());
    (signed_in, tag)
}

const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);

fn same_key(key: &SessionKey) -> SessionKey {
    key.as_ref().to_owned().try_into().unwrap()
}

fn key_hash(key: &SessionKey) -> Vec<u8> {
    Sha256::digest(key.as_ref().as_bytes()).to_vec()
}

/// Signs `user` out everywhere, as recovery does.
async fn end_all(db: &Database, user: AccountId) -> u64 {
    let mut tx = db.begin_write().await.unwrap();
    let ended = DbSessionStore::end_all_of(tx.conn(), user).await.unwrap();
    tx.commit().await.unwrap();
    ended
}

async fn count(db: &Database) -> i64 {
    db.scalar("SELECT COUNT(*) FROM sessions").await.unwrap()
}

async fn stored_user_id(db: &Database, key: &SessionKey) -> Option<String> {
    on_backend!(db.reader(), pool => sqlx::query_scalar("SELECT user_id FROM sessions WHERE key_hash = $1")
        .bind(key_hash(key))
        .fetch_one(pool)
        .await)
    .unwrap()
}

async fn save_then_load_round_trips(backend: Backend) {
    let s = sessions(backend).await;
    let saved = state(&[("flash", "hello"), ("n", "42")]);
    let key = s.store.save(saved.clone(), &TTL).await.unwrap();
    assert_eq!(s.store.load(&key).await.unwrap(), Some(saved));
    assert_eq!(stored_user_id(&s.f.db, &key).await, None);
}

async fn key_is_64_url_safe_chars_and_never_stored(backend: Backend) {
    let s = sessions(backend).await;
    let key = s.store.save(state(&[]), &TTL).await.unwrap();
    let raw = key.as_ref();
    assert_eq!(raw.len(), 64);
    assert!(raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));

    let (stored_hash, stored_state): (Vec<u8>, String) = on_backend!(s.f.db.reader(), pool =>
        sqlx::query_as("SELECT key_hash, state FROM sessions").fetch_one(pool).await)
    .unwrap();
    assert_ne!(stored_hash, raw.as_bytes());
    assert_eq!(stored_hash, Sha256::digest(raw.as_bytes()).to_vec());
    assert!(!stored_state.contains(raw));
    let by_raw: i64 = on_backend!(s.f.db.reader(), pool =>
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE key_hash = $1")
            .bind(raw.as_bytes())
            .fetch_one(pool)
            .await)
    .unwrap();
    assert_eq!(by_raw, 0);

    let other = s.store.save(state(&[]), &TTL).await.unwrap();
    assert_ne!(other, key);
}

async fn unknown_key_loads_as_none(backend: Backend) {
    let s = sessions(backend).await;
    let unknown: SessionKey = "x".repeat(64).try_into().unwrap();
    assert_eq!(s.store.load(&unknown).await.unwrap(), None);
}

async fn expired_session_loads_as_none(backend: Backend) {
    let s = sessions(backend).await;
    let key = s.store.save(state(&[("a", "b")]), &Duration::minutes(10)).await.unwrap();
    s.f.clock.advance(std::time::Duration::from_secs(599));
    assert!(s.store.load(&key).await.unwrap().is_some());
    // expires_at itself counts as expired.
    s.f.clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(s.store.load(&key).await.unwrap(), None);
}

async fn update_keeps_the_key_and_replaces_state_and_user(backend: Backend) {
    let s = sessions(backend).await;
    let key = s.store.save(state(&[("step", "1")]), &TTL).await.unwrap();
    let mut signed_in = user_state(s.user_a);
    signed_in.insert("step".into(), serde_json::to_string("2").unwrap());

    let updated = s.store.update(same_key(&key), signed_in.clone(), &TTL).await.unwrap();
    assert_eq!(updated, key);
    assert_eq!(s.store.load(&key).await.unwrap(), Some(signed_in));
    assert_eq!(stored_user_id(&s.f.db, &key).await, Some(s.user_a.to_string()));
    assert_eq!(count(&s.f.db).await, 1);

    // Signing out (removing the entry) clears the column too.
    s.store.update(same_key(&key), state(&[]), &TTL).await.unwrap();
    assert_eq!(stored_user_id(&s.f.db, &key).await, None);
}

/// Signing in: the row moves to a new key, with the new state, as a session that begins now;
/// the old key (which may have been planted) loads nothing, and the request is not stored.
async fn update_asking_for_a_new_key_moves_the_session_to_it_in_one_step(backend: Backend) {
    let s = sessions(backend).await;
    let planted = s.store.save(state(&[("typed_email", "a@example.com")]), &TTL).await.unwrap();
    s.f.clock.advance(MINUTE);
    let mut signed_in = user_state(s.user_a);
    signed_in.insert(NEW_KEY_KEY.to_owned(), "true".to_owned());

    let key = s.store.update(same_key(&planted), signed_in, &TTL).await.unwrap();

    assert_ne!(key, planted);
    assert_eq!(key.as_ref().len(), 64);
    assert_eq!(s.store.load(&planted).await.unwrap(), None);
    assert_eq!(s.store.load(&key).await.unwrap(), Some(user_state(s.user_a)));
    assert_eq!(stored_user_id(&s.f.db, &key).await, Some(s.user_a.to_string()));
    assert_eq!(count(&s.f.db).await, 1);
    let created_at: i64 = on_backend!(s.f.db.reader(), pool =>
        sqlx::query_scalar("SELECT created_at FROM sessions").fetch_one(pool).await)
    .unwrap();
    assert_eq!(created_at, START_MS + 60_000);
}

/// A session that ended before its new key was stored (deleting the account ends it, and so
/// does recovery) begins anew under that key with the state the request left: as it would
/// for a client that had no session.
async fn a_new_key_for_a_session_that_has_ended_begins_a_new_one(backend: Backend) {
    let s = sessions(backend).await;
    let old = s.store.save(user_state(s.user_a), &TTL).await.unwrap();
    end_all(&s.f.db, s.user_a).await;
    let mut signed_out = state(&[("notice", "Your account was deleted.")]);
    signed_out.insert(NEW_KEY_KEY.to_owned(), "true".to_owned());

    let key = s.store.update(same_key(&old), signed_out, &TTL).await.unwrap();

    assert_ne!(key, old);
    assert_eq!(s.store.load(&key).await.unwrap(), Some(state(&[("notice", "Your account was deleted.")])));
    assert_eq!(s.store.load(&old).await.unwrap(), None);
}

async fn save_asking_for_a_new_key_stores_no_trace_of_the_request(backend: Backend) {
    let s = sessions(backend).await;
    let mut signed_in = user_state(s.user_a);
    signed_in.insert(NEW_KEY_KEY.to_owned(), "true".to_owned());
    let key = s.store.save(signed_in, &TTL).await.unwrap();
    assert_eq!(s.store.load(&key).await.unwrap(), Some(user_state(s.user_a)));
}

async fn update_extends_expiry(backend: Backend) {
    let s = sessions(backend).await;
    let key = s.store.save(state(&[]), &Duration::minutes(10)).await.unwrap();
    s.f.clock.advance(std::time::Duration::from_secs(540));
    s.store.update(same_key(&key), state(&[("a", "b")]), &Duration::minutes(10)).await.unwrap();
    s.f.clock.advance(std::time::Duration::from_secs(540));
    assert!(s.store.load(&key).await.unwrap().is_some());
}

async fn update_of_unknown_key_starts_an_empty_session_under_a_new_key(backend: Backend) {
    let s = sessions(backend).await;
    let planted: SessionKey = "a".repeat(64).try_into().unwrap();
    let key = s.store.update(same_key(&planted), state(&[("a", "b")]), &TTL).await.unwrap();
    assert_ne!(key, planted);
    assert_eq!(key.as_ref().len(), 64);
    assert_eq!(s.store.load(&key).await.unwrap(), Some(SessionState::new()));
    assert_eq!(s.store.load(&planted).await.unwrap(), None);
}

async fn a_request_in_flight_cannot_bring_back_a_session_signed_out_everywhere(backend: Backend) {
    let s = sessions(backend).await;
    let stolen = s.store.save(user_state(s.user_a), &TTL).await.unwrap();
    // A request loaded the session, then the owner signed out everywhere, then the request's
    // response saves what it loaded.
    end_all(&s.f.db, s.user_a).await;
    let key = s.store.update(same_key(&stolen), user_state(s.user_a), &TTL).await.unwrap();

    assert_eq!(s.store.load(&key).await.unwrap(), Some(SessionState::new()));
    assert_eq!(stored_user_id(&s.f.db, &key).await, None);
}

async fn update_of_expired_key_saves_under_a_new_key(backend: Backend) {
    let s = sessions(backend).await;
    let old = s.store.save(state(&[]), &Duration::minutes(1)).await.unwrap();
    s.f.clock.advance(std::time::Duration::from_secs(60));
    let key = s.store.update(same_key(&old), state(&[("a", "b")]), &TTL).await.unwrap();
    assert_ne!(key, old);
    assert_eq!(s.store.load(&old).await.unwrap(), None);
    assert_eq!(s.store.load(&key).await.unwrap(), Some(SessionState::new()));
}

async fn update_ttl_extends_but_does_not_revive(backend: Backend) {
    let s = sessions(backend).await;
    let key = s.store.save(state(&[]), &Duration::minutes(10)).await.unwrap();
    s.f.clock.advance(std::time::Duration::from_secs(540));
    s.store.update_ttl(&key, &Duration::minutes(10)).await.unwrap();
    s.f.clock.advance(std::time::Duration::from_secs(540));
    assert!(s.store.load(&key).await.unwrap().is_some());

    s.f.clock.advance(std::time::Duration::from_secs(60));
    assert_eq!(s.store.load(&key).await.unwrap(), None);
    s.store.update_ttl(&key, &Duration::minutes(10)).await.unwrap();
    assert_eq!(s.store.load(&key).await.unwrap(), None);
}

async fn a_recovery_session_belongs_to_its_account_and_is_signed_out_with_it(backend: Backend) {
    let s = sessions(backend).await;
    let grant = serde_json::json!({ "account": s.user_a, "expires_at": 1 }).to_string();
    let recovering = s.store.save(HashMap::from([(RECOVERY_KEY.to_owned(), grant)]), &TTL).await.unwrap();
    assert_eq!(stored_user_id(&s.f.db, &recovering).await, Some(s.user_a.to_string()));

    end_all(&s.f.db, s.user_a).await;

    assert_eq!(s.store.load(&recovering).await.unwrap(), None);
}

async fn delete_ends_the_session(backend: Backend) {
    let s = sessions(backend).await;
    let key = s.store.save(state(&[]), &TTL).await.unwrap();
    let other = s.store.save(state(&[]), &TTL).await.unwrap();
    s.store.delete(&key).await.unwrap();
    assert_eq!(s.store.load(&key).await.unwrap(), None);
    assert!(s.store.load(&other).await.unwrap().is_some());
    // Deleting what is already gone is not an error.
    s.store.delete(&key).await.unwrap();
}

async fn delete_all_for_user_removes_only_that_users_sessions(backend: Backend) {
    let s = sessions(backend).await;
    let a1 = s.store.save(user_state(s.user_a), &TTL).await.unwrap();
    let a2 = s.store.save(user_state(s.user_a), &TTL).await.unwrap();
    let b = s.store.save(user_state(s.user_b), &TTL).await.unwrap();
    let anonymous = s.store.save(state(&[]), &TTL).await.unwrap();

    assert_eq!(end_all(&s.f.db, s.user_a).await, 2);
    assert_eq!(s.store.load(&a1).await.unwrap(), None);
    assert_eq!(s.store.load(&a2).await.unwrap(), None);
    assert!(s.store.load(&b).await.unwrap().is_some());
    assert!(s.store.load(&anonymous).await.unwrap().is_some());
}

async fn deleting_the_user_cascades_to_sessions(backend: Backend) {
    let s = sessions(backend).await;
    let key = s.store.save(user_state(s.user_a), &TTL).await.unwrap();
    on_backend!(s.f.db.writer(), pool => sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(s.user_a.to_string())
        .execute(pool)
        .await
        .map(drop))
    .unwrap();
    assert_eq!(s.store.load(&key).await.unwrap(), None);
}

async fn purge_expired_removes_only_expired_rows(backend: Backend) {
    let s = sessions(backend).await;
    let short = s.store.save(state(&[]), &Duration::minutes(1)).await.unwrap();
    let long = s.store.save(state(&[]), &TTL).await.unwrap();
    assert_eq!(s.store.purge_expired().await.unwrap(), 0);
    s.f.clock.advance(std::time::Duration::from_secs(60));
    assert_eq!(s.store.purge_expired().await.unwrap(), 1);
    assert_eq!(count(&s.f.db).await, 1);
    assert!(s.store.load(&long).await.unwrap().is_some());
    assert_eq!(s.store.load(&short).await.unwrap(), None);
}

async fn unknown_user_is_an_error_not_a_panic(backend: Backend) {
    let s = sessions(backend).await;
    let result = s.store.save(state(&[(USER_ID_KEY, "no-such-user")]), &TTL).await;
    assert!(matches!(result, Err(SaveError::Other(_))));
    assert_eq!(count(&s.f.db).await, 0);
}

async fn user_id_that_is_not_a_json_string_is_refused(backend: Backend) {
    let s = sessions(backend).await;
    let mut bad = SessionState::new();
    bad.insert(USER_ID_KEY.into(), "42".into());
    assert!(matches!(s.store.save(bad.clone(), &TTL).await, Err(SaveError::Serialization(_))));
    let key = s.store.save(state(&[]), &TTL).await.unwrap();
    assert!(matches!(s.store.update(key, bad, &TTL).await, Err(UpdateError::Serialization(_))));
}

async fn corrupt_state_is_a_deserialization_error(backend: Backend) {
    let s = sessions(backend).await;
    let key = s.store.save(state(&[]), &TTL).await.unwrap();
    s.f.db.execute("UPDATE sessions SET state = 'not json'").await.unwrap();
    assert!(matches!(s.store.load(&key).await, Err(LoadError::Deserialization(_))));
}

async fn an_accounts_tagged_sessions_are_listed_with_device_and_times(backend: Backend) {
    let s = sessions(backend).await;
    let (on_laptop, laptop) = tagged_state(s.user_a, FIREFOX_ON_WINDOWS);
    s.store.save(on_laptop, &TTL).await.unwrap();
    s.f.clock.advance(MINUTE);
    let (on_phone, phone) =
        tagged_state(s.user_a, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Safari/604.1");
    s.store.save(on_phone, &TTL).await.unwrap();
    // Not listed: another account's, an untagged one, an expired one, an anonymous one.
    s.store.save(tagged_state(s.user_b, FIREFOX_ON_WINDOWS).0, &TTL).await.unwrap();
    s.store.save(user_state(s.user_a), &TTL).await.unwrap();
    s.store.save(tagged_state(s.user_a, FIREFOX_ON_WINDOWS).0, &Duration::minutes(1)).await.unwrap();
    s.store.save(state(&[("a", "b")]), &TTL).await.unwrap();
    s.f.clock.advance(MINUTE);

    let listed = s.store.list_of(s.user_a).await.unwrap();

    let seen: Vec<_> = listed.iter().map(|l| (l.id.clone(), l.device.as_str(), l.recovering, l.created_at)).collect();
    assert_eq!(
        seen,
        [(phone.id, "Safari on iPhone", false, START_MS + 60_000), (laptop.id, "Firefox on Windows", false, START_MS)],
        "the most recently seen first"
    );
    assert_eq!(listed[1].last_seen_at, START_MS);
}

async fn a_recovery_session_is_listed_as_recovering(backend: Backend) {
    let s = sessions(backend).await;
    let grant = serde_json::json!({ "account": s.user_a, "expires_at": START_MS + 600_000 }).to_string();
    let tag = SessionTag::new(Device::from_user_agent(FIREFOX_ON_WINDOWS));
    let recovering =
        HashMap::from([(RECOVERY_KEY.to_owned(), grant), (TAG_KEY.to_owned(), serde_json::to_string(&tag).unwrap())]);
    s.store.save(recovering, &TTL).await.unwrap();

    let listed = s.store.list_of(s.user_a).await.unwrap();

    assert_eq!(listed.len(), 1);
    assert!(listed[0].recovering);
    assert_eq!(listed[0].id, tag.id);
}

async fn last_seen_is_written_at_most_every_five_minutes_and_with_every_change(backend: Backend) {
    let s = sessions(backend).await;
    let (signed_in, _) = tagged_state(s.user_a, FIREFOX_ON_WINDOWS);
    let key = s.store.save(signed_in.clone(), &TTL).await.unwrap();
    let last_seen = || async { s.store.list_of(s.user_a).await.unwrap()[0].last_seen_at };

    s.f.clock.advance(4 * MINUTE);
    s.store.load(&key).await.unwrap();
    assert_eq!(last_seen().await, START_MS, "a load within five minutes writes nothing");

    s.f.clock.advance(MINUTE);
    s.store.load(&key).await.unwrap();
    assert_eq!(last_seen().await, START_MS + 5 * 60_000);

    s.f.clock.advance(MINUTE);
    s.store.update(same_key(&key), signed_in, &TTL).await.unwrap();
    assert_eq!(last_seen().await, START_MS + 6 * 60_000, "a change is a sighting too");
}

async fn ending_one_session_needs_its_account(backend: Backend) {
    let s = sessions(backend).await;
    let (signed_in, tag) = tagged_state(s.user_a, FIREFOX_ON_WINDOWS);
    let key = s.store.save(signed_in, &TTL).await.unwrap();

    assert_eq!(s.store.end_one_of(s.user_b, &tag.id).await.unwrap(), None, "another account ends nothing");
    assert!(s.store.load(&key).await.unwrap().is_some());

    assert_eq!(s.store.end_one_of(s.user_a, &tag.id).await.unwrap().as_deref(), Some("Firefox on Windows"));
    assert_eq!(s.store.load(&key).await.unwrap(), None);
    assert_eq!(s.store.end_one_of(s.user_a, &tag.id).await.unwrap(), None, "once");
}

async fn ending_all_but_one_keeps_that_one_and_other_accounts(backend: Backend) {
    let s = sessions(backend).await;
    let (this, tag) = tagged_state(s.user_a, FIREFOX_ON_WINDOWS);
    let this = s.store.save(this, &TTL).await.unwrap();
    let other = s.store.save(tagged_state(s.user_a, FIREFOX_ON_WINDOWS).0, &TTL).await.unwrap();
    let untagged = s.store.save(user_state(s.user_a), &TTL).await.unwrap();
    let grant = serde_json::json!({ "account": s.user_a, "expires_at": START_MS + 600_000 }).to_string();
    let recovering = s.store.save(HashMap::from([(RECOVERY_KEY.to_owned(), grant)]), &TTL).await.unwrap();
    let bs = s.store.save(tagged_state(s.user_b, FIREFOX_ON_WINDOWS).0, &TTL).await.unwrap();
    let anonymous = s.store.save(state(&[]), &TTL).await.unwrap();

    assert_eq!(s.store.end_all_of_but(s.user_a, &tag.id).await.unwrap(), 3);

    assert!(s.store.load(&this).await.unwrap().is_some());
    for ended in [other, untagged, recovering] {
        assert_eq!(s.store.load(&ended).await.unwrap(), None);
    }
    assert!(s.store.load(&bs).await.unwrap().is_some());
    assert!(s.store.load(&anonymous).await.unwrap().is_some());
}

async fn a_tag_that_is_not_a_session_tag_is_refused(backend: Backend) {
    let s = sessions(backend).await;
    let mut bad = user_state(s.user_a);
    bad.insert(TAG_KEY.into(), serde_json::to_string("a string").unwrap());
    assert!(matches!(s.store.save(bad, &TTL).await, Err(SaveError::Serialization(_))));
    assert_eq!(count(&s.f.db).await, 0);
}
