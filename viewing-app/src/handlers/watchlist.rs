//! WatchlistManager: a movie watched or a show completed leaves the watchlist.

use async_trait::async_trait;
use viewing_domain::ports::HandlerUnitOfWork;
use viewing_domain::{DomainEvent, EventEnvelope};

use super::{EventHandler, HandlerContext};
use crate::error::AppResult;

/// The `WatchlistManager` handler: takes a watched movie or a completed show off the watchlist.
pub struct WatchlistManager;

#[async_trait]
impl<U: HandlerUnitOfWork> EventHandler<U> for WatchlistManager {
    fn name(&self) -> &'static str {
        "watchlist"
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(
            handler = "watchlist",
            event = %event.event_id,
            event_type = event.event.event_type(),
        ),
        err(level = "debug")
    )]
    async fn handle(
        &self,
        uow: &mut U,
        event: &EventEnvelope,
        _ctx: &HandlerContext<'_>,
    ) -> AppResult<()> {
        let item = match &event.event {
            DomainEvent::MovieWatched(m) => m.movie_id.as_uuid(),
            DomainEvent::TvShowCompleted(s) => s.show_id.as_uuid(),
            _ => return Ok(()),
        };
        uow.remove_from_watchlist(event.user_id, item).await?;
        Ok(())
    }
}
