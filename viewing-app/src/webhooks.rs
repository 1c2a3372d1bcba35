//! Media servers' webhook payloads (SPEC §13) read into what a player reports: Plex (the JSON of
//! its multipart `payload` part), Jellyfin (the webhook plugin's flat JSON and the nested shape)
//! and Emby. What each field means is the servers' documented payloads; the playback rules then
//! decide (`crate::playback`).

use serde_json::Value;
use viewing_domain::imports::ShowRef;
use viewing_domain::rules::playback::progress_of;
use viewing_domain::values::Percent;
use viewing_domain::{ExternalIds, ItemKind, Provider};

/// Which media server sends (the integration's kind).
pub use viewing_domain::integrations::IntegrationKind as ServerKind;

/// What a delivery asks of the playback API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayerAction {
    /// Playing (started, resumed, or still playing at `progress`).
    Start,
    /// Paused (or stopped early) at `progress`.
    Pause,
    /// Stopped at `progress` (100 when the server says it played to the end).
    Stop,
}

/// The movie or episode a delivery names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayedItem {
    /// [`ItemKind::Movie`] or [`ItemKind::Episode`].
    pub kind: ItemKind,
    /// Its title.
    pub title: String,
    /// Its own ids at other services (on Plex episodes: the episode's).
    pub ids: ExternalIds,
    /// An episode's show, by title, with its numbers.
    pub show: Option<ShowRef>,
}

/// A delivery, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A playback report.
    Playback {
        /// What it asks.
        action: PlayerAction,
        /// The server account that played (for the integration's account filter).
        account: Option<String>,
        /// What was played.
        item: PlayedItem,
        /// How far, when the server says.
        progress: Option<Percent>,
    },
    /// An event that is not playback (a new library item, a rating…): kept as `ignored`.
    Ignored(String),
}

/// Why a delivery cannot be read (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PayloadError(pub String);

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(|x| match x {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
}

fn number(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(|x| match x {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// Ids from `(provider, value)` pairs, those of a provider's shape only.
fn ids<'a>(pairs: impl Iterator<Item = (Provider, &'a str)>) -> ExternalIds {
    let mut out = ExternalIds::new();
    for (p, v) in pairs {
        let _ = out.insert(p, v.trim());
    }
    out
}

fn kind_of(raw: Option<String>) -> Option<ItemKind> {
    match raw?.to_ascii_lowercase().as_str() {
        "movie" => Some(ItemKind::Movie),
        "episode" => Some(ItemKind::Episode),
        _ => None,
    }
}

fn episode_show(
    title: Option<String>,
    season: Option<u64>,
    episode: Option<u64>,
) -> Option<ShowRef> {
    Some(ShowRef {
        title: title?,
        ids: ExternalIds::new(),
        season: u32::try_from(season?).ok()?,
        episode: u32::try_from(episode?).ok(),
        episode_title: None,
    })
}

/// Reads a delivery of `kind` (Plex: the `payload` part's JSON).
///
/// # Errors
/// Not JSON, or a playback event without the item's type.
pub fn read(kind: ServerKind, json: &[u8]) -> Result<ServerEvent, PayloadError> {
    let v: Value = serde_json::from_slice(json)
        .map_err(|e| PayloadError(format!("not a {} payload: {e}", kind.as_str())))?;
    if !v.is_object() {
        return Err(PayloadError(format!(
            "not a {} payload: not an object",
            kind.as_str()
        )));
    }
    match kind {
        ServerKind::Plex => plex(&v),
        ServerKind::Jellyfin if v.get("NotificationType").is_some() => jellyfin_flat(&v),
        ServerKind::Jellyfin => ticks_shape(&v, "Event", jellyfin_action),
        ServerKind::Emby => ticks_shape(&v, "Event", emby_action),
    }
}

fn plex(v: &Value) -> Result<ServerEvent, PayloadError> {
    let event = text(v, "event").unwrap_or_default();
    let action = match event.as_str() {
        "media.play" | "media.resume" => PlayerAction::Start,
        "media.pause" | "media.stop" => PlayerAction::Pause,
        "media.scrobble" => PlayerAction::Stop,
        other => {
            return Ok(ServerEvent::Ignored(format!(
                "event {other:?} is not playback"
            )));
        }
    };
    let meta = v.get("Metadata").unwrap_or(&Value::Null);
    let Some(kind) = kind_of(text(meta, "type")) else {
        return Ok(ServerEvent::Ignored(format!(
            "{:?} is neither a movie nor an episode",
            text(meta, "type").unwrap_or_default()
        )));
    };
    let guids: Vec<String> = meta
        .get("Guid")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|g| text(g, "id")).collect())
        .unwrap_or_default();
    let item = PlayedItem {
        kind,
        title: text(meta, "title").unwrap_or_default(),
        ids: ids(guids.iter().filter_map(|g| {
            let (scheme, value) = g.split_once("://")?;
            Some((Provider::parse(scheme)?, value))
        })),
        show: (kind == ItemKind::Episode)
            .then(|| {
                episode_show(
                    text(meta, "grandparentTitle"),
                    number(meta, "parentIndex"),
                    number(meta, "index"),
                )
            })
            .flatten(),
    };
    let progress = if action == PlayerAction::Stop {
        Some(Percent::FULL)
    } else {
        progress_of(
            number(meta, "viewOffset").unwrap_or(0),
            number(meta, "duration").unwrap_or(0),
        )
    };
    Ok(ServerEvent::Playback {
        action,
        account: v.get("Account").and_then(|a| text(a, "title")),
        item,
        progress,
    })
}

fn jellyfin_flat(v: &Value) -> Result<ServerEvent, PayloadError> {
    let event = text(v, "NotificationType").unwrap_or_default();
    let Some(action) = jellyfin_action(&event, flag(v, "IsPaused")) else {
        return Ok(ServerEvent::Ignored(format!(
            "event {event:?} is not playback"
        )));
    };
    let Some(kind) = kind_of(text(v, "ItemType")) else {
        return Ok(ServerEvent::Ignored(format!(
            "{:?} is neither a movie nor an episode",
            text(v, "ItemType").unwrap_or_default()
        )));
    };
    let pairs: Vec<(Provider, String)> = [
        (Provider::Tmdb, "Provider_tmdb"),
        (Provider::Imdb, "Provider_imdb"),
        (Provider::Tvdb, "Provider_tvdb"),
    ]
    .into_iter()
    .filter_map(|(p, key)| text(v, key).map(|x| (p, x)))
    .collect();
    let item = PlayedItem {
        kind,
        title: text(v, "Name").unwrap_or_default(),
        ids: ids(pairs.iter().map(|(p, x)| (*p, x.as_str()))),
        show: (kind == ItemKind::Episode)
            .then(|| {
                episode_show(
                    text(v, "SeriesName"),
                    number(v, "SeasonNumber"),
                    number(v, "EpisodeNumber"),
                )
            })
            .flatten(),
    };
    let progress = if action == PlayerAction::Stop && flag(v, "PlayedToCompletion") {
        Some(Percent::FULL)
    } else {
        progress_of(
            number(v, "PlaybackPositionTicks").unwrap_or(0),
            number(v, "RunTimeTicks").unwrap_or(0),
        )
    };
    Ok(ServerEvent::Playback {
        action,
        account: text(v, "NotificationUsername"),
        item,
        progress,
    })
}

fn jellyfin_action(event: &str, paused: bool) -> Option<PlayerAction> {
    match event {
        "PlaybackStart" => Some(PlayerAction::Start),
        "PlaybackProgress" if paused => Some(PlayerAction::Pause),
        "PlaybackProgress" => Some(PlayerAction::Start),
        "PlaybackStop" => Some(PlayerAction::Stop),
        _ => None,
    }
}

fn emby_action(event: &str, _: bool) -> Option<PlayerAction> {
    match event {
        "playback.start" | "playback.unpause" => Some(PlayerAction::Start),
        "playback.pause" => Some(PlayerAction::Pause),
        "playback.stop" => Some(PlayerAction::Stop),
        _ => None,
    }
}

/// Jellyfin's nested shape and Emby's: `Event`, `Item{…, ProviderIds}`, the user, and the
/// position in ticks (`Session.PlayState` or `PlaybackInfo`).
fn ticks_shape(
    v: &Value,
    event_key: &str,
    action_of: fn(&str, bool) -> Option<PlayerAction>,
) -> Result<ServerEvent, PayloadError> {
    let event = text(v, event_key).unwrap_or_default();
    let play_state = v
        .get("Session")
        .and_then(|s| s.get("PlayState"))
        .or_else(|| v.get("PlaybackInfo"))
        .unwrap_or(&Value::Null);
    let Some(action) = action_of(&event, flag(play_state, "IsPaused")) else {
        return Ok(ServerEvent::Ignored(format!(
            "event {event:?} is not playback"
        )));
    };
    let it = v.get("Item").unwrap_or(&Value::Null);
    let Some(kind) = kind_of(text(it, "Type")) else {
        return Ok(ServerEvent::Ignored(format!(
            "{:?} is neither a movie nor an episode",
            text(it, "Type").unwrap_or_default()
        )));
    };
    let provider_ids = it.get("ProviderIds").unwrap_or(&Value::Null);
    let pairs: Vec<(Provider, String)> = [
        (Provider::Tmdb, "Tmdb"),
        (Provider::Imdb, "Imdb"),
        (Provider::Tvdb, "Tvdb"),
    ]
    .into_iter()
    .filter_map(|(p, key)| text(provider_ids, key).map(|x| (p, x)))
    .collect();
    let item = PlayedItem {
        kind,
        title: text(it, "Name").unwrap_or_default(),
        ids: ids(pairs.iter().map(|(p, x)| (*p, x.as_str()))),
        show: (kind == ItemKind::Episode)
            .then(|| {
                episode_show(
                    text(it, "SeriesName"),
                    number(it, "ParentIndexNumber"),
                    number(it, "IndexNumber"),
                )
            })
            .flatten(),
    };
    let completed = flag(play_state, "PlayedToCompletion")
        || it
            .get("UserData")
            .is_some_and(|u| flag(u, "Played") && action == PlayerAction::Stop);
    let progress = if action == PlayerAction::Stop && completed {
        Some(Percent::FULL)
    } else {
        progress_of(
            number(play_state, "PositionTicks").unwrap_or(0),
            number(it, "RunTimeTicks").unwrap_or(0),
        )
    };
    Ok(ServerEvent::Playback {
        action,
        account: v.get("User").and_then(|u| text(u, "Name")),
        item,
        progress,
    })
}
