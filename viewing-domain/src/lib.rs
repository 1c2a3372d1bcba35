//! The viewing domain: what people watch and the rules that follow from it.
//!
//! Pure: no I/O, no async runtime, no database or web framework. Use cases in `viewing-app`
//! load state through the [`ports`], ask the [`rules`] for a decision and write it in one unit
//! of work.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[allow(missing_docs)] // issue 9: documented item by item
pub mod catalog;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod engagement;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod event_ports;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod events;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod handler_ports;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod idempotency;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod ids;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod ports;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod records;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod rules;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod stats;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod values;

pub use catalog::{Episode, EpisodeRef, Movie, Season, Show, ShowStatus};
pub use events::{DomainEvent, EventEnvelope, IsoDuration};
pub use ids::*;
pub use records::{
    AbandonRecord, BingeSession, ContentType, ItemType, SeasonCompletion, ShowProgress,
    ViewingRecord, Watched,
};
pub use rules::RulesConfig;
pub use values::ValidationError;
