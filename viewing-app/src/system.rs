//! Production implementations of the clock and id ports.

use chrono::{DateTime, Utc};
use viewing_domain::ports::{Clock, IdGenerator};

/// The system clock, in whole microseconds: the precision every store keeps (TIMESTAMPTZ), so a
/// value returned by a POST equals the one a later GET reads back.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        viewing_domain::values::micros(Utc::now())
    }
}

/// Time-ordered UUID v7 ids (event ids must be v7; records get them too, so ids sort by age).
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7;

impl IdGenerator for UuidV7 {
    fn new_id(&self) -> uuid::Uuid {
        uuid::Uuid::now_v7()
    }
}
