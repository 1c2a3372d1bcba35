//! The production store: every port of the domain on PostgreSQL, through sqlx.
//!
//! Native types (UUID, TIMESTAMPTZ, DATE, NUMERIC), migrations run on connect, units of work
//! at READ COMMITTED. Concurrent writers of one user's show or movie queue on a transaction
//! advisory lock (`PgUow::lock_user_item` says why), so several replicas can share one
//! database.
#![forbid(unsafe_code)]

mod codec;
mod progress;
mod records;
mod store;
mod uow;

pub use store::PgStore;
pub use uow::PgUow;
