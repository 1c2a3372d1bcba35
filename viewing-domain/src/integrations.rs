//! Media servers' webhook integrations (SPEC §13): a secret URL per user and server, an account
//! filter for shared servers, and an inbox keeping every delivery with its outcome.

use chrono::{DateTime, Utc};

use crate::ids::{DeliveryId, IntegrationId, RecordId, UserId};

/// Which media server an integration takes deliveries from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationKind {
    /// Plex Media Server.
    Plex,
    /// Jellyfin, through its webhook plugin.
    Jellyfin,
    /// Emby.
    Emby,
}

impl IntegrationKind {
    /// The name on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::Plex => "plex",
            IntegrationKind::Jellyfin => "jellyfin",
            IntegrationKind::Emby => "emby",
        }
    }

    /// The kind named by [`IntegrationKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Plex, Self::Jellyfin, Self::Emby]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One user's integration with one media server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// Its id.
    pub id: IntegrationId,
    /// Whose plays it records.
    pub user_id: UserId,
    /// Which server sends.
    pub kind: IntegrationKind,
    /// The SHA-256 of its secret, hex: the secret itself is shown once and never kept.
    pub secret_hash: String,
    /// Only events of these server accounts are recorded (none: every account's).
    pub accounts: Vec<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was revoked: its URL answers 404 from then on.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Integration {
    /// Whether an event of the server account `account` is recorded: every account's when the
    /// integration names none, else only those it names (case aside). An event without an
    /// account is recorded only when none are named.
    pub fn follows(&self, account: Option<&str>) -> bool {
        self.accounts.is_empty()
            || account.is_some_and(|a| self.accounts.iter().any(|f| f.eq_ignore_ascii_case(a)))
    }
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// A play was recorded.
    Recorded,
    /// The item is paused at its progress.
    Paused,
    /// The item is now watched.
    Started,
    /// Not a playback event.
    Ignored,
    /// Another server account's: not this user's.
    Filtered,
    /// The item is not in the catalog (or the metadata provider is unreachable).
    Unmatched,
    /// A second stop of a play already recorded.
    Duplicate,
    /// Not a payload, or refused by a rule.
    Invalid,
}

impl DeliveryOutcome {
    /// Every outcome.
    pub const ALL: [DeliveryOutcome; 8] = [
        DeliveryOutcome::Recorded,
        DeliveryOutcome::Paused,
        DeliveryOutcome::Started,
        DeliveryOutcome::Ignored,
        DeliveryOutcome::Filtered,
        DeliveryOutcome::Unmatched,
        DeliveryOutcome::Duplicate,
        DeliveryOutcome::Invalid,
    ];

    /// The name on the wire and in the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Recorded => "recorded",
            DeliveryOutcome::Paused => "paused",
            DeliveryOutcome::Started => "started",
            DeliveryOutcome::Ignored => "ignored",
            DeliveryOutcome::Filtered => "filtered",
            DeliveryOutcome::Unmatched => "unmatched",
            DeliveryOutcome::Duplicate => "duplicate",
            DeliveryOutcome::Invalid => "invalid",
        }
    }

    /// The outcome named by [`DeliveryOutcome::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One delivery, kept in its integration's inbox whatever became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id.
    pub id: DeliveryId,
    /// The integration it came through.
    pub integration_id: IntegrationId,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The payload as received (Plex: its `payload` part), for a replay.
    pub payload: String,
    /// What became of it (the latest run's).
    pub outcome: DeliveryOutcome,
    /// Why, when it was not recorded.
    pub reason: Option<String>,
    /// The play it recorded.
    pub record_id: Option<RecordId>,
    /// When it was last run (received or replayed).
    pub handled_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for o in DeliveryOutcome::ALL {
            assert_eq!(DeliveryOutcome::parse(o.as_str()), Some(o));
        }
        for k in [
            IntegrationKind::Plex,
            IntegrationKind::Jellyfin,
            IntegrationKind::Emby,
        ] {
            assert_eq!(IntegrationKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(IntegrationKind::parse("kodi"), None);
    }

    #[test]
    fn an_integration_follows_its_accounts_only_case_aside() {
        let mut i = Integration {
            id: IntegrationId::from(uuid::Uuid::nil()),
            user_id: UserId::from(uuid::Uuid::nil()),
            kind: IntegrationKind::Plex,
            secret_hash: String::new(),
            accounts: Vec::new(),
            created_at: DateTime::<Utc>::default(),
            revoked_at: None,
        };
        assert!(i.follows(Some("anyone")) && i.follows(None));
        i.accounts = vec!["Anna".to_owned()];
        assert!(i.follows(Some("anna")) && i.follows(Some("ANNA")));
        assert!(!i.follows(Some("bob")) && !i.follows(None));
    }
}
