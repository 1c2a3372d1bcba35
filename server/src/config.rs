//! The command line and its settings: one typed struct, flags and environment alike.

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use adapters_http::JwtSecret;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use uuid::Uuid;

/// The viewing-activity service: records what people watch and answers with progress,
/// history and statistics.
//
// With no command it serves: `viewing-server [OPTIONS]` is `viewing-server serve [OPTIONS]`,
// and options written before a command apply to that command (see `Cli::try_parse_args_from`).
#[derive(Debug, Parser)]
#[command(
    name = "viewing-server",
    version,
    override_usage = "viewing-server [COMMAND] [OPTIONS]",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Command,
}

/// The end of `viewing-server --help`: what every newcomer needs before the first start.
const AFTER_HELP: &str = "\
With no command, `viewing-server [OPTIONS]` serves, as `viewing-server serve [OPTIONS]`; each \
command's --help lists its own options (flags, or the environment variables named there).

VIEWING_JWT_SECRET signs and checks the bearer tokens (HS256); it must be at least 32 bytes. \
Unset or blank, `serve` runs in DEV-AUTH MODE: it makes a random secret for this run only and \
prints a user token and an admin token. Never run like that in production.";

/// The commands of the program.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP API (the default).
    Serve(Settings),
    /// Print a bearer token signed with VIEWING_JWT_SECRET.
    Token(TokenArgs),
    /// Run the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage the content catalog.
    Catalog {
        #[command(subcommand)]
        action: CatalogCommand,
    },
    /// Import a user's history from another service's export (SPEC §12): the export's zip or
    /// one of its files, matched against the catalog; matched plays are recorded as imports.
    Import(ImportArgs),
}

/// The options of `viewing-server import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Whose export it is: trakt, letterboxd, netflix, tvtime or viewing (this service's own).
    #[arg(value_parser = parse_source)]
    pub source: viewing_app::domain::imports::ImportSource,
    /// The export's zip, or one of its files.
    pub file: PathBuf,
    /// The user whose history it is (a token's `sub`).
    #[arg(long)]
    pub user: Uuid,
    /// Match and count only; record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Netflix: the profile to import from a ViewingActivity.csv holding several.
    #[arg(long)]
    pub profile: Option<String>,
    /// Longest pause, in minutes, between two episodes of one binge session: the server's own
    /// setting, so imported sessions come out as the server would make them.
    #[arg(long, env = "VIEWING_BINGE_MAX_GAP_MINUTES", default_value = "180")]
    pub binge_max_gap_minutes: u32,
    #[command(flatten)]
    pub metadata: MetadataArgs,
}

fn parse_source(raw: &str) -> Result<viewing_app::domain::imports::ImportSource, String> {
    viewing_app::domain::imports::ImportSource::parse(raw)
        .ok_or_else(|| "one of trakt, letterboxd, netflix, tvtime, viewing".to_owned())
}

/// The commands of `viewing-server catalog`.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Load `{ "movies": [...], "shows": [...] }` (the catalog API's shapes, with ids);
    /// existing entries are replaced.
    Import {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The JSON file.
        file: PathBuf,
    },
    /// Load IMDb's datasets (title.basics.tsv.gz, title.episode.tsv.gz and, when present,
    /// title.ratings.tsv.gz) from DIR: movies, shows, seasons and episodes with their IMDb ids.
    /// Loading again updates in place.
    ImportImdb {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The folder holding the downloaded files.
        dir: PathBuf,
        /// Skip movies and shows with fewer votes in title.ratings.tsv.gz.
        #[arg(long, default_value_t = 0)]
        min_votes: u32,
        /// Also load titles IMDb marks adult.
        #[arg(long)]
        include_adult: bool,
        /// Rows written per transaction.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        batch_rows: u32,
    },
}

/// How the server writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which database to use: every command that opens the store takes it.
#[derive(Args, Clone)]
pub struct DatabaseArgs {
    /// `sqlite://FILE` (created if missing), `postgres://…`, or `memory:` (nothing kept).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://viewing.db",
        hide_env_values = true
    )]
    pub database_url: String,
}

impl fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseArgs")
            .field("database_url", &redact_url(&self.database_url))
            .finish()
    }
}

/// The options of `viewing-server token`.
#[derive(Args)]
pub struct TokenArgs {
    /// The user's UUID (the token's `sub`).
    #[arg(long)]
    pub sub: Uuid,
    /// Grant the admin role (catalog writes).
    #[arg(long)]
    pub admin: bool,
    /// Lifetime: a number with a unit, `90s`, `30m`, `1h`, `7d`.
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub ttl: chrono::Duration,
    /// The HS256 secret the server checks tokens with, at least 32 bytes (prefer the
    /// environment: a flag is visible to other users of the machine).
    #[arg(
        long = "jwt-secret",
        env = "VIEWING_JWT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,
}

impl fmt::Debug for TokenArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenArgs")
            .field("sub", &self.sub)
            .field("admin", &self.admin)
            .field("ttl", &self.ttl)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl TokenArgs {
    /// The signing secret: it must be set, and long enough (see [`check_jwt_secret`]).
    pub fn secret(&self) -> Result<JwtSecret, String> {
        check_jwt_secret(self.jwt_secret.as_deref())?.ok_or_else(|| {
            "VIEWING_JWT_SECRET is not set: a token signed with nothing would not verify".to_owned()
        })
    }
}

/// Where missing catalog items are fetched from (SPEC §16): `serve` and `import` take it.
#[derive(Clone, Args)]
pub struct MetadataArgs {
    /// TMDB API Read Access Token (themoviedb.org → Settings → API). Set: a lookup of an
    /// external id the catalog lacks fetches the item from TMDB and stores it, and
    /// `PUT /api/catalog/refresh/{kind}/{id}` works. Unset or blank: the server never calls out.
    #[arg(
        long = "tmdb-token",
        env = "VIEWING_TMDB_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub tmdb_token: Option<String>,
    /// TMDB's v3 API root (another address only for a proxy or a test fake).
    #[arg(long = "tmdb-url", env = "VIEWING_TMDB_URL", default_value = adapters_tmdb::DEFAULT_URL)]
    pub tmdb_url: String,
}

impl fmt::Debug for MetadataArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataArgs")
            .field(
                "tmdb_token",
                &self.tmdb_token.as_ref().map(|_| "<redacted>"),
            )
            .field("tmdb_url", &self.tmdb_url)
            .finish()
    }
}

impl MetadataArgs {
    /// The TMDB client when `VIEWING_TMDB_TOKEN` is set (not blank).
    ///
    /// # Errors
    /// When the URL is not `http(s)://…` or the HTTP client cannot be built.
    pub fn tmdb(&self) -> Result<Option<adapters_tmdb::TmdbClient>, String> {
        let Some(token) = self
            .tmdb_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        let url = self.tmdb_url.trim();
        parse_http_url(url).map_err(|e| format!("VIEWING_TMDB_URL {url:?}: {e}"))?;
        adapters_tmdb::TmdbClient::new(adapters_tmdb::TmdbConfig::new(url, token))
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// Every setting of the server (`viewing-server serve`). Secrets never show in `Debug`.
#[derive(Args)]
pub struct Settings {
    /// Address the HTTP API listens on (port 0: any free port; the bound address is printed
    /// as `listening on ADDR`).
    #[arg(long, env = "VIEWING_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// HS256 secret for bearer tokens, at least 32 bytes (prefer the environment: a flag is
    /// visible to other users of the machine). Unset or blank: DEV-AUTH MODE, a random secret
    /// for this run only, with a user and an admin token printed at start; never in production.
    #[arg(
        long = "jwt-secret",
        env = "VIEWING_JWT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,
    /// Sustained requests per minute and user.
    #[arg(long, env = "VIEWING_RATE_LIMIT_PER_MIN", default_value = "600")]
    pub rate_limit_per_min: NonZeroU32,
    /// Requests a user may make at once.
    #[arg(long, env = "VIEWING_RATE_LIMIT_BURST", default_value = "100")]
    pub rate_limit_burst: NonZeroU32,
    /// Sustained requests per minute and client address that bring no valid token (answered
    /// 401 until this is spent, then 429).
    #[arg(long, env = "VIEWING_RATE_LIMIT_ANON_PER_MIN", default_value = "60")]
    pub anon_rate_limit_per_min: NonZeroU32,
    /// Requests without a valid token a client address may make at once.
    #[arg(long, env = "VIEWING_RATE_LIMIT_ANON_BURST", default_value = "20")]
    pub anon_rate_limit_burst: NonZeroU32,
    /// Longest pause, in minutes, between two episodes of one binge session.
    #[arg(long, env = "VIEWING_BINGE_MAX_GAP_MINUTES", default_value = "180")]
    pub binge_max_gap_minutes: u32,
    /// Days without a watch after which a show in progress reads as stalled.
    #[arg(long, env = "VIEWING_INACTIVITY_DAYS", default_value = "90")]
    pub inactivity_days: u32,
    /// Percent of a movie at or above which a player's stop records the play.
    #[arg(long, env = "VIEWING_SCROBBLE_THRESHOLD_MOVIE", default_value = "90", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub scrobble_threshold_movie: u8,
    /// Percent of an episode at or above which a player's stop records the play.
    #[arg(long, env = "VIEWING_SCROBBLE_THRESHOLD_EPISODE", default_value = "80", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub scrobble_threshold_episode: u8,
    /// NATS server the domain events also go to (JetStream stream `VIEWING_EVENTS`, subjects
    /// `viewing.events.<EventType>`). Unset: events reach the in-process handlers only.
    #[arg(long, env = "VIEWING_NATS_URL", hide_env_values = true)]
    pub nats_url: Option<String>,
    /// `http(s)://…` address that due continuation reminders are POSTed to as JSON (a failed POST
    /// is retried with backoff, 5 attempts in all). Unset or blank: due reminders are only
    /// logged and listed as sent.
    #[arg(
        long,
        env = "VIEWING_NOTIFY_WEBHOOK_URL",
        value_parser = check_webhook_url,
        hide_env_values = true
    )]
    pub notify_webhook_url: Option<String>,
    /// Minutes after an episode watch that its continuation reminder is due (default 7 days).
    #[arg(long, env = "VIEWING_REMINDER_DELAY_MINUTES", default_value = "10080")]
    pub reminder_delay_minutes: NonZeroU32,
    /// Seconds between two looks for due reminders.
    #[arg(long, env = "VIEWING_REMINDER_INTERVAL_SECONDS", default_value = "30")]
    pub reminder_interval_seconds: NonZeroU32,
    /// Handler relay workers draining the outbox concurrently (each user's events stay in
    /// order). Unset: 2 on PostgreSQL, 1 otherwise (SQLite has one writer, so more only queue).
    #[arg(long, env = "VIEWING_HANDLER_WORKERS")]
    pub handler_workers: Option<NonZeroU32>,
    /// Log format (logs go to stderr; filter with RUST_LOG).
    #[arg(long, env = "VIEWING_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub metadata: MetadataArgs,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database", &self.database)
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
            .field("scrobble_threshold_movie", &self.scrobble_threshold_movie)
            .field(
                "scrobble_threshold_episode",
                &self.scrobble_threshold_episode,
            )
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
            .field("handler_workers", &self.handler_workers)
            .field("log_format", &self.log_format)
            .field("metadata", &self.metadata)
            .finish()
    }
}

/// The fewest bytes a token secret may have: an HS256 key shorter than the hash output
/// (256 bits) is weaker than the algorithm (RFC 7518 §3.2), and short ones fall to guessing.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// `None` when the secret is unset or blank (dev-auth mode for `serve`); an error naming the
/// rule when it is shorter than [`MIN_JWT_SECRET_BYTES`]. The message never shows the secret.
pub fn check_jwt_secret(raw: Option<&str>) -> Result<Option<JwtSecret>, String> {
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    if raw.len() < MIN_JWT_SECRET_BYTES {
        return Err(format!(
            "VIEWING_JWT_SECRET is too short: {} bytes, at least {MIN_JWT_SECRET_BYTES} are \
             needed (e.g. `openssl rand -hex 32`); unset, `serve` runs in dev-auth mode",
            raw.len()
        ));
    }
    Ok(Some(JwtSecret::new(raw.as_bytes())))
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
    /// The TMDB client when `VIEWING_TMDB_TOKEN` is set (not blank).
    ///
    /// # Errors
    /// When the URL is not `http(s)://…` or the HTTP client cannot be built.
    pub fn tmdb(&self) -> Result<Option<adapters_tmdb::TmdbClient>, String> {
        self.metadata.tmdb()
    }

    /// The token secret, checked: `None` means dev-auth mode (see [`check_jwt_secret`]).
    pub fn secret(&self) -> Result<Option<JwtSecret>, String> {
        check_jwt_secret(self.jwt_secret.as_deref())
    }

    /// Handler relay workers: the setting, or 2 on PostgreSQL and 1 on SQLite and memory.
    pub fn handler_workers(&self) -> u32 {
        match self.handler_workers {
            Some(n) => n.get(),
            None => match crate::StoreUrl::classify(&self.database.database_url) {
                Ok(crate::StoreUrl::Postgres(_)) => 2,
                _ => 1,
            },
        }
    }

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
            .and_then(|u| parse_http_url(u).ok())
    }
}

impl Cli {
    /// Parses the process's command line (see [`Cli::try_parse_args_from`]); on a bad one,
    /// prints clap's message and exits.
    pub fn parse_args() -> Cli {
        Self::try_parse_args_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses a command line as the program does: with no command it serves, and options
    /// written before the command are moved after it (`viewing-server --log-format json
    /// serve` is `viewing-server serve --log-format json`), where that command's own options
    /// are read. An option the command does not have is an error there, not silently ignored.
    pub fn try_parse_args_from<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        Cli::try_parse_from(command_first(&Cli::command(), args))
    }
}

/// The command line with its command (and subcommand) right after the program name, or
/// `serve` put there when none is named; see [`Cli::try_parse_args_from`].
fn command_first(cli: &clap::Command, mut args: Vec<OsString>) -> Vec<OsString> {
    let Some(serve) = cli.find_subcommand("serve") else {
        return args;
    };
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    if matches!(
        first.as_deref(),
        Some("-h" | "--help" | "-V" | "--version" | "help")
    ) {
        return args;
    }
    // The leading options, as far as they are server options (a superset of the others').
    let mut start = 1;
    while let Some(arg) = args.get(start).and_then(|a| a.to_str()) {
        let Some(long) = arg.strip_prefix("--").filter(|l| !l.is_empty()) else {
            break;
        };
        let (name, inline_value) = match long.split_once('=') {
            Some((name, _)) => (name, true),
            None => (long, false),
        };
        let Some(option) = serve.get_arguments().find(|a| a.get_long() == Some(name)) else {
            break;
        };
        let takes_value = option.get_action().takes_values();
        start += if takes_value && !inline_value { 2 } else { 1 };
    }
    let start = start.min(args.len());
    // The command and its subcommands, e.g. `catalog import`.
    let mut end = start;
    let mut command = cli;
    while let Some(sub) = args
        .get(end)
        .and_then(|a| a.to_str())
        .and_then(|name| command.find_subcommand(name))
    {
        command = sub;
        end += 1;
    }
    if end == start {
        args.insert(1, OsString::from("serve"));
    } else {
        args[1..end].rotate_left(start - 1);
    }
    args
}

/// A blank value (unset), or an address [`parse_http_url`] accepts.
fn check_webhook_url(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    parse_http_url(raw).map(|_| raw.trim().to_owned())
}

/// An `http://` or `https://` URL naming a host (the reminder webhook, TMDB), checked at start
/// rather than at the first call.
pub fn parse_http_url(raw: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(raw.trim()).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        "http" | "https" => Err("the URL names no host".to_owned()),
        other => Err(format!(
            "unsupported scheme {other:?}: use http:// or https://"
        )),
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

    /// The server settings of a command line that serves.
    fn serve_settings(args: &[&str]) -> Settings {
        let mut line = vec!["viewing-server"];
        line.extend_from_slice(args);
        match Cli::try_parse_args_from(line).map(|c| c.command) {
            Ok(Command::Serve(settings)) => settings,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    const LONG_SECRET: &str = "hunter2-hunter2-hunter2-hunter2-hunter2";

    #[test]
    fn secrets_stay_out_of_debug() {
        let settings = serve_settings(&[
            "--jwt-secret",
            LONG_SECRET,
            "--database-url",
            "postgres://u:pw@h/db",
        ]);
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("pw@"), "{shown}");
        let token = Cli::try_parse_args_from([
            "viewing-server",
            "token",
            "--sub",
            "6f1c1f0e-0000-4000-8000-000000000000",
            "--jwt-secret",
            LONG_SECRET,
        ]);
        let shown = format!("{token:?}");
        assert!(shown.contains("TokenArgs"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn short_secrets_are_refused_blank_ones_mean_dev_auth() {
        assert!(check_jwt_secret(None).is_ok_and(|s| s.is_none()));
        assert!(check_jwt_secret(Some("  ")).is_ok_and(|s| s.is_none()));
        let err = check_jwt_secret(Some("0123456789"))
            .err()
            .unwrap_or_default();
        assert!(err.contains("10 bytes") && err.contains("32"), "{err}");
        assert!(
            !err.contains("0123456789"),
            "the message shows the secret: {err}"
        );
        assert!(check_jwt_secret(Some(&"x".repeat(31))).is_err());
        assert!(check_jwt_secret(Some(&"x".repeat(32))).is_ok_and(|s| s.is_some()));
        let settings = serve_settings(&["--jwt-secret", "short"]);
        assert!(settings.secret().is_err());
    }

    #[test]
    fn handler_workers_default_to_two_on_postgres_only() {
        let workers = |args: &[&str]| serve_settings(args).handler_workers();
        assert_eq!(workers(&["--database-url", "postgres://h/db"]), 2);
        assert_eq!(workers(&["--database-url", "sqlite://x.db"]), 1);
        assert_eq!(workers(&["--database-url", "memory:"]), 1);
        assert_eq!(
            workers(&["--database-url", "sqlite://x.db", "--handler-workers", "3"]),
            3
        );
        assert!(
            Cli::try_parse_args_from(["viewing-server", "serve", "--handler-workers", "0"])
                .is_err()
        );
    }

    #[test]
    fn with_no_command_it_serves() {
        let settings = serve_settings(&[]);
        assert_eq!(settings.listen.port(), 8080);
        let settings = serve_settings(&["--listen", "127.0.0.1:0", "--log-format=json"]);
        assert_eq!(settings.listen.port(), 0);
        assert_eq!(settings.log_format, LogFormat::Json);
    }

    #[test]
    fn options_before_the_command_belong_to_it() {
        let before = serve_settings(&["--log-format", "json", "serve", "--listen", "0.0.0.0:1"]);
        assert_eq!(before.log_format, LogFormat::Json);
        assert_eq!(before.listen.port(), 1);
        let migrate =
            Cli::try_parse_args_from(["viewing-server", "--database-url", "memory:", "migrate"]);
        assert!(
            matches!(&migrate, Ok(Cli { command: Command::Migrate(d) }) if d.database_url == "memory:"),
            "{migrate:?}"
        );
        let import = Cli::try_parse_args_from([
            "viewing-server",
            "--database-url=memory:",
            "catalog",
            "import",
            "f.json",
        ]);
        assert!(
            matches!(
                &import,
                Ok(Cli { command: Command::Catalog { action: CatalogCommand::Import { database, file } } })
                    if database.database_url == "memory:" && file.as_os_str() == "f.json"
            ),
            "{import:?}"
        );
        // A value that looks like a command stays a value.
        let settings = serve_settings(&["--database-url", "migrate"]);
        assert_eq!(settings.database.database_url, "migrate");
        // An option the command does not have is refused, not dropped.
        for line in [
            vec!["viewing-server", "--listen", "127.0.0.1:1", "migrate"],
            vec![
                "viewing-server",
                "token",
                "--sub",
                "6f1c1f0e-0000-4000-8000-000000000000",
                "--database-url",
                "memory:",
            ],
            vec!["viewing-server", "--bogus"],
        ] {
            assert!(Cli::try_parse_args_from(&line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn webhook_urls_are_http_or_https() {
        assert!(parse_http_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(parse_http_url("https://example.com/hook").is_ok());
        assert!(parse_http_url("ftp://example.com/").is_err());
        assert!(parse_http_url("not a url").is_err());
        let blank = serve_settings(&["--notify-webhook-url", " "]);
        assert_eq!(blank.notify_webhook_url(), None);
        assert!(
            Cli::try_parse_args_from(["viewing-server", "--notify-webhook-url", "ftp://h/"])
                .is_err()
        );
    }

    #[test]
    fn tmdb_is_plugged_in_by_its_token_which_stays_out_of_debug() {
        let none = serve_settings(&[]);
        assert!(matches!(none.tmdb(), Ok(None)));
        assert_eq!(none.metadata.tmdb_url, adapters_tmdb::DEFAULT_URL);
        let blank = serve_settings(&["--tmdb-token", "  "]);
        assert!(matches!(blank.tmdb(), Ok(None)));
        let set = serve_settings(&["--tmdb-token", "tmdbsecret123"]);
        assert!(matches!(set.tmdb(), Ok(Some(_))));
        assert!(!format!("{set:?}").contains("tmdbsecret123"));
        let bad = serve_settings(&["--tmdb-token", "t", "--tmdb-url", "ftp://h/3"]);
        assert!(bad.tmdb().is_err_and(|e| e.contains("VIEWING_TMDB_URL")));
    }

    #[test]
    fn urls_with_credentials_stay_out_of_debug() {
        let settings = serve_settings(&[
            "--nats-url",
            "nats://u:natspw@h:4222",
            "--notify-webhook-url",
            "http://u:hookpw@h/hook",
        ]);
        let shown = format!("{settings:?}");
        assert!(!shown.contains("natspw"), "{shown}");
        assert!(!shown.contains("hookpw"), "{shown}");
        assert_eq!(settings.nats_url(), Some("nats://u:natspw@h:4222"));
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
