//! The contract suite on PostgreSQL: a new uuid-named database per test, created through
//! `VIEWING_TEST_POSTGRES_URL` and dropped afterwards.
store_contract::contract_tests!(store_contract::backends::Postgres);
store_contract::event_contract_tests!(store_contract::backends::Postgres);

use adapters_postgres::PgStore;
use viewing_domain::ports::StoreError;

/// A server that refuses connections is `Unavailable` (503), never `Unexpected` (500). Needs no
/// PostgreSQL: nothing listens on port 1.
#[tokio::test]
async fn a_server_that_refuses_connections_is_unavailable() {
    let err = PgStore::connect("postgres://postgres@127.0.0.1:1/postgres")
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "got {err:?}");
}
