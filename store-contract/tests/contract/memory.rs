//! The contract suite on the in-memory store.
store_contract::contract_tests!(store_contract::backends::Memory);
store_contract::event_contract_tests!(store_contract::backends::Memory);
