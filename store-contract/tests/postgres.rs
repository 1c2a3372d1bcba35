//! The contract suite on PostgreSQL: a new uuid-named database per test, created through
//! `VIEWING_TEST_POSTGRES_URL` and dropped afterwards.
store_contract::contract_tests!(store_contract::backends::Postgres);
