//! Typed identifiers. A `MovieId` can never be passed where an `EpisodeId` is expected.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// The id `id` names.
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            /// The UUID underneath, for the stores and the wire.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// The authenticated user (a token's `sub`).
    UserId,
    /// A movie of the catalog.
    MovieId,
    /// A show of the catalog.
    ShowId,
    /// A season of a show.
    SeasonId,
    /// An episode of a show.
    EpisodeId,
    /// A viewing record (movie or episode).
    RecordId,
    /// An abandon record.
    AbandonId,
    /// A binge session.
    BingeSessionId,
    /// A domain event; consumers drop duplicates by it.
    EventId,
    /// An import of another service's history (SPEC §12).
    ImportId,
    /// A player's playback of one movie or episode (SPEC §13).
    PlaybackId,
    /// A media server's webhook integration (SPEC §13).
    IntegrationId,
    /// One delivery of a media server's webhook (SPEC §13).
    DeliveryId,
);
