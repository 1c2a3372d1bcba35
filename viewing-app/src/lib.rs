//! Use cases of the viewing service: commands and queries that orchestrate the domain through
//! its ports, one unit of work per command.
#![forbid(unsafe_code)]

pub mod api;
pub mod catalog;
pub mod dead_letters;
pub mod engagement;
pub mod error;
pub mod handlers;
pub mod history;
pub mod metrics;
pub mod progress;
pub mod relay;
pub mod runner;
pub mod service;
pub mod statistics;
pub mod system;
pub mod viewing;

pub use error::{AppError, AppResult};
pub use service::ViewingService;
pub use system::{SystemClock, UuidV7};
pub use viewing_domain as domain;
