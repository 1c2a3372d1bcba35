//! Operator use cases of the outbox's dead letters (SPEC §9): list what the relay parked, and
//! make one event due again.

use viewing_domain::EventId;
use viewing_domain::event_ports::DeadLetter;
use viewing_domain::ports::Store;

use crate::error::{AppError, AppResult};
use crate::service::ViewingService;

/// The most dead letters one listing returns.
pub const DEAD_LETTER_LIMIT: u32 = 1000;

impl<S: Store> ViewingService<S> {
    /// Dead letters of every channel, oldest parked first (at most [`DEAD_LETTER_LIMIT`]).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dead_letters(&self) -> AppResult<Vec<DeadLetter>> {
        Ok(self.store.dead_letters(DEAD_LETTER_LIMIT).await?)
    }

    /// Makes a parked event due again, attempts reset, on every channel where it is parked;
    /// returns those entries as they were. `NotFound` when the event is parked nowhere. The
    /// relay picks it up on its next pass; if it fails again it is retried and, after
    /// `max_attempts`, parked again (an undecodable payload is parked again at once).
    #[tracing::instrument(level = "debug", skip_all, fields(event = %event))]
    pub async fn retry_dead_letter(&self, event: EventId) -> AppResult<Vec<DeadLetter>> {
        let retried = self
            .store
            .retry_dead_letter(event, self.clock.now())
            .await?;
        if retried.is_empty() {
            return Err(AppError::NotFound);
        }
        Ok(retried)
    }
}
