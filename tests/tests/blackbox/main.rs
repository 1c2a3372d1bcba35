//! The black-box suite, one test binary: each module starts the real viewing-server program
//! and talks HTTP to it. One binary links the server once instead of once per file.

mod binge_sessions;
mod cli;
mod corrections;
mod durability;
mod edge;
mod endpoints;
mod engagement;
mod event_delivery;
mod idempotency;
mod imdb;
mod imports;
mod input;
mod integrations;
mod isolation;
mod metrics;
mod playback;
mod postgres;
mod ranges;
mod recovery;
mod relay_hardening;
mod replicas;
mod search;
mod security;
mod show_walk;
mod tmdb;
