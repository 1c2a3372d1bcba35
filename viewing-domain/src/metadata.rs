//! The metadata-provider port (SPEC §16): where the catalog fetches an item another service
//! names when it does not hold it yet (TMDB in `adapters-tmdb`).

use async_trait::async_trait;

use crate::catalog::{Movie, Show};
use crate::external::Provider;

/// A catalog item as a provider describes it, with its external ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A movie.
    Movie(Movie),
    /// A show with its whole tree (for an id that names a season or an episode: its show).
    Show(Show),
}

/// Why a provider gave no answer. A provider that answers "unknown" says so with `Ok(None)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not reachable, rate-limited past its retries, or answering with errors: try later.
    #[error("metadata provider unavailable: {0}")]
    Unavailable(String),
}

/// Fetches catalog items from a metadata provider.
#[async_trait]
pub trait MetadataProvider: Send + Sync {
    /// The movie, or the show with its whole tree, that `provider`'s id `value` names (for a
    /// season or an episode, its show); `Ok(None)` when the provider knows nothing by that id.
    async fn fetch(
        &self,
        provider: Provider,
        value: &str,
    ) -> Result<Option<Fetched>, MetadataError>;
}
