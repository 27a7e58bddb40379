//! A passkey ceremony's state is taken once, by the finish of its own kind and user, before it
//! expires; of many finishes at once exactly one gets it.

use std::time::Duration;

use mailbox::passkeys::ceremonies::{CEREMONY_TTL, Ceremonies, Kind};

use super::Fixture;
use crate::support::postgres::Backend;

storage_contract!(
    a_ceremony_is_taken_once_with_its_state,
    a_ceremony_is_not_taken_by_another_kind_or_user,
    an_expired_ceremony_is_not_taken,
    of_twenty_concurrent_takes_exactly_one_gets_the_ceremony,
    purge_expired_removes_only_expired_rows,
);

const STATE: &str = "the ceremony's state";

async fn ceremonies(backend: Backend) -> (Fixture, Ceremonies) {
    let f = Fixture::new(backend).await;
    let ceremonies = Ceremonies::new(f.db.clone(), f.clock.clone());
    (f, ceremonies)
}

async fn a_ceremony_is_taken_once_with_its_state(backend: Backend) {
    let (_f, ceremonies) = ceremonies(backend).await;
    let id = ceremonies.put(Kind::Authentication, None, &STATE).await.unwrap();

    let taken: Option<String> = ceremonies.take(&id, Kind::Authentication, None).await.unwrap();
    assert_eq!(taken.as_deref(), Some(STATE));
    assert_eq!(ceremonies.take::<String>(&id, Kind::Authentication, None).await.unwrap(), None);
}

async fn a_ceremony_is_not_taken_by_another_kind_or_user(backend: Backend) {
    let (f, ceremonies) = ceremonies(backend).await;
    let (owner, other) = (f.account("owner@example.com").await, f.account("other@example.com").await);
    let registering = ceremonies.put(Kind::Registration, Some(owner), &STATE).await.unwrap();
    let signing_in = ceremonies.put(Kind::Authentication, None, &STATE).await.unwrap();

    for (kind, user) in
        [(Kind::Authentication, Some(owner)), (Kind::Registration, Some(other)), (Kind::Registration, None)]
    {
        assert_eq!(ceremonies.take::<String>(&registering, kind, user).await.unwrap(), None);
    }
    assert_eq!(ceremonies.take::<String>(&signing_in, Kind::Authentication, Some(owner)).await.unwrap(), None);

    // The wrong takes left both in place for their own finish.
    assert!(ceremonies.take::<String>(&registering, Kind::Registration, Some(owner)).await.unwrap().is_some());
    assert!(ceremonies.take::<String>(&signing_in, Kind::Authentication, None).await.unwrap().is_some());
}

async fn an_expired_ceremony_is_not_taken(backend: Backend) {
    let (f, ceremonies) = ceremonies(backend).await;
    let early = ceremonies.put(Kind::Authentication, None, &STATE).await.unwrap();
    let late = ceremonies.put(Kind::Authentication, None, &STATE).await.unwrap();

    f.clock.advance(CEREMONY_TTL - Duration::from_millis(1));
    assert!(ceremonies.take::<String>(&early, Kind::Authentication, None).await.unwrap().is_some());
    // expires_at itself counts as expired.
    f.clock.advance(Duration::from_millis(1));
    assert_eq!(ceremonies.take::<String>(&late, Kind::Authentication, None).await.unwrap(), None);
}

async fn of_twenty_concurrent_takes_exactly_one_gets_the_ceremony(backend: Backend) {
    let (_f, ceremonies) = ceremonies(backend).await;
    let id = ceremonies.put(Kind::Authentication, None, &STATE).await.unwrap();

    let takes: Vec<_> = (0..20)
        .map(|_| {
            let (ceremonies, id) = (ceremonies.clone(), id.clone());
            tokio::spawn(async move { ceremonies.take::<String>(&id, Kind::Authentication, None).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for take in takes {
        winners += usize::from(take.await.unwrap().is_some());
    }

    assert_eq!(winners, 1);
}

async fn purge_expired_removes_only_expired_rows(backend: Backend) {
    let (f, ceremonies) = ceremonies(backend).await;
    ceremonies.put(Kind::Authentication, None, &STATE).await.unwrap();
    f.clock.advance(Duration::from_secs(60));
    let young = ceremonies.put(Kind::Authentication, None, &STATE).await.unwrap();
    assert_eq!(ceremonies.purge_expired().await.unwrap(), 0);

    f.clock.advance(CEREMONY_TTL - Duration::from_secs(60));
    assert_eq!(ceremonies.purge_expired().await.unwrap(), 1);

    assert_eq!(f.db.scalar("SELECT COUNT(*) FROM ceremonies").await.unwrap(), 1);
    assert!(ceremonies.take::<String>(&young, Kind::Authentication, None).await.unwrap().is_some());
}
