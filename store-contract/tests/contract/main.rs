//! The store contract, one test binary: the same suite on every store.

mod memory;
mod postgres;
mod replicas;
mod sqlite;
