//! Media servers' webhook payloads (SPEC §13), fixtures written in Plex's, Jellyfin's (both
//! shapes) and Emby's documented shapes, read into playback reports.

use viewing_app::webhooks::{PlayedItem, PlayerAction, ServerEvent, ServerKind, read};
use viewing_domain::imports::ShowRef;
use viewing_domain::values::Percent;
use viewing_domain::{ExternalIds, ItemKind, Provider};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ids(pairs: &[(Provider, &str)]) -> ExternalIds {
    let mut out = ExternalIds::new();
    for (p, v) in pairs {
        out.insert(*p, v).expect("an id");
    }
    out
}

fn pct(v: f64) -> Percent {
    Percent::new("p", v).expect("a percent")
}

/// Dark S1E1 as every server names it: its episode ids and its show by title and numbers.
fn secrets() -> PlayedItem {
    PlayedItem {
        kind: ItemKind::Episode,
        title: "Secrets".to_owned(),
        ids: ids(&[
            (Provider::Imdb, "tt5753858"),
            (Provider::Tmdb, "1328111"),
            (Provider::Tvdb, "6354731"),
        ]),
        show: Some(ShowRef {
            title: "Dark".to_owned(),
            ids: ExternalIds::new(),
            season: 1,
            episode: Some(1),
            episode_title: None,
        }),
    }
}

fn heat() -> PlayedItem {
    PlayedItem {
        kind: ItemKind::Movie,
        title: "Heat".to_owned(),
        ids: ids(&[(Provider::Imdb, "tt0113277"), (Provider::Tmdb, "949")]),
        show: None,
    }
}

#[test]
fn plex_scrobble_pause_and_other_events() {
    assert_eq!(
        read(ServerKind::Plex, &fixture("plex_scrobble_episode.json")),
        Ok(ServerEvent::Playback {
            action: PlayerAction::Stop,
            account: Some("anna".to_owned()),
            item: secrets(),
            progress: Some(Percent::FULL),
        })
    );
    assert_eq!(
        read(ServerKind::Plex, &fixture("plex_pause_movie.json")),
        Ok(ServerEvent::Playback {
            action: PlayerAction::Pause,
            account: Some("ben".to_owned()),
            item: heat(),
            progress: Some(pct(40.0)),
        })
    );
    assert_eq!(
        read(ServerKind::Plex, &fixture("plex_library_new.json")),
        Ok(ServerEvent::Ignored(
            "event \"library.new\" is not playback".to_owned()
        ))
    );
}

#[test]
fn jellyfin_in_both_shapes() {
    assert_eq!(
        read(ServerKind::Jellyfin, &fixture("jellyfin_flat_stop.json")),
        Ok(ServerEvent::Playback {
            action: PlayerAction::Stop,
            account: Some("anna".to_owned()),
            item: secrets(),
            progress: Some(Percent::FULL),
        })
    );
    assert_eq!(
        read(
            ServerKind::Jellyfin,
            &fixture("jellyfin_nested_progress.json")
        ),
        Ok(ServerEvent::Playback {
            action: PlayerAction::Pause,
            account: Some("ben".to_owned()),
            item: heat(),
            progress: Some(pct(40.0)),
        })
    );
}

#[test]
fn emby_stop() {
    assert_eq!(
        read(ServerKind::Emby, &fixture("emby_stop_episode.json")),
        Ok(ServerEvent::Playback {
            action: PlayerAction::Stop,
            account: Some("anna".to_owned()),
            item: secrets(),
            progress: Some(Percent::FULL),
        })
    );
    // Stopped early: the position says how far.
    let early = String::from_utf8(fixture("emby_stop_episode.json"))
        .expect("text")
        .replace(
            "\"PlayedToCompletion\": true",
            "\"PlayedToCompletion\": false",
        );
    let Ok(ServerEvent::Playback { progress, .. }) = read(ServerKind::Emby, early.as_bytes())
    else {
        panic!("a playback event");
    };
    assert_eq!(progress, Some(pct(94.77)));
}

#[test]
fn what_is_not_a_payload_is_refused() {
    for kind in [ServerKind::Plex, ServerKind::Jellyfin, ServerKind::Emby] {
        assert!(read(kind, b"not json").is_err());
        assert!(read(kind, b"[1, 2]").is_err());
        assert_eq!(ServerKind::parse(kind.as_str()), Some(kind));
    }
    // A playback event of another type of item is ignored, not refused.
    let trailer = br#"{"event": "media.play", "Account": {"title": "anna"}, "Metadata": {"type": "clip", "title": "Trailer"}}"#;
    assert!(matches!(
        read(ServerKind::Plex, trailer),
        Ok(ServerEvent::Ignored(_))
    ));
}
