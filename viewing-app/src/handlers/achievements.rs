//! AchievementTracker: the milestones of SPEC §7. Each unlock is stored once per user and
//! emits `AchievementUnlocked` into the outbox in the same unit of work.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::engagement::Achievement;
use viewing_domain::events::{AchievementUnlocked, CompletionChanges};
use viewing_domain::ports::{BingeSessionRepository, HandlerUnitOfWork, Outbox};
use viewing_domain::{ContentType, DomainEvent, EventEnvelope, EventId, UserId};

use super::{BatchEffects, EventHandler, HandlerContext};
use crate::error::AppResult;

/// The `AchievementTracker` handler: unlocks milestones (first movie, ten movies, marathon...)
/// once per user, and emits `AchievementUnlocked` for each.
pub struct AchievementTracker;

/// First-time movie watches that unlock a milestone.
pub const MOVIE_MILESTONES: [i64; 6] = [10, 50, 100, 250, 500, 1000];
/// First-time episode watches that unlock a milestone.
pub const EPISODE_MILESTONES: [i64; 3] = [100, 500, 1000];
/// Episodes in one binge session that make a marathon.
pub const MARATHON_EPISODES: u32 = 6;

/// The achievement a counter reaching `value` unlocks, if any.
fn milestone(counter: &str, value: i64) -> Option<(String, String)> {
    match counter {
        "movies" if value == 1 => Some(("first-movie".into(), "First movie".into())),
        "movies" if MOVIE_MILESTONES.contains(&value) => {
            Some((format!("movies-{value}"), format!("{value} movies")))
        }
        "episodes" if EPISODE_MILESTONES.contains(&value) => {
            Some((format!("episodes-{value}"), format!("{value} episodes")))
        }
        "shows-completed" if value == 1 => {
            Some(("first-show-completed".into(), "First show completed".into()))
        }
        "shows-completed" if value == 10 => {
            Some(("shows-completed-10".into(), "10 shows completed".into()))
        }
        _ => None,
    }
}

async fn unlock<U: HandlerUnitOfWork + Outbox + BingeSessionRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    (code, title): (String, String),
    at: DateTime<Utc>,
) -> AppResult<()> {
    let achievement = Achievement {
        user_id: user,
        code,
        title,
        unlocked_at: at,
    };
    if ctx.unlock_achievement(uow, &achievement).await? {
        let event = EventEnvelope {
            event_id: EventId::from(ctx.ids.new_id()),
            occurred_at: ctx.clock.now(),
            user_id: user,
            event: DomainEvent::AchievementUnlocked(AchievementUnlocked {
                achievement: achievement.code,
                title: achievement.title,
                unlocked_at: at,
            }),
        };
        uow.append_events(&[event]).await?;
    }
    Ok(())
}

async fn count<U: HandlerUnitOfWork + Outbox + BingeSessionRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    counter: &str,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let value = ctx.bump_counter(uow, user, counter, 1).await?;
    if let Some(m) = milestone(counter, value) {
        unlock(uow, ctx, user, m, at).await?;
    }
    Ok(())
}

/// The completed-shows counter follows a correction that took a completion away or added one.
async fn shows_completed<U: HandlerUnitOfWork + Outbox + BingeSessionRepository>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    c: &CompletionChanges,
) -> AppResult<()> {
    let net = c.shows_net();
    if net < 0 {
        ctx.bump_counter(uow, user, "shows-completed", net).await?;
    }
    for at in c.show_added.iter().take(usize::try_from(net).unwrap_or(0)) {
        count(uow, ctx, user, "shows-completed", *at).await?;
    }
    Ok(())
}

#[async_trait]
impl<U: HandlerUnitOfWork + Outbox + BingeSessionRepository> EventHandler<U>
    for AchievementTracker
{
    fn name(&self) -> &'static str {
        "achievements"
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(
            handler = "achievements",
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
            DomainEvent::MovieWatched(m) if !m.is_rewatch => {
                count(uow, ctx, user, "movies", m.watch_date).await
            }
            DomainEvent::TvEpisodeWatched(e) => {
                if !e.is_rewatch {
                    count(uow, ctx, user, "episodes", e.watch_date).await?;
                }
                if let Some(id) = e.binge_session_id
                    && let Some(session) = ctx.binge_session(uow, id).await?
                    && session.user_id == user
                    && session.episodes_watched >= MARATHON_EPISODES
                {
                    let m = (
                        "marathon".into(),
                        "Marathon: 6+ episodes in one sitting".into(),
                    );
                    unlock(uow, ctx, user, m, e.watch_date).await?;
                }
                shows_completed(uow, ctx, user, &e.completions).await
            }
            DomainEvent::ShowProgressReset(r) | DomainEvent::ShowProgressResetUndone(r) => {
                shows_completed(uow, ctx, user, &r.completions).await
            }
            DomainEvent::TvShowCompleted(s) => {
                count(uow, ctx, user, "shows-completed", s.completion_date).await
            }
            DomainEvent::ViewingRecordDeleted(d) => {
                // Unlocked achievements stay; the counters follow the history, so the next
                // milestone needs real watches again.
                if !d.was_rewatch && d.promoted.is_empty() {
                    let counter = match d.content_type {
                        ContentType::Movie => "movies",
                        ContentType::Episode => "episodes",
                    };
                    ctx.bump_counter(uow, user, counter, -1).await?;
                }
                shows_completed(uow, ctx, user, &d.completions).await
            }
            DomainEvent::ViewingRecordEdited(e) => {
                shows_completed(uow, ctx, user, &e.completions).await
            }
            _ => Ok(()),
        }
    }

    async fn prefetch(
        &self,
        uow: &mut U,
        events: &[&EventEnvelope],
        batch: &BatchEffects,
    ) -> AppResult<()> {
        let mut counters = Vec::new();
        let mut sessions = Vec::new();
        for e in events {
            let name = match &e.event {
                DomainEvent::MovieWatched(m) if !m.is_rewatch => "movies",
                DomainEvent::TvEpisodeWatched(w) => {
                    sessions.extend(w.binge_session_id);
                    if w.is_rewatch {
                        continue;
                    }
                    "episodes"
                }
                DomainEvent::TvShowCompleted(_) => "shows-completed",
                _ => continue,
            };
            counters.push((e.user_id, name.to_owned()));
        }
        let users: Vec<UserId> = counters.iter().map(|(u, _)| *u).collect();
        batch.prefetch_counters(uow, counters).await?;
        batch.prefetch_achievements(uow, users).await?;
        batch.prefetch_binge_sessions(uow, sessions).await
    }
}

#[cfg(test)]
mod tests {
    use super::milestone;

    #[test]
    fn milestones_are_the_spec_list() {
        let movies: Vec<i64> = (1..=2000)
            .filter(|n| milestone("movies", *n).is_some())
            .collect();
        assert_eq!(movies, vec![1, 10, 50, 100, 250, 500, 1000]);
        let episodes: Vec<i64> = (1..=2000)
            .filter(|n| milestone("episodes", *n).is_some())
            .collect();
        assert_eq!(episodes, vec![100, 500, 1000]);
        let shows: Vec<i64> = (1..=50)
            .filter(|n| milestone("shows-completed", *n).is_some())
            .collect();
        assert_eq!(shows, vec![1, 10]);
    }
}
