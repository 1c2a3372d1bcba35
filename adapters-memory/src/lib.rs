//! In-memory implementations of every port, for tests, property tests and embedding.
//!
//! A unit of work takes the store's single lock and works on a copy of the state; commit swaps
//! the copy in, drop discards it. So units of work are serialised and atomic, exactly what the
//! SQL stores guarantee, at the price of copying the state per unit of work.
#![forbid(unsafe_code)]

mod abandons;
mod binge_sessions;
mod catalog;
mod clock;
mod engagement;
mod events;
mod idempotency;
mod imports;
mod integrations;
mod outbox;
mod playbacks;
mod progress;
mod records;
mod relay;
mod statistics;
mod store;

pub use clock::{ManualClock, SequentialIds};
pub use store::{DEFAULT_LOCK_WAIT, MemoryStore, MemoryUow};
