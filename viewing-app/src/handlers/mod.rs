//! The five event handlers of SPEC §7 and how one event is applied to one handler.
//!
//! A handler reacts to an event inside a unit of work that also records the processed mark
//! `(handler, event id)`: the effects and the mark commit together, so an event delivered
//! twice changes nothing the second time ([`apply_once`]).

pub mod achievements;
pub mod batch;
pub mod preferences;
pub mod reminders;
pub mod statistics;
pub mod watchlist;

use async_trait::async_trait;
use chrono::Duration;
use viewing_domain::EventEnvelope;
use viewing_domain::event_ports::ProcessedEvents;
use viewing_domain::ports::{
    CatalogRepository, Clock, HandlerUnitOfWork, IdGenerator, Store, Transaction, UnitOfWork,
};
use viewing_domain::{ItemType, MovieId, ShowId};

use crate::catalog_cache::CatalogCache;
use crate::error::AppResult;

pub use achievements::AchievementTracker;
pub use batch::BatchEffects;
pub use preferences::RecommendationEngine;
pub use reminders::ContinuationReminder;
pub use statistics::StatisticsCalculator;
pub use watchlist::WatchlistManager;

/// Tunables of the handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandlersConfig {
    /// How long after an episode watch its continuation reminder is due.
    pub reminder_delay: Duration,
}

impl Default for HandlersConfig {
    fn default() -> Self {
        Self {
            reminder_delay: Duration::days(7),
        }
    }
}

/// What a handler may use besides its unit of work.
#[derive(Clone, Copy)]
pub struct HandlerContext<'a> {
    /// The time a handler's writes are stamped with.
    pub clock: &'a dyn Clock,
    /// Where new ids come from.
    pub ids: &'a dyn IdGenerator,
    /// Handler settings.
    pub config: &'a HandlersConfig,
    /// Where handlers read movies and shows (through the catalog cache).
    pub catalog: &'a CatalogCache,
    /// When a relay applies a batch of events in one unit of work: what the handlers read
    /// once and add up for the whole batch ([`BatchEffects`]). `None`: every read and write
    /// goes to the unit of work at once.
    pub batch: Option<&'a BatchEffects>,
}

#[async_trait]
/// A consumer of domain events inside the service (SPEC §7). The relay delivers each event to
/// each handler at least once; the handler's processed mark, written in the same unit of work as
/// its effects, makes a redelivery a no-op.
pub trait EventHandler<U: HandlerUnitOfWork>: Send + Sync {
    /// Stable name: the key of its processed marks and metrics. Never rename one in use.
    fn name(&self) -> &'static str;

    /// Applies the event's effects in `uow`. The caller has marked the event processed there
    /// and commits; an error discards both.
    async fn handle(
        &self,
        uow: &mut U,
        event: &EventEnvelope,
        ctx: &HandlerContext<'_>,
    ) -> AppResult<()>;

    /// Before a batch: reads at once what [`Self::handle`] will read for `events`, into
    /// `batch` (one statement per kind of state, not one per user). Reading ahead changes no
    /// result, only the number of statements. The default reads nothing ahead.
    async fn prefetch(
        &self,
        _uow: &mut U,
        _events: &[&EventEnvelope],
        _batch: &BatchEffects,
    ) -> AppResult<()> {
        Ok(())
    }
}

/// The handlers a relay delivers to, in order.
pub type Handlers<U> = Vec<Box<dyn EventHandler<U>>>;

/// The five handlers of SPEC §7.
pub fn default_handlers<U: UnitOfWork + 'static>() -> Handlers<U> {
    vec![
        Box::new(StatisticsCalculator),
        Box::new(AchievementTracker),
        Box::new(WatchlistManager),
        Box::new(ContinuationReminder),
        Box::new(RecommendationEngine),
    ]
}

/// Applies `event` to `handler` unless it already was. `Ok(true)` when applied now.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(handler = handler.name(), event = %event.event_id),
    err(level = "debug")
)]
pub async fn apply_once<S: Store>(
    store: &S,
    handler: &dyn EventHandler<S::Uow>,
    event: &EventEnvelope,
    ctx: &HandlerContext<'_>,
) -> AppResult<bool> {
    let mut uow = store.begin().await?;
    if !uow
        .mark_processed(handler.name(), event.event_id, ctx.clock.now())
        .await?
    {
        return Ok(false);
    }
    handler.handle(&mut uow, event, ctx).await?;
    uow.commit().await?;
    Ok(true)
}

/// The catalog genres of a movie or show (empty when it left the catalog).
pub(crate) async fn genres_of<U: CatalogRepository>(
    uow: &mut U,
    catalog: &CatalogCache,
    item: uuid::Uuid,
    item_type: ItemType,
) -> AppResult<Vec<String>> {
    let genres = match item_type {
        ItemType::Movie => catalog
            .movie(uow, MovieId::from(item))
            .await?
            .map(|m| m.genres.clone()),
        ItemType::Show => catalog
            .show(uow, ShowId::from(item))
            .await?
            .map(|s| s.genres.clone()),
    };
    Ok(genres
        .unwrap_or_default()
        .iter()
        .map(|g| g.as_str().to_owned())
        .collect())
}
