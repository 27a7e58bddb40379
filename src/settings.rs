//! Typed settings from the environment (and `.env`), checked once at start; read by `startup`
//! and `main` only.
//! Every bad value is reported at once, each naming its setting and what it expects.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use lettre::message::Mailbox;
use reqwest::Url;

use crate::challenges::Policy;
use crate::db;
use crate::domain::{SecretString, is_format_character};
use crate::web::client_ip::{ForwardingHeader, TrustedProxies};

pub const DEV_TENANCY_ID: &str = "dev-tenancy";
pub const DEV_API_KEY: &str = "dev-api-key-not-for-production";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// How the log is written: `json` for log collectors, one object per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub env: AppEnv,
    /// The product every email names, in its subject or footer.
    pub app_name: String,
    pub app_addr: SocketAddr,
    pub app_base_url: Url,
    /// `None`: the REST API is not served.
    pub challenge_api_addr: Option<SocketAddr>,
    /// May hold a database password.
    pub database_url: SecretString,
    /// `None`: the app uses the embedded service in-process.
    pub passlock_endpoint: Option<Url>,
    pub tenancy_id: String,
    pub api_key: SecretString,
    /// `None`: mail goes to the development mailbox.
    pub smtp_url: Option<SecretString>,
    pub mail_from: Mailbox,
    pub policy: Policy,
    /// How long a recovery session may enrol a new passkey.
    pub recovery_ttl: Duration,
    /// POSTs allowed per client IP per minute on the app's forms.
    pub throttle_per_minute: u32,
    /// Serve `/dev/mailbox` even when the app listens on a non-loopback address.
    pub dev_mailbox_on_public_addr: bool,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` name the client for the throttle.
    pub trusted_proxies: TrustedProxies,
    /// `None` in development: generated and stored on first start.
    pub challenge_hash_key: Option<SecretString>,
    pub session_key: Option<SecretString>,
    /// How long requests in flight may take to finish once SIGTERM or Ctrl-C arrived.
    pub shutdown_grace: Duration,
    pub log_format: LogFormat,
    /// Serve `GET /metrics` on the API's listener.
    pub metrics: bool,
}

/// Everything that was wrong with the environment, one line per setting.
#[derive(Debug)]
pub struct SettingsError(pub Vec<String>);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid settings (see .env.example):")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}

/// Reads one setting after another, collecting every problem instead of stopping at the first.
struct Reader<F> {
    lookup: F,
    problems: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    /// The value if set and not blank.
    fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    fn parse<T>(&mut self, name: &str, default: &str, expects: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let value = self.raw(name).unwrap_or_else(|| default.to_owned());
        let parsed = parse(value.trim());
        if parsed.is_none() {
            self.problems.push(format!("{name}={value:?} is not valid: expected {expects}"));
        }
        parsed
    }

    fn seconds(&mut self, name: &str, default: u64) -> Option<Duration> {
        self.parse(name, &default.to_string(), "a whole number of seconds, at least 1", |v| {
            v.parse::<u64>().ok().filter(|&s| s >= 1).map(Duration::from_secs)
        })
    }

    fn count(&mut self, name: &str, default: u32) -> Option<u32> {
        self.parse(name, &default.to_string(), "a whole number, at least 1", |v| {
            v.parse::<u32>().ok().filter(|&n| n >= 1)
        })
    }

    fn flag(&mut self, name: &str, default: bool) -> Option<bool> {
        self.parse(name, &default.to_string(), "true or false", |v| match v {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    fn key(&mut self, name: &str, min_len: usize) -> Option<SecretString> {
        let value = self.raw(name)?;
        if value.len() < min_len {
            self.problems.push(format!(
                "{name} is too short: expected at least {min_len} random characters (for example the output of `openssl rand -base64 {}`)",
                min_len
            ));
            return None;
        }
        Some(SecretString::new(value))
    }
}

/// Production API keys are long random strings; `tenancy create` makes 46 characters.
const MIN_API_KEY_LEN: usize = 32;

/// Whether the server of `url` is this machine (no host means a local socket), where nothing
/// crosses a network.
fn is_local(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    host.is_empty() || host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether mail to this server is encrypted: `smtps://`, `?tls=required`, or a local server.
fn smtp_uses_tls(url: &Url) -> bool {
    url.scheme() == "smtps" || url.query_pairs().any(|(k, v)| k == "tls" && v == "required") || is_local(url)
}

/// Whether the connections to this PostgreSQL server are encrypted with no way back to plain
/// text (`sslmode=require` or stricter; the default, `prefer`, falls back to plain text when
/// told to), or the server is local.
fn postgres_uses_tls(url: &Url) -> bool {
    let required = |mode: &str| ["require", "verify-ca", "verify-full"].contains(&mode);
    url.query_pairs().any(|(k, v)| k == "sslmode" && required(&v)) || is_local(url)
}

/// The `DATABASE_URL`, which is never repeated in a message: it may hold a password.
fn database_url(r: &mut Reader<impl Fn(&str) -> Option<String>>) -> Option<SecretString> {
    let value = r.raw("DATABASE_URL").unwrap_or_else(|| "sqlite://data/app.db".to_owned());
    if !db::is_supported_url(value.trim()) {
        r.problems.push(format!("DATABASE_URL is not valid: expected {}", db::URL_FORMS));
        return None;
    }
    Some(SecretString::new(value.trim()))
}

/// Long enough for any product name, short enough to leave room in a subject line.
const MAX_APP_NAME_CHARS: usize = 64;

/// A product name for email subjects and footers: one line, nothing hidden. A line break in a
/// subject could add mail headers, and format characters can hide or reorder what it shows.
fn app_name(value: &str) -> Option<String> {
    let fits = value.chars().count() <= MAX_APP_NAME_CHARS;
    let one_visible_line =
        !value.chars().any(|c| c.is_control() || is_format_character(c) || matches!(c, '\u{2028}' | '\u{2029}'));
    (fits && one_visible_line).then(|| value.to_owned())
}

fn socket_addr(value: &str) -> Option<SocketAddr> {
    value.to_socket_addrs().ok()?.next()
}

fn http_url(value: &str) -> Option<Url> {
    Url::parse(value).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

impl Settings {
    /// From the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Self, SettingsError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From any lookup, so tests can give exact values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let mut r = Reader { lookup, problems: Vec::new() };

        let env = r.parse("APP_ENV", "development", "development or production", |v| match v {
            "development" => Some(AppEnv::Development),
            "production" => Some(AppEnv::Production),
            _ => None,
        });
        let app_name = r.parse(
            "APP_NAME",
            "Mailbox challenges demo",
            &format!(
                "a name of at most {MAX_APP_NAME_CHARS} characters on one line, without control or format characters"
            ),
            app_name,
        );
        let app_addr = r.parse("APP_ADDR", "127.0.0.1:8080", "host:port, such as 127.0.0.1:8080", socket_addr);
        let app_base_url = r.parse(
            "APP_BASE_URL",
            "http://localhost:8080",
            "an http(s) origin such as http://localhost:8080",
            http_url,
        );
        let challenge_api_addr = match (r.lookup)("CHALLENGE_API_ADDR") {
            Some(v) if v.trim().is_empty() => Some(None),
            _ => r
                .parse("CHALLENGE_API_ADDR", "127.0.0.1:8787", "host:port, or empty to not serve the API", socket_addr)
                .map(Some),
        };
        let database_url = database_url(&mut r);
        let passlock_endpoint = match r.raw("PASSLOCK_ENDPOINT") {
            None => Some(None),
            Some(v) => {
                r.parse("PASSLOCK_ENDPOINT", &v, "an http(s) URL such as https://api.passlock.dev", http_url).map(Some)
            }
        };
        let tenancy_id = r.raw("PASSLOCK_TENANCY_ID").unwrap_or_else(|| DEV_TENANCY_ID.to_owned());
        let api_key = SecretString::new(r.raw("PASSLOCK_API_KEY").unwrap_or_else(|| DEV_API_KEY.to_owned()));
        let smtp_url = match r.raw("SMTP_URL") {
            None => Some(None),
            Some(v) => r
                .parse("SMTP_URL", &v, "smtp://host:port or smtps://user:pass@host", |v| {
                    Url::parse(v).ok().filter(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some())
                })
                .map(|_| Some(SecretString::new(v))),
        };
        let mail_from =
            r.parse("MAIL_FROM", "Demo <no-reply@localhost>", "a sender such as Demo <no-reply@example.com>", |v| {
                v.parse::<Mailbox>().ok()
            });
        let ttl = r.seconds("CHALLENGE_TTL_SECONDS", 600);
        let max_attempts = r.count("CHALLENGE_MAX_ATTEMPTS", 5);
        let create_limit = r.count("CHALLENGE_RATE_LIMIT_MAX", 5);
        let create_window = r.seconds("CHALLENGE_RATE_LIMIT_WINDOW_SECONDS", 600);
        let recovery_ttl = r.seconds("RECOVERY_SESSION_SECONDS", 600);
        let throttle_per_minute = r.count("APP_THROTTLE_PER_MINUTE", 30);
        let proxy_header = r.parse(
            "APP_TRUSTED_PROXY_HEADER",
            "x-forwarded-for",
            "x-forwarded-for or forwarded",
            ForwardingHeader::parse,
        );
        let trusted_proxies = r.parse(
            "APP_TRUSTED_PROXIES",
            "",
            "comma-separated IP addresses or CIDR ranges, such as 10.0.0.0/8, 192.0.2.1",
            |v| TrustedProxies::parse(v, proxy_header.unwrap_or_default()).ok(),
        );
        let dev_mailbox_on_public_addr = r.flag("DEV_MAILBOX_ON_PUBLIC_ADDR", false);
        let shutdown_grace = r.seconds("SHUTDOWN_GRACE_SECONDS", 10);
        let log_format = r.parse("LOG_FORMAT", "text", "text or json", |v| match v {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        });
        let metrics = r.flag("METRICS", false);
        if metrics == Some(true) && challenge_api_addr == Some(None) {
            r.problems.push(
                "METRICS=true needs the API's listener, where /metrics is served: set CHALLENGE_API_ADDR".to_owned(),
            );
        }
        let challenge_hash_key = r.key("CHALLENGE_HASH_KEY", 32);
        let session_key = r.key("SESSION_KEY", 64);

        if env == Some(AppEnv::Production) {
            for (name, set) in [
                ("SESSION_KEY", r.raw("SESSION_KEY").is_some()),
                ("CHALLENGE_HASH_KEY", r.raw("CHALLENGE_HASH_KEY").is_some()),
                ("SMTP_URL", r.raw("SMTP_URL").is_some()),
                // The default key is public: anyone could create challenges and send mail.
                ("PASSLOCK_API_KEY", r.raw("PASSLOCK_API_KEY").is_some_and(|k| k != DEV_API_KEY)),
            ] {
                if !set {
                    r.problems.push(format!("{name} is required when APP_ENV=production"));
                }
            }
            if r.raw("PASSLOCK_API_KEY").is_some_and(|k| k != DEV_API_KEY && k.len() < MIN_API_KEY_LEN) {
                r.problems.push(format!(
                    "PASSLOCK_API_KEY is too short: expected at least {MIN_API_KEY_LEN} random characters in production (`mailbox-challenges tenancy create` makes one)"
                ));
            }
            if let Some(url) = r.raw("SMTP_URL").and_then(|v| Url::parse(v.trim()).ok())
                && !smtp_uses_tls(&url)
            {
                r.problems.push(
                    "SMTP_URL must use TLS in production: smtps://… or smtp://…?tls=required (plain smtp:// only to a loopback host)"
                        .to_owned(),
                );
            }
            if let Some(url) = database_url.as_ref().and_then(|v| Url::parse(v.expose()).ok())
                && url.scheme().starts_with("postgres")
                && !postgres_uses_tls(&url)
            {
                r.problems.push(
                    "DATABASE_URL must use TLS in production to a PostgreSQL server on another host: add ?sslmode=verify-full (or sslmode=require)"
                        .to_owned(),
                );
            }
        }
        if !r.problems.is_empty() {
            return Err(SettingsError(r.problems));
        }
        // Every `None` below was reported as a problem above, so none can be reached.
        let missing = || SettingsError(vec!["internal: a setting failed without a message".into()]);
        Ok(Self {
            env: env.ok_or_else(missing)?,
            app_name: app_name.ok_or_else(missing)?,
            app_addr: app_addr.ok_or_else(missing)?,
            app_base_url: app_base_url.ok_or_else(missing)?,
            challenge_api_addr: challenge_api_addr.ok_or_else(missing)?,
            database_url: database_url.ok_or_else(missing)?,
            passlock_endpoint: passlock_endpoint.ok_or_else(missing)?,
            tenancy_id,
            api_key,
            smtp_url: smtp_url.ok_or_else(missing)?,
            mail_from: mail_from.ok_or_else(missing)?,
            policy: Policy {
                ttl: ttl.ok_or_else(missing)?,
                max_attempts: max_attempts.ok_or_else(missing)?,
                create_limit: create_limit.ok_or_else(missing)?,
                create_window: create_window.ok_or_else(missing)?,
                ..Policy::default()
            },
            recovery_ttl: recovery_ttl.ok_or_else(missing)?,
            throttle_per_minute: throttle_per_minute.ok_or_else(missing)?,
            dev_mailbox_on_public_addr: dev_mailbox_on_public_addr.ok_or_else(missing)?,
            trusted_proxies: trusted_proxies.ok_or_else(missing)?,
            challenge_hash_key,
            session_key,
            shutdown_grace: shutdown_grace.ok_or_else(missing)?,
            log_format: log_format.ok_or_else(missing)?,
            metrics: metrics.ok_or_else(missing)?,
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == AppEnv::Production
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_spec() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.env, AppEnv::Development);
        assert_eq!(s.app_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.challenge_api_addr.unwrap().to_string(), "127.0.0.1:8787");
        assert_eq!(s.database_url.expose(), "sqlite://data/app.db");
        assert!(s.passlock_endpoint.is_none() && s.smtp_url.is_none());
        assert_eq!(s.policy.ttl, Duration::from_secs(600));
        assert_eq!((s.policy.max_attempts, s.policy.create_limit), (5, 5));
        assert_eq!(s.mail_from.to_string(), "Demo <no-reply@localhost>");
        assert_eq!(s.app_name, "Mailbox challenges demo");
        assert_eq!(s.shutdown_grace, Duration::from_secs(10));
        assert_eq!((s.log_format, s.metrics), (LogFormat::Text, false));
    }

    #[test]
    fn operations_settings_are_checked() {
        let s = settings(&[("SHUTDOWN_GRACE_SECONDS", "30"), ("LOG_FORMAT", "json"), ("METRICS", "true")]).unwrap();
        assert_eq!((s.shutdown_grace, s.log_format, s.metrics), (Duration::from_secs(30), LogFormat::Json, true));

        let err = settings(&[("SHUTDOWN_GRACE_SECONDS", "0"), ("LOG_FORMAT", "JSON"), ("METRICS", "yes")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SHUTDOWN_GRACE_SECONDS=\"0\" is not valid: expected a whole number of seconds, at least 1")
        );
        assert!(err.contains("LOG_FORMAT=\"JSON\" is not valid: expected text or json"), "{err}");
        assert!(err.contains("METRICS=\"yes\" is not valid: expected true or false"), "{err}");
    }

    #[test]
    fn metrics_need_the_api_listener() {
        let err = settings(&[("METRICS", "true"), ("CHALLENGE_API_ADDR", "")]).unwrap_err().to_string();
        assert!(err.contains("METRICS=true needs the API's listener"), "{err}");
        assert!(settings(&[("METRICS", "false"), ("CHALLENGE_API_ADDR", "")]).is_ok());
    }

    #[test]
    fn app_name_is_one_line_of_visible_text() {
        assert_eq!(settings(&[("APP_NAME", "  Acme Café  ")]).unwrap().app_name, "Acme Café");
        assert_eq!(settings(&[("APP_NAME", " ")]).unwrap().app_name, "Mailbox challenges demo", "blank means unset");
        assert_eq!(settings(&[("APP_NAME", &"n".repeat(64))]).unwrap().app_name.len(), 64);
        // It goes into subjects: a line break there would add headers of the sender's choosing.
        for bad in ["Acme\r\nBcc: victim@example.com", "Acme\nX: y", "Ac\u{0}me", "Ac\tme", "Ac\u{2028}me"] {
            let err = settings(&[("APP_NAME", bad)]).unwrap_err().to_string();
            assert!(err.contains("APP_NAME") && err.contains("on one line"), "{bad:?}: {err}");
            assert!(!err.contains("\r\nBcc") && !err.contains("\nX"), "the message escapes what it repeats: {err}");
        }
        for hidden in ["Acme\u{202E}", "Ac\u{200B}me"] {
            assert!(settings(&[("APP_NAME", hidden)]).is_err(), "{hidden:?}");
        }
        let err = settings(&[("APP_NAME", &"n".repeat(65))]).unwrap_err().to_string();
        assert!(err.contains("at most 64 characters"), "{err}");
    }

    #[test]
    fn each_bad_value_is_named_with_what_it_expects() {
        let err = settings(&[
            ("CHALLENGE_TTL_SECONDS", "abc"),
            ("APP_ADDR", "nowhere"),
            ("CHALLENGE_MAX_ATTEMPTS", "0"),
            ("SMTP_URL", "http://mail"),
        ])
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.0.len(), 4, "{text}");
        assert!(text.contains("CHALLENGE_TTL_SECONDS=\"abc\" is not valid: expected a whole number of seconds"));
        assert!(text.contains("APP_ADDR=\"nowhere\""));
        assert!(text.contains("CHALLENGE_MAX_ATTEMPTS=\"0\""));
        assert!(text.contains("SMTP_URL"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        assert_eq!(settings(&[]).unwrap().trusted_proxies, TrustedProxies::default());
        assert!(settings(&[("APP_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")]).is_ok());
        let err = settings(&[("APP_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")]).unwrap_err().to_string();
        assert!(err.contains("APP_TRUSTED_PROXIES") && err.contains("CIDR"), "{err}");
    }

    #[test]
    fn empty_api_addr_means_not_served() {
        assert!(settings(&[("CHALLENGE_API_ADDR", "")]).unwrap().challenge_api_addr.is_none());
    }

    #[test]
    fn production_needs_its_secrets() {
        let err = settings(&[("APP_ENV", "production")]).unwrap_err().to_string();
        for name in ["SESSION_KEY", "CHALLENGE_HASH_KEY", "SMTP_URL", "PASSLOCK_API_KEY"] {
            assert!(err.contains(&format!("{name} is required when APP_ENV=production")), "{err}");
        }
        let ok = settings(&[
            ("APP_ENV", "production"),
            ("SESSION_KEY", &"k".repeat(64)),
            ("CHALLENGE_HASH_KEY", &"h".repeat(32)),
            ("SMTP_URL", "smtps://user:pass@mail.example.com"),
            ("PASSLOCK_API_KEY", "a-real-key-of-this-deployment-0123456789"),
        ]);
        assert!(ok.unwrap().is_production());
    }

    fn production(overrides: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let session_key = "k".repeat(64);
        let hash_key = "h".repeat(32);
        let mut pairs = vec![
            ("APP_ENV", "production"),
            ("SESSION_KEY", session_key.as_str()),
            ("CHALLENGE_HASH_KEY", hash_key.as_str()),
            ("SMTP_URL", "smtps://user:pass@mail.example.com"),
            ("PASSLOCK_API_KEY", "a-real-key-of-this-deployment-0123456789"),
        ];
        pairs.retain(|(name, _)| overrides.iter().all(|(o, _)| o != name));
        pairs.extend_from_slice(overrides);
        settings(&pairs)
    }

    #[test]
    fn short_api_keys_are_refused_in_production() {
        let err = production(&[("PASSLOCK_API_KEY", "only-31-characters-long-0123456")]).unwrap_err().to_string();
        assert!(err.contains("PASSLOCK_API_KEY is too short"), "{err}");
        assert!(production(&[("PASSLOCK_API_KEY", &"k".repeat(32))]).is_ok());
    }

    #[test]
    fn plain_text_smtp_is_refused_in_production() {
        let err = production(&[("SMTP_URL", "smtp://user:pass@mail.example.com:587")]).unwrap_err().to_string();
        assert!(err.contains("SMTP_URL") && err.contains("TLS"), "{err}");
        for with_tls in [
            "smtps://user:pass@mail.example.com",
            "smtp://user:pass@mail.example.com:587?tls=required",
            "smtp://127.0.0.1:2525",
            "smtp://localhost:25",
            "smtp://[::1]:25",
        ] {
            assert!(production(&[("SMTP_URL", with_tls)]).is_ok(), "{with_tls} was refused");
        }
        assert!(settings(&[("SMTP_URL", "smtp://mail.example.com:25")]).is_ok(), "development may use plain SMTP");
    }

    #[test]
    fn plain_text_postgres_to_another_host_is_refused_in_production() {
        let err = production(&[("DATABASE_URL", "postgres://app:pw@db.example.com/app")]).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL") && err.contains("sslmode"), "{err}");
        assert!(!err.contains("pw@"), "the password is not repeated: {err}");
        for safe in [
            "postgres://app:pw@db.example.com/app?sslmode=verify-full",
            "postgresql://app:pw@db.example.com/app?sslmode=require",
            "postgres://app:pw@127.0.0.1:5432/app",
            "postgres://app:pw@localhost/app",
        ] {
            assert!(production(&[("DATABASE_URL", safe)]).is_ok(), "{safe} was refused");
        }
        let dev = settings(&[("DATABASE_URL", "postgres://app:pw@db.example.com/app")]);
        assert!(dev.is_ok(), "development may use plain text");
    }

    #[test]
    fn an_unknown_database_is_refused_without_repeating_its_url() {
        let err = settings(&[("DATABASE_URL", "mysql://app:hunter2@db/app")]).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL is not valid"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn short_keys_are_refused() {
        let err = settings(&[("SESSION_KEY", "short")]).unwrap_err().to_string();
        assert!(err.contains("SESSION_KEY is too short"), "{err}");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = settings(&[
            ("SMTP_URL", "smtps://user:hunter2@mail.example.com"),
            ("DATABASE_URL", "postgres://app:hunter2@127.0.0.1/app"),
        ])
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
