//! StatisticsCalculator: adds every viewing, completion and abandon to the user's statistics
//! buckets (SPEC §6), so a statistics read sums a bounded number of buckets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::events::{MovieWatched, TvEpisodeWatched};
use viewing_domain::ports::{BingeSessionRepository, CatalogRepository, HandlerUnitOfWork};
use viewing_domain::stats::{BingeStat, Dimension, StatsDelta, buckets_containing};
use viewing_domain::{ContentType, DomainEvent, EventEnvelope, ItemType, UserId};

use super::{BatchEffects, EventHandler, HandlerContext, genres_of};
use crate::error::AppResult;
use crate::statistics::UNKNOWN_PLATFORM;

/// The `StatisticsCalculator` handler: adds each event to the user's statistics buckets
/// (SPEC §6), which `ViewingService::statistics` reads.
pub struct StatisticsCalculator;

fn minutes_of(seconds: i64) -> i64 {
    seconds / 60
}

/// One viewing record's contribution.
fn viewing(
    content_type: ContentType,
    minutes: i64,
    is_rewatch: bool,
    genres: &[String],
    platform: Option<&str>,
) -> StatsDelta {
    let mut d = StatsDelta::default();
    d.counters.watched = 1;
    match content_type {
        ContentType::Movie => d.counters.movies = 1,
        ContentType::Episode => d.counters.episodes = 1,
    }
    d.counters.rewatches = i64::from(is_rewatch);
    d.counters.minutes = minutes;
    d.tally(Dimension::ContentType, content_type.as_str(), 1, minutes);
    for g in genres {
        d.tally(Dimension::Genre, g, 1, minutes);
    }
    d.tally(
        Dimension::Platform,
        platform.unwrap_or(UNKNOWN_PLATFORM),
        1,
        minutes,
    );
    d
}

async fn add<U: HandlerUnitOfWork>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    at: DateTime<Utc>,
    delta: StatsDelta,
) -> AppResult<()> {
    ctx.add_to_buckets(uow, user, &buckets_containing(at), &delta)
        .await
}

async fn movie<U: HandlerUnitOfWork + CatalogRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    m: &MovieWatched,
) -> AppResult<()> {
    let catalog = ctx.catalog.movie(uow, m.movie_id).await?;
    let runtime = catalog.as_ref().map_or(0, |c| i64::from(c.runtime.get()));
    let minutes = m
        .viewing_duration
        .map_or(runtime, |d| minutes_of(d.seconds()));
    let genres = genres_of(uow, ctx.catalog, m.movie_id.as_uuid(), ItemType::Movie).await?;
    let delta = viewing(
        ContentType::Movie,
        minutes,
        m.is_rewatch,
        &genres,
        m.viewing_platform.as_deref(),
    );
    add(uow, ctx, user, m.watch_date, delta).await
}

async fn episode<U: HandlerUnitOfWork + CatalogRepository + BingeSessionRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    e: &TvEpisodeWatched,
) -> AppResult<()> {
    let genres = genres_of(uow, ctx.catalog, e.show_id.as_uuid(), ItemType::Show).await?;
    let delta = viewing(
        ContentType::Episode,
        minutes_of(e.viewing_duration.seconds()),
        e.is_rewatch,
        &genres,
        e.platform.as_deref(),
    );
    add(uow, ctx, user, e.watch_date, delta).await?;
    if let Some(id) = e.binge_session_id {
        binge(uow, ctx, user, id).await?;
    }
    Ok(())
}

/// Counts a binge session once, at its start, with its current number of episodes. The
/// session itself is read from the store: its first episode's event was written before the
/// session existed, so events alone undercount it.
async fn binge<U: HandlerUnitOfWork + BingeSessionRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    id: viewing_domain::BingeSessionId,
) -> AppResult<()> {
    let Some(session) = ctx.binge_session(uow, id).await? else {
        return Ok(());
    };
    if session.user_id != user {
        return Ok(());
    }
    let episodes = session.episodes_watched;
    let longest = |n: u32| {
        let mut d = StatsDelta::default();
        d.counters.longest_binge = i64::from(n);
        d
    };
    let previous = ctx.binge_stat(uow, id).await?;
    let counted = match previous {
        None => {
            let mut d = longest(episodes);
            d.counters.binge_sessions = 1;
            add(uow, ctx, user, session.start_time, d).await?;
            episodes
        }
        Some(p) if p.start != session.start_time => {
            // An earlier episode arrived late and moved the start: move the count with it.
            let mut gone = StatsDelta::default();
            gone.counters.binge_sessions = -1;
            add(uow, ctx, user, p.start, gone).await?;
            let mut d = longest(episodes.max(p.episodes));
            d.counters.binge_sessions = 1;
            add(uow, ctx, user, session.start_time, d).await?;
            episodes.max(p.episodes)
        }
        Some(p) if episodes > p.episodes => {
            add(uow, ctx, user, session.start_time, longest(episodes)).await?;
            episodes
        }
        Some(_) => return Ok(()),
    };
    ctx.save_binge_stat(
        uow,
        &BingeStat {
            session_id: id,
            user_id: user,
            start: session.start_time,
            episodes: counted,
        },
    )
    .await?;
    Ok(())
}

fn counter(set: impl FnOnce(&mut StatsDelta)) -> StatsDelta {
    let mut d = StatsDelta::default();
    set(&mut d);
    d
}

#[async_trait]
impl<U: HandlerUnitOfWork + CatalogRepository + BingeSessionRepository> EventHandler<U>
    for StatisticsCalculator
{
    fn name(&self) -> &'static str {
        "statistics"
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(
            handler = "statistics",
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
        let user = event.user_id;
        match &event.event {
            DomainEvent::MovieWatched(m) => movie(uow, ctx, user, m).await,
            DomainEvent::TvEpisodeWatched(e) => episode(uow, ctx, user, e).await,
            DomainEvent::TvSeasonCompleted(s) => {
                let d = counter(|d| d.counters.seasons_completed = 1);
                add(uow, ctx, user, s.completion_date, d).await
            }
            DomainEvent::TvShowCompleted(s) => {
                let d = counter(|d| d.counters.shows_completed = 1);
                add(uow, ctx, user, s.completion_date, d).await
            }
            DomainEvent::ViewingAbandoned(a) => {
                let d = counter(|d| d.counters.abandoned = 1);
                add(uow, ctx, user, a.abandon_date, d).await
            }
            DomainEvent::AchievementUnlocked(_) => Ok(()),
        }
    }

    async fn prefetch(
        &self,
        uow: &mut U,
        events: &[&EventEnvelope],
        batch: &BatchEffects,
    ) -> AppResult<()> {
        let sessions: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.event {
                DomainEvent::TvEpisodeWatched(w) => w.binge_session_id,
                _ => None,
            })
            .collect();
        batch
            .prefetch_binge_sessions(uow, sessions.iter().copied())
            .await?;
        batch.prefetch_binge_stats(uow, sessions).await
    }
}
