//! A throwaway PostgreSQL server for the tests: one per test binary, started on first use from the
//! installed binaries, and a fresh, empty database for each test that asks for one. Without the
//! binaries, PostgreSQL tests skip, except in CI, where they must run.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

const INSTALL_DIRS: &str = "/usr/lib/postgresql/*/bin";
const DIR_PREFIX: &str = "mailbox-pg-";
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Which database a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A fresh, empty database: a file in `dir`, or a new database on the test server (`None`
    /// when PostgreSQL is not installed).
    pub async fn database_url(self, dir: &tempfile::TempDir) -> Option<String> {
        match self {
            Backend::Sqlite => Some(format!("sqlite://{}", dir.path().join("test.db").display())),
            Backend::Postgres => fresh_database().await,
        }
    }
}

/// Whether PostgreSQL tests can run here. The first call without binaries prints why they skip.
pub fn available() -> bool {
    bin_dir().is_some()
}

/// The URL of a new, empty database on this binary's server, which starts on the first call;
/// `None` when PostgreSQL is not installed.
pub async fn fresh_database() -> Option<String> {
    /// Each binary has its own server, so a counter makes names unique.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    /// Concurrent `CREATE DATABASE` can fail with "source database template1 is being accessed
    /// by other users".
    static CREATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    // The first start blocks for a second or two: keep it off the test's runtime.
    let port = tokio::task::spawn_blocking(server_port)
        .await
        .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()))?;
    let name = format!("t_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let _one_at_a_time = CREATING.lock().await;
    let mut admin = PgConnection::connect(&format!("postgres://postgres@127.0.0.1:{port}/postgres"))
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create a test database");
    Some(format!("postgres://postgres@127.0.0.1:{port}/{name}"))
}

/// The directory with `initdb` and `postgres`: `PG_BIN`, else the newest Debian install. Absent,
/// it is reported once, and in CI (`CI=true`) it is a failure.
fn bin_dir() -> Option<&'static Path> {
    static BIN_DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN_DIR
        .get_or_init(|| {
            let found = find_bin_dir();
            if found.is_none() {
                let place = std::env::var("PG_BIN").unwrap_or_else(|_| INSTALL_DIRS.into());
                let missing = format!(
                    "initdb/postgres not found under {place}; install Debian's postgresql package \
                     (apt-get install -y postgresql) or set PG_BIN"
                );
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("PostgreSQL tests cannot run in CI: {missing}");
                }
                // Straight to stderr: the test harness captures `eprintln!` of passing tests.
                let _ = writeln!(io::stderr(), "PostgreSQL tests skipped: {missing}");
            }
            found
        })
        .as_deref()
}

fn find_bin_dir() -> Option<PathBuf> {
    let has_binaries = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(dir)).filter(|dir| has_binaries(dir));
    }
    let version = |name: &str| name.split('.').map(str::parse::<u32>).collect::<Result<Vec<_>, _>>().ok();
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| Some((version(entry.file_name().to_str()?)?, entry.path().join("bin"))))
        .filter(|(_, dir)| has_binaries(dir))
        .max()
        .map(|(_, dir)| dir)
}

/// The port of this binary's server, started on the first call.
fn server_port() -> Option<u16> {
    static PORT: OnceLock<u16> = OnceLock::new();
    let bin = bin_dir()?;
    Some(*PORT.get_or_init(|| start(bin)))
}

/// Starts a server in a new folder of the temp dir and waits until it accepts connections.
fn start(bin: &Path) -> u16 {
    remove_stale_dirs();
    let dir = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
        .tempdir()
        .expect("create the PostgreSQL folder")
        .keep();
    let user = server_user();
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("give the PostgreSQL folder to its user");
    }
    let data = dir.join("data");

    let initdb = command(&bin.join("initdb"), &dir, user)
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"])
        .output()
        .expect("run initdb");
    assert!(
        initdb.status.success(),
        "initdb failed ({}):\n{}{}",
        initdb.status,
        String::from_utf8_lossy(&initdb.stdout),
        String::from_utf8_lossy(&initdb.stderr)
    );

    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("find a free port").port();
    let log_path = dir.join("postgres.log");
    let log = File::create(&log_path).expect("create the PostgreSQL log");
    let mut server = command(&bin.join("postgres"), &dir, user);
    server.arg("-D").arg(&data).arg("-p").arg(port.to_string()).arg("-k").arg(&dir);
    for setting in [
        "listen_addresses=127.0.0.1",
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "max_connections=300",
        "shared_buffers=32MB",
    ] {
        server.args(["-c", setting]);
    }
    server.stdout(log.try_clone().expect("share the PostgreSQL log")).stderr(log);
    // The server must die with this process. PDEATHSIG fires when the spawning thread ends, so a
    // thread that outlives the server spawns it. The hook runs after the uid change, which would
    // clear the setting.
    unsafe {
        server.pre_exec(|| match libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        });
    }
    let (exited_tx, exited) = mpsc::channel();
    std::thread::Builder::new()
        .name("postgres".into())
        .spawn(move || {
            let _ = exited_tx.send(server.spawn().and_then(|mut child| child.wait()));
        })
        .expect("start the PostgreSQL thread");

    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-U", "postgres", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .expect("run pg_isready");
        if ready.success() {
            return port;
        }
        let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Ok(exit) = exited.try_recv() {
            let how = exit.map_or_else(|error| error.to_string(), |status| status.to_string());
            panic!("PostgreSQL did not start ({how}); its log:\n{}", log());
        }
        if Instant::now() > deadline {
            panic!("PostgreSQL did not accept connections within {START_TIMEOUT:?}; its log:\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A command run in the server's folder, as `user` when given.
fn command(program: &Path, dir: &Path, user: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(dir).stdin(Stdio::null());
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command
}

/// initdb and postgres refuse to run as root: as root, they run as `postgres`, else `nobody`.
fn server_user() -> Option<(u32, u32)> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let user = ["postgres", "nobody"].into_iter().find_map(|name| {
        let name = CString::new(name).expect("a user name has no NUL");
        // getpwnam returns a shared buffer: safe here, as only the one start calls it.
        let entry = unsafe { libc::getpwnam(name.as_ptr()) };
        (!entry.is_null()).then(|| unsafe { ((*entry).pw_uid, (*entry).pw_gid) })
    });
    Some(user.expect("running as root, but neither a postgres nor a nobody user to run PostgreSQL as"))
}

/// Removes folders left by test processes that are gone (a killed run cannot clean up).
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|name| name.strip_prefix(DIR_PREFIX)?.split('-').next()?.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
