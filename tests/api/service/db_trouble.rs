//! Database trouble while requests arrive: the SQLite file made read-only (immutable, which stops
//! root too) and its disk full (a small tmpfs, filled), and a PostgreSQL database that turns
//! read-only and drops every connection. Every request is answered either as usual or `503` with
//! a `Retry-After` and a message that names no internals, never `500` or a panic; the app's forms
//! too; and once the trouble ends the same process serves writes again, without a restart.
//!
//! The SQLite ones need root (to mount a tmpfs and to set the immutable flag). Elsewhere they are
//! skipped with one line; with `CI=true` as root a skip is a failure (the read-only ones also need
//! a filesystem that enforces the flag on open files, as ext4, xfs and btrfs do). The PostgreSQL
//! one runs on the tests' throwaway server, and skips as every PostgreSQL test does.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mailbox::challenges::error::UNAVAILABLE_RETRY_SECONDS;
use mailbox::settings::{DEV_API_KEY, DEV_TENANCY_ID};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::support::app::{Browser, Page, plain_client};
use crate::support::binary::RunningBinary;
use crate::support::pages::{assert_page, assert_redirect};
use crate::support::postgres;

/// How long the service may take to write again once the trouble ended.
const RECOVERY: Duration = Duration::from_secs(15);
/// `FS_IMMUTABLE_FL` of linux/fs.h: no process, root included, may write the file.
const FS_IMMUTABLE_FL: libc::c_long = 0x10;

/// A tmpfs of a given size mounted on a fresh folder; unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().to_owned();
        let target = CString::new(path.as_os_str().as_bytes()).unwrap();
        let options = CString::new(format!("size={size},mode=0700")).unwrap();
        // SAFETY: every pointer is a NUL-terminated string that outlives the call.
        let mounted =
            unsafe { libc::mount(c"tmpfs".as_ptr(), target.as_ptr(), c"tmpfs".as_ptr(), 0, options.as_ptr().cast()) };
        if mounted != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Self { path, _dir: dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let target = CString::new(self.path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path; a lazy unmount, so a file still open cannot stop it.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Whether a test that cannot arrange its trouble may be skipped: only off CI, or where it is
/// impossible even there (not root, so no mount and no immutable flag).
fn skip_or_fail(test: &str, why: &std::io::Error) {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        !(std::env::var("CI").is_ok_and(|ci| ci == "true") && root),
        "{test}: cannot arrange the trouble as root ({why}); with CI=true this test must run"
    );
    eprintln!("skipping {test}: it needs root to mount a tmpfs and set the immutable flag ({why})");
}

/// Sets or clears the immutable flag of `path`, as `chattr +i` / `chattr -i` do.
fn set_immutable(path: &Path, on: bool) -> std::io::Result<()> {
    let file = std::fs::File::open(path)?;
    let mut flags: libc::c_long = 0;
    // SAFETY: both ioctls read or write one integer of flags through a pointer to a live local.
    unsafe {
        if libc::ioctl(file.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        flags = if on { flags | FS_IMMUTABLE_FL } else { flags & !FS_IMMUTABLE_FL };
        if libc::ioctl(file.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A folder on the disk cargo builds on (not `/tmp`, which may be a tmpfs: tmpfs keeps the
/// immutable flag, but lets a file already open write on), once a probe showed that the flag
/// stops writes through a file already open, as the binary's are.
fn immutable_folder() -> std::io::Result<tempfile::TempDir> {
    let folder = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let probe = folder.path().join("probe");
    let open = std::fs::OpenOptions::new().create(true).truncate(true).write(true).open(&probe)?;
    set_immutable(&probe, true)?;
    let written = std::os::unix::fs::FileExt::write_at(&open, b"x", 0);
    set_immutable(&probe, false)?;
    match written {
        Err(err) if err.raw_os_error() == Some(libc::EPERM) => Ok(folder),
        Err(err) => Err(err),
        Ok(_) => Err(std::io::Error::other("this filesystem lets open files write past the immutable flag")),
    }
}

/// The binary on a database in `folder`, its rate limit out of the way.
fn start_in(folder: &Path) -> RunningBinary {
    start_on(&format!("sqlite://{}", folder.join("trouble.db").display()))
}

/// The binary on the database at `url`, its rate limit out of the way.
fn start_on(url: &str) -> RunningBinary {
    RunningBinary::start(&[("DATABASE_URL", url), ("CHALLENGE_RATE_LIMIT_MAX", "100000")])
}

/// Sets or clears the immutable flag of the database file and its WAL in `folder`.
fn set_database_immutable(folder: &Path, on: bool) {
    for name in ["trouble.db", "trouble.db-wal"] {
        set_immutable(&folder.join(name), on).unwrap();
    }
}

struct Api {
    base: String,
    client: reqwest::Client,
    sent: usize,
}

/// An answer: its status, `Retry-After` and body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

impl Api {
    fn new(binary: &RunningBinary) -> Self {
        Self { base: binary.api.clone(), client: plain_client(), sent: 0 }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        self.sent += 1;
        let response = request.bearer_auth(DEV_API_KEY).send().await.expect("an answer, not a dropped connection");
        let status = response.status().as_u16();
        let retry_after =
            response.headers().get("retry-after").map(|value| value.to_str().unwrap_or("(not text)").to_owned());
        let text = response.text().await.expect("a whole body");
        let body =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("a {status} with a body that is not JSON: {text}"));
        Answer { status, retry_after, body }
    }

    async fn create(&mut self, n: usize) -> Answer {
        let request = self
            .client
            .post(format!("{}/{DEV_TENANCY_ID}/challenges", self.base))
            .json(&json!({ "email": format!("trouble-{n}@example.com"), "purpose": "login", "sendEmail": false }));
        self.send(request).await
    }

    async fn verify(&mut self, challenge: &Value) -> Answer {
        let request = self.client.post(format!("{}/{DEV_TENANCY_ID}/challenges/verify", self.base)).json(&json!({
            "challengeId": challenge["challengeId"],
            "secret": challenge["secret"],
            "code": challenge["code"],
        }));
        self.send(request).await
    }

    async fn get(&mut self, challenge: &Value) -> Answer {
        let id = challenge["challengeId"].as_str().unwrap();
        self.send(self.client.get(format!("{}/{DEV_TENANCY_ID}/challenges/{id}", self.base))).await
    }

    async fn delete(&mut self, challenge: &Value) -> Answer {
        let id = challenge["challengeId"].as_str().unwrap();
        self.send(self.client.delete(format!("{}/{DEV_TENANCY_ID}/challenges/{id}", self.base))).await
    }
}

/// A challenge created while all is well.
async fn created(api: &mut Api, n: usize) -> Value {
    let answer = api.create(n).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["challenge"].clone()
}

/// Whether `answer` is the service's clear refusal: `503`, `Retry-After` in whole seconds, and a
/// message that says to try again and names nothing inside (no SQL, file or error text).
fn assert_clear_503(what: &str, answer: &Answer) {
    assert_eq!(answer.status, 503, "{what}: {}", answer.body);
    let seconds = answer.retry_after.as_deref().and_then(|s| s.parse::<u64>().ok());
    assert!(seconds.is_some_and(|s| s > 0), "{what}: a 503 without a Retry-After in seconds: {:?}", answer.retry_after);
    let message = answer.body["message"].as_str().unwrap_or_else(|| panic!("{what}: no message: {}", answer.body));
    assert!(message.contains("Try again in"), "{what}: {message}");
    let lower = answer.body.to_string().to_lowercase();
    for internal in ["sqlite", "sqlx", "error returned", "disk", "readonly", "read-only", ".db", "protocol"] {
        assert!(!lower.contains(internal), "{what}: the answer shows internals ({internal}): {}", answer.body);
    }
}

/// The trouble's answers: each as usual (`expected`) or a clear `503`. Returns how many were 503.
fn assert_usual_or_503(what: &str, answer: &Answer, expected: u16) -> usize {
    if answer.status == expected {
        return 0;
    }
    assert_clear_503(what, answer);
    1
}

/// Creates until one succeeds, as a client that honours `Retry-After` would, but faster.
async fn until_writes_again(api: &mut Api, binary: &mut RunningBinary, n: usize) -> Value {
    let deadline = Instant::now() + RECOVERY;
    loop {
        assert!(binary.exit_within(Duration::ZERO).await.is_none(), "the process exited:\n{}", binary.output());
        let answer = api.create(n).await;
        if answer.status == 201 {
            return answer.body["challenge"].clone();
        }
        assert_clear_503("a create after the trouble ended", &answer);
        assert!(Instant::now() < deadline, "no write succeeded within {RECOVERY:?} of the trouble's end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The log shows the cause to the operator (the API logs it under `challenge service failed`),
/// and nothing panicked.
fn assert_logged_not_panicked(output: &str) {
    assert_logged_as(output, "challenge service failed");
}

fn assert_logged_as(output: &str, message: &str) {
    assert!(!output.contains("panicked"), "{output}");
    assert!(output.contains(message), "the cause was not logged as {message:?}:\n{output}");
}

#[tokio::test]
async fn a_read_only_database_answers_503_with_retry_after_and_recovers_without_a_restart() {
    let folder = match immutable_folder() {
        Ok(folder) => folder,
        Err(why) => return skip_or_fail("read-only database", &why),
    };
    let mut binary = start_in(folder.path());
    let mut api = Api::new(&binary);
    let before = created(&mut api, 0).await;
    let spare = created(&mut api, 1).await;

    // Act: the file and its WAL can no longer be written, by anyone.
    set_database_immutable(folder.path(), true);
    let mut refused = 0;
    for n in 2..12 {
        refused += assert_usual_or_503("a create", &api.create(n).await, 201);
    }
    let verify = api.verify(&before).await;
    assert_clear_503("a verify", &verify);
    refused += assert_usual_or_503("a delete", &api.delete(&spare).await, 202);
    let read = api.get(&before).await;
    assert_eq!(read.status, 200, "reads go on while writes cannot: {}", read.body);
    set_database_immutable(folder.path(), false);

    // Assert: the writes were refused, clearly; then the same process writes again, and the
    // verify refused during the trouble did nothing: it succeeds now.
    assert!(refused >= 10, "writes to a read-only database succeeded: {refused} of 11 refused");
    until_writes_again(&mut api, &mut binary, 100).await;
    let verify = api.verify(&before).await;
    assert_eq!((verify.status, verify.body["_tag"].as_str()), (200, Some("ChallengeVerified")), "{}", verify.body);
    let output = binary.stop().await;
    assert_logged_not_panicked(&output);
}

#[tokio::test]
async fn a_full_disk_answers_503_with_retry_after_and_recovers_without_a_restart() {
    let disk = match Tmpfs::mount("8m") {
        Ok(disk) => disk,
        Err(why) => return skip_or_fail("full disk", &why),
    };
    let mut binary = start_in(&disk.path);
    let mut api = Api::new(&binary);
    let before = created(&mut api, 0).await;

    // Act: fill the disk, then keep creating. Pages SQLite already holds may take a few more
    // writes; once the database needs a new one, every write is refused.
    let filler = disk.path.join("filler");
    {
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(err) = file.write_all(&chunk).and_then(|()| file.sync_data()) {
                assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
                break;
            }
        }
    }
    let mut n = 1;
    let first_refusal = loop {
        let answer = api.create(n).await;
        n += 1;
        if answer.status != 201 {
            break answer;
        }
        assert!(n < 2000, "2000 creates fitted on a full disk");
    };
    assert_clear_503("a create on a full disk", &first_refusal);
    let mut refused = 0;
    for _ in 0..6 {
        refused += assert_usual_or_503("a create", &api.create(n).await, 201);
        n += 1;
    }
    let verify = api.verify(&before).await;
    let verified_during = assert_usual_or_503("a verify", &verify, 200) == 0;
    let read = api.get(&before).await;
    assert!(read.status == 200 || read.status == 404, "reads go on: {}", read.body);
    std::fs::remove_file(&filler).unwrap();

    // Assert: refused clearly while the disk was full; the same process writes again once
    // there is room, and a verify refused meanwhile did nothing.
    // A write may still find room now and then (SQLite reuses pages a checkpoint freed), so
    // the count is shown, not bounded: what matters is that each answer was one of the two.
    println!("{refused} of 6 creates refused after the first refusal");
    until_writes_again(&mut api, &mut binary, n).await;
    if !verified_during {
        let verify = api.verify(&before).await;
        assert_eq!((verify.status, verify.body["_tag"].as_str()), (200, Some("ChallengeVerified")), "{}", verify.body);
    }
    println!("{} requests, the first refused after {} creates on the full disk", api.sent, n);
    let output = binary.stop().await;
    assert_logged_not_panicked(&output);
}

/// A form of the app refused for the trouble: `503`, the API's `Retry-After`, and a page that
/// says to try again (the form again, or, when the session could not be saved, an error page).
fn assert_form_refused_for_now(page: &Page, what: &str) {
    assert_page(page, StatusCode::SERVICE_UNAVAILABLE, "try again", what);
    let retry_after = page.headers.get("retry-after").and_then(|value| value.to_str().ok());
    assert_eq!(retry_after, Some(UNAVAILABLE_RETRY_SECONDS.to_string().as_str()), "{what}: Retry-After");
}

#[tokio::test]
async fn the_app_s_forms_answer_503_with_retry_after_while_the_database_is_read_only() {
    let folder = match immutable_folder() {
        Ok(folder) => folder,
        Err(why) => return skip_or_fail("read-only database under the app", &why),
    };
    let binary = start_in(folder.path());
    let browser = Browser::new(&binary.app);
    // The session, and the CSRF token the forms need, exist before the trouble.
    let token = browser.csrf().await;

    set_database_immutable(folder.path(), true);
    let signup =
        browser.post_raw("/signup", &[("csrf", &token), ("email", "jane@example.com"), ("name", "Jane")]).await;
    let login = browser.post_raw("/login", &[("csrf", &token), ("email", "jane@example.com")]).await;
    set_database_immutable(folder.path(), false);

    assert_form_refused_for_now(&signup, "sign-up while the database is read-only");
    assert_form_refused_for_now(&login, "sign-in while the database is read-only");
    // The same process takes the form again once the trouble ended.
    let deadline = Instant::now() + RECOVERY;
    loop {
        let signup =
            browser.post_raw("/signup", &[("csrf", &token), ("email", "jane@example.com"), ("name", "Jane")]).await;
        if signup.status != StatusCode::SERVICE_UNAVAILABLE {
            assert_redirect(&signup, "/verify", "sign-up after the trouble ended");
            break;
        }
        assert_form_refused_for_now(&signup, "sign-up as the trouble ends");
        assert!(Instant::now() < deadline, "no sign-up succeeded within {RECOVERY:?} of the trouble's end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let output = binary.stop().await;
    assert_logged_as(&output, "challenge service unavailable");
}

/// The admin's connection to the server of the database at `url`, and the database's name.
async fn admin_of(url: &str) -> (PgConnection, String) {
    let (server, name) = url.rsplit_once('/').expect("a database URL");
    let admin = PgConnection::connect(&format!("{server}/postgres")).await.expect("connect as the admin");
    (admin, name.to_owned())
}

/// Makes every new session of database `name` read-only (or writable again), then ends the
/// sessions open now, as a server restarted into (or out of) read-only mode would.
async fn set_read_only(admin: &mut PgConnection, name: &str, on: bool) {
    let change = if on { "SET default_transaction_read_only = on" } else { "RESET default_transaction_read_only" };
    sqlx::query(&format!("ALTER DATABASE {name} {change}")).execute(&mut *admin).await.unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(name)
    .fetch_all(&mut *admin)
    .await
    .unwrap();
    assert!(ended.iter().all(|ended| *ended), "every session of {name} ended: {ended:?}");
}

#[tokio::test]
async fn a_read_only_postgresql_answers_503_with_retry_after_and_recovers_without_a_restart() {
    let Some(url) = postgres::fresh_database().await else {
        return eprintln!("skipping read-only PostgreSQL: no PostgreSQL server here");
    };
    let mut binary = start_on(&url);
    let mut api = Api::new(&binary);
    let before = created(&mut api, 0).await;
    let spare = created(&mut api, 1).await;
    let (mut admin, name) = admin_of(&url).await;

    // Act: every connection the service had is cut, and each new one can only read.
    set_read_only(&mut admin, &name, true).await;
    for n in 2..12 {
        assert_clear_503("a create", &api.create(n).await);
    }
    assert_clear_503("a verify", &api.verify(&before).await);
    assert_clear_503("a delete", &api.delete(&spare).await);
    let read = api.get(&before).await;
    assert_eq!(read.status, 200, "reads go on while writes cannot: {}", read.body);
    set_read_only(&mut admin, &name, false).await;

    // Assert: the same process writes again, and the verify refused meanwhile had done nothing.
    until_writes_again(&mut api, &mut binary, 100).await;
    let verify = api.verify(&before).await;
    assert_eq!((verify.status, verify.body["_tag"].as_str()), (200, Some("ChallengeVerified")), "{}", verify.body);
    let output = binary.stop().await;
    assert_logged_not_panicked(&output);
}
