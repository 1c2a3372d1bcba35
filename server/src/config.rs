//! The command line and its settings: one typed struct, flags and environment alike.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use adapters_http::JwtSecret;
use clap::{Args, Parser, Subcommand, ValueEnum};
use uuid::Uuid;

/// The viewing-activity service: records what people watch and answers with progress,
/// history and statistics.
#[derive(Debug, Parser)]
#[command(name = "viewing-server", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP API (the default).
    Serve,
    /// Print a bearer token signed with VIEWING_JWT_SECRET.
    Token {
        /// The user's UUID (the token's `sub`).
        #[arg(long)]
        sub: Uuid,
        /// Grant the admin role (catalog writes).
        #[arg(long)]
        admin: bool,
        /// Lifetime: a number with a unit, `90s`, `30m`, `1h`, `7d`.
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: chrono::Duration,
    },
    /// Run the database migrations and exit.
    Migrate,
    /// Manage the content catalog.
    Catalog {
        #[command(subcommand)]
        action: CatalogCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Load `{ "movies": [...], "shows": [...] }` (the catalog API's shapes, with ids);
    /// existing entries are replaced.
    Import {
        /// The JSON file.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting of the server. Secrets never show in `Debug`.
#[derive(Args)]
pub struct Settings {
    /// Address the HTTP API listens on (port 0: any free port; the bound address is printed
    /// as `listening on ADDR`).
    #[arg(
        long,
        env = "VIEWING_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// `sqlite://FILE` (created if missing), `postgres://…`, or `memory:` (nothing kept).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://viewing.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,
    /// HS256 secret for bearer tokens. Unset: dev-auth mode (random secret, tokens printed).
    #[arg(
        long = "jwt-secret",
        env = "VIEWING_JWT_SECRET",
        hide_env_values = true,
        hide = true,
        global = true
    )]
    pub jwt_secret: Option<JwtSecret>,
    /// Sustained requests per minute and user.
    #[arg(
        long,
        env = "VIEWING_RATE_LIMIT_PER_MIN",
        default_value = "600",
        global = true
    )]
    pub rate_limit_per_min: NonZeroU32,
    /// Requests a user may make at once.
    #[arg(
        long,
        env = "VIEWING_RATE_LIMIT_BURST",
        default_value = "100",
        global = true
    )]
    pub rate_limit_burst: NonZeroU32,
    /// Sustained requests per minute and client address that bring no valid token (answered
    /// 401 until this is spent, then 429).
    #[arg(
        long,
        env = "VIEWING_RATE_LIMIT_ANON_PER_MIN",
        default_value = "60",
        global = true
    )]
    pub anon_rate_limit_per_min: NonZeroU32,
    /// Requests without a valid token a client address may make at once.
    #[arg(
        long,
        env = "VIEWING_RATE_LIMIT_ANON_BURST",
        default_value = "20",
        global = true
    )]
    pub anon_rate_limit_burst: NonZeroU32,
    /// Longest pause, in minutes, between two episodes of one binge session.
    #[arg(
        long,
        env = "VIEWING_BINGE_MAX_GAP_MINUTES",
        default_value = "180",
        global = true
    )]
    pub binge_max_gap_minutes: u32,
    /// Days without a watch after which a show in progress reads as stalled.
    #[arg(
        long,
        env = "VIEWING_INACTIVITY_DAYS",
        default_value = "90",
        global = true
    )]
    pub inactivity_days: u32,
    /// NATS server the domain events also go to (JetStream stream `VIEWING_EVENTS`, subjects
    /// `viewing.events.<EventType>`). Unset: events reach the in-process handlers only.
    #[arg(long, env = "VIEWING_NATS_URL", hide_env_values = true, global = true)]
    pub nats_url: Option<String>,
    /// `http://…` address that due continuation reminders are POSTed to as JSON (a failed POST
    /// is retried with backoff, 5 attempts in all). Unset or blank: due reminders are only
    /// logged and listed as sent.
    #[arg(
        long,
        env = "VIEWING_NOTIFY_WEBHOOK_URL",
        value_parser = check_webhook_url,
        hide_env_values = true,
        global = true
    )]
    pub notify_webhook_url: Option<String>,
    /// Minutes after an episode watch that its continuation reminder is due (default 7 days).
    #[arg(
        long,
        env = "VIEWING_REMINDER_DELAY_MINUTES",
        default_value = "10080",
        global = true
    )]
    pub reminder_delay_minutes: NonZeroU32,
    /// Seconds between two looks for due reminders.
    #[arg(
        long,
        env = "VIEWING_REMINDER_INTERVAL_SECONDS",
        default_value = "30",
        global = true
    )]
    pub reminder_interval_seconds: NonZeroU32,
    /// Log format (logs go to stderr; filter with RUST_LOG).
    #[arg(
        long,
        env = "VIEWING_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("rate_limit_per_min", &self.rate_limit_per_min)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("anon_rate_limit_per_min", &self.anon_rate_limit_per_min)
            .field("anon_rate_limit_burst", &self.anon_rate_limit_burst)
            .field("binge_max_gap_minutes", &self.binge_max_gap_minutes)
            .field("inactivity_days", &self.inactivity_days)
            .field("nats_url", &self.nats_url.as_deref().map(redact_url))
            .field(
                "notify_webhook_url",
                &self
                    .notify_webhook_url()
                    .as_ref()
                    .map(crate::notify::origin),
            )
            .field("reminder_delay_minutes", &self.reminder_delay_minutes)
            .field("reminder_interval_seconds", &self.reminder_interval_seconds)
            .field("log_format", &self.log_format)
            .finish()
    }
}

/// The URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}"),
        None => url.to_owned(),
    }
}

impl Settings {
    /// The NATS URL, when one is set and not blank.
    pub fn nats_url(&self) -> Option<&str> {
        self.nats_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
    }

    /// The reminder webhook, when one is set and not blank (checked by the command line).
    pub fn notify_webhook_url(&self) -> Option<reqwest::Url> {
        self.notify_webhook_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .and_then(|u| parse_webhook_url(u).ok())
    }
}

/// A blank value (unset), or an address [`parse_webhook_url`] accepts.
fn check_webhook_url(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    parse_webhook_url(raw).map(|_| raw.trim().to_owned())
}

/// An `http://` URL (this build has no TLS, so `https://` is refused at start, not at the
/// first reminder).
pub fn parse_webhook_url(raw: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(raw.trim()).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "http" if url.host().is_some() => Ok(url),
        "http" => Err("the URL names no host".to_owned()),
        "https" => Err(
            "https is not supported by this build (no TLS): use http:// (e.g. a local relay)"
                .to_owned(),
        ),
        other => Err(format!("unsupported scheme {other:?}: use http://")),
    }
}

/// `90s`, `30m`, `1h`, `7d` (a bare number is seconds).
pub fn parse_ttl(raw: &str) -> Result<chrono::Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("{raw:?}: expected a number with a unit (s, m, h, d)"))?;
    let seconds = match unit {
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .filter(|s| *s > 0 && *s <= 366 * 86_400)
    .ok_or_else(|| format!("{raw:?}: expected 1s to 366d, with a unit s, m, h or d"))?;
    Ok(chrono::Duration::seconds(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("1h"), Ok(chrono::Duration::hours(1)));
        assert_eq!(parse_ttl("90"), Ok(chrono::Duration::seconds(90)));
        assert_eq!(parse_ttl("7d"), Ok(chrono::Duration::days(7)));
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("h").is_err());
        assert!(parse_ttl("3w").is_err());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let cli = Cli::parse_from([
            "viewing-server",
            "--jwt-secret",
            "hunter2",
            "--database-url",
            "postgres://u:pw@h/db",
        ]);
        let shown = format!("{:?}", cli.settings);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("pw@"), "{shown}");
    }

    #[test]
    fn webhook_urls_are_plain_http() {
        assert!(parse_webhook_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(parse_webhook_url("https://example.com/hook").is_err());
        assert!(parse_webhook_url("ftp://example.com/").is_err());
        assert!(parse_webhook_url("not a url").is_err());
        let blank = Cli::parse_from(["viewing-server", "--notify-webhook-url", " "]);
        assert_eq!(blank.settings.notify_webhook_url(), None);
        assert!(
            Cli::try_parse_from(["viewing-server", "--notify-webhook-url", "https://h/"]).is_err()
        );
    }

    #[test]
    fn urls_with_credentials_stay_out_of_debug() {
        let cli = Cli::parse_from([
            "viewing-server",
            "--nats-url",
            "nats://u:natspw@h:4222",
            "--notify-webhook-url",
            "http://u:hookpw@h/hook",
        ]);
        let shown = format!("{:?}", cli.settings);
        assert!(!shown.contains("natspw"), "{shown}");
        assert!(!shown.contains("hookpw"), "{shown}");
        assert_eq!(cli.settings.nats_url(), Some("nats://u:natspw@h:4222"));
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
