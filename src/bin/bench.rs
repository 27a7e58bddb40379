//! Throughput and latency of the challenge API, measured in one process.
//!
//! The bench builds the whole application on a fresh SQLite database in a temporary folder,
//! serves the REST API on 127.0.0.1 (port 0) and drives it with C concurrent tasks over
//! keep-alive HTTP/1.1 connections, each scenario for a fixed duration:
//!
//! - `create`: `POST /{tenancy}/challenges` with a new email per request (so the rate-limit
//!   queries run but never refuse), `sendEmail: false`; expects 201.
//! - `get`: `GET /{tenancy}/challenges/{id}` round-robin over 1,000 pending challenges;
//!   expects 200.
//! - `verify`: `POST /{tenancy}/challenges/verify` with the right secret and code, each request
//!   consuming one challenge created beforehand through the engine; expects 200.
//! - `create (direct)`: the same database writes as `create` through `ChallengeService::issue` without
//!   HTTP, the ceiling that the database writes allow.
//!
//! With `--database postgres://…` it then runs the same scenarios twice more on that PostgreSQL
//! database: with one instance (one `Application`), and with two (two `Application`s on the same
//! database and `CHALLENGE_HASH_KEY`, each serving its own REST API port). Request number n of a
//! scenario goes to instance n % 2, so the load alternates strictly between the two; `create
//! (direct)` alternates between their engines the same way. Each PostgreSQL setup starts on
//! empty tables: the bench drops and recreates the schema `public` of that database first,
//! wiping it. Instances of an earlier setup stay up, idle, until the bench exits.
//!
//! It prints a markdown table (requests, req/s, p50, p99, max latency, errors) whose scenario
//! label names the setup (`create, SQLite`, `get, PostgreSQL×2`, …), the ratio of `create` to its
//! ceiling per setup, the ratio of each PostgreSQL figure to SQLite's of the same run, and the
//! machine. Any unexpected answer is an error, reported loudly, and makes the bench exit with a
//! failure status.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --bin bench [-- --seconds N --connections C --database postgres://…]
//! ```
//!
//! Defaults: 10 seconds per scenario, 32 connections, SQLite only.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use mailbox::challenges::ChallengeService;
use mailbox::challenges::model::{NewChallenge, Purpose};
use mailbox::challenges::tenancy::AuthorizedTenancy;
use mailbox::domain::EmailAddress;
use mailbox::settings::{DEV_API_KEY, DEV_TENANCY_ID, Settings};
use mailbox::startup::Application;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;
use tokio::task::JoinSet;

const USAGE: &str = "usage: bench [--seconds N] [--connections C] [--database postgres://…]
  --seconds N       how long each scenario runs (default 10)
  --connections C   concurrent requests in flight (default 32)
  --database URL    also measure on this PostgreSQL database (postgres://…), with one instance
                    and with two, requests alternating between them. This WIPES the database:
                    its schema public is dropped and recreated before each, so give the bench
                    a database of its own";

/// Fixed, so runs are comparable, and shared by the instances of a setup; every database the
/// bench uses is thrown away.
const HASH_KEY: &str = "bench-hash-key-0123456789-abcdefghijklmn";
/// Challenges that the `get` scenario reads round-robin.
const GET_POOL: usize = 1_000;
/// Challenges made ready for `verify` per second of the scenario: more than it can use.
const VERIFY_PER_SECOND: usize = 10_000;
/// The purpose of every challenge the bench makes.
const PURPOSE: &str = "login";

/// The label of the setup every run measures, beside which the PostgreSQL ones are given.
const SQLITE: &str = "SQLite";

#[derive(Debug, Clone)]
struct Options {
    duration: Duration,
    connections: usize,
    /// The PostgreSQL database to measure (and wipe), if any.
    database: Option<String>,
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn parse_options() -> anyhow::Result<Options> {
    let mut options = Options { duration: Duration::from_secs(10), connections: 32, database: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value\n{USAGE}"));
        let number = |name: &str, raw: String| -> anyhow::Result<u64> {
            match raw.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => bail!("{name} {raw:?} is not a whole number of at least 1\n{USAGE}"),
            }
        };
        match arg.as_str() {
            "--seconds" => options.duration = Duration::from_secs(number("--seconds", value("--seconds")?)?),
            "--connections" => {
                let connections = number("--connections", value("--connections")?)?;
                options.connections = usize::try_from(connections).context("--connections is too large")?;
            }
            "--database" => {
                let url = value("--database")?;
                if !is_postgres(&url) {
                    bail!("--database takes a PostgreSQL URL such as postgres://user@host/bench\n{USAGE}");
                }
                options.database = Some(url);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(options)
}

/// What one request came to.
enum Outcome {
    /// The status (or result) the scenario expects.
    Expected,
    /// Anything else; the text names what came back, and counts as an error.
    Unexpected(String),
    /// The scenario has nothing left to send; the task stops without counting a request.
    Exhausted,
}

/// What one scenario measured.
struct Report {
    scenario: &'static str,
    /// The backend and instances it ran on, such as `PostgreSQL×2`.
    setup: String,
    /// Latency of every answered request, sorted, in microseconds.
    latencies: Vec<u32>,
    elapsed: Duration,
    /// Unexpected answers by kind.
    errors: BTreeMap<String, u64>,
    /// Stopped early because it ran out of work.
    exhausted: bool,
}

impl Report {
    fn label(&self) -> String {
        format!("{}, {}", self.scenario, self.setup)
    }

    fn requests(&self) -> usize {
        self.latencies.len()
    }

    fn per_second(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64()
    }

    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Nearest-rank percentile, in milliseconds.
    fn percentile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = (q * self.latencies.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies.len()) - 1;
        f64::from(self.latencies[index]) / 1000.0
    }
}

/// What one load task saw.
#[derive(Default)]
struct TaskRecord {
    latencies: Vec<u32>,
    errors: BTreeMap<String, u64>,
    exhausted: bool,
}

/// Runs `make_request` from `connections` concurrent tasks until `duration` has passed or the
/// scenario runs out of work. Each call gets a sequence number unique within the scenario.
async fn run_load<F, Fut>(
    (scenario, setup): (&'static str, &str),
    duration: Duration,
    connections: usize,
    make_request: F,
) -> anyhow::Result<Report>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send,
{
    let make_request = Arc::new(make_request);
    let sequence = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..connections {
        let (make_request, sequence) = (make_request.clone(), sequence.clone());
        tasks.spawn(async move {
            let mut record = TaskRecord::default();
            while Instant::now() < deadline {
                let n = sequence.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let outcome = make_request(n).await;
                let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                match outcome {
                    Outcome::Expected => record.latencies.push(micros),
                    Outcome::Unexpected(what) => {
                        record.latencies.push(micros);
                        *record.errors.entry(what).or_default() += 1;
                    }
                    Outcome::Exhausted => {
                        record.exhausted = true;
                        break;
                    }
                }
            }
            record
        });
    }
    let mut report = Report {
        scenario,
        setup: setup.to_owned(),
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
        errors: BTreeMap::new(),
        exhausted: false,
    };
    while let Some(joined) = tasks.join_next().await {
        let record = joined.with_context(|| format!("a load task of {} panicked", report.label()))?;
        report.latencies.extend(record.latencies);
        for (what, count) in record.errors {
            *report.errors.entry(what).or_default() += count;
        }
        report.exhausted |= record.exhausted;
    }
    report.elapsed = started.elapsed();
    report.latencies.sort_unstable();
    Ok(report)
}

/// What a setup runs on: a backend and how many instances serve it.
struct Setup {
    label: String,
    database_url: String,
    instances: usize,
}

/// SQLite in `scratch`, then, with `--database`, PostgreSQL with one instance and with two.
fn setups(options: &Options, scratch: &ScratchDir) -> Vec<Setup> {
    let sqlite = format!("sqlite://{}", scratch.0.join("bench.db").display());
    let mut setups = vec![Setup { label: SQLITE.to_owned(), database_url: sqlite, instances: 1 }];
    if let Some(url) = &options.database {
        setups.extend((1..=2).map(|instances| Setup {
            label: format!("PostgreSQL×{instances}"),
            database_url: url.clone(),
            instances,
        }));
    }
    setups
}

/// Drops and recreates the schema `public` of the PostgreSQL database `url`, with every table
/// in it, so that the instances built next start on empty tables.
async fn wipe(url: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(url).await.context("could not connect to the --database")?;
    sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .execute(&mut conn)
        .await
        .context("could not wipe the --database")?;
    Ok(conn.close().await?)
}

/// The item of `items` that request `n` goes to: round-robin.
fn round_robin<T>(items: &[T], n: u64) -> &T {
    &items[(n % items.len() as u64) as usize]
}

/// What every scenario needs: the running instances, their engines and an HTTP client.
struct Bench {
    options: Options,
    setup: String,
    http: reqwest::Client,
    /// Each instance's `http://127.0.0.1:PORT/{tenancy}/challenges`; request n goes to instance
    /// n % count.
    challenges_urls: Arc<[String]>,
    /// Each instance's engine, in the same order.
    services: Arc<[ChallengeService]>,
    tenancy: AuthorizedTenancy,
}

/// A challenge made for a scenario, with what its creator was told.
struct Prepared {
    id: String,
    secret: String,
    code: String,
}

impl Bench {
    /// Builds and serves the setup's instances, on the same database and settings; a PostgreSQL
    /// database is wiped first.
    async fn start(setup: &Setup, options: &Options) -> anyhow::Result<Self> {
        if is_postgres(&setup.database_url) {
            wipe(&setup.database_url).await?;
        }
        let env = [
            ("DATABASE_URL", setup.database_url.as_str()),
            ("CHALLENGE_API_ADDR", "127.0.0.1:0"),
            ("APP_ADDR", "127.0.0.1:0"),
            ("CHALLENGE_HASH_KEY", HASH_KEY),
        ];
        let settings = Settings::from_lookup(|name| {
            env.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        })
        .context("the bench's own settings are invalid")?;
        let (mut challenges_urls, mut services) = (Vec::new(), Vec::new());
        for _ in 0..setup.instances {
            let app = Application::build(settings.clone()).await.context("could not build the application")?;
            let api_addr = app.api_addr().context("the application does not serve the REST API")?;
            challenges_urls.push(format!("http://{api_addr}/{DEV_TENANCY_ID}/challenges"));
            services.push(app.service.clone());
            app.spawn();
        }
        let tenancy = services[0]
            .tenancies()
            .authenticate(DEV_TENANCY_ID, DEV_API_KEY)
            .await
            .context("the development tenancy refused its own API key")?;
        mailbox::tls::install_ring_provider();
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(options.connections)
            .timeout(Duration::from_secs(30))
            .build()
            .context("could not build the HTTP client")?;
        Ok(Self {
            options: options.clone(),
            setup: setup.label.clone(),
            http,
            challenges_urls: challenges_urls.into(),
            services: services.into(),
            tenancy,
        })
    }

    /// Runs one scenario of this setup (see [`run_load`]).
    async fn load<F, Fut>(&self, scenario: &'static str, make_request: F) -> anyhow::Result<Report>
    where
        F: Fn(u64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send,
    {
        eprintln!("{scenario}, {} ...", self.setup);
        run_load((scenario, &self.setup), self.options.duration, self.options.connections, make_request).await
    }

    /// Every scenario, in the order of the table. The ceiling runs first: every scenario grows
    /// the database, and inserts slow down as its indexes deepen, so running it last would
    /// understate it.
    async fn run_scenarios(&self) -> anyhow::Result<Vec<Report>> {
        let direct = self.create_direct().await?;
        Ok(vec![self.create_over_http().await?, self.get_over_http().await?, self.verify_over_http().await?, direct])
    }

    /// `count` challenges made through the engines (no HTTP, no rate limit, no email), for the
    /// scenarios that need existing ones. Not measured.
    async fn prepare(&self, prefix: &str, count: usize) -> anyhow::Result<Vec<Prepared>> {
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = JoinSet::new();
        for _ in 0..self.options.connections {
            let (services, tenancy, next) = (self.services.clone(), self.tenancy.clone(), next.clone());
            let prefix = prefix.to_owned();
            tasks.spawn(async move {
                let mut made = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count as u64 {
                        return anyhow::Ok(made);
                    }
                    let mut new = new_challenge(&format!("{prefix}-{n}@example.com"))?;
                    new.skip_rate_limit = true;
                    let created = round_robin(&services, n)
                        .create(&tenancy, new)
                        .await
                        .with_context(|| format!("could not prepare challenge {n}"))?;
                    made.push(Prepared {
                        id: created.challenge.challenge_id.as_str().to_owned(),
                        secret: created.secret.expose().to_owned(),
                        code: created.code.expose().to_owned(),
                    });
                }
            });
        }
        let mut all = Vec::with_capacity(count);
        while let Some(joined) = tasks.join_next().await {
            all.extend(joined.context("a preparing task panicked")??);
        }
        Ok(all)
    }

    async fn create_over_http(&self) -> anyhow::Result<Report> {
        let (http, urls) = (self.http.clone(), self.challenges_urls.clone());
        self.load("create", move |n| {
            let body = json!({
                "email": format!("bench-{n}@example.com"),
                "purpose": PURPOSE,
                "sendEmail": false,
            });
            send(http.post(round_robin(&urls, n)).json(&body), StatusCode::CREATED)
        })
        .await
    }

    async fn get_over_http(&self) -> anyhow::Result<Report> {
        let pool = self.prepare("get", GET_POOL).await?;
        let ids: Arc<[String]> = pool.into_iter().map(|c| c.id).collect();
        let (http, urls) = (self.http.clone(), self.challenges_urls.clone());
        self.load("get", move |n| {
            let url = format!("{}/{}", round_robin(&urls, n), round_robin(&ids, n));
            send(http.get(url), StatusCode::OK)
        })
        .await
    }

    async fn verify_over_http(&self) -> anyhow::Result<Report> {
        let count =
            usize::try_from(self.options.duration.as_secs()).unwrap_or(usize::MAX).saturating_mul(VERIFY_PER_SECOND);
        let preparing = Instant::now();
        let pool = self.prepare("verify", count).await?;
        eprintln!("  prepared {count} challenges for verify in {:.1} s", preparing.elapsed().as_secs_f64());
        let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
            pool.iter()
                .map(|c| {
                    let body = json!({ "challengeId": c.id, "secret": c.secret, "code": c.code });
                    serde_json::to_vec(&body)
                })
                .collect::<Result<_, _>>()
                .context("could not write a verify body")?,
        );
        let http = self.http.clone();
        let urls: Arc<[String]> = self.challenges_urls.iter().map(|url| format!("{url}/verify")).collect();
        self.load("verify", move |n| {
            let request = usize::try_from(n).ok().and_then(|i| bodies.get(i)).map(|body| {
                http.post(round_robin(&urls, n))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            });
            async move {
                match request {
                    Some(request) => send(request, StatusCode::OK).await,
                    None => Outcome::Exhausted,
                }
            }
        })
        .await
    }

    async fn create_direct(&self) -> anyhow::Result<Report> {
        let (services, tenancy) = (self.services.clone(), self.tenancy.clone());
        self.load("create (direct)", move |n| {
            let (service, tenancy) = (round_robin(&services, n).clone(), tenancy.clone());
            async move {
                let new = match new_challenge(&format!("direct-{n}@example.com")) {
                    Ok(new) => new,
                    Err(err) => return Outcome::Unexpected(format!("{err:#}")),
                };
                match service.issue(&tenancy, new).await {
                    Ok(_) => Outcome::Expected,
                    Err(err) => Outcome::Unexpected(format!("engine: {err}")),
                }
            }
        })
        .await
    }
}

/// A challenge for `email` like the `create` scenario asks for: rate-limited, no email sent.
fn new_challenge(email: &str) -> anyhow::Result<NewChallenge> {
    let email = EmailAddress::parse(email).with_context(|| format!("bad bench email {email:?}"))?;
    let purpose = Purpose::parse(PURPOSE).context("bad bench purpose")?;
    let mut new = NewChallenge::new(email, purpose);
    new.send_email = false;
    Ok(new)
}

/// Sends with the dev tenancy's key and reads the whole answer, so the connection is reused.
async fn send(request: reqwest::RequestBuilder, expected: StatusCode) -> Outcome {
    let response = match request.bearer_auth(DEV_API_KEY).send().await {
        Ok(response) => response,
        Err(err) => return Outcome::Unexpected(format!("transport: {}", err.without_url())),
    };
    let status = response.status();
    match response.bytes().await {
        Err(err) => Outcome::Unexpected(format!("reading the body: {}", err.without_url())),
        Ok(_) if status == expected => Outcome::Expected,
        Ok(body) => {
            let start: String = String::from_utf8_lossy(&body).chars().take(120).collect();
            Outcome::Unexpected(format!("HTTP {status}: {start}"))
        }
    }
}

/// A folder of its own under the system's temporary folder, removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> anyhow::Result<Self> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let path = std::env::temp_dir().join(format!("mailbox-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("could not create the folder {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.0) {
            eprintln!("warning: could not remove {}: {err}", self.0.display());
        }
    }
}

fn print_table(reports: &[Report]) {
    println!("| scenario | requests | req/s | p50 ms | p99 ms | max ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in reports {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
            r.label(),
            r.requests(),
            r.per_second(),
            r.percentile_ms(0.50),
            r.percentile_ms(0.99),
            r.percentile_ms(1.0),
            r.error_count(),
        );
    }
}

/// First line of a command's output, if it ran and succeeded.
fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program).args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().next().map(|line| line.trim().to_owned()).filter(|line| !line.is_empty())
}

fn print_machine(options: &Options) {
    let cpus = command_line("nproc", &[]).unwrap_or_else(|| "unknown".into());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let dirty = command_line("git", &["status", "--porcelain"]).is_some();
    let commit = match command_line("git", &["rev-parse", "--short", "HEAD"]) {
        Some(commit) if dirty => format!("{commit} (with uncommitted changes)"),
        Some(commit) => commit,
        None => "unknown (no commit)".into(),
    };
    println!(
        "machine: {cpus} CPUs, {model}; commit {commit}; {} s per scenario, {} connections; \
         load generator in the same process",
        options.duration.as_secs(),
        options.connections,
    );
}

/// Prints the results; false when any scenario had errors.
fn print_results(options: &Options, reports: &[Report]) -> bool {
    println!();
    print_table(reports);
    println!();
    let rate = |scenario: &str, setup: &str| {
        reports.iter().find(|r| r.scenario == scenario && r.setup == setup).map(Report::per_second)
    };
    let mut setups: Vec<&str> = reports.iter().map(|r| r.setup.as_str()).collect();
    setups.dedup();
    for setup in &setups {
        if let (Some(http), Some(direct)) = (rate("create", setup), rate("create (direct)", setup)) {
            println!("create over HTTP / direct store, {setup}: {:.0} / {:.0} = {:.2}", http, direct, http / direct);
        }
    }
    for setup in setups.iter().filter(|setup| **setup != SQLITE) {
        let ratios: Vec<String> = reports
            .iter()
            .filter(|r| r.setup == *setup)
            .filter_map(|r| Some(format!("{} {:.2}", r.scenario, r.per_second() / rate(r.scenario, SQLITE)?)))
            .collect();
        println!("req/s of {setup} / {SQLITE}: {}", ratios.join(", "));
    }
    print_machine(options);
    for r in reports.iter().filter(|r| r.exhausted) {
        println!(
            "note: {} ran out of prepared challenges after {:.1} s; its rate is over that time",
            r.label(),
            r.elapsed.as_secs_f64()
        );
    }
    let failed: Vec<&Report> = reports.iter().filter(|r| r.error_count() > 0).collect();
    for r in &failed {
        let line = format!(
            "!!! ERRORS: {} had {} unexpected answers out of {}; its numbers are not valid:",
            r.label(),
            r.error_count(),
            r.requests()
        );
        println!("{line}");
        eprintln!("{line}");
        for (what, count) in &r.errors {
            println!("!!!   {count} x {what}");
            eprintln!("!!!   {count} x {what}");
        }
    }
    failed.is_empty()
}

async fn run(options: Options) -> anyhow::Result<bool> {
    let scratch = ScratchDir::new()?;
    let mut reports = Vec::new();
    for setup in setups(&options, &scratch) {
        let bench = Bench::start(&setup, &options).await?;
        eprintln!(
            "benchmarking {} ({}) for {} s per scenario with {} connections",
            setup.label,
            bench.challenges_urls.join(", "),
            options.duration.as_secs(),
            options.connections
        );
        reports.extend(bench.run_scenarios().await?);
    }
    Ok(print_results(&options, &reports))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let result = match parse_options() {
        Ok(options) => run(options).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
