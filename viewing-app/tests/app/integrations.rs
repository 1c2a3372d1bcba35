//! Media servers' integrations (SPEC §13) through the use cases on the memory store, with the
//! webhook fixtures: a secret shown once and kept hashed, deliveries recorded with `origin:
//! webhook`, another account filtered, a burst of the same scrobble recorded once, an unknown
//! item kept unmatched and replayed after the catalog gains it, a malformed payload kept as
//! invalid, a revoked secret and another user's integration unknown.

use crate::support::*;
use viewing_app::AppError;
use viewing_app::integrations::secret_hash;
use viewing_domain::integrations::{DeliveryOutcome, IntegrationKind};
use viewing_domain::{ExternalIds, Origin, Provider, ShowStatus, UserId};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Dark (show 1, four episodes), S1E1 named by its IMDb id.
async fn world(with_ids: bool) -> World {
    let w = World::new();
    let mut dark = show(1, ShowStatus::Ended, &[4]);
    if with_ids {
        let mut seasons = dark.seasons().to_vec();
        seasons[0].episodes[0].external_ids = ExternalIds::new()
            .with(Provider::Imdb, "tt5753858")
            .expect("id");
        dark = viewing_domain::Show::new(
            dark.id,
            title("Dark"),
            dark.status,
            dark.genres.clone(),
            seasons,
        )
        .expect("show");
    }
    w.given_show(dark).await;
    w
}

#[tokio::test]
async fn deliveries_record_plays_once_for_followed_accounts() {
    let w = world(true).await;
    let created = w
        .svc
        .create_integration(w.user, IntegrationKind::Plex, vec![" anna ".to_owned()])
        .await
        .expect("created");
    assert_eq!(created.secret.len(), 64, "256 bits, hex");
    assert_eq!(
        created.integration.secret_hash,
        secret_hash(&created.secret)
    );
    assert_ne!(created.integration.secret_hash, created.secret);
    assert_eq!(created.integration.accounts, ["anna"]);

    // A burst of the same scrobble: one play, the rest duplicates.
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let got = w
            .svc
            .receive_webhook(&created.secret, fixture("plex_scrobble_episode.json"))
            .await
            .expect("received");
        outcomes.push(got.delivery.outcome);
    }
    assert_eq!(
        outcomes,
        [
            DeliveryOutcome::Recorded,
            DeliveryOutcome::Duplicate,
            DeliveryOutcome::Duplicate
        ]
    );
    let records = w.records(1).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].origin, Origin::Webhook);

    // Another account of the shared server: filtered, nothing recorded.
    let ben = w
        .svc
        .receive_webhook(&created.secret, fixture("plex_pause_movie.json"))
        .await
        .expect("received");
    assert_eq!(ben.delivery.outcome, DeliveryOutcome::Filtered);
    // Not playback: ignored. Not a payload: kept as invalid, and said so (400).
    let new = w
        .svc
        .receive_webhook(&created.secret, fixture("plex_library_new.json"))
        .await
        .expect("received");
    assert_eq!(new.delivery.outcome, DeliveryOutcome::Ignored);
    let bad = w
        .svc
        .receive_webhook(&created.secret, b"not json".to_vec())
        .await
        .expect("kept");
    assert!(bad.malformed);
    assert_eq!(bad.delivery.outcome, DeliveryOutcome::Invalid);

    let inbox = w
        .svc
        .deliveries(w.user, created.integration.id, 0, 50)
        .await
        .expect("inbox");
    assert_eq!(inbox.len(), 6, "every delivery is kept");
    let bob = UserId::from(uuid(2, 0x1));
    assert!(matches!(
        w.svc.deliveries(bob, created.integration.id, 0, 50).await,
        Err(AppError::NotFound)
    ));

    // Revoked: the secret is unknown from now on.
    w.svc
        .revoke_integration(w.user, created.integration.id)
        .await
        .expect("revoked");
    assert!(matches!(
        w.svc
            .receive_webhook(&created.secret, fixture("plex_scrobble_episode.json"))
            .await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        w.svc.receive_webhook("0123", b"{}".to_vec()).await,
        Err(AppError::NotFound)
    ));
}

#[tokio::test]
async fn an_unmatched_delivery_is_replayed_after_the_catalog_gains_the_item() {
    // The catalog knows Dark by title only, and the show is not there yet.
    let w = World::new();
    let created = w
        .svc
        .create_integration(w.user, IntegrationKind::Emby, Vec::new())
        .await
        .expect("created");
    let got = w
        .svc
        .receive_webhook(&created.secret, fixture("emby_stop_episode.json"))
        .await
        .expect("received");
    assert_eq!(got.delivery.outcome, DeliveryOutcome::Unmatched);
    assert_eq!(got.delivery.reason.as_deref(), Some("not in the catalog"));

    let mut dark = show(1, ShowStatus::Ended, &[4]);
    dark = viewing_domain::Show::new(
        dark.id,
        title("Dark"),
        dark.status,
        dark.genres.clone(),
        dark.seasons().to_vec(),
    )
    .expect("show");
    w.given_show(dark).await;
    let replayed = w
        .svc
        .replay_delivery(w.user, created.integration.id, got.delivery.id)
        .await
        .expect("replayed");
    assert_eq!(replayed.outcome, DeliveryOutcome::Recorded);
    assert!(replayed.record_id.is_some());
    let records = w.records(1).await;
    assert_eq!(
        records
            .iter()
            .map(|r| r.watched.content_id())
            .collect::<Vec<_>>(),
        [episode_id(1, 1, 1).as_uuid()],
        "by the show's title and numbers"
    );
}
