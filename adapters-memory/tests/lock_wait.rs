//! An open unit of work holds the memory store's only lock. A second call made while it is
//! open (by the same task, the classic mistake) must fail with a clear error after the lock
//! wait, never hang; once the first unit of work ends, calls go through again.

use std::time::Duration;

use adapters_memory::MemoryStore;
use viewing_domain::UserId;
use viewing_domain::idempotency::IdempotencyKey;
use viewing_domain::ports::{Begin, IdempotencyStore, StoreError, Transaction, UserRepository};

const WAIT: Duration = Duration::from_millis(200);
/// Far above the lock wait: reaching it means the call hung.
const HANG: Duration = Duration::from_secs(10);

fn user() -> UserId {
    UserId::from(uuid::Uuid::from_u64_pair(1, 1))
}

#[tokio::test]
async fn a_second_unit_of_work_while_one_is_open_fails_instead_of_hanging() {
    let store = MemoryStore::new().with_lock_wait(WAIT);
    let open = store.begin().await.expect("first begin");
    let second = tokio::time::timeout(HANG, store.begin())
        .await
        .expect("the second begin hung instead of failing");
    match second {
        Err(StoreError::Unavailable(e)) => assert!(
            e.to_string().contains("unit of work is still open"),
            "the error names the cause: {e}"
        ),
        other => panic!("expected Unavailable, got {:?}", other.map(|_| ())),
    }
    drop(open);
    let mut again = store.begin().await.expect("begin after the first ended");
    again
        .ensure_user(user(), chrono::Utc::now())
        .await
        .expect("write");
    again.commit().await.expect("commit");
}

#[tokio::test]
async fn store_level_calls_also_fail_while_a_unit_of_work_is_open() {
    let store = MemoryStore::new().with_lock_wait(WAIT);
    let _open = store.begin().await.expect("begin");
    let key = IdempotencyKey::parse("k-1").expect("key");
    let r = tokio::time::timeout(HANG, store.release_idempotency_key(user(), &key))
        .await
        .expect("the call hung instead of failing");
    assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
}

#[tokio::test]
async fn a_unit_of_work_committed_in_time_lets_the_waiting_call_through() {
    let store = MemoryStore::new().with_lock_wait(Duration::from_secs(5));
    let open = store.begin().await.expect("begin");
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move { store.begin().await.map(|_| ()) })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    open.commit().await.expect("commit");
    let r = waiter.await.expect("join");
    assert!(r.is_ok(), "{r:?}");
}
