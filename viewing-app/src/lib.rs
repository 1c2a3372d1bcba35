//! Use cases of the viewing service: commands and queries that orchestrate the domain through
//! its ports, one unit of work per command.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod catalog;
pub mod catalog_file;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod dead_letters;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod engagement;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod error;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod handlers;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod history;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod metrics;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod progress;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod relay;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod runner;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod service;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod statistics;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod system;
pub mod text;
#[allow(missing_docs)] // issue 9: documented item by item
pub mod viewing;

pub use error::{AppError, AppResult};
pub use service::ViewingService;
pub use system::{SystemClock, UuidV7};
pub use viewing_domain as domain;
