//! The use-case suite, one test binary: each module drives `ViewingService` on the in-memory
//! store (and the real TMDB client against its fake where it says so).

mod support;

mod corrections;
mod events;
mod imdb;
mod imports;
mod integrations;
mod metadata;
mod playback;
mod properties;
mod relay_hardening;
mod rules;
mod tracing;
mod unit_of_work;
mod webhooks;
