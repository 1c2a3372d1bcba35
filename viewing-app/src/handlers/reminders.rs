//! ContinuationReminder: after an episode of an unfinished show, remind the user of the next
//! one (by default 7 days after the watch). A newer watch reschedules, a completion or an
//! abandon cancels. The scheduler that sends due reminders is
//! [`crate::ViewingService::fire_due_reminders`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use viewing_domain::engagement::{Reminder, ReminderStatus};
use viewing_domain::events::TvEpisodeWatched;
use viewing_domain::ports::{
    CatalogRepository, HandlerUnitOfWork, ShowProgressRepository, UserRepository,
    ViewingRecordRepository,
};
use viewing_domain::rules::history::current_pass;
use viewing_domain::rules::progress::next_episode;
use viewing_domain::{DomainEvent, EventEnvelope, ItemType, ShowId, UserId};

use super::{BatchEffects, EventHandler, HandlerContext};
use crate::error::AppResult;

/// The `ContinuationReminder` handler: schedules a reminder for the next episode after each
/// watch of an unfinished show, and cancels it on completion or abandon.
pub struct ContinuationReminder;

/// Cancels the scheduled reminder of a show unless a watch after `at` made it.
async fn cancel<U: HandlerUnitOfWork>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    show: ShowId,
    at: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(mut r) = ctx.reminder(uow, user, show).await?
        && r.status == ReminderStatus::Scheduled
        && r.last_watch_at <= at
    {
        r.status = ReminderStatus::Cancelled;
        r.updated_at = ctx.clock.now();
        ctx.save_reminder(uow, &r).await?;
    }
    Ok(())
}

async fn episode_watched<
    U: HandlerUnitOfWork + CatalogRepository + ViewingRecordRepository + ShowProgressRepository,
>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    e: &TvEpisodeWatched,
) -> AppResult<()> {
    if e.imported && e.watch_date + ctx.config.reminder_delay <= ctx.clock.now() {
        // An imported play older than the delay (SPEC §12): its reminder would be overdue
        // already; nobody is reminded of a show they watched years ago.
        return Ok(());
    }
    let existing = ctx.reminder(uow, user, e.show_id).await?;
    if existing
        .as_ref()
        .is_some_and(|r| r.last_watch_at > e.watch_date)
    {
        // A newer watch already decided the reminder.
        return Ok(());
    }
    let Some(show) = ctx.catalog.show(uow, e.show_id).await? else {
        return Ok(());
    };
    let progress = ctx.progress(uow, user, e.show_id).await?;
    let completed = progress.as_ref().is_some_and(|p| p.is_completed);
    let records = ctx.episode_records(uow, user, e.show_id).await?;
    let now = ctx.clock.now();
    let next = if completed {
        None
    } else {
        let plays = current_pass(&records, progress.as_ref());
        next_episode(&show, &plays, now.date_naive())
    };
    let Some(next) = next else {
        return cancel(uow, ctx, user, e.show_id, e.watch_date).await;
    };
    let reminder = Reminder {
        id: ctx.ids.new_id(),
        user_id: user,
        show_id: e.show_id,
        episode_id: next.episode_id,
        season_number: next.season_number,
        episode_number: next.episode_number,
        last_watch_at: e.watch_date,
        due_at: e.watch_date + ctx.config.reminder_delay,
        status: ReminderStatus::Scheduled,
        attempts: 0,
        sent_at: None,
        updated_at: now,
    };
    ctx.save_reminder(uow, &reminder).await?;
    Ok(())
}

/// After a deleted or corrected play (SPEC §11): the scheduled reminder follows the records —
/// the next episode after them, counted from the latest remaining watch — or is cancelled
/// when nothing is left to watch. A reminder already sent or cancelled stays as it is.
async fn follow_records<
    U: HandlerUnitOfWork + CatalogRepository + ViewingRecordRepository + ShowProgressRepository,
>(
    uow: &mut U,
    ctx: &HandlerContext<'_>,
    user: UserId,
    show_id: ShowId,
) -> AppResult<()> {
    let existing = ctx.reminder(uow, user, show_id).await?;
    if existing
        .as_ref()
        .is_some_and(|r| r.status != ReminderStatus::Scheduled)
    {
        return Ok(());
    }
    let Some(show) = ctx.catalog.show(uow, show_id).await? else {
        return Ok(());
    };
    let progress = ctx.progress(uow, user, show_id).await?;
    let completed = progress.as_ref().is_some_and(|p| p.is_completed);
    let records = ctx.episode_records(uow, user, show_id).await?;
    let now = ctx.clock.now();
    let last = records.iter().map(|r| r.watch_date).max();
    let next = (!completed)
        .then(|| {
            next_episode(
                &show,
                &current_pass(&records, progress.as_ref()),
                now.date_naive(),
            )
        })
        .flatten();
    match (last, next, existing) {
        (Some(last), Some(next), existing) => {
            let reminder = Reminder {
                id: existing.as_ref().map_or_else(|| ctx.ids.new_id(), |r| r.id),
                user_id: user,
                show_id,
                episode_id: next.episode_id,
                season_number: next.season_number,
                episode_number: next.episode_number,
                last_watch_at: last,
                due_at: last + ctx.config.reminder_delay,
                status: ReminderStatus::Scheduled,
                attempts: 0,
                sent_at: None,
                updated_at: now,
            };
            ctx.save_reminder(uow, &reminder).await?;
        }
        (_, _, Some(mut r)) => {
            r.status = ReminderStatus::Cancelled;
            r.updated_at = now;
            ctx.save_reminder(uow, &r).await?;
        }
        _ => {}
    }
    Ok(())
}

#[async_trait]
impl<
    U: HandlerUnitOfWork
        + CatalogRepository
        + ViewingRecordRepository
        + ShowProgressRepository
        + UserRepository,
> EventHandler<U> for ContinuationReminder
{
    fn name(&self) -> &'static str {
        "reminders"
    }

    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(
            handler = "reminders",
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
            DomainEvent::TvEpisodeWatched(e) => episode_watched(uow, ctx, user, e).await,
            DomainEvent::TvShowCompleted(s) => {
                cancel(uow, ctx, user, s.show_id, s.completion_date).await
            }
            DomainEvent::ViewingAbandoned(a) if a.item_type == ItemType::Show => {
                cancel(uow, ctx, user, ShowId::from(a.item_id), a.abandon_date).await
            }
            DomainEvent::ViewingRecordDeleted(d) => match d.show_id {
                Some(show) => follow_records(uow, ctx, user, show).await,
                None => Ok(()),
            },
            DomainEvent::ViewingRecordEdited(e) => match e.after.show_id {
                Some(show) => follow_records(uow, ctx, user, show).await,
                None => Ok(()),
            },
            DomainEvent::ShowProgressReset(r) | DomainEvent::ShowProgressResetUndone(r) => {
                follow_records(uow, ctx, user, r.show_id).await
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
        let watched = events.iter().filter_map(|e| match &e.event {
            DomainEvent::TvEpisodeWatched(w) => Some((e.user_id, w.show_id)),
            _ => None,
        });
        batch.prefetch_records(uow, watched).await?;
        let keys = events.iter().filter_map(|e| {
            let show = match &e.event {
                DomainEvent::TvEpisodeWatched(w) => w.show_id,
                DomainEvent::TvShowCompleted(s) => s.show_id,
                DomainEvent::ViewingAbandoned(a) if a.item_type == ItemType::Show => {
                    ShowId::from(a.item_id)
                }
                DomainEvent::ViewingRecordDeleted(d) => d.show_id?,
                DomainEvent::ViewingRecordEdited(e) => e.after.show_id?,
                DomainEvent::ShowProgressReset(r) | DomainEvent::ShowProgressResetUndone(r) => {
                    r.show_id
                }
                _ => return None,
            };
            Some((e.user_id, show))
        });
        batch.prefetch_reminders(uow, keys).await
    }
}
