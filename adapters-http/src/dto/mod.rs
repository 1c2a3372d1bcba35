//! Request and response bodies of the API. They are separate from the domain types: requests
//! are converted with `try_into_domain` at the edge (HTML stripped, value objects parsed, every
//! refused field named), responses are built `From` the domain and application types.

pub mod catalog;
pub mod engagement;
pub mod imports;
pub mod integrations;
pub mod playback;
pub mod reading;
pub mod viewing;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use viewing_app::domain::rules::order::MissingEpisode;

/// Whole numbers as JSON Schema counts them (`59` and `59.0`), as the catalog file reads them.
pub(crate) use viewing_app::catalog_file::whole;

pub use catalog::*;
pub use engagement::*;
pub use imports::*;
pub use integrations::*;
pub use playback::*;
pub use reading::*;
pub use viewing::*;

/// The first episode a user still has to watch before the one they sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MissingEpisodeDto {
    pub episode_id: Uuid,
    pub season_number: u32,
    pub episode_number: u32,
}

impl From<MissingEpisode> for MissingEpisodeDto {
    fn from(m: MissingEpisode) -> Self {
        Self {
            episode_id: m.episode_id.as_uuid(),
            season_number: m.season_number,
            episode_number: m.episode_number,
        }
    }
}
