//! What an attacker with a copy of the database file finds: neither secrets nor codes.

use crate::support::{Adapter, TestService, request};

#[tokio::test]
async fn the_database_holds_neither_secret_nor_code() {
    let t = TestService::start(&[]).await;
    let client = t.client(Adapter::InProcess);
    let mut issued = Vec::new();
    for n in 0..20 {
        let created = client.create(&request(&format!("user{n}@example.com"), "login")).await.unwrap();
        issued.push((created.secret.expose().to_owned(), created.code.expose().to_owned()));
    }

    let mut bytes = std::fs::read(&t.db_path).unwrap();
    if let Ok(wal) = std::fs::read(t.db_path.with_extension("db-wal")) {
        bytes.extend(wal);
    }

    assert!(bytes.windows(9).any(|w| w == b"user0@exa"), "the test reads the file the service writes");
    for (secret, code) in issued {
        for value in [secret.as_bytes(), code.as_bytes()] {
            assert!(
                !bytes.windows(value.len()).any(|w| w == value),
                "found {:?} at rest",
                String::from_utf8_lossy(value)
            );
        }
        // Each group of the secret, too.
        for group in secret.split('-') {
            assert!(!bytes.windows(group.len()).any(|w| w == group.as_bytes()));
        }
    }
}
