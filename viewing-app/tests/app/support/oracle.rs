//! The test oracle for statistics: SPEC §6's definitions computed straight from the records,
//! progress rows and abandon records (every record read, so a slow reference). The service
//! reads pre-aggregated buckets instead; tests check that both agree.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use viewing_app::statistics::{Breakdown, Statistics, StatisticsRange, StatisticsRequest};
use viewing_app::{AppResult, ViewingService};
use viewing_domain::ports::{
    AbandonRepository, CatalogRepository, HistoryCursor, HistoryFilter, HistoryPaging,
    ShowProgressRepository, Store, ViewingRecordRepository,
};
use viewing_domain::{BingeSessionId, Movie, MovieId, Show, ShowId, UserId, Watched};

fn within(range: &StatisticsRange, at: DateTime<Utc>) -> bool {
    range.from.is_none_or(|f| at >= f) && range.to.is_none_or(|t| at < t)
}

#[derive(Default)]
struct Tallies {
    map: BTreeMap<String, (u64, u64)>,
}

impl Tallies {
    fn add(&mut self, key: &str, minutes: u64) {
        let e = self.map.entry(key.to_owned()).or_default();
        e.0 += 1;
        e.1 += minutes;
    }
    fn into_sorted(self) -> Vec<Breakdown> {
        let mut v: Vec<Breakdown> = self
            .map
            .into_iter()
            .map(|(key, (count, minutes))| Breakdown {
                key,
                count,
                minutes,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(b.minutes.cmp(&a.minutes)));
        v
    }
}

const PAGE: u32 = 500;

/// What `GET /api/viewing/statistics` must answer, from the records. Binge sessions count in
/// every period one of their episodes is in (the buckets count them at their start).
pub async fn statistics_from_records<S: Store>(
    svc: &ViewingService<S>,
    user: UserId,
    params: &StatisticsRequest,
) -> AppResult<Statistics> {
    let range = params.resolve(svc.clock().now())?;
    let mut uow = svc.store().begin().await?;
    let filter = HistoryFilter {
        from: range.from,
        to: range.to,
        ..HistoryFilter::default()
    };
    let mut movies: HashMap<MovieId, Option<Movie>> = HashMap::new();
    let mut shows: HashMap<ShowId, Option<Show>> = HashMap::new();
    let (mut by_type, mut by_genre, mut by_platform) =
        (Tallies::default(), Tallies::default(), Tallies::default());
    let mut sessions: HashMap<BingeSessionId, u64> = HashMap::new();
    let (mut total, mut n_movies, mut n_episodes, mut rewatches, mut minutes_total) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut paging = HistoryPaging::First { limit: PAGE };
    loop {
        let slice = uow.history(user, &filter, paging).await?;
        let Some(last) = slice.items.last() else {
            break;
        };
        paging = HistoryPaging::After {
            cursor: HistoryCursor {
                watch_date: last.watch_date,
                id: last.id,
            },
            limit: PAGE,
        };
        let full = slice.items.len() as u32 == PAGE;
        for r in &slice.items {
            let (runtime, genres): (u32, Vec<String>) = match r.watched {
                Watched::Movie(id) => {
                    if let Entry::Vacant(slot) = movies.entry(id) {
                        slot.insert(uow.movie(id).await?);
                    }
                    let m = movies.get(&id).and_then(Option::as_ref);
                    (
                        m.map_or(0, |m| m.runtime.get()),
                        m.map(|m| m.genres.iter().map(|g| g.as_str().to_owned()).collect())
                            .unwrap_or_default(),
                    )
                }
                Watched::Episode {
                    episode_id,
                    show_id,
                    ..
                } => {
                    if let Entry::Vacant(slot) = shows.entry(show_id) {
                        slot.insert(uow.show(show_id).await?);
                    }
                    let s = shows.get(&show_id).and_then(Option::as_ref);
                    (
                        s.and_then(|s| s.episode(episode_id))
                            .map_or(0, |e| e.episode.runtime.get()),
                        s.map(|s| s.genres.iter().map(|g| g.as_str().to_owned()).collect())
                            .unwrap_or_default(),
                    )
                }
            };
            let minutes = u64::from(r.viewing_duration.map_or(runtime, |d| d.get()));
            total += 1;
            minutes_total += minutes;
            match r.watched {
                Watched::Movie(_) => n_movies += 1,
                Watched::Episode { .. } => n_episodes += 1,
            }
            if r.is_rewatch {
                rewatches += 1;
            }
            by_type.add(r.watched.content_type().as_str(), minutes);
            for g in &genres {
                by_genre.add(g, minutes);
            }
            by_platform.add(
                r.platform
                    .as_ref()
                    .map_or(viewing_app::statistics::UNKNOWN_PLATFORM, |p| p.as_str()),
                minutes,
            );
            if let Some(s) = r.binge_session_id {
                *sessions.entry(s).or_default() += 1;
            }
        }
        if !full {
            break;
        }
    }

    let mut shows_completed = 0;
    let mut seasons_completed = 0;
    // Every rewatch pass's completions count (SPEC §11).
    for pass in uow
        .progress_of_user(user)
        .await?
        .iter()
        .flat_map(|p| p.passes())
    {
        if pass.completion_date.is_some_and(|d| within(&range, d)) {
            shows_completed += 1;
        }
        seasons_completed += pass
            .completed_seasons
            .iter()
            .filter(|c| within(&range, c.completed_at))
            .count() as u64;
    }
    let abandoned = uow
        .abandons_between(user, range.from, range.to)
        .await?
        .len() as u64;

    Ok(Statistics {
        period: range.period,
        from: range.days.map(|d| d.0),
        to: range.days.map(|d| d.1),
        total_watched: total,
        movies: n_movies,
        episodes: n_episodes,
        rewatches,
        total_minutes: minutes_total,
        total_hours: (minutes_total as f64 / 60.0 * 100.0).round() / 100.0,
        by_type: by_type.into_sorted(),
        by_genre: by_genre.into_sorted(),
        by_platform: by_platform.into_sorted(),
        shows_completed,
        seasons_completed,
        abandoned,
        binge_sessions: sessions.len() as u64,
        longest_binge_episodes: sessions.values().copied().max().unwrap_or(0),
    })
}
