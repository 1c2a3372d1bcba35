//! The HTTP adapter suite, one test binary: the router, its middleware and its OpenAPI document,
//! driven in-process over the in-memory store.

mod idempotency;
mod metrics;
mod openapi;
mod plain_text;
mod router;
