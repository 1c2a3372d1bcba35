use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use viewing_domain::ports::{Clock, IdGenerator};

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Mutex::new(now))
    }
    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }
    pub fn advance(&self, by: Duration) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *g += by;
    }
}

impl Clock for ManualClock {
    /// The set time in whole microseconds, as every [`Clock`] answers.
    fn now(&self) -> DateTime<Utc> {
        viewing_domain::values::micros(*self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Predictable ids: 1, 2, 3… in the low bits (tests read them easily).
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> uuid::Uuid {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        uuid::Uuid::from_u64_pair(0x0000_0000_0000_7000, n)
    }
}
