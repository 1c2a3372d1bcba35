//! Request and response bodies of the API. They are separate from the domain types: requests
//! are converted with `try_into_domain` at the edge (HTML stripped, value objects parsed, every
//! refused field named), responses are built `From` the domain and application types.

pub mod catalog;
pub mod engagement;
pub mod reading;
pub mod viewing;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use viewing_app::domain::rules::order::MissingEpisode;

/// Whole numbers as JSON Schema counts them: `59` and `59.0` alike (an `integer` in the OpenAPI
/// document is any number without a fraction), anything else a clear 400.
pub(crate) mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        if let Some(i) = n.as_i64() {
            return Ok(i);
        }
        match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => Err(D::Error::custom(format!(
                "expected a whole number, got {n}"
            ))),
        }
    }

    /// An `i64`.
    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        number(d)
    }

    /// An optional `i64` (`null` or absent is `None`).
    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| number(n).map_err(D::Error::custom))
            .transpose()
    }

    /// A `u32`.
    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let n = number(d)?;
        u32::try_from(n)
            .map_err(|_| D::Error::custom(format!("expected 0 to {}, got {n}", u32::MAX)))
    }
}

pub use catalog::*;
pub use engagement::*;
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
