//! StatisticsCalculator: adds every viewing, completion and abandon to the user's statistics
//! buckets (SPEC §6), so a statistics read sums a bounded number of buckets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::events::{
    CompletionChanges, IsoDuration, MovieWatched, PlayFacts, TvEpisodeWatched,
    ViewingRecordDeleted, ViewingRecordEdited,
};
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
    let minutes = movie_minutes(uow, ctx, m.movie_id, m.viewing_duration).await?;
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
    for id in e.binge_session_id.iter().chain(&e.binge_sessions_changed) {
        binge(uow, ctx, user, *id).await?;
    }
    completions(uow, ctx, user, &e.completions).await
}

/// Counts a binge session once, at its start, with its current number of episodes, and
/// follows it as corrections change it: a session that moved its start moves its count, one
/// that is gone takes its count away. The session itself is read from the store: its first
/// episode's event was written before the session existed, so events alone undercount it. A
/// kept count of 0 episodes is a session counted nowhere.
async fn binge<U: HandlerUnitOfWork + BingeSessionRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    id: viewing_domain::BingeSessionId,
) -> AppResult<()> {
    let session = ctx
        .binge_session(uow, id)
        .await?
        .filter(|s| s.user_id == user);
    let previous = ctx.binge_stat(uow, id).await?.filter(|p| p.episodes > 0);
    let longest = |n: u32| {
        let mut d = StatsDelta::default();
        d.counters.longest_binge = i64::from(n);
        d
    };
    let sessions = |n: i64| counter(|d| d.counters.binge_sessions = n);
    let (start, counted) = match (session, previous) {
        (None, None) => return Ok(()),
        (None, Some(p)) => {
            add(uow, ctx, user, p.start, sessions(-1)).await?;
            (p.start, 0)
        }
        (Some(s), None) => {
            let mut d = longest(s.episodes_watched);
            d.counters.binge_sessions = 1;
            add(uow, ctx, user, s.start_time, d).await?;
            (s.start_time, s.episodes_watched)
        }
        (Some(s), Some(p)) if p.start != s.start_time => {
            // An earlier episode arrived late, or a correction moved the start: move the
            // count with it.
            add(uow, ctx, user, p.start, sessions(-1)).await?;
            let mut d = longest(s.episodes_watched);
            d.counters.binge_sessions = 1;
            add(uow, ctx, user, s.start_time, d).await?;
            (s.start_time, s.episodes_watched)
        }
        (Some(s), Some(p)) if s.episodes_watched > p.episodes => {
            add(uow, ctx, user, s.start_time, longest(s.episodes_watched)).await?;
            (s.start_time, s.episodes_watched)
        }
        (Some(s), Some(p)) if s.episodes_watched < p.episodes => (s.start_time, s.episodes_watched),
        (Some(_), Some(_)) => return Ok(()),
    };
    ctx.save_binge_stat(
        uow,
        &BingeStat {
            session_id: id,
            user_id: user,
            start,
            episodes: counted,
        },
    )
    .await?;
    Ok(())
}

/// Minutes of a movie play: what was recorded, else the catalog runtime.
async fn movie_minutes<U: HandlerUnitOfWork + CatalogRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    movie: viewing_domain::MovieId,
    duration: Option<IsoDuration>,
) -> AppResult<i64> {
    if let Some(d) = duration {
        return Ok(minutes_of(d.seconds()));
    }
    let catalog = ctx.catalog.movie(uow, movie).await?;
    Ok(catalog.as_ref().map_or(0, |c| i64::from(c.runtime.get())))
}

/// What one play adds to its buckets.
async fn play<U: HandlerUnitOfWork + CatalogRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    p: Play<'_>,
) -> AppResult<StatsDelta> {
    let (minutes, genres) = match (p.content_type, p.show_id) {
        (ContentType::Episode, Some(show)) => (
            p.duration.map_or(0, |v| minutes_of(v.seconds())),
            genres_of(uow, ctx.catalog, show.as_uuid(), ItemType::Show).await?,
        ),
        _ => {
            let movie = viewing_domain::MovieId::from(p.content_id);
            (
                movie_minutes(uow, ctx, movie, p.duration).await?,
                genres_of(uow, ctx.catalog, p.content_id, ItemType::Movie).await?,
            )
        }
    };
    Ok(viewing(
        p.content_type,
        minutes,
        p.is_rewatch,
        &genres,
        p.platform,
    ))
}

/// The facts of a play that its statistics depend on.
#[derive(Clone, Copy)]
struct Play<'a> {
    content_type: ContentType,
    content_id: uuid::Uuid,
    show_id: Option<viewing_domain::ShowId>,
    duration: Option<IsoDuration>,
    platform: Option<&'a str>,
    is_rewatch: bool,
}

impl<'a> Play<'a> {
    fn of(f: &'a PlayFacts) -> Self {
        Self {
            content_type: f.content_type,
            content_id: f.content_id,
            show_id: f.show_id,
            duration: f.viewing_duration,
            platform: f.platform.as_deref(),
            is_rewatch: f.is_rewatch,
        }
    }
}

/// Takes a deleted play out of the buckets, with what its going changed (SPEC §11).
async fn deleted<U: HandlerUnitOfWork + CatalogRepository + BingeSessionRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    d: &ViewingRecordDeleted,
) -> AppResult<()> {
    let gone = play(
        uow,
        ctx,
        Play {
            content_type: d.content_type,
            content_id: d.content_id,
            show_id: d.show_id,
            duration: d.viewing_duration,
            platform: d.platform.as_deref(),
            is_rewatch: d.was_rewatch,
        },
    )
    .await?;
    add(uow, ctx, user, d.watch_date, gone.negated()).await?;
    for p in &d.promoted {
        add(
            uow,
            ctx,
            user,
            p.watch_date,
            counter(|c| c.counters.rewatches = -1),
        )
        .await?;
    }
    completions(uow, ctx, user, &d.completions).await?;
    for id in &d.binge_session_ids {
        binge(uow, ctx, user, *id).await?;
    }
    Ok(())
}

/// Moves a corrected play between buckets: what it added as it was goes, what it adds as it
/// is now comes (SPEC §11).
async fn edited<U: HandlerUnitOfWork + CatalogRepository + BingeSessionRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    e: &ViewingRecordEdited,
) -> AppResult<()> {
    let before = play(uow, ctx, Play::of(&e.before)).await?;
    add(uow, ctx, user, e.before.watch_date, before.negated()).await?;
    let after = play(uow, ctx, Play::of(&e.after)).await?;
    add(uow, ctx, user, e.after.watch_date, after).await?;
    completions(uow, ctx, user, &e.completions).await?;
    for id in &e.binge_session_ids {
        binge(uow, ctx, user, *id).await?;
    }
    Ok(())
}

/// Moves completion counts as a correction changed them.
async fn completions<U: HandlerUnitOfWork>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    c: &CompletionChanges,
) -> AppResult<()> {
    let seasons = |n: i64| counter(|d| d.counters.seasons_completed = n);
    let shows = |n: i64| counter(|d| d.counters.shows_completed = n);
    for at in &c.seasons_removed {
        add(uow, ctx, user, *at, seasons(-1)).await?;
    }
    for at in &c.seasons_added {
        add(uow, ctx, user, *at, seasons(1)).await?;
    }
    for at in &c.show_removed {
        add(uow, ctx, user, *at, shows(-1)).await?;
    }
    for at in &c.show_added {
        add(uow, ctx, user, *at, shows(1)).await?;
    }
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
            DomainEvent::ViewingRecordDeleted(d) => deleted(uow, ctx, user, d).await,
            DomainEvent::ViewingRecordEdited(e) => edited(uow, ctx, user, e).await,
            DomainEvent::ViewingAbandonUndone(a) => {
                let d = counter(|d| d.counters.abandoned = -1);
                add(uow, ctx, user, a.abandon_date, d).await
            }
            DomainEvent::ShowProgressReset(r) | DomainEvent::ShowProgressResetUndone(r) => {
                completions(uow, ctx, user, &r.completions).await
            }
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
            .flat_map(|e| match &e.event {
                DomainEvent::TvEpisodeWatched(w) => w
                    .binge_session_id
                    .into_iter()
                    .chain(w.binge_sessions_changed.iter().copied())
                    .collect(),
                DomainEvent::ViewingRecordDeleted(d) => d.binge_session_ids.clone(),
                DomainEvent::ViewingRecordEdited(d) => d.binge_session_ids.clone(),
                _ => Vec::new(),
            })
            .collect();
        batch
            .prefetch_binge_sessions(uow, sessions.iter().copied())
            .await?;
        batch.prefetch_binge_stats(uow, sessions).await
    }
}
