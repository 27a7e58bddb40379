//! The real binary as a child process: started on loopback ports of its own, with its own SQLite
//! file and no `.env`, its output collected as it arrives, stopped as a service manager does.
//!
//! It is the debug build `cargo test` makes, unless `MAILBOX_BIN` names another one: CI runs
//! the crash loop with `MAILBOX_BIN=$PWD/target/release/mailbox-challenges`, the build it ships.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::TEST_HASH_KEY;

/// Names the binary to run instead of the debug build, such as the release build.
const BINARY_OVERRIDE: &str = "MAILBOX_BIN";

/// How long the binary may take to start and print its addresses.
const START_WAIT: Duration = Duration::from_secs(30);
/// How long it may take to stop at SIGTERM before it is killed: more than its default grace.
const STOP_WAIT: Duration = Duration::from_secs(30);

pub struct RunningBinary {
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    /// `http://` and the app's address.
    pub app: String,
    /// `http://` and the API's address.
    pub api: String,
    dir: tempfile::TempDir,
}

/// Copies everything `from` writes into `into`.
fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n @ 1..) = from.read(&mut chunk) {
            into.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    })
}

/// The text after `prefix` on the first line that has it, up to the first of `ends`.
fn printed(output: &str, prefix: &str, ends: &[char]) -> Option<String> {
    let rest = output.lines().find_map(|line| line.split_once(prefix).map(|(_, rest)| rest.to_owned()))?;
    Some(rest.split(ends).next().unwrap_or_default().to_owned())
}

/// `MAILBOX_BIN` if set, else the debug build; an override that names no file fails here, so
/// that CI cannot test the debug build while believing it tests the release one.
fn binary_path() -> PathBuf {
    match std::env::var_os(BINARY_OVERRIDE) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "{BINARY_OVERRIDE}={} names no file", path.display());
            path
        }
        None => PathBuf::from(env!("CARGO_BIN_EXE_mailbox-challenges")),
    }
}

impl RunningBinary {
    /// The binary on ports 0 with a fresh database, and `settings` besides; waits until it
    /// printed where it listens (as text or in a JSON log line).
    pub fn start(settings: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary_path())
            .env_clear()
            .env("APP_ADDR", "127.0.0.1:0")
            .env("CHALLENGE_API_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", format!("sqlite://{}", dir.path().join("binary.db").display()))
            .env("CHALLENGE_HASH_KEY", TEST_HASH_KEY)
            .envs(settings.iter().copied())
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let output = Arc::<Mutex<String>>::default();
        let readers = vec![
            collect(stdout.expect("piped stdout"), output.clone()),
            collect(stderr.expect("piped stderr"), output.clone()),
        ];
        let mut binary = Self { child, output, readers, app: String::new(), api: String::new(), dir };
        let deadline = Instant::now() + START_WAIT;
        loop {
            let text = binary.output();
            if let (Some(app), Some(api)) =
                (printed(&text, "(listening on ", &[')']), printed(&text, "Challenge API: ", &[' ', '"']))
            {
                (binary.app, binary.api) = (app, api);
                return binary;
            }
            assert!(Instant::now() < deadline, "the binary printed no addresses:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// All it wrote so far, stdout and stderr together.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The SQLite file it uses.
    pub fn database_path(&self) -> PathBuf {
        self.dir.path().join("binary.db")
    }

    /// Sends it `signal` (`libc::SIGTERM`, `libc::SIGINT`).
    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a process id");
        // SAFETY: kill(2) only sends a signal, to the child this value owns and has not reaped.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "the signal was sent");
    }

    /// How it exited, if it did within `within`.
    pub async fn exit_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited for") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops it with SIGTERM (killing it if it does not exit in time) and returns all it wrote:
    /// whole lines, as it finished writing them.
    pub async fn stop(mut self) -> String {
        self.signal(libc::SIGTERM);
        let exited = self.exit_within(STOP_WAIT).await;
        assert!(exited.is_some_and(|status| status.success()), "the binary did not stop at SIGTERM: {exited:?}");
        for reader in self.readers.drain(..) {
            reader.join().expect("the output reader ends");
        }
        self.output()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test that fails half-way leaves no process running.
impl Drop for RunningBinary {
    fn drop(&mut self) {
        self.kill();
    }
}
