//! The contract suite on SQLite: a new database file per test.
store_contract::contract_tests!(store_contract::backends::Sqlite);
