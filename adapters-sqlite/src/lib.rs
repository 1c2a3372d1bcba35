//! The embedded, durable default store: every port of the domain on SQLite, through sqlx.
//!
//! One database file (WAL mode, busy timeout, foreign keys on), migrated on connect. Write
//! units of work run one at a time inside `BEGIN IMMEDIATE` transactions, which is what makes
//! the concurrency rules of the ports hold on SQLite (see `SqliteStore::begin_write`); units of
//! work that queue behind each other share one commit (see the `writer` module).
#![forbid(unsafe_code)]

mod abandons;
mod binge_sessions;
mod catalog_bulk;
mod codec;
mod engagement;
mod imports;
mod integrations;
mod open;
mod outbox;
mod playbacks;
mod progress;
mod records;
mod relay;
mod statistics;
mod store;
mod uow;
mod writer;

pub use store::SqliteStore;
pub use uow::SqliteUow;
