//! RecommendationEngine: per-user genre affinity. Watching, completing and rewatching raise
//! the score of the item's genres; abandoning with a low quality rating lowers it.
//!
//! Scores are kept in integer points (tenths of the score shown) so that every store sums
//! them exactly.

use async_trait::async_trait;
use viewing_domain::events::{CompletionChanges, ViewingRecordDeleted};
use viewing_domain::ports::{CatalogRepository, HandlerUnitOfWork};
use viewing_domain::{ContentType, DomainEvent, EventEnvelope, ItemType};

use super::{EventHandler, HandlerContext, genres_of};
use crate::error::AppResult;

/// The `RecommendationEngine` handler: keeps each user's genre affinity points.
pub struct RecommendationEngine;

/// Points per genre of the item, by what happened.
pub mod weights {
    /// A first viewing of a movie.
    pub const MOVIE_WATCHED: i64 = 10;
    /// A movie watched again.
    pub const MOVIE_REWATCHED: i64 = 15;
    /// A first viewing of an episode.
    pub const EPISODE_WATCHED: i64 = 1;
    /// An episode watched again.
    pub const EPISODE_REWATCHED: i64 = 2;
    /// A season completed.
    pub const SEASON_COMPLETED: i64 = 5;
    /// A show completed.
    pub const SHOW_COMPLETED: i64 = 20;
    /// An abandon with a low quality rating.
    pub const ABANDONED_LOW_QUALITY: i64 = -20;
    /// A quality rating below this (in tenths: 5.0) makes an abandon count against the genres.
    pub const LOW_QUALITY_BELOW_TENTHS: u8 = 50;
}

/// What a deleted play takes back (SPEC §11): its own points, the difference for each rewatch
/// that became the first watch, and the completions it took away or moved.
fn deleted_points(d: &ViewingRecordDeleted) -> (uuid::Uuid, ItemType, i64) {
    use weights::*;
    let (item, item_type, first, again) = match (d.content_type, d.show_id) {
        (ContentType::Episode, Some(show)) => (
            show.as_uuid(),
            ItemType::Show,
            EPISODE_WATCHED,
            EPISODE_REWATCHED,
        ),
        _ => (
            d.content_id,
            ItemType::Movie,
            MOVIE_WATCHED,
            MOVIE_REWATCHED,
        ),
    };
    let own = if d.was_rewatch { again } else { first };
    let promoted = d.promoted.len() as i64 * (first - again);
    (
        item,
        item_type,
        promoted + completion_points(&d.completions) - own,
    )
}

/// The points of the completions a correction added, less those it took away.
fn completion_points(c: &CompletionChanges) -> i64 {
    use weights::*;
    let seasons =
        (c.seasons_added.len() as i64 - c.seasons_removed.len() as i64) * SEASON_COMPLETED;
    let show = c.shows_net() * SHOW_COMPLETED;
    seasons + show
}

#[async_trait]
impl<U: HandlerUnitOfWork + CatalogRepository> EventHandler<U> for RecommendationEngine {
    fn name(&self) -> &'static str {
        "preferences"
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(
            handler = "preferences",
            event = %event.event_id,
            event_type = event.event.event_type(),
        ),
        err(level = "debug")
    )]
    async fn handle(
        &self,
        uow: &mut U,
        event: &EventEnvelope,
        ctx: &HandlerContext<'_>,
    ) -> AppResult<()> {
        use weights::*;
        let (item, item_type, points) = match &event.event {
            DomainEvent::MovieWatched(m) => (
                m.movie_id.as_uuid(),
                ItemType::Movie,
                if m.is_rewatch {
                    MOVIE_REWATCHED
                } else {
                    MOVIE_WATCHED
                },
            ),
            DomainEvent::TvEpisodeWatched(e) => (
                e.show_id.as_uuid(),
                ItemType::Show,
                if e.is_rewatch {
                    EPISODE_REWATCHED
                } else {
                    EPISODE_WATCHED
                } + completion_points(&e.completions),
            ),
            DomainEvent::ShowProgressReset(r) | DomainEvent::ShowProgressResetUndone(r) => (
                r.show_id.as_uuid(),
                ItemType::Show,
                completion_points(&r.completions),
            ),
            DomainEvent::TvSeasonCompleted(s) => {
                (s.show_id.as_uuid(), ItemType::Show, SEASON_COMPLETED)
            }
            DomainEvent::TvShowCompleted(s) => {
                (s.show_id.as_uuid(), ItemType::Show, SHOW_COMPLETED)
            }
            DomainEvent::ViewingAbandoned(a)
                if a.quality_rating
                    .is_some_and(|r| r.tenths() < LOW_QUALITY_BELOW_TENTHS) =>
            {
                (a.item_id, a.item_type, ABANDONED_LOW_QUALITY)
            }
            DomainEvent::ViewingAbandonUndone(a)
                if a.quality_rating
                    .is_some_and(|r| r.tenths() < LOW_QUALITY_BELOW_TENTHS) =>
            {
                (a.item_id, a.item_type, -ABANDONED_LOW_QUALITY)
            }
            DomainEvent::ViewingRecordDeleted(d) => deleted_points(d),
            DomainEvent::ViewingRecordEdited(e) => match e.after.show_id {
                Some(show) => (
                    show.as_uuid(),
                    ItemType::Show,
                    completion_points(&e.completions),
                ),
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        if points == 0 {
            return Ok(());
        }
        for genre in genres_of(uow, ctx.catalog, item, item_type).await? {
            ctx.add_genre_points(uow, event.user_id, &genre, points)
                .await?;
        }
        Ok(())
    }
}
