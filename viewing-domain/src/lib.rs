//! The viewing domain: what people watch and the rules that follow from it.
//!
//! Pure: no I/O, no async runtime, no database or web framework. Use cases in `viewing-app`
//! load state through the [`ports`], ask the [`rules`] for a decision and write it in one unit
//! of work.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod catalog;
pub mod engagement;
pub mod event_ports;
pub mod events;
pub mod external;
pub mod handler_ports;
pub mod idempotency;
pub mod ids;
pub mod imports;
pub mod integrations;
pub mod metadata;
pub mod ports;
pub mod records;
pub mod rules;
pub mod search;
pub mod stats;
pub mod values;

pub use catalog::{
    CatalogRows, Episode, EpisodeRef, EpisodeRow, ExternalHit, ItemKind, Movie, RowsWritten,
    Season, SeasonRow, Show, ShowRow, ShowStatus,
};
pub use events::{DomainEvent, EventEnvelope, IsoDuration};
pub use external::{ExternalIds, Provider};
pub use ids::*;
pub use records::{
    AbandonRecord, BingeSession, ContentType, ItemType, Origin, PassSummary, SeasonCompletion,
    ShowProgress, ViewingRecord, Watched,
};
pub use rules::RulesConfig;
pub use values::ValidationError;
