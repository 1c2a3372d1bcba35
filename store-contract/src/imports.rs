//! Imports (SPEC §12): each import with its status and summary, its rows' outcomes by page and
//! outcome, and the source keys of its plays.

use viewing_domain::imports::{
    Import, ImportItem, ImportLink, ImportSource, ImportStatus, ImportSummary, MatchedBy, RowKind,
    RowOutcome,
};
use viewing_domain::ports::{ImportRepository, Store, Transaction};
use viewing_domain::{AbandonId, ImportId, RecordId, ShowId};

use crate::Probe;
use crate::fixtures::*;

fn item(row: u32, outcome: RowOutcome) -> ImportItem {
    ImportItem {
        row,
        kind: if row.is_multiple_of(2) {
            RowKind::Episode
        } else {
            RowKind::Movie
        },
        title: format!("Row «{row}»"),
        outcome,
        matched_by: (outcome == RowOutcome::Imported).then_some(MatchedBy::Coordinates),
        content_id: (outcome == RowOutcome::Imported).then(new_id),
        reason: (outcome != RowOutcome::Imported).then(|| format!("reason {row}")),
    }
}

pub async fn imports_round_trip<S: Store + Probe>(store: S) {
    let (alice, bob) = (user(), user());
    let items: Vec<ImportItem> = (1..=7)
        .map(|row| {
            let outcome = match row % 3 {
                0 => RowOutcome::Unmatched,
                1 => RowOutcome::Imported,
                _ => RowOutcome::Duplicate,
            };
            item(row, outcome)
        })
        .collect();
    let mut first = Import {
        id: ImportId::from(new_id()),
        user_id: alice,
        source: ImportSource::Trakt,
        status: ImportStatus::DryRun,
        created_at: at(1_700_000_000, 123_456),
        summary: ImportSummary::of(&items),
    };
    let second = Import {
        id: ImportId::from(new_id()),
        source: ImportSource::Letterboxd,
        created_at: at(1_700_000_100, 0),
        ..first.clone()
    };
    let mut uow = store.begin().await.expect("begin");
    uow.save_import(&first).await.expect("save");
    uow.save_import(&second).await.expect("save");
    uow.save_import_items(first.id, &items)
        .await
        .expect("items");
    uow.commit().await.expect("commit");

    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.import(alice, first.id).await.expect("read"),
        Some(first.clone())
    );
    assert_eq!(uow.import(bob, first.id).await.expect("read"), None);
    assert_eq!(
        uow.imports_of(alice).await.expect("list"),
        vec![second.clone(), first.clone()],
        "newest first"
    );
    assert!(uow.imports_of(bob).await.expect("list").is_empty());
    // Pages in row order, filtered by outcome.
    assert_eq!(
        uow.import_items(first.id, None, 0, 100)
            .await
            .expect("items"),
        items
    );
    assert_eq!(
        uow.import_items(first.id, None, 2, 3).await.expect("items"),
        items[2..5].to_vec()
    );
    let imported: Vec<u32> = uow
        .import_items(first.id, Some(RowOutcome::Imported), 0, 100)
        .await
        .expect("items")
        .iter()
        .map(|i| i.row)
        .collect();
    assert_eq!(imported, vec![1, 4, 7]);
    assert!(
        uow.import_items(second.id, None, 0, 10)
            .await
            .expect("items")
            .is_empty()
    );

    // Status and summary change in place.
    first.status = ImportStatus::Applied;
    first.summary.imported = 2;
    uow.save_import(&first).await.expect("update");
    uow.commit().await.expect("commit");
    let mut uow = store.begin().await.expect("begin");
    assert_eq!(
        uow.import(alice, first.id).await.expect("read"),
        Some(first.clone())
    );
    uow.commit().await.expect("commit");
}

pub async fn import_source_keys<S: Store + Probe>(store: S) {
    let (alice, bob) = (user(), user());
    let (one, two) = (ImportId::from(new_id()), ImportId::from(new_id()));
    let links = [
        ImportLink::Play(RecordId::from(new_id())),
        ImportLink::Abandon(AbandonId::from(new_id())),
        ImportLink::Watchlist(new_id()),
        ImportLink::Reset(ShowId::from(new_id())),
    ];
    let mut uow = store.begin().await.expect("begin");
    uow.link_import_item(alice, one, "trakt:history:2", links[0])
        .await
        .expect("link");
    uow.link_import_item(alice, one, "trakt:history:1", links[1])
        .await
        .expect("link");
    uow.link_import_item(alice, one, "trakt:watchlist:1", links[2])
        .await
        .expect("link");
    uow.link_import_item(alice, one, "viewing:reset:1", links[3])
        .await
        .expect("link");
    uow.link_import_item(alice, two, "trakt:history:3", links[0])
        .await
        .expect("link");
    uow.commit().await.expect("commit");

    let keys: Vec<String> = (1..=4).map(|n| format!("trakt:history:{n}")).collect();
    let mut uow = store.begin().await.expect("begin");
    let held = uow.held_source_keys(alice, &keys).await.expect("held");
    let mut held: Vec<String> = held.into_iter().collect();
    held.sort();
    assert_eq!(held, keys[..3].to_vec());
    assert!(
        uow.held_source_keys(bob, &keys)
            .await
            .expect("held")
            .is_empty(),
        "keys are each user's own"
    );
    assert_eq!(
        uow.import_links(alice, one).await.expect("links"),
        links.to_vec(),
        "in the order made, each of its kind"
    );
    assert!(uow.import_links(bob, one).await.expect("links").is_empty());
    uow.commit().await.expect("commit");

    // A key is held once per user: linking it again fails, for another user it is free.
    let mut uow = store.begin().await.expect("begin");
    assert!(
        uow.link_import_item(alice, two, "trakt:history:1", links[0])
            .await
            .is_err()
    );
    drop(uow);
    let mut uow = store.begin().await.expect("begin");
    uow.link_import_item(bob, two, "trakt:history:1", links[0])
        .await
        .expect("bob's own");
    // Unlinked: the keys of that import are free again, the others stay.
    uow.unlink_import_items(alice, one).await.expect("unlink");
    uow.commit().await.expect("commit");
    let mut uow = store.begin().await.expect("begin");
    let held: Vec<String> = uow
        .held_source_keys(alice, &keys)
        .await
        .expect("held")
        .into_iter()
        .collect();
    assert_eq!(held, vec!["trakt:history:3".to_owned()]);
    assert!(
        uow.import_links(alice, one)
            .await
            .expect("plays")
            .is_empty()
    );
    uow.commit().await.expect("commit");
}
