//! The TMDB v3 client: the [`MetadataProvider`] the server plugs in when `VIEWING_TMDB_TOKEN`
//! is set (SPEC §16).
//!
//! Every call goes through three layers, each a well-kept crate:
//! - a cache (moka) of TMDB's answers by path, an unknown id's 404 included, for
//!   [`TmdbConfig::cache_ttl`], bounded by [`TmdbConfig::cache_bytes`]; simultaneous asks for
//!   one path make one call. A refresh ([`Wanted::fresh`]) asks TMDB itself and re-fills it;
//! - a rate limit (governor) of [`TmdbConfig::requests_per_second`], 40 by default, shared by
//!   every caller of the client;
//! - retries (backon) with exponential backoff and jitter for what may pass — no answer, a
//!   timeout, 429 (waiting what `Retry-After` says, within the backoff's ceiling) and 5xx —
//!   [`TmdbConfig::attempts`] in all. A refused token (401) or another status is not retried.
//!
//! What does not pass is [`MetadataError::Unavailable`], saying why; the token never shows in
//! it.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use moka::future::Cache;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, RETRY_AFTER};
use viewing_domain::metadata::{Fetched, MetadataError, MetadataProvider, Wanted};
use viewing_domain::{ItemKind, Provider};

use crate::{Found, found, movie, season_numbers, show};

/// TMDB's v3 API.
pub const DEFAULT_URL: &str = "https://api.themoviedb.org/3";

/// How the client reaches TMDB. [`TmdbConfig::new`] gives the defaults; `Debug` never shows
/// the token.
#[derive(Clone)]
pub struct TmdbConfig {
    /// The v3 API's root, without a trailing slash ([`DEFAULT_URL`]; a local fake in tests).
    pub base_url: String,
    /// The API Read Access Token, sent as `Authorization: Bearer …`.
    pub token: String,
    /// Calls per second at most, for the whole client (TMDB's own ceiling is about 50).
    pub requests_per_second: NonZeroU32,
    /// Tries per call, the first included (at least 1).
    pub attempts: usize,
    /// The wait before the first retry; each next one doubles, with jitter.
    pub first_backoff: Duration,
    /// The longest wait between two tries, `Retry-After` included.
    pub max_backoff: Duration,
    /// How long one try may take, connecting and reading included.
    pub timeout: Duration,
    /// How long an answer is kept.
    pub cache_ttl: Duration,
    /// How many bytes of answers are kept at most.
    pub cache_bytes: u64,
}

impl TmdbConfig {
    /// The defaults: 40 calls per second, 4 tries from 500 ms up to 8 s apart, 10 s per try,
    /// answers kept one hour within 64 MiB.
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            token: token.into(),
            requests_per_second: NonZeroU32::new(40).unwrap_or(NonZeroU32::MIN),
            attempts: 4,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            timeout: Duration::from_secs(10),
            cache_ttl: Duration::from_secs(3600),
            cache_bytes: 64 * 1024 * 1024,
        }
    }
}

impl fmt::Debug for TmdbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TmdbConfig")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .field("requests_per_second", &self.requests_per_second)
            .field("attempts", &self.attempts)
            .field("first_backoff", &self.first_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("timeout", &self.timeout)
            .field("cache_ttl", &self.cache_ttl)
            .field("cache_bytes", &self.cache_bytes)
            .finish()
    }
}

/// One try's failure: whether another try may pass, and when.
#[derive(Debug)]
enum Failure {
    /// No answer, a timeout, 429 or 5xx; `after`: what `Retry-After` asked.
    Passing {
        why: String,
        after: Option<Duration>,
    },
    /// An answer another try would not change (401, 400, …).
    Lasting(String),
}

impl Failure {
    fn why(self) -> String {
        match self {
            Failure::Passing { why, .. } | Failure::Lasting(why) => why,
        }
    }
}

/// TMDB as a [`MetadataProvider`]: `/find` for IMDb and TheTVDB ids, `/movie/{id}` and
/// `/tv/{id}` (with every season) for TMDB's own, mapped by this crate's functions.
pub struct TmdbClient {
    http: reqwest::Client,
    config: TmdbConfig,
    limiter: DefaultDirectRateLimiter,
    /// TMDB's answers by path and query; `None`: 404, TMDB knows no such item.
    cache: Cache<String, Option<Arc<str>>>,
}

impl fmt::Debug for TmdbClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TmdbClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl TmdbClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots, say).
    pub fn new(config: TmdbConfig) -> Result<Self, MetadataError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("viewing-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MetadataError::Unavailable(format!("HTTP client: {e}")))?;
        let limiter = RateLimiter::direct(Quota::per_second(config.requests_per_second));
        let cache = Cache::builder()
            .max_capacity(config.cache_bytes)
            .weigher(|path: &String, body: &Option<Arc<str>>| {
                let bytes = path.len() + body.as_ref().map_or(0, |b| b.len());
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .time_to_live(config.cache_ttl)
            .build();
        Ok(Self {
            http,
            config,
            limiter,
            cache,
        })
    }

    /// TMDB's answer to `path` (`/movie/603?…`): from the cache unless `fresh`; `None` for 404.
    async fn get(&self, path: &str, fresh: bool) -> Result<Option<Arc<str>>, MetadataError> {
        if fresh {
            let body = self.call(path).await?;
            self.cache.insert(path.to_owned(), body.clone()).await;
            return Ok(body);
        }
        self.cache
            .try_get_with(path.to_owned(), self.call(path))
            .await
            .map_err(|e| MetadataError::clone(&e))
    }

    /// Asks TMDB, retrying what may pass.
    async fn call(&self, path: &str) -> Result<Option<Arc<str>>, MetadataError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.config.first_backoff)
            .with_max_delay(self.config.max_backoff)
            .with_max_times(self.config.attempts.saturating_sub(1))
            .with_jitter();
        let max = self.config.max_backoff;
        (|| self.once(path))
            .retry(backoff)
            .when(|f| matches!(f, Failure::Passing { .. }))
            .adjust(move |f, wait| match f {
                Failure::Passing {
                    after: Some(after), ..
                } => wait.map(|_| (*after).min(max)),
                _ => wait,
            })
            .notify(|f, wait| {
                tracing::debug!(failure = ?f, ?wait, "TMDB: trying again");
            })
            .await
            .map_err(|f| MetadataError::Unavailable(f.why()))
    }

    /// One try, once the rate limit lets it through.
    async fn once(&self, path: &str) -> Result<Option<Arc<str>>, Failure> {
        self.limiter.until_ready().await;
        let response = self
            .http
            .get(format!("{}{path}", self.config.base_url))
            .bearer_auth(&self.config.token)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| Failure::Passing {
                why: format!("TMDB cannot be reached: {e}"),
                after: None,
            })?;
        let status = response.status();
        match status {
            StatusCode::OK => {
                let body = response.text().await.map_err(|e| Failure::Passing {
                    why: format!("TMDB's answer to {path} broke off: {e}"),
                    after: None,
                })?;
                Ok(Some(Arc::from(body)))
            }
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::TOO_MANY_REQUESTS => Err(Failure::Passing {
                why: format!("TMDB is rate-limiting ({status})"),
                after: response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs),
            }),
            s if s.is_server_error() => Err(Failure::Passing {
                why: format!("TMDB answered {status}"),
                after: None,
            }),
            StatusCode::UNAUTHORIZED => Err(Failure::Lasting(format!(
                "TMDB refused the token ({status}): check VIEWING_TMDB_TOKEN"
            ))),
            _ => Err(Failure::Lasting(format!(
                "TMDB answered {status} to {path}"
            ))),
        }
    }

    /// The movie `/movie/{id}` describes.
    async fn movie(&self, id: u64, fresh: bool) -> Result<Option<Fetched>, MetadataError> {
        let path = format!("/movie/{id}?append_to_response=external_ids");
        let Some(body) = self.get(&path, fresh).await? else {
            return Ok(None);
        };
        movie(&body)
            .map(|m| Some(Fetched::Movie(m)))
            .map_err(|e| unusable(&path, &e))
    }

    /// The show `/tv/{id}` describes, with every season it lists (one TMDB no longer has is
    /// left out).
    async fn show(&self, id: u64, fresh: bool) -> Result<Option<Fetched>, MetadataError> {
        let path = format!("/tv/{id}?append_to_response=external_ids");
        let Some(tv) = self.get(&path, fresh).await? else {
            return Ok(None);
        };
        let numbers = season_numbers(&tv).map_err(|e| unusable(&path, &e))?;
        let mut seasons = Vec::with_capacity(numbers.len());
        for n in numbers {
            let path = format!("/tv/{id}/season/{n}?append_to_response=external_ids");
            if let Some(season) = self.get(&path, fresh).await? {
                seasons.push(season);
            }
        }
        let seasons: Vec<&str> = seasons.iter().map(|s| &**s).collect();
        show(&tv, &seasons)
            .map(|s| Some(Fetched::Show(s)))
            .map_err(|e| unusable(&path, &e))
    }
}

/// A TMDB answer the catalog cannot take.
fn unusable(path: &str, e: &crate::MappingError) -> MetadataError {
    MetadataError::Unavailable(format!("TMDB's answer to {path} cannot be used: {e}"))
}

#[async_trait]
impl MetadataProvider for TmdbClient {
    /// TMDB's own ids need [`Wanted::kind`] (movies and shows are numbered apart); IMDb's and
    /// TheTVDB's go through `/find` (an episode's id gives its show); Trakt's and TVmaze's
    /// are ids TMDB does not know: `None`, without a call.
    async fn fetch(&self, wanted: Wanted<'_>) -> Result<Option<Fetched>, MetadataError> {
        if !wanted.provider.accepts(wanted.value) {
            return Ok(None);
        }
        let target = match wanted.provider {
            Provider::Tmdb => match (wanted.kind, wanted.value.parse::<u64>()) {
                (Some(ItemKind::Movie), Ok(id)) => Found::Movie(id),
                (Some(ItemKind::Show), Ok(id)) => Found::Tv(id),
                _ => return Ok(None),
            },
            Provider::Imdb | Provider::Tvdb => {
                let source = if wanted.provider == Provider::Imdb {
                    "imdb_id"
                } else {
                    "tvdb_id"
                };
                let path = format!("/find/{}?external_source={source}", wanted.value);
                let Some(body) = self.get(&path, wanted.fresh).await? else {
                    return Ok(None);
                };
                match found(&body).map_err(|e| unusable(&path, &e))? {
                    Some(f) => f,
                    None => return Ok(None),
                }
            }
            Provider::Trakt | Provider::Tvmaze => return Ok(None),
        };
        match target {
            Found::Movie(id) => self.movie(id, wanted.fresh).await,
            Found::Tv(id) | Found::Episode { show: id, .. } => self.show(id, wanted.fresh).await,
        }
    }
}
