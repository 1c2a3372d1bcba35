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
            .field("binge_max_gap_minutes", &self.binge_max_gap_minutes)
            .field("inactivity_days", &self.inactivity_days)
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
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
