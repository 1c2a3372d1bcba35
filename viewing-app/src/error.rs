//! The outcomes a use case can end in besides success. One enum for every use case keeps the
//! HTTP adapter's translation in one place; each variant says which operations produce it.

use viewing_domain::ports::StoreError;
use viewing_domain::rules::episode::WatchEpisodeError;
use viewing_domain::rules::history::ResetError;
use viewing_domain::rules::order::MissingEpisode;
use viewing_domain::values::ValidationError;

#[derive(Debug, thiserror::Error)]
/// Why a use case did not succeed. Each variant is one answer an adapter can give (the HTTP
/// adapter maps them to problem+json statuses); none carries a store's own error type.
pub enum AppError {
    /// The movie, show or episode is not in the catalog.
    #[error("content not found")]
    ContentNotFound,
    /// A record, binge session or other user-owned thing does not exist for this user.
    #[error("not found")]
    NotFound,
    /// A first-time episode watch skipped an earlier aired regular episode.
    #[error("episode out of order")]
    EpisodeOutOfOrder(MissingEpisode),
    /// A value broke a rule of its own (range, length, future date, unaired episode).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A query parameter could not be understood.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The store lost a race it could not resolve, or ids clash.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The metadata provider could not be reached, or none is configured: the message says
    /// which ("metadata provider unavailable: …").
    #[error("{0}")]
    MetadataUnavailable(String),
    /// The store cannot be reached.
    #[error("store unavailable")]
    Unavailable(#[source] viewing_domain::ports::BoxError),
    #[error("unexpected error")]
    /// A store or internal failure with no meaning for the caller; the source says what.
    Unexpected(#[source] viewing_domain::ports::BoxError),
}

/// The result of a use case.
pub type AppResult<T> = Result<T, AppError>;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(s) => AppError::Unavailable(s),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Unexpected(s) => AppError::Unexpected(s),
        }
    }
}

impl From<ResetError> for AppError {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::NothingWatched => AppError::Conflict(e.to_string()),
            ResetError::NoReset => AppError::NotFound,
        }
    }
}

impl From<WatchEpisodeError> for AppError {
    fn from(e: WatchEpisodeError) -> Self {
        match e {
            WatchEpisodeError::EpisodeNotFound => AppError::ContentNotFound,
            WatchEpisodeError::OutOfOrder(m) => AppError::EpisodeOutOfOrder(m),
            WatchEpisodeError::NotAired => AppError::Invalid(ValidationError::new(
                "episodeId",
                "the episode has not aired yet",
            )),
            WatchEpisodeError::BingeSessionNotFound => AppError::NotFound,
            WatchEpisodeError::BingeSessionOfAnotherShow => {
                AppError::Invalid(ValidationError::new(
                    "bingeSessionId",
                    "the binge session belongs to another show",
                ))
            }
            WatchEpisodeError::Invalid(v) => AppError::Invalid(v),
        }
    }
}
