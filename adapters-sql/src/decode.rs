//! The row-to-domain mappers that are the same in both SQL stores: each reads the columns its
//! store's `SELECT` names, through [`RowExt`], whatever the store's encoding.

use viewing_domain::engagement::{
    Achievement, GenreScore, Reminder, ReminderStatus, WatchlistItem,
};
use viewing_domain::event_ports::{DeadLetter, RelayChannel};
use viewing_domain::ports::StoreResult;
use viewing_domain::stats::{BingeStat, Dimension, StatsDelta};
use viewing_domain::values::{
    AbandonReason, Companions, Minutes, Percent, Platform, Rating, ViewingContext, ViewingLocation,
};
use viewing_domain::{
    AbandonId, AbandonRecord, BingeSession, BingeSessionId, ContentType, EpisodeId, EventId,
    ItemType, MovieId, RecordId, SeasonCompletion, ShowId, ShowProgress, UserId, ViewingRecord,
    Watched,
};

use crate::{RowExt, corrupt, name, parsed};

/// A row of `binge_sessions` (`id, user_id, show_id, start_time, end_time, episodes_watched,
/// created_at`).
pub fn binge_session<S, R: RowExt<S>>(row: &R) -> StoreResult<BingeSession> {
    Ok(BingeSession {
        id: BingeSessionId::from(row.uuid("id")?),
        user_id: UserId::from(row.uuid("user_id")?),
        show_id: ShowId::from(row.uuid("show_id")?),
        start_time: row.instant("start_time")?,
        end_time: row.instant("end_time")?,
        episodes_watched: row.u32("episodes_watched")?,
        created_at: row.instant("created_at")?,
    })
}

/// A row of `abandoned_content` whose decimals the store's `SELECT` turned into exact whole
/// numbers: `progress_hundredths`, `quality_tenths`.
pub fn abandon_record<S, R: RowExt<S>>(row: &R) -> StoreResult<AbandonRecord> {
    let item_type = row.text("content_type")?;
    let hundredths = row.int("progress_hundredths")?;
    Ok(AbandonRecord {
        id: AbandonId::from(row.uuid("id")?),
        user_id: UserId::from(row.uuid("user_id")?),
        item_id: row.uuid("content_id")?,
        item_type: ItemType::parse(&item_type)
            .ok_or_else(|| corrupt("content_type", &item_type))?,
        abandon_date: row.instant("abandon_date")?,
        progress_percent: u16::try_from(hundredths)
            .ok()
            .and_then(Percent::from_hundredths)
            .ok_or_else(|| corrupt("progress_percent", hundredths))?,
        abandon_reason: parsed(
            "abandon_reason",
            row.text_opt("abandon_reason")?,
            AbandonReason::parse,
        )?,
        quality_rating: row
            .int_opt("quality_tenths")?
            .map(|t| {
                u8::try_from(t)
                    .ok()
                    .and_then(Rating::from_tenths)
                    .ok_or_else(|| corrupt("quality_rating", t))
            })
            .transpose()?,
        would_retry: row.flag("would_retry")?,
        created_at: row.instant("created_at")?,
    })
}

/// A row of `achievements` (`code, title, unlocked_at`) of `user`.
pub fn achievement<S, R: RowExt<S>>(user: UserId, row: &R) -> StoreResult<Achievement> {
    Ok(Achievement {
        user_id: user,
        code: row.text("code")?,
        title: row.text("title")?,
        unlocked_at: row.instant("unlocked_at")?,
    })
}

/// A row of `users` (`id, revision`): the user and their revision.
pub fn user_revision<S, R: RowExt<S>>(row: &R) -> StoreResult<(UserId, i64)> {
    Ok((UserId::from(row.uuid("id")?), row.int("revision")?))
}

/// A row of `achievement_counters` (`user_id, counter, value`).
pub fn counter<S, R: RowExt<S>>(row: &R) -> StoreResult<(UserId, String, i64)> {
    Ok((
        UserId::from(row.uuid("user_id")?),
        row.text("counter")?,
        row.int("value")?,
    ))
}

/// Episode records grouped by `(user, show)`, each group in the order given (records without
/// a show are left out: only episode records are asked for).
pub fn by_user_show(
    records: impl IntoIterator<Item = ViewingRecord>,
) -> std::collections::HashMap<(UserId, ShowId), Vec<ViewingRecord>> {
    let mut out: std::collections::HashMap<(UserId, ShowId), Vec<ViewingRecord>> =
        std::collections::HashMap::new();
    for record in records {
        if let Some(show) = record.watched.show_id() {
            out.entry((record.user_id, show)).or_default().push(record);
        }
    }
    out
}

/// A row of `watchlist` (`content_id, item_type, added_at`) of `user`.
pub fn watchlist_item<S, R: RowExt<S>>(user: UserId, row: &R) -> StoreResult<WatchlistItem> {
    Ok(WatchlistItem {
        user_id: user,
        content_id: row.uuid("content_id")?,
        item_type: name("item_type", row.text("item_type")?, ItemType::parse)?,
        added_at: row.instant("added_at")?,
    })
}

/// The columns a [`Reminder`] is rebuilt from.
pub const REMINDER_COLUMNS: &str = "user_id, show_id, id, episode_id, season_number, \
     episode_number, last_watch_at, due_at, status, attempts, sent_at, updated_at";

/// A row of `reminders` ([`REMINDER_COLUMNS`]).
pub fn reminder<S, R: RowExt<S>>(row: &R) -> StoreResult<Reminder> {
    Ok(Reminder {
        id: row.uuid("id")?,
        user_id: UserId::from(row.uuid("user_id")?),
        show_id: ShowId::from(row.uuid("show_id")?),
        episode_id: row.uuid("episode_id")?.into(),
        season_number: row.u32("season_number")?,
        episode_number: row.u32("episode_number")?,
        last_watch_at: row.instant("last_watch_at")?,
        due_at: row.instant("due_at")?,
        status: name("status", row.text("status")?, ReminderStatus::parse)?,
        attempts: row.u32("attempts")?,
        sent_at: row.instant_opt("sent_at")?,
        updated_at: row.instant("updated_at")?,
    })
}

/// A row of `genre_scores` (`genre, points`).
pub fn genre_score<S, R: RowExt<S>>(row: &R) -> StoreResult<GenreScore> {
    Ok(GenreScore {
        genre: row.text("genre")?,
        points: row.int("points")?,
    })
}

/// A parked event: `event_id, channel` (0 handlers, else broker)`, user_id, event_type,
/// attempts, last_error, parked_at, payload`.
pub fn dead_letter<S, R: RowExt<S>>(row: &R) -> StoreResult<DeadLetter> {
    Ok(DeadLetter {
        event_id: EventId::from(row.uuid("event_id")?),
        channel: match row.int("channel")? {
            0 => RelayChannel::Handlers,
            _ => RelayChannel::Broker,
        },
        user_id: UserId::from(row.uuid("user_id")?),
        event_type: row.text("event_type")?,
        attempts: row.u32("attempts")?,
        last_error: row.text_opt("last_error")?,
        parked_at: row.instant("parked_at")?,
        payload: row.text("payload")?,
    })
}

/// A row of `viewing_records` left-joined with its `episode_viewing_records` details
/// (`show_id, season_number, episode_number`), with its companions in order, which each store
/// reads its own way.
pub fn viewing_record<S, R: RowExt<S>>(
    row: &R,
    companions: &[String],
) -> StoreResult<ViewingRecord> {
    let content_id = row.uuid("content_id")?;
    let content_type = row.text("content_type")?;
    let watched = match ContentType::parse(&content_type) {
        Some(ContentType::Movie) => Watched::Movie(MovieId::from(content_id)),
        Some(ContentType::Episode) => Watched::Episode {
            episode_id: EpisodeId::from(content_id),
            show_id: ShowId::from(
                row.uuid_opt("show_id")?
                    .ok_or_else(|| corrupt("episode record", "missing episode details"))?,
            ),
            season_number: row
                .u32_opt("season_number")?
                .ok_or_else(|| corrupt("episode record", "missing season number"))?,
            episode_number: row
                .u32_opt("episode_number")?
                .ok_or_else(|| corrupt("episode record", "missing episode number"))?,
        },
        None => return Err(corrupt("content_type", content_type)),
    };
    Ok(ViewingRecord {
        id: RecordId::from(row.uuid("id")?),
        user_id: UserId::from(row.uuid("user_id")?),
        watched,
        watch_date: row.instant("watch_date")?,
        platform: parsed(
            "viewing_platform",
            row.text_opt("viewing_platform")?,
            Platform::parse,
        )?,
        viewing_location: parsed(
            "viewing_location",
            row.text_opt("viewing_location")?,
            ViewingLocation::parse,
        )?,
        viewing_context: parsed(
            "viewing_context",
            row.text_opt("viewing_context")?,
            ViewingContext::parse,
        )?,
        watched_with: Companions::parse(companions).map_err(|e| corrupt("companions", e))?,
        is_rewatch: row.flag("is_rewatch")?,
        viewing_duration: row
            .int_opt("viewing_duration")?
            .map(|m| Minutes::new("viewingDuration", m))
            .transpose()
            .map_err(|e| corrupt("viewing_duration", e))?,
        binge_session_id: row.uuid_opt("binge_session_id")?.map(BingeSessionId::from),
        binge_session_pinned: row.flag("binge_session_pinned")?,
        backfilled: row.flag("backfilled")?,
        created_at: row.instant("created_at")?,
        origin: {
            let origin = row.text("origin")?;
            viewing_domain::Origin::parse(&origin).ok_or_else(|| corrupt("origin", origin))?
        },
    })
}

/// A row of `show_progress` (`user_id, show_id, last_watched_season, last_watched_episode,
/// last_watched_episode_id, last_watch_date, total_episodes_watched, is_completed,
/// completion_date, last_activity_at, inactivity_reported_at, updated_at, reset_at,
/// earlier_passes` — the closed rewatch passes as JSON text), with its season
/// completions, which each store reads its own way.
pub fn show_progress<S, R: RowExt<S>>(
    row: &R,
    completed_seasons: Vec<SeasonCompletion>,
) -> StoreResult<ShowProgress> {
    Ok(ShowProgress {
        user_id: UserId::from(row.uuid("user_id")?),
        show_id: ShowId::from(row.uuid("show_id")?),
        last_watched_season: row.u32_opt("last_watched_season")?,
        last_watched_episode: row.u32_opt("last_watched_episode")?,
        last_watched_episode_id: row
            .uuid_opt("last_watched_episode_id")?
            .map(EpisodeId::from),
        last_watch_date: row.instant_opt("last_watch_date")?,
        total_episodes_watched: row.u32("total_episodes_watched")?,
        completed_seasons,
        is_completed: row.flag("is_completed")?,
        completion_date: row.instant_opt("completion_date")?,
        last_activity_at: row.instant_opt("last_activity_at")?,
        inactivity_reported_at: row.instant_opt("inactivity_reported_at")?,
        updated_at: row.instant("updated_at")?,
        reset_at: row.instant_opt("reset_at")?,
        earlier_passes: {
            let json = row.text("earlier_passes")?;
            serde_json::from_str(&json).map_err(|e| corrupt("earlier_passes", e))?
        },
    })
}

/// A row of `stats_binge_sessions` (`session_id, user_id, start, episodes`).
pub fn binge_stat<S, R: RowExt<S>>(row: &R) -> StoreResult<BingeStat> {
    Ok(BingeStat {
        session_id: BingeSessionId::from(row.uuid("session_id")?),
        user_id: UserId::from(row.uuid("user_id")?),
        start: row.instant("start")?,
        episodes: row.u32("episodes")?,
    })
}

/// Adds one summed row of `stats_bucket_dimensions` (`dimension, dim_key, count, minutes`) to
/// `total`.
pub fn add_dimension<S, R: RowExt<S>>(total: &mut StatsDelta, row: &R) -> StoreResult<()> {
    let dimension = name("dimension", row.text("dimension")?, Dimension::parse)?;
    total.tally(
        dimension,
        &row.text("dim_key")?,
        row.int("count")?,
        row.int("minutes")?,
    );
    Ok(())
}

/// The external ids of a catalog row (`tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id`, see
/// [`crate::encode::external_id_column`]).
pub fn external_ids<S, R: RowExt<S>>(row: &R) -> StoreResult<viewing_domain::ExternalIds> {
    let mut ids = viewing_domain::ExternalIds::new();
    for provider in viewing_domain::Provider::ALL {
        let col = crate::encode::external_id_column(provider);
        if let Some(value) = row.text_opt(col)? {
            ids.insert(provider, &value)
                .map_err(|e| corrupt(col, e.message))?;
        }
    }
    Ok(ids)
}

/// The rows of a find-by-external-id query, movies first (see [`external_hit`]).
pub fn external_hits<S, R: RowExt<S>>(rows: &[R]) -> StoreResult<Vec<viewing_domain::ExternalHit>> {
    let mut hits = rows
        .iter()
        .map(external_hit)
        .collect::<StoreResult<Vec<_>>>()?;
    hits.sort_by_key(|h| h.kind);
    Ok(hits)
}

/// A row of a find-by-external-id query (`kind, id, show_id`), `kind` one of
/// [`viewing_domain::ItemKind::as_str`].
pub fn external_hit<S, R: RowExt<S>>(row: &R) -> StoreResult<viewing_domain::ExternalHit> {
    let kind = row.text("kind")?;
    Ok(viewing_domain::ExternalHit {
        kind: viewing_domain::ItemKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
        id: row.uuid("id")?,
        show_id: row.uuid_opt("show_id")?.map(ShowId::from),
    })
}

/// A row of `imports` (`id, user_id, source, status, created_at, rows_read, imported,
/// duplicates, unmatched, skipped, invalid`).
pub fn import<S, R: RowExt<S>>(row: &R) -> StoreResult<viewing_domain::imports::Import> {
    use viewing_domain::imports::{Import, ImportSource, ImportStatus, ImportSummary};
    let source = row.text("source")?;
    let status = row.text("status")?;
    Ok(Import {
        id: viewing_domain::ImportId::from(row.uuid("id")?),
        user_id: UserId::from(row.uuid("user_id")?),
        source: ImportSource::parse(&source).ok_or_else(|| corrupt("source", source))?,
        status: ImportStatus::parse(&status).ok_or_else(|| corrupt("status", status))?,
        created_at: row.instant("created_at")?,
        summary: ImportSummary {
            rows: row.u32("rows_read")?,
            imported: row.u32("imported")?,
            duplicates: row.u32("duplicates")?,
            unmatched: row.u32("unmatched")?,
            skipped: row.u32("skipped")?,
            invalid: row.u32("invalid")?,
        },
    })
}

/// A row of `import_items` (`row_number, kind, title, outcome, matched_by, content_id,
/// reason`).
pub fn import_item<S, R: RowExt<S>>(row: &R) -> StoreResult<viewing_domain::imports::ImportItem> {
    use viewing_domain::imports::{ImportItem, MatchedBy, RowKind, RowOutcome};
    let kind = row.text("kind")?;
    let outcome = row.text("outcome")?;
    let matched_by = row
        .text_opt("matched_by")?
        .map(|m| MatchedBy::parse(&m).ok_or_else(|| corrupt("matched_by", m)))
        .transpose()?;
    Ok(ImportItem {
        row: row.u32("row_number")?,
        kind: RowKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
        title: row.text("title")?,
        outcome: RowOutcome::parse(&outcome).ok_or_else(|| corrupt("outcome", outcome))?,
        matched_by,
        content_id: row.uuid_opt("content_id")?,
        reason: row.text_opt("reason")?,
    })
}

/// A row of `playbacks` (`id, user_id, content_id, kind, show_id, state, progress_hundredths,
/// started_at, updated_at, expires_at`).
pub fn playback<S, R: RowExt<S>>(
    row: &R,
) -> StoreResult<viewing_domain::rules::playback::Playback> {
    use viewing_domain::rules::playback::{Playback, PlaybackState};
    let kind = row.text("kind")?;
    let state = row.text("state")?;
    let hundredths = row.int("progress_hundredths")?;
    Ok(Playback {
        id: viewing_domain::PlaybackId::from(row.uuid("id")?),
        user_id: UserId::from(row.uuid("user_id")?),
        content_id: row.uuid("content_id")?,
        kind: viewing_domain::ItemKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
        show_id: row.uuid_opt("show_id")?.map(ShowId::from),
        state: PlaybackState::parse(&state).ok_or_else(|| corrupt("state", state))?,
        progress: u16::try_from(hundredths)
            .ok()
            .and_then(viewing_domain::values::Percent::from_hundredths)
            .ok_or_else(|| corrupt("progress_hundredths", hundredths))?,
        started_at: row.instant("started_at")?,
        updated_at: row.instant("updated_at")?,
        expires_at: row.instant("expires_at")?,
    })
}

/// A row of `integrations` (`id, user_id, kind, secret_hash, created_at, revoked_at`) with its
/// accounts, which each store keeps its own way.
pub fn integration<S, R: RowExt<S>>(
    row: &R,
    accounts: Vec<String>,
) -> StoreResult<viewing_domain::integrations::Integration> {
    use viewing_domain::integrations::{Integration, IntegrationKind};
    let kind = row.text("kind")?;
    Ok(Integration {
        id: viewing_domain::IntegrationId::from(row.uuid("id")?),
        user_id: UserId::from(row.uuid("user_id")?),
        kind: IntegrationKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
        secret_hash: row.text("secret_hash")?,
        accounts,
        created_at: row.instant("created_at")?,
        revoked_at: row.instant_opt("revoked_at")?,
    })
}

/// A row of `deliveries` (`id, integration_id, received_at, payload, outcome, reason,
/// record_id, handled_at`).
pub fn delivery<S, R: RowExt<S>>(row: &R) -> StoreResult<viewing_domain::integrations::Delivery> {
    use viewing_domain::integrations::{Delivery, DeliveryOutcome};
    let outcome = row.text("outcome")?;
    Ok(Delivery {
        id: viewing_domain::DeliveryId::from(row.uuid("id")?),
        integration_id: viewing_domain::IntegrationId::from(row.uuid("integration_id")?),
        received_at: row.instant("received_at")?,
        payload: row.text("payload")?,
        outcome: DeliveryOutcome::parse(&outcome).ok_or_else(|| corrupt("outcome", outcome))?,
        reason: row.text_opt("reason")?,
        record_id: row
            .uuid_opt("record_id")?
            .map(viewing_domain::RecordId::from),
        handled_at: row.instant("handled_at")?,
    })
}

/// A row of `import_plays` (`kind, item_id`).
pub fn import_link<S, R: RowExt<S>>(row: &R) -> StoreResult<viewing_domain::imports::ImportLink> {
    let kind = row.text("kind")?;
    viewing_domain::imports::ImportLink::from_parts(&kind, row.uuid("item_id")?)
        .ok_or_else(|| corrupt("kind", kind))
}

/// A row of a title search (`kind, id, title, year`, the external-id columns).
pub fn title_hit<S, R: RowExt<S>>(row: &R) -> StoreResult<viewing_domain::search::TitleHit> {
    let kind = row.text("kind")?;
    let year = row
        .int_opt("year")?
        .map(|y| i32::try_from(y).map_err(|_| corrupt("year", y)))
        .transpose()?;
    Ok(viewing_domain::search::TitleHit {
        kind: viewing_domain::ItemKind::parse(&kind).ok_or_else(|| corrupt("kind", kind))?,
        id: row.uuid("id")?,
        title: row.text("title")?,
        year,
        external_ids: external_ids(row)?,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::{DateTime, NaiveDate, Utc};
    use uuid::Uuid;
    use viewing_domain::ports::{StoreError, StoreResult};

    use super::*;

    /// A row as text, the way a store without types would hold it.
    struct Row(HashMap<&'static str, &'static str>);
    enum Text {}

    impl Row {
        fn get(&self, col: &str) -> StoreResult<Option<String>> {
            match self.0.get(col) {
                Some(&"NULL") => Ok(None),
                Some(v) => Ok(Some((*v).to_owned())),
                None => Err(corrupt(col, "no such column")),
            }
        }
        fn must(&self, col: &str) -> StoreResult<String> {
            self.get(col)?.ok_or_else(|| corrupt(col, "NULL"))
        }
    }

    impl RowExt<Text> for Row {
        fn text(&self, col: &str) -> StoreResult<String> {
            self.must(col)
        }
        fn text_opt(&self, col: &str) -> StoreResult<Option<String>> {
            self.get(col)
        }
        fn int(&self, col: &str) -> StoreResult<i64> {
            self.must(col)?.parse().map_err(|e| corrupt(col, e))
        }
        fn int_opt(&self, col: &str) -> StoreResult<Option<i64>> {
            self.get(col)?
                .map(|v| v.parse().map_err(|e| corrupt(col, e)))
                .transpose()
        }
        fn flag(&self, col: &str) -> StoreResult<bool> {
            Ok(self.int(col)? != 0)
        }
        fn uuid(&self, col: &str) -> StoreResult<Uuid> {
            Uuid::parse_str(&self.must(col)?).map_err(|e| corrupt(col, e))
        }
        fn uuid_opt(&self, col: &str) -> StoreResult<Option<Uuid>> {
            self.get(col)?
                .map(|v| Uuid::parse_str(&v).map_err(|e| corrupt(col, e)))
                .transpose()
        }
        fn instant(&self, col: &str) -> StoreResult<DateTime<Utc>> {
            self.must(col)?.parse().map_err(|e| corrupt(col, e))
        }
        fn instant_opt(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
            self.get(col)?
                .map(|v| v.parse().map_err(|e| corrupt(col, e)))
                .transpose()
        }
        fn date_opt(&self, col: &str) -> StoreResult<Option<NaiveDate>> {
            self.get(col)?
                .map(|v| v.parse().map_err(|e| corrupt(col, e)))
                .transpose()
        }
    }

    fn session(episodes: &'static str) -> Row {
        Row(HashMap::from([
            ("id", "0190d7a4-0000-7000-8000-000000000001"),
            ("user_id", "0190d7a4-0000-7000-8000-000000000002"),
            ("show_id", "0190d7a4-0000-7000-8000-000000000003"),
            ("start_time", "2026-01-10T20:00:00Z"),
            ("end_time", "2026-01-10T20:50:00Z"),
            ("episodes_watched", episodes),
            ("created_at", "2026-01-10T20:50:00.000001Z"),
        ]))
    }

    #[test]
    fn a_binge_session_is_read_from_its_columns() {
        let s = binge_session(&session("2")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.episodes_watched, 2);
        assert_eq!(s.end_time - s.start_time, chrono::Duration::minutes(50));
        assert_eq!(
            s.show_id.as_uuid().as_u128(),
            0x0190d7a4_0000_7000_8000_000000000003
        );
    }

    #[test]
    fn a_count_that_does_not_fit_is_corrupt_data_not_a_panic() {
        for bad in ["-1", "4294967296", "NULL", "two"] {
            let e = binge_session(&session(bad)).err();
            assert!(
                matches!(&e, Some(StoreError::Unexpected(m)) if m.to_string().contains("episodes_watched")),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn a_dead_letter_reads_its_channel_as_a_number() {
        let row = |channel: &'static str| {
            Row(HashMap::from([
                ("event_id", "0190d7a4-0000-7000-8000-000000000001"),
                ("channel", channel),
                ("user_id", "0190d7a4-0000-7000-8000-000000000002"),
                ("event_type", "MovieWatched"),
                ("attempts", "10"),
                ("last_error", "NULL"),
                ("parked_at", "2026-01-10T20:00:00Z"),
                ("payload", "{}"),
            ]))
        };
        let handlers = dead_letter(&row("0")).map(|d| d.channel).ok();
        let broker = dead_letter(&row("1")).map(|d| d.channel).ok();
        assert_eq!(handlers, Some(RelayChannel::Handlers));
        assert_eq!(broker, Some(RelayChannel::Broker));
    }
}
