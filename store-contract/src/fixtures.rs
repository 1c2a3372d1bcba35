//! Test data: catalog items, records and instants that every store must keep exactly.
//!
//! Instants carry whole microseconds: the SQL stores keep microseconds (TIMESTAMPTZ), so a
//! value with nanoseconds could not round-trip through them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;
use viewing_domain::EventId;
use viewing_domain::events::{AchievementUnlocked, DomainEvent, EventEnvelope};
use viewing_domain::ports::{Outbox, Transaction, UserRepository};
use viewing_domain::values::{
    AbandonReason, Companions, Genre, Minutes, Percent, Platform, Rating, Title, ViewingContext,
    ViewingLocation,
};
use viewing_domain::{
    AbandonId, AbandonRecord, BingeSession, BingeSessionId, Episode, EpisodeId, ItemType, Movie,
    MovieId, RecordId, Season, SeasonId, Show, ShowId, ShowStatus, UserId, ViewingRecord, Watched,
};

/// 2026-01-01T00:00:00Z plus `secs` seconds and `micros` microseconds.
pub fn at(secs: i64, micros: i64) -> DateTime<Utc> {
    let base = DateTime::<Utc>::from_timestamp(1_767_225_600, 0).expect("valid base instant");
    base + Duration::seconds(secs) + Duration::microseconds(micros)
}

/// A minute-resolution instant `minutes` after the base.
pub fn minute(minutes: i64) -> DateTime<Utc> {
    at(minutes * 60, 0)
}

pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

pub fn user() -> UserId {
    UserId::from(new_id())
}

pub fn title(s: &str) -> Title {
    Title::parse(s).ok().flatten().expect("valid title")
}

pub fn genre(s: &str) -> Genre {
    Genre::parse(s).ok().flatten().expect("valid genre")
}

pub fn minutes(m: u32) -> Minutes {
    Minutes::new("viewingDuration", i64::from(m)).expect("valid minutes")
}

pub fn platform(s: &str) -> Platform {
    Platform::parse(s).ok().flatten().expect("valid platform")
}

pub fn rating(v: f64) -> Rating {
    Rating::new("rating", v).expect("valid rating")
}

pub fn percent(v: f64) -> Percent {
    Percent::new("progressPercent", v).expect("valid percent")
}

pub fn companions(names: &[&str]) -> Companions {
    Companions::parse(names).expect("valid companions")
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn movie(name: &str, runtime: u32) -> Movie {
    Movie {
        id: MovieId::from(new_id()),
        title: title(name),
        runtime: minutes(runtime),
        genres: vec![genre("Drama"), genre("Crime")],
        release_date: Some(date(1999, 10, 15)),
        external_ids: Default::default(),
    }
}

/// A show with `episodes_per_season[i]` episodes in season `i + 1`, 45-minute episodes with no
/// air date (aired), plus `specials` episodes in season 0.
pub fn show(name: &str, status: ShowStatus, episodes_per_season: &[u32], specials: u32) -> Show {
    let season = |number: u32, count: u32| Season {
        id: SeasonId::from(new_id()),
        number,
        episodes: (1..=count)
            .map(|n| Episode {
                id: EpisodeId::from(new_id()),
                number: n,
                title: title(&format!("S{number}E{n}")),
                runtime: minutes(45),
                air_date: None,
                external_ids: Default::default(),
            })
            .collect(),
        external_ids: Default::default(),
    };
    let mut seasons: Vec<Season> = episodes_per_season
        .iter()
        .enumerate()
        .map(|(i, &count)| season(i as u32 + 1, count))
        .collect();
    if specials > 0 {
        seasons.push(season(0, specials));
    }
    Show::new(
        ShowId::from(new_id()),
        title(name),
        status,
        vec![genre("Sci-Fi")],
        seasons,
    )
    .expect("valid show")
}

/// The episode `number` of season `season`.
pub fn episode(show: &Show, season: u32, number: u32) -> &Episode {
    show.season(season)
        .and_then(|s| s.episodes.iter().find(|e| e.number == number))
        .expect("episode exists in the fixture")
}

pub fn movie_record(user: UserId, movie: MovieId, watch_date: DateTime<Utc>) -> ViewingRecord {
    ViewingRecord {
        id: RecordId::from(new_id()),
        user_id: user,
        watched: Watched::Movie(movie),
        watch_date,
        platform: None,
        viewing_location: None,
        viewing_context: None,
        watched_with: Companions::default(),
        is_rewatch: false,
        viewing_duration: None,
        binge_session_id: None,
        binge_session_pinned: false,
        backfilled: false,
        created_at: watch_date,
        origin: viewing_domain::Origin::Manual,
    }
}

pub fn episode_record(
    user: UserId,
    show: &Show,
    season: u32,
    number: u32,
    watch_date: DateTime<Utc>,
) -> ViewingRecord {
    let e = episode(show, season, number);
    ViewingRecord {
        id: RecordId::from(new_id()),
        user_id: user,
        watched: Watched::Episode {
            episode_id: e.id,
            show_id: show.id,
            season_number: season,
            episode_number: number,
        },
        watch_date,
        platform: None,
        viewing_location: None,
        viewing_context: None,
        watched_with: Companions::default(),
        is_rewatch: false,
        viewing_duration: Some(e.runtime),
        binge_session_id: None,
        binge_session_pinned: false,
        backfilled: false,
        created_at: watch_date,
        origin: viewing_domain::Origin::Manual,
    }
}

/// A movie record with every optional field set to something a careless store would mangle.
pub fn full_movie_record(user: UserId, movie: MovieId) -> ViewingRecord {
    ViewingRecord {
        platform: Some(platform("Netflix")),
        viewing_location: ViewingLocation::parse("Living room — sofa 🛋️")
            .ok()
            .flatten(),
        viewing_context: ViewingContext::parse("date night").ok().flatten(),
        // Not alphabetical, with a duplicate: order and repeats must survive.
        watched_with: companions(&["Zoë", "alice", "Bob", "alice"]),
        is_rewatch: true,
        viewing_duration: Some(minutes(137)),
        binge_session_id: None,
        created_at: at(1_000, 654_321),
        ..movie_record(user, movie, at(900, 123_456))
    }
}

pub fn session(user: UserId, show: ShowId, start: DateTime<Utc>, episodes: u32) -> BingeSession {
    BingeSession {
        id: BingeSessionId::from(new_id()),
        user_id: user,
        show_id: show,
        start_time: start,
        end_time: start + Duration::minutes(45 * i64::from(episodes)),
        episodes_watched: episodes,
        created_at: start + Duration::seconds(1),
    }
}

pub fn abandon(
    user: UserId,
    item: Uuid,
    item_type: ItemType,
    date: DateTime<Utc>,
) -> AbandonRecord {
    AbandonRecord {
        id: AbandonId::from(new_id()),
        user_id: user,
        item_id: item,
        item_type,
        abandon_date: date,
        progress_percent: percent(12.34),
        abandon_reason: AbandonReason::parse("too slow <b>really</b>")
            .ok()
            .flatten(),
        quality_rating: Some(rating(7.5)),
        would_retry: true,
        created_at: date + Duration::milliseconds(1),
    }
}

/// An event of `user` at minute `n` (the minute is its place in the user's order).
pub fn unlock(user: UserId, n: i64) -> EventEnvelope {
    EventEnvelope {
        event_id: EventId::from(new_id()),
        occurred_at: minute(n),
        user_id: user,
        event: DomainEvent::AchievementUnlocked(AchievementUnlocked {
            achievement: format!("a{n}"),
            title: "t".into(),
            unlocked_at: minute(n),
        }),
    }
}

/// Appends `events` to the outbox (their users created first), in one committed unit of work.
pub async fn append<S: viewing_domain::ports::Store>(store: &S, events: &[EventEnvelope]) {
    let mut uow = store.begin().await.expect("begin");
    for e in events {
        uow.ensure_user(e.user_id, e.occurred_at)
            .await
            .expect("user");
    }
    uow.append_events(events).await.expect("append");
    uow.commit().await.expect("commit");
}
