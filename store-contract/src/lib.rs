//! The store contract suite (being written).
#![forbid(unsafe_code)]
