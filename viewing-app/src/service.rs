//! The service every adapter drives.

use std::sync::Arc;

use viewing_domain::metadata::MetadataProvider;
use viewing_domain::ports::{Clock, IdGenerator, Store};
use viewing_domain::{DomainEvent, EventEnvelope, EventId, RulesConfig, UserId};

use crate::catalog_cache::CatalogCache;
use crate::error::AppError;
use crate::progress_cache::ProgressCache;
use crate::system::{SystemClock, UuidV7};

/// The use cases over one store. Cheap to clone.
#[derive(Clone)]
pub struct ViewingService<S> {
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) rules: RulesConfig,
    /// Movies and show trees in memory (SPEC §14), shared by the use cases and the relay.
    pub(crate) catalog: Arc<CatalogCache>,
    /// What progress and up-next reads load, per user revision (SPEC §14).
    pub(crate) progress_cache: Arc<ProgressCache>,
    /// Where lookups fetch what the catalog lacks (SPEC §16); none: never called out.
    pub(crate) metadata: Option<Arc<dyn MetadataProvider>>,
}

/// How many times a command is retried when the store reports a lost race.
const CONFLICT_ATTEMPTS: usize = 3;

impl<S> ViewingService<S> {
    /// A service on the system clock with UUID v7 ids and default rules.
    pub fn new(store: S) -> Self {
        Self::with_parts(
            store,
            Arc::new(SystemClock),
            Arc::new(UuidV7),
            RulesConfig::default(),
        )
    }

    /// A service with its clock, id generator and rules given: for tests that fix the time and the
    /// ids, and for a server configured from its settings.
    pub fn with_parts(
        store: S,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        rules: RulesConfig,
    ) -> Self {
        Self {
            store,
            clock,
            ids,
            rules,
            catalog: Arc::new(CatalogCache::default()),
            progress_cache: Arc::new(ProgressCache::default()),
            metadata: None,
        }
    }

    /// The same service fetching what the catalog lacks from `provider` (SPEC §16).
    pub fn with_metadata(mut self, provider: Arc<dyn MetadataProvider>) -> Self {
        self.metadata = Some(provider);
        self
    }

    /// The same service with this catalog cache (another capacity or check interval, or
    /// none in effect: `CatalogCache::new(0)`).
    pub fn with_catalog_cache(mut self, cache: CatalogCache) -> Self {
        self.catalog = Arc::new(cache);
        self
    }

    /// The same service with this progress cache (another capacity, or none in effect:
    /// `ProgressCache::new(0)`).
    pub fn with_progress_cache(mut self, cache: ProgressCache) -> Self {
        self.progress_cache = Arc::new(cache);
        self
    }

    /// The catalog cache the use cases and the relay read through.
    pub fn catalog_cache(&self) -> &CatalogCache {
        &self.catalog
    }

    /// The store the use cases run on.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock commands read "now" from.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The rules' settings (binge gap, inactivity period).
    pub fn rules(&self) -> &RulesConfig {
        &self.rules
    }

    pub(crate) fn envelopes(&self, user: UserId, events: Vec<DomainEvent>) -> Vec<EventEnvelope> {
        let now = self.clock.now();
        events
            .into_iter()
            .map(|event| EventEnvelope {
                event_id: EventId::from(self.ids.new_id()),
                occurred_at: now,
                user_id: user,
                event,
            })
            .collect()
    }

    /// Runs a command again when the store reports a conflict it could not resolve itself
    /// (each attempt is a fresh unit of work, so a retry sees the winner's writes).
    pub(crate) async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt().await {
                Err(AppError::Conflict(_)) if tries < CONFLICT_ATTEMPTS => continue,
                Err(e) => {
                    trace_unexpected(&e);
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }
}

impl<S: Store> ViewingService<S> {
    /// Readiness: the store answers.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn ping(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }
}

/// Notes on the current span (the command's) an error no client caused: the store unreachable
/// or something unexpected. A 4xx outcome is an answer, not a failure, and is not recorded.
fn trace_unexpected(e: &AppError) {
    if matches!(e, AppError::Unavailable(_) | AppError::Unexpected(_)) {
        let cause = std::error::Error::source(e).map(ToString::to_string);
        tracing::debug!(error = %e, cause, "command failed");
    }
}
