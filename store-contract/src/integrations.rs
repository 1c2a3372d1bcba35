//! Media servers' integrations and their inboxes (SPEC §13): found by their secret's hash,
//! each user's own, revoked in place; deliveries kept newest first and re-run in place.

use viewing_domain::integrations::{Delivery, DeliveryOutcome, Integration, IntegrationKind};
use viewing_domain::ports::{IntegrationRepository, Store, Transaction};
use viewing_domain::{DeliveryId, IntegrationId, RecordId};

use crate::Probe;
use crate::fixtures::*;

pub async fn integrations_and_inbox<S: Store + Probe>(store: S) {
    let (alice, bob) = (user(), user());
    let hash = format!("{:064x}", new_id().as_u128());
    let mut plex = Integration {
        id: IntegrationId::from(new_id()),
        user_id: alice,
        kind: IntegrationKind::Plex,
        secret_hash: hash.clone(),
        accounts: vec!["anna".to_owned(), "Ben O'Neil".to_owned()],
        created_at: at(1_700_000_000, 1),
        revoked_at: None,
    };
    let delivery = |n: i64, outcome| Delivery {
        id: DeliveryId::from(new_id()),
        integration_id: plex.id,
        received_at: at(1_700_000_100 + n, 0),
        payload: format!("{{\"event\": \"media.play\", \"n\": {n}}}"),
        outcome,
        reason: (outcome == DeliveryOutcome::Unmatched).then(|| "not in the catalog".to_owned()),
        record_id: None,
        handled_at: at(1_700_000_100 + n, 0),
    };
    let first = delivery(1, DeliveryOutcome::Unmatched);
    let second = delivery(2, DeliveryOutcome::Started);
    let mut uow = store.begin().await.expect("begin");
    uow.save_integration(&plex).await.expect("save");
    uow.save_delivery(&first).await.expect("delivery");
    uow.save_delivery(&second).await.expect("delivery");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.integration_by_secret(&hash).await.expect("read"),
        Some(plex.clone())
    );
    assert_eq!(uow.integration_by_secret("nope").await.expect("read"), None);
    assert_eq!(
        uow.integration(alice, plex.id).await.expect("read"),
        Some(plex.clone())
    );
    assert_eq!(uow.integration(bob, plex.id).await.expect("read"), None);
    assert_eq!(
        uow.integrations_of(alice).await.expect("list"),
        vec![plex.clone()]
    );
    assert!(uow.integrations_of(bob).await.expect("list").is_empty());
    assert_eq!(
        uow.deliveries(plex.id, 0, 10).await.expect("inbox"),
        vec![second.clone(), first.clone()],
        "newest first"
    );
    assert_eq!(
        uow.deliveries(plex.id, 1, 10).await.expect("inbox"),
        vec![first.clone()]
    );

    // Replayed: its outcome changes in place. Revoked: kept, with the date.
    let replayed = Delivery {
        outcome: DeliveryOutcome::Recorded,
        reason: None,
        record_id: Some(RecordId::from(new_id())),
        handled_at: at(1_700_000_900, 0),
        ..first.clone()
    };
    uow.save_delivery(&replayed).await.expect("replay");
    plex.revoked_at = Some(at(1_700_001_000, 0));
    plex.accounts.clear();
    uow.save_integration(&plex).await.expect("revoke");
    uow.commit().await.expect("commit");
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.delivery(plex.id, first.id).await.expect("read"),
        Some(replayed)
    );
    assert_eq!(
        uow.delivery(IntegrationId::from(new_id()), first.id)
            .await
            .expect("read"),
        None,
        "another integration's"
    );
    assert_eq!(
        uow.integration_by_secret(&hash).await.expect("read"),
        Some(plex)
    );
    uow.commit().await.expect("commit");
}
