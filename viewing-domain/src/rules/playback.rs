//! Playback (SPEC §13, Trakt's scrobble model): what a player's `start`, `pause` and `stop`
//! mean for the user's *now watching* item, their paused items and their history. Pure rules;
//! the playback API and the media-server webhooks both call them.

use chrono::{DateTime, Duration, Utc};

use crate::catalog::ItemKind;
use crate::ids::{PlaybackId, ShowId, UserId};
use crate::values::{Minutes, Percent, ValidationError};

/// Where a playback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackState {
    /// Playing now: the user's *now watching* item until `expires_at`.
    Watching,
    /// Paused: listed with its resume point.
    Paused,
}

impl PlaybackState {
    /// The name on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            PlaybackState::Watching => "watching",
            PlaybackState::Paused => "paused",
        }
    }

    /// The state named by [`PlaybackState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Watching, Self::Paused]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A player's playback of one movie or episode for one user: at most one per item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playback {
    /// Its id (`DELETE /api/playback/{id}`).
    pub id: PlaybackId,
    /// Whose.
    pub user_id: UserId,
    /// The movie or episode.
    pub content_id: uuid::Uuid,
    /// [`ItemKind::Movie`] or [`ItemKind::Episode`].
    pub kind: ItemKind,
    /// An episode's show.
    pub show_id: Option<ShowId>,
    /// Playing or paused.
    pub state: PlaybackState,
    /// How far (the resume point of a paused one).
    pub progress: Percent,
    /// When it was (last) started.
    pub started_at: DateTime<Utc>,
    /// When the player last reported it.
    pub updated_at: DateTime<Utc>,
    /// When a playing one stops being *now watching* ([`now_watching_until`]).
    pub expires_at: DateTime<Utc>,
}

/// The progress at or above which a `stop` records a play, per kind of content (SPEC §13:
/// `VIEWING_SCROBBLE_THRESHOLD_MOVIE` 90, `VIEWING_SCROBBLE_THRESHOLD_EPISODE` 80).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// For movies (long credits: 90 % by default).
    pub movie: Percent,
    /// For episodes (80 % by default).
    pub episode: Percent,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            movie: Percent::from_hundredths(9_000).unwrap_or(Percent::FULL),
            episode: Percent::from_hundredths(8_000).unwrap_or(Percent::FULL),
        }
    }
}

impl Thresholds {
    /// The threshold of `kind` (a movie's for a movie, an episode's otherwise).
    pub fn of(&self, kind: ItemKind) -> Percent {
        match kind {
            ItemKind::Movie => self.movie,
            _ => self.episode,
        }
    }
}

/// The least progress a `stop` may report: less is a player's noise, refused (422).
pub const MIN_STOP: Percent = match Percent::from_hundredths(100) {
    Some(p) => p,
    None => Percent::ZERO,
};

/// What a `stop` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// At or above the threshold: the play is recorded (`scrobble`), the paused entry goes.
    Scrobble,
    /// Below it: kept as paused at this progress.
    Pause(Percent),
}

/// A `stop` at `progress` of an item of `kind`.
///
/// # Errors
/// Under [`MIN_STOP`] (1 %), field `progress`.
pub fn decide_stop(
    progress: Percent,
    kind: ItemKind,
    thresholds: &Thresholds,
) -> Result<StopOutcome, ValidationError> {
    if progress < MIN_STOP {
        return Err(ValidationError::new(
            "progress",
            "a stop under 1 % is not a viewing",
        ));
    }
    Ok(if progress >= thresholds.of(kind) {
        StopOutcome::Scrobble
    } else {
        StopOutcome::Pause(progress)
    })
}

/// When a *now watching* item started at `at` with `progress` done stops being one: after the
/// runtime that remains (SPEC §13), at least a minute.
pub fn now_watching_until(at: DateTime<Utc>, progress: Percent, runtime: Minutes) -> DateTime<Utc> {
    let total = i64::from(runtime.get()) * 60;
    let left = total - total * i64::from(progress.hundredths()) / 10_000;
    at + Duration::seconds(left.max(60))
}

/// Whether a scrobble at `at` repeats the play recorded at `last` (SPEC §13: a second `stop` of
/// the same item within its runtime records nothing): chatty players send several.
pub fn repeats_scrobble(last: Option<DateTime<Utc>>, at: DateTime<Utc>, runtime: Minutes) -> bool {
    let window = Duration::minutes(i64::from(runtime.get()).max(1));
    last.is_some_and(|last| at >= last && at - last < window)
}

/// `position` of `duration` (a player's offsets, in any unit) as a progress, capped at 100 %;
/// `None` when the duration is unknown (0).
pub fn progress_of(position: u64, duration: u64) -> Option<Percent> {
    if duration == 0 {
        return None;
    }
    let position = position.min(duration);
    let hundredths =
        (u128::from(position) * 10_000 + u128::from(duration) / 2) / u128::from(duration);
    Percent::from_hundredths(u16::try_from(hundredths).unwrap_or(10_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pct(v: f64) -> Percent {
        Percent::new("p", v).expect("a percent")
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn a_stop_scrobbles_from_the_threshold_of_its_kind() {
        let t = Thresholds::default();
        assert_eq!(
            decide_stop(pct(90.0), ItemKind::Movie, &t),
            Ok(StopOutcome::Scrobble)
        );
        assert_eq!(
            decide_stop(pct(89.99), ItemKind::Movie, &t),
            Ok(StopOutcome::Pause(pct(89.99)))
        );
        assert_eq!(
            decide_stop(pct(80.0), ItemKind::Episode, &t),
            Ok(StopOutcome::Scrobble)
        );
        assert_eq!(
            decide_stop(pct(79.99), ItemKind::Episode, &t),
            Ok(StopOutcome::Pause(pct(79.99)))
        );
        assert!(decide_stop(pct(1.0), ItemKind::Episode, &t).is_ok());
        let refused = decide_stop(pct(0.99), ItemKind::Episode, &t);
        assert!(refused.is_err_and(|e| e.field == "progress"));
    }

    #[test]
    fn now_watching_lasts_the_remaining_runtime() {
        let runtime = Minutes::new("r", 50).expect("minutes");
        assert_eq!(now_watching_until(at(0), pct(0.0), runtime), at(50));
        assert_eq!(now_watching_until(at(0), pct(40.0), runtime), at(30));
        assert_eq!(
            now_watching_until(at(0), Percent::FULL, runtime),
            at(0) + Duration::seconds(60),
            "at least a minute"
        );
    }

    #[test]
    fn a_second_stop_within_the_runtime_repeats_the_play() {
        let runtime = Minutes::new("r", 45).expect("minutes");
        assert!(!repeats_scrobble(None, at(0), runtime));
        assert!(repeats_scrobble(Some(at(0)), at(0), runtime));
        assert!(repeats_scrobble(Some(at(0)), at(44), runtime));
        assert!(!repeats_scrobble(Some(at(0)), at(45), runtime), "a rewatch");
        assert!(
            !repeats_scrobble(Some(at(10)), at(0), runtime),
            "an earlier play"
        );
    }

    #[test]
    fn players_offsets_become_progress() {
        assert_eq!(progress_of(0, 0), None);
        assert_eq!(progress_of(1_800_000, 3_600_000), Some(pct(50.0)));
        assert_eq!(progress_of(5, 3), Some(Percent::FULL), "capped");
        // Jellyfin's ticks (100 ns): 41 of 52 minutes.
        assert_eq!(
            progress_of(24_600_000_000, 31_200_000_000),
            Some(pct(78.85))
        );
    }

    proptest! {
        #[test]
        fn the_stop_rule_is_monotonic(a in 100u16..=10_000, b in 100u16..=10_000, movie in any::<bool>()) {
            let kind = if movie { ItemKind::Movie } else { ItemKind::Episode };
            let t = Thresholds::default();
            let (lo, hi) = (a.min(b), a.max(b));
            let scrobbles = |h: u16| {
                Percent::from_hundredths(h)
                    .map(|p| decide_stop(p, kind, &t) == Ok(StopOutcome::Scrobble))
                    .unwrap_or(false)
            };
            // Once a progress scrobbles, every higher one does.
            prop_assert!(!scrobbles(lo) || scrobbles(hi));
        }

        #[test]
        fn progress_never_exceeds_full(position in any::<u64>(), duration in 1u64..) {
            let p = progress_of(position, duration);
            prop_assert!(p.is_some_and(|p| p <= Percent::FULL));
        }
    }
}
