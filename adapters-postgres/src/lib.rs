//! The production store: every port of the domain on PostgreSQL, through sqlx.
//!
//! Native types (UUID, TIMESTAMPTZ, DATE, NUMERIC), migrations run on connect, units of work
//! at READ COMMITTED. Concurrent writers of one user's show or movie queue on a transaction
//! advisory lock (`PgUow::lock_user_item` says why), so several replicas can share one
//! database. The event side (outbox relay channels, processed marks, the handlers' state) is
//! in `events` and `handler_state`: relays of several replicas claim with
//! `FOR UPDATE SKIP LOCKED` and keep each user's events in order.
//!
//! The module list mirrors `adapters-sqlite` but for its `writer`: SQLite has one writer per
//! file, so that store queues its write units of work and commits them in groups; PostgreSQL
//! takes concurrent writers and groups their commits itself, so there is nothing to mirror.
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

pub use store::PgStore;
pub use uow::PgUow;
