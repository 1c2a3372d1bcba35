//! The viewing rules. Each rule lives in exactly one function here; adapters and use cases call
//! them instead of re-deciding.

pub mod abandon;
pub mod binge;
pub mod episode;
pub mod history;
pub mod movie;
pub mod order;
pub mod playback;
pub mod progress;

use chrono::Duration;

/// Tunable limits of the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RulesConfig {
    /// Longest pause between two consecutive episodes of one binge session.
    pub binge_max_gap: Duration,
    /// A show in progress with no watch for this long is stalled (and reported abandoned).
    pub inactivity: Duration,
    /// The progress at which a player's `stop` records a play (SPEC §13).
    pub scrobble: playback::Thresholds,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            binge_max_gap: Duration::hours(3),
            inactivity: Duration::days(90),
            scrobble: playback::Thresholds::default(),
        }
    }
}
