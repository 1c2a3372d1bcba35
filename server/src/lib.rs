//! The `viewing-server` binary: reads its settings, picks the store from the database URL once
//! at start-up and runs the command over it, generically (`serve::<S>`, `import::<S>`).
#![forbid(unsafe_code)]

pub mod background;
pub mod config;
pub mod history;
pub mod imdb;
pub mod notify;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use adapters_http::{AppState, Authenticator, HttpConfig, JwtSecret};
use adapters_memory::MemoryStore;
use adapters_postgres::PgStore;
use adapters_sqlite::SqliteStore;
use tracing_subscriber::EnvFilter;
use viewing_app::catalog_file::{self, CatalogFileError};
use viewing_app::domain::ports::{Store, StoreError};
use viewing_app::domain::{RulesConfig, UserId};
use viewing_app::{SystemClock, UuidV7, ViewingService};

pub use config::{CatalogCommand, Cli, Command, DatabaseArgs, LogFormat, Settings, TokenArgs};

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
pub type Fallible<T> = Result<T, BoxError>;

/// How long the tokens printed in dev-auth mode live.
const DEV_TOKEN_TTL: chrono::Duration = chrono::Duration::hours(12);

/// The whole program: parse the command line, run, report.
pub fn main() -> ExitCode {
    let cli = Cli::parse_args();
    // A bulk load's statements each take about a second by design: not worth a warning.
    let default_filter = match &cli.command {
        Command::Catalog {
            action: CatalogCommand::ImportImdb { .. },
        } => "info,sqlx::query=error",
        _ => "info",
    };
    init_logging(
        match &cli.command {
            Command::Serve(settings) => settings.log_format,
            _ => LogFormat::Text,
        },
        default_filter,
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Once, on stderr, whatever the log format: the one line a person reads.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// A line on stdout (addresses, tokens) that never panics on a closed pipe.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Which store a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreUrl<'a> {
    Memory,
    Sqlite(&'a str),
    Postgres(&'a str),
}

impl<'a> StoreUrl<'a> {
    pub fn classify(url: &'a str) -> Result<Self, String> {
        let lower = url.to_ascii_lowercase();
        if lower == "memory:" || lower == "memory://" {
            Ok(StoreUrl::Memory)
        } else if lower.starts_with("sqlite:") {
            Ok(StoreUrl::Sqlite(url))
        } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Ok(StoreUrl::Postgres(url))
        } else {
            Err(format!(
                "unsupported database URL {:?}: use sqlite://FILE, postgres://… or memory:",
                config::redact_url(url)
            ))
        }
    }
}

/// What a command does once its store is open.
enum Job {
    Serve(Box<Settings>, Option<JwtSecret>),
    Migrate,
    Import(PathBuf),
    ImportImdb(imdb::ImdbArgs),
    ImportHistory(Box<config::ImportArgs>),
}

/// Runs one command of the command line. Settings are checked before the store is opened, so
/// a bad one costs no connection.
pub async fn execute(cli: Cli) -> Fallible<()> {
    let (database, job) = match cli.command {
        Command::Token(args) => return print_token(&args),
        Command::Serve(settings) => {
            let secret = settings.secret()?;
            (
                settings.database.clone(),
                Job::Serve(Box::new(settings), secret),
            )
        }
        Command::Migrate(database) => (database, Job::Migrate),
        Command::Import(args) => (args.database.clone(), Job::ImportHistory(Box::new(args))),
        Command::Catalog {
            action: CatalogCommand::Import { database, file },
        } => (database, Job::Import(file)),
        Command::Catalog {
            action:
                CatalogCommand::ImportImdb {
                    database,
                    dir,
                    min_votes,
                    include_adult,
                    batch_rows,
                },
        } => (
            database,
            Job::ImportImdb(imdb::ImdbArgs {
                dir,
                min_votes,
                include_adult,
                batch_rows,
            }),
        ),
    };
    match StoreUrl::classify(&database.database_url)? {
        StoreUrl::Memory => job.run(MemoryStore::new(), &database).await,
        StoreUrl::Sqlite(url) => {
            let store = SqliteStore::connect(url).await.map_err(cannot_open)?;
            job.run(store, &database).await
        }
        StoreUrl::Postgres(url) => {
            let store = PgStore::connect(url).await.map_err(cannot_open)?;
            job.run(store, &database).await
        }
    }
}

/// A store that cannot be opened: its own message (it names the file or host and the cause),
/// without the "store is unavailable" wrapping meant for requests.
fn cannot_open(e: StoreError) -> BoxError {
    match e {
        StoreError::Unavailable(cause) | StoreError::Unexpected(cause) => cause,
        other => other.into(),
    }
}

impl Job {
    /// The command, over the store chosen at start-up.
    async fn run<S: Store>(self, store: S, database: &DatabaseArgs) -> Fallible<()> {
        match self {
            Job::Serve(settings, secret) => serve(store, &settings, secret).await,
            Job::Migrate => {
                // Connecting ran the migrations.
                say(&format!(
                    "migrations applied: {}",
                    config::redact_url(&database.database_url)
                ));
                Ok(())
            }
            Job::Import(file) => {
                // A catalog write follows no viewing rule: the default limits do.
                let service = ViewingService::with_parts(
                    store,
                    Arc::new(SystemClock),
                    Arc::new(UuidV7),
                    RulesConfig::default(),
                );
                import(service, &file).await
            }
            Job::ImportHistory(args) => {
                // Sessions as the server makes them, and items the catalog lacks fetched as
                // the server fetches them.
                let rules = RulesConfig {
                    binge_max_gap: chrono::Duration::minutes(i64::from(args.binge_max_gap_minutes)),
                    ..RulesConfig::default()
                };
                let service = ViewingService::with_parts(
                    store,
                    Arc::new(SystemClock),
                    Arc::new(UuidV7),
                    rules,
                );
                let service = match args.metadata.tmdb()? {
                    Some(tmdb) => service.with_metadata(Arc::new(tmdb)),
                    None => service,
                };
                history::import(&service, &args).await
            }
            Job::ImportImdb(args) => {
                let service = ViewingService::with_parts(
                    store,
                    Arc::new(SystemClock),
                    Arc::new(UuidV7),
                    RulesConfig::default(),
                );
                imdb::load(&service, &args).await
            }
        }
    }
}

use viewing_app::domain::rules::playback::Thresholds;

fn rules(settings: &Settings) -> RulesConfig {
    RulesConfig {
        binge_max_gap: chrono::Duration::minutes(i64::from(settings.binge_max_gap_minutes)),
        inactivity: chrono::Duration::days(i64::from(settings.inactivity_days)),
        scrobble: Thresholds {
            movie: percent(settings.scrobble_threshold_movie),
            episode: percent(settings.scrobble_threshold_episode),
        },
    }
}

/// Whole percents (1 to 100, checked by the settings) as the rules keep them.
fn percent(p: u8) -> viewing_app::domain::values::Percent {
    viewing_app::domain::values::Percent::from_hundredths(u16::from(p.min(100)) * 100)
        .unwrap_or(viewing_app::domain::values::Percent::FULL)
}

fn service<S: Store>(store: S, settings: &Settings) -> Fallible<ViewingService<S>> {
    let service = ViewingService::with_parts(
        store,
        Arc::new(SystemClock),
        Arc::new(UuidV7),
        rules(settings),
    );
    Ok(match settings.tmdb()? {
        Some(tmdb) => {
            tracing::info!(url = %settings.metadata.tmdb_url, "metadata provider: TMDB");
            service.with_metadata(Arc::new(tmdb))
        }
        None => {
            tracing::info!("metadata provider: none (VIEWING_TMDB_TOKEN is not set)");
            service
        }
    })
}

fn print_token(args: &TokenArgs) -> Fallible<()> {
    let secret = args.secret()?;
    let now = chrono::Utc::now();
    let token = Authenticator::new(&secret).mint(
        UserId::from(args.sub),
        args.admin,
        now,
        now + args.ttl,
    )?;
    say(&token);
    Ok(())
}

/// A fresh random secret for dev-auth mode (256 bits from the OS).
fn random_secret() -> JwtSecret {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    JwtSecret::new(bytes)
}

/// Serves the HTTP API until SIGTERM or ctrl-c, then finishes the requests in flight.
/// `secret` is the checked [`Settings::secret`]; `None` runs in dev-auth mode.
pub async fn serve<S: Store>(
    store: S,
    settings: &Settings,
    secret: Option<JwtSecret>,
) -> Fallible<()> {
    let (secret, dev_auth) = match secret {
        Some(s) => (s, false),
        None => (random_secret(), true),
    };
    let config = HttpConfig {
        jwt_secret: secret,
        rate_limit_per_min: settings.rate_limit_per_min,
        rate_limit_burst: settings.rate_limit_burst,
        anon_rate_limit_per_min: settings.anon_rate_limit_per_min,
        anon_rate_limit_burst: settings.anon_rate_limit_burst,
    };
    let service = service(store, settings)?;
    let state = AppState::new(service.clone(), &config);
    if dev_auth {
        print_dev_tokens(state.authenticator())?;
    }
    adapters_http::spawn_rate_limiter_sweeper(
        state.rate_limiter().clone(),
        Duration::from_secs(60),
    );

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal();
    tracing::info!(%addr, store = %config::redact_url(&settings.database.database_url), "listening");
    say(&format!("listening on {addr}"));
    let background = background::Background::start(service, settings)?;
    let state = state.with_relay_metrics(background.metrics());

    adapters_http::serve(listener, adapters_http::router(state), shutdown).await?;
    background.stop().await;
    tracing::info!("stopped");
    Ok(())
}

fn print_dev_tokens(auth: &Authenticator) -> Fallible<()> {
    let now = chrono::Utc::now();
    let user = UserId::from(uuid::Uuid::new_v4());
    let admin = UserId::from(uuid::Uuid::new_v4());
    let user_token = auth.mint(user, false, now, now + DEV_TOKEN_TTL)?;
    let admin_token = auth.mint(admin, true, now, now + DEV_TOKEN_TTL)?;
    tracing::warn!(
        "VIEWING_JWT_SECRET is not set: DEV AUTH MODE. A random secret was made for this run \
         only; tokens stop working at restart. Never run like this in production."
    );
    say("!!! DEV AUTH MODE: VIEWING_JWT_SECRET is not set; using a random secret for this run.");
    say(&format!("dev user token (sub {user}, 12h):\n{user_token}"));
    say(&format!(
        "dev admin token (sub {admin}, 12h):\n{admin_token}"
    ));
    Ok(())
}

/// Resolves at the first SIGINT or SIGTERM. The handlers are installed when this is called
/// (not when the future is first polled), so a signal that arrives as soon as the server says
/// it is listening still stops it gracefully.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {}
                () = wait(terminate) => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down: finishing the requests in flight");
    }
}

/// Loads a catalog file: every entry is validated first (all problems reported at once), then
/// everything is written in one unit of work.
pub async fn import<S: Store>(service: ViewingService<S>, file: &Path) -> Fallible<()> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let catalog = catalog_file::parse(&text).map_err(|e| match e {
        CatalogFileError::Malformed(m) => format!("{}: {m}", file.display()),
        CatalogFileError::Invalid(problems) => format!(
            "{}: nothing imported:\n  {}",
            file.display(),
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n  ")
        ),
    })?;
    let imported = service.import_catalog(catalog).await?;
    say(&format!(
        "imported {} movies and {} shows",
        imported.movies, imported.shows
    ));
    Ok(())
}
