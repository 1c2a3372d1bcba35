//! Queries and commands over the handlers' state: achievements, the watchlist, continuation
//! reminders (and the scheduler that sends them), genre preferences.

use chrono::Duration;
use viewing_domain::engagement::{Achievement, Reminder, ReminderStatus, WatchlistItem};
use viewing_domain::event_ports::Notifier;
use viewing_domain::handler_ports::{
    AchievementRepository, PreferenceRepository, ReminderRepository, WatchlistRepository,
};
use viewing_domain::ports::{Store, Transaction, UserRepository};
use viewing_domain::{ItemType, MovieId, ShowId, UserId};

use crate::error::{AppError, AppResult};
use crate::service::ViewingService;

/// Notification attempts before a reminder is given up (`failed`).
pub const REMINDER_MAX_ATTEMPTS: u32 = 5;

/// Delay before notification attempt `attempts + 1`: 1, 2, 4, 8… minutes, at most an hour.
/// It is also the lease that keeps other replicas off a reminder being sent.
pub fn reminder_backoff(attempts: u32) -> Duration {
    let factor = 1i32.checked_shl(attempts.min(10)).unwrap_or(i32::MAX);
    (Duration::minutes(1) * factor).min(Duration::hours(1))
}

/// One ranked genre of `GET /api/viewing/preferences`.
#[derive(Debug, Clone, PartialEq)]
pub struct GenrePreference {
    /// 1 for the strongest affinity.
    pub rank: u32,
    /// The genre's name.
    pub genre: String,
    /// The affinity score shown (points / 10).
    pub score: f64,
}

/// What one scheduler run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiredReminders {
    /// Reminders the notifier took.
    pub sent: usize,
    /// Reminders the notifier refused this time (retried later, or failed for good).
    pub failed: usize,
}

impl<S: Store> ViewingService<S> {
    /// `GET /api/viewing/achievements`: unlocked ones, oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    pub async fn achievements(&self, user: UserId) -> AppResult<Vec<Achievement>> {
        let mut uow = self.store.begin_read().await?;
        Ok(uow.achievements(user).await?)
    }

    /// `GET /api/watchlist`: newest first.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    pub async fn watchlist(&self, user: UserId) -> AppResult<Vec<WatchlistItem>> {
        let mut uow = self.store.begin_read().await?;
        Ok(uow.watchlist(user).await?)
    }

    /// `PUT /api/watchlist/{contentId}`: adds a movie or show of the catalog (idempotent; the
    /// first `added_at` stays). Returns the item and whether it was added now.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, content = %content_id))]
    pub async fn add_to_watchlist(
        &self,
        user: UserId,
        content_id: uuid::Uuid,
    ) -> AppResult<(WatchlistItem, bool)> {
        let now = self.clock.now();
        let mut uow = self.store.begin().await?;
        let item_type = if self
            .catalog
            .movie(&mut uow, MovieId::from(content_id))
            .await?
            .is_some()
        {
            ItemType::Movie
        } else if self
            .catalog
            .show(&mut uow, ShowId::from(content_id))
            .await?
            .is_some()
        {
            ItemType::Show
        } else {
            return Err(AppError::ContentNotFound);
        };
        uow.ensure_user(user, now).await?;
        let added = uow
            .add_to_watchlist(&WatchlistItem {
                user_id: user,
                content_id,
                item_type,
                added_at: now,
            })
            .await?;
        uow.commit().await?;
        Ok(added)
    }

    /// `DELETE /api/watchlist/{contentId}`; `NotFound` when it is not on the watchlist.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user, content = %content_id))]
    pub async fn remove_from_watchlist(
        &self,
        user: UserId,
        content_id: uuid::Uuid,
    ) -> AppResult<()> {
        let mut uow = self.store.begin().await?;
        if !uow.remove_from_watchlist(user, content_id).await? {
            return Err(AppError::NotFound);
        }
        uow.commit().await?;
        Ok(())
    }

    /// `GET /api/viewing/reminders`: every reminder of the user, by due date.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    pub async fn reminders(&self, user: UserId) -> AppResult<Vec<Reminder>> {
        let mut uow = self.store.begin_read().await?;
        Ok(uow.reminders(user).await?)
    }

    /// `GET /api/viewing/preferences`: genres by affinity, highest first (ties by name).
    #[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
    pub async fn preferences(&self, user: UserId) -> AppResult<Vec<GenrePreference>> {
        let mut uow = self.store.begin_read().await?;
        let mut scores = uow.genre_scores(user).await?;
        scores.sort_by(|a, b| b.points.cmp(&a.points).then_with(|| a.genre.cmp(&b.genre)));
        Ok(scores
            .into_iter()
            .enumerate()
            .map(|(i, s)| GenrePreference {
                rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
                genre: s.genre,
                score: s.points as f64 / 10.0,
            })
            .collect())
    }

    /// The reminder scheduler: hands every due reminder (at most `batch`) to `notifier`.
    ///
    /// A reminder is first claimed in a short unit of work (attempt counted, `due_at` moved
    /// past the send, so another replica leaves it alone), then sent with no transaction open,
    /// then marked sent — unless a newer watch replaced it meanwhile (its id changed). After
    /// [`REMINDER_MAX_ATTEMPTS`] failures it is marked `failed`.
    #[tracing::instrument(level = "debug", skip_all, fields(batch), err(level = "debug"))]
    pub async fn fire_due_reminders(
        &self,
        notifier: &dyn Notifier,
        batch: u32,
    ) -> AppResult<FiredReminders> {
        let now = self.clock.now();
        let claimed = {
            let mut uow = self.store.begin().await?;
            let mut due = uow.due_reminders(now, batch).await?;
            for r in &mut due {
                r.due_at = now + reminder_backoff(r.attempts);
                r.attempts += 1;
                r.updated_at = now;
                uow.save_reminder(r).await?;
            }
            uow.commit().await?;
            due
        };
        let mut fired = FiredReminders::default();
        for r in claimed {
            let result = notifier.notify(&r).await;
            let mut uow = self.store.begin().await?;
            let Some(mut current) = uow.reminder(r.user_id, r.show_id).await? else {
                continue;
            };
            if current.id != r.id || current.status != ReminderStatus::Scheduled {
                continue;
            }
            let now = self.clock.now();
            current.updated_at = now;
            match result {
                Ok(()) => {
                    fired.sent += 1;
                    current.status = ReminderStatus::Sent;
                    current.sent_at = Some(now);
                }
                Err(_) => {
                    fired.failed += 1;
                    if current.attempts >= REMINDER_MAX_ATTEMPTS {
                        current.status = ReminderStatus::Failed;
                    }
                }
            }
            uow.save_reminder(&current).await?;
            uow.commit().await?;
        }
        Ok(fired)
    }
}

/// A notifier that only keeps what it was given (embedding, tests, a server without a
/// webhook: the reminders are still listed as sent).
#[derive(Debug, Default)]
pub struct RecordingNotifier(std::sync::Mutex<Vec<Reminder>>);

impl RecordingNotifier {
    /// Every reminder handed over so far, in order.
    pub fn sent(&self) -> Vec<Reminder> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait::async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, reminder: &Reminder) -> Result<(), viewing_domain::ports::BoxError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(reminder.clone());
        Ok(())
    }
}
