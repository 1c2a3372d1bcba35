//! Domain values the SQL stores write as text, written once.

use viewing_domain::PassSummary;
use viewing_domain::ports::{StoreError, StoreResult};

/// The closed rewatch passes of a progress row as the JSON text of `earlier_passes`
/// (read back by [`crate::decode::show_progress`]).
pub fn passes(passes: &[PassSummary]) -> StoreResult<String> {
    serde_json::to_string(passes)
        .map_err(|e| StoreError::unexpected(format!("cannot encode rewatch passes: {e}")))
}
