//! Media servers' webhook integrations (SPEC §13): a secret URL per user and server (shown
//! once, kept as its SHA-256, revocable), an account filter for shared servers, and an inbox
//! keeping every delivery with its outcome, replayable once the catalog gains what it lacked.

use sha2::{Digest, Sha256};
use viewing_domain::integrations::{Delivery, DeliveryOutcome, Integration, IntegrationKind};
use viewing_domain::ports::{IntegrationRepository, Store, Transaction, UserRepository};
use viewing_domain::values::{Percent, ValidationError};
use viewing_domain::{DeliveryId, IntegrationId, Origin, UserId};

use crate::catalog::Unmatched;
use crate::error::{AppError, AppResult};
use crate::playback::{PlaybackReport, PlaybackTarget, Stopped};
use crate::service::ViewingService;
use crate::text::{plain_text, without_controls};
use crate::webhooks::{PlayerAction, ServerEvent, read};

/// The most server accounts an integration may follow, and the longest name.
const MAX_ACCOUNTS: usize = 20;
const MAX_ACCOUNT_CHARS: usize = 200;

/// A new integration and its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntegration {
    /// The integration.
    pub integration: Integration,
    /// The secret of its URL (`/webhooks/{secret}`): 256 random bits, hex.
    pub secret: String,
}

/// A delivery received: kept in the inbox; `malformed` when its payload cannot be read (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The delivery as kept.
    pub delivery: Delivery,
    /// Its payload could not be read.
    pub malformed: bool,
}

/// The SHA-256 of a secret, hex: what the store keeps and looks up.
pub fn secret_hash(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.trim().as_bytes()))
}

impl<S: Store> ViewingService<S> {
    /// `POST /api/integrations`: a new integration and its secret (shown once).
    ///
    /// # Errors
    /// `Invalid` (field `accounts`) for more than 20 accounts or a name over 200 characters.
    pub async fn create_integration(
        &self,
        user: UserId,
        kind: IntegrationKind,
        accounts: Vec<String>,
    ) -> AppResult<NewIntegration> {
        let too_many = || {
            AppError::Invalid(ValidationError::new(
                "accounts",
                format!("at most {MAX_ACCOUNTS} names of at most {MAX_ACCOUNT_CHARS} characters"),
            ))
        };
        // Plain text (SPEC §9), as every name a client sends.
        let accounts: Vec<String> = accounts
            .iter()
            .map(|a| {
                plain_text(a).map(|t| t.trim().to_owned()).ok_or_else(|| {
                    AppError::Invalid(ValidationError::new("accounts", "a name is not plain text"))
                })
            })
            .filter(|a| a.as_ref().map_or(true, |a| !a.is_empty()))
            .collect::<AppResult<_>>()?;
        if accounts.len() > MAX_ACCOUNTS
            || accounts
                .iter()
                .any(|a| a.chars().count() > MAX_ACCOUNT_CHARS)
        {
            return Err(too_many());
        }
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = self.clock.now();
        let integration = Integration {
            id: IntegrationId::from(self.ids.new_id()),
            user_id: user,
            kind,
            secret_hash: secret_hash(&secret),
            accounts,
            created_at: now,
            revoked_at: None,
        };
        let mut uow = self.store.begin().await?;
        uow.ensure_user(user, now).await?;
        uow.save_integration(&integration).await?;
        uow.commit().await?;
        Ok(NewIntegration {
            integration,
            secret,
        })
    }

    /// `GET /api/integrations`: the user's integrations, newest first (revoked ones too).
    pub async fn integrations(&self, user: UserId) -> AppResult<Vec<Integration>> {
        let mut uow = self.store.begin_read().await?;
        Ok(uow.integrations_of(user).await?)
    }

    /// `DELETE /api/integrations/{id}`: its URL answers 404 from now on. Another user's or an
    /// unknown one is `NotFound`; revoking again changes nothing.
    pub async fn revoke_integration(&self, user: UserId, id: IntegrationId) -> AppResult<()> {
        let mut uow = self.store.begin().await?;
        let mut integration = uow.integration(user, id).await?.ok_or(AppError::NotFound)?;
        if integration.revoked_at.is_none() {
            integration.revoked_at = Some(self.clock.now());
            uow.save_integration(&integration).await?;
        }
        uow.commit().await?;
        Ok(())
    }

    /// `GET /api/integrations/{id}/deliveries`: a page of the inbox, newest first.
    pub async fn deliveries(
        &self,
        user: UserId,
        id: IntegrationId,
        offset: u32,
        limit: u32,
    ) -> AppResult<Vec<Delivery>> {
        let mut uow = self.store.begin_read().await?;
        uow.integration(user, id).await?.ok_or(AppError::NotFound)?;
        Ok(uow.deliveries(id, offset, limit).await?)
    }

    /// `POST /webhooks/{secret}`: runs the delivery as the integration's user and keeps it in
    /// the inbox with its outcome. An unknown or revoked secret is `NotFound`.
    pub async fn receive_webhook(&self, secret: &str, payload: Vec<u8>) -> AppResult<Received> {
        let integration = {
            let mut uow = self.store.begin_read().await?;
            uow.integration_by_secret(&secret_hash(secret)).await?
        }
        .filter(|i| i.revoked_at.is_none())
        .ok_or(AppError::NotFound)?;
        let now = self.clock.now();
        // Kept as text: PostgreSQL's text refuses U+0000, so a NUL byte is kept as U+FFFD.
        let payload = String::from_utf8_lossy(&payload).replace('\0', "\u{FFFD}");
        let mut delivery = Delivery {
            id: DeliveryId::from(self.ids.new_id()),
            integration_id: integration.id,
            received_at: now,
            payload,
            outcome: DeliveryOutcome::Invalid,
            reason: None,
            record_id: None,
            handled_at: now,
        };
        let malformed = self.run_delivery(&integration, &mut delivery).await?;
        delivery.reason = delivery.reason.map(|r| without_controls(&r));
        let mut uow = self.store.begin().await?;
        uow.save_delivery(&delivery).await?;
        uow.commit().await?;
        Ok(Received {
            delivery,
            malformed,
        })
    }

    /// `POST /api/integrations/{id}/deliveries/{deliveryId}/replay`: runs a kept delivery
    /// again (after the catalog gained what it lacked) and keeps its new outcome.
    pub async fn replay_delivery(
        &self,
        user: UserId,
        id: IntegrationId,
        delivery: DeliveryId,
    ) -> AppResult<Delivery> {
        let (integration, mut kept) = {
            let mut uow = self.store.begin_read().await?;
            let integration = uow.integration(user, id).await?.ok_or(AppError::NotFound)?;
            let kept = uow
                .delivery(id, delivery)
                .await?
                .ok_or(AppError::NotFound)?;
            (integration, kept)
        };
        kept.handled_at = self.clock.now();
        self.run_delivery(&integration, &mut kept).await?;
        kept.reason = kept.reason.map(|r| without_controls(&r));
        let mut uow = self.store.begin().await?;
        uow.save_delivery(&kept).await?;
        uow.commit().await?;
        Ok(kept)
    }

    /// Runs a delivery's payload through the playback API as the integration's user, setting
    /// its outcome; `true` when the payload cannot be read. A store failure is an error (the
    /// server answers 503, and the media server tries again).
    async fn run_delivery(
        &self,
        integration: &Integration,
        delivery: &mut Delivery,
    ) -> AppResult<bool> {
        delivery.record_id = None;
        delivery.reason = None;
        let (outcome, reason) = match read(integration.kind, delivery.payload.as_bytes()) {
            Err(e) => {
                delivery.outcome = DeliveryOutcome::Invalid;
                delivery.reason = Some(e.to_string());
                return Ok(true);
            }
            Ok(ServerEvent::Ignored(why)) => (DeliveryOutcome::Ignored, Some(why)),
            Ok(ServerEvent::Playback {
                action,
                account,
                item,
                progress,
            }) => {
                if !integration.follows(account.as_deref()) {
                    (
                        DeliveryOutcome::Filtered,
                        Some(format!(
                            "account {:?} is not one this integration follows",
                            account.unwrap_or_default()
                        )),
                    )
                } else {
                    let mut targets = Vec::new();
                    if !item.ids.is_empty() {
                        targets.push(PlaybackTarget::ExternalIds(item.ids.clone()));
                    }
                    if let Some(show) = &item.show
                        && let Some(episode) = show.episode
                    {
                        targets.push(PlaybackTarget::ShowTitle {
                            title: show.title.clone(),
                            season: show.season,
                            episode,
                        });
                    }
                    self.play(integration.user_id, action, progress, targets, delivery)
                        .await?
                }
            }
        };
        delivery.outcome = outcome;
        if delivery.reason.is_none() {
            delivery.reason = reason;
        }
        Ok(false)
    }

    /// Tries each way the delivery names its item until one is in the catalog.
    async fn play(
        &self,
        user: UserId,
        action: PlayerAction,
        progress: Option<Percent>,
        targets: Vec<PlaybackTarget>,
        delivery: &mut Delivery,
    ) -> AppResult<(DeliveryOutcome, Option<String>)> {
        let mut last = (
            DeliveryOutcome::Unmatched,
            Some("the payload names no item".to_owned()),
        );
        for target in targets {
            let report = PlaybackReport {
                target,
                progress: progress.unwrap_or(Percent::ZERO),
                at: None,
            };
            let done = match action {
                PlayerAction::Start => self
                    .playback_start(user, report)
                    .await
                    .map(|_| DeliveryOutcome::Started),
                PlayerAction::Pause => self
                    .playback_pause(user, report)
                    .await
                    .map(|_| DeliveryOutcome::Paused),
                PlayerAction::Stop => {
                    match self.playback_stop_as(user, report, Origin::Webhook).await {
                        Ok(Stopped::Scrobbled(r)) => {
                            delivery.record_id = Some(r.id);
                            Ok(DeliveryOutcome::Recorded)
                        }
                        Ok(Stopped::Paused(_)) => Ok(DeliveryOutcome::Paused),
                        Ok(Stopped::Repeated(r)) => {
                            delivery.record_id = Some(r.id);
                            Ok(DeliveryOutcome::Duplicate)
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match done {
                Ok(outcome) => return Ok((outcome, None)),
                Err(AppError::ContentNotFound) => {
                    last = (
                        DeliveryOutcome::Unmatched,
                        Some(Unmatched::NotFound.reason().to_owned()),
                    );
                }
                Err(AppError::MetadataUnavailable(_)) => {
                    last = (
                        DeliveryOutcome::Unmatched,
                        Some(
                            Unmatched::ProviderUnavailable(String::new())
                                .reason()
                                .to_owned(),
                        ),
                    );
                }
                Err(e @ (AppError::Invalid(_) | AppError::Malformed(_))) => {
                    return Ok((DeliveryOutcome::Invalid, Some(e.to_string())));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(last)
    }
}
