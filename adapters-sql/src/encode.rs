//! Domain values the SQL stores write as text, written once.

use viewing_domain::ports::{StoreError, StoreResult};
use viewing_domain::{ExternalIds, PassSummary, Provider};

/// The closed rewatch passes of a progress row as the JSON text of `earlier_passes`
/// (read back by [`crate::decode::show_progress`]).
pub fn passes(passes: &[PassSummary]) -> StoreResult<String> {
    serde_json::to_string(passes)
        .map_err(|e| StoreError::unexpected(format!("cannot encode rewatch passes: {e}")))
}

/// The column holding `provider`'s id.
pub fn external_id_column(provider: Provider) -> &'static str {
    match provider {
        Provider::Tmdb => "tmdb_id",
        Provider::Imdb => "imdb_id",
        Provider::Tvdb => "tvdb_id",
        Provider::Trakt => "trakt_id",
        Provider::Tvmaze => "tvmaze_id",
    }
}

/// The values of the external-id columns (`tmdb_id, imdb_id, tvdb_id, trakt_id, tvmaze_id`)
/// for `ids`, in that order (`None`: no id of that provider).
pub fn external_id_values(ids: &ExternalIds) -> [Option<String>; 5] {
    Provider::ALL.map(|p| ids.get(p).map(str::to_owned))
}

/// The bounds `low <= title_key < high` of a title search: the key itself when `exact`, else
/// every key that starts with it (`high` is the key followed by the highest code point, so
/// keys compare as bytes: BINARY in SQLite, `COLLATE "C"` in PostgreSQL).
pub fn title_key_range(query: &viewing_domain::search::TitleQuery) -> (String, String) {
    let last = if query.exact { '\u{1}' } else { char::MAX };
    (query.key.clone(), format!("{}{last}", query.key))
}

/// The kind a title search is narrowed to, as the search statements take it: `movie`, `show`
/// or `any`.
pub fn title_kind(kind: Option<viewing_domain::ItemKind>) -> &'static str {
    match kind {
        Some(viewing_domain::ItemKind::Movie) => "movie",
        Some(viewing_domain::ItemKind::Show) => "show",
        _ => "any",
    }
}
