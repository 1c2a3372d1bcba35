//! Against the real NATS JetStream server (`VIEWING_TEST_NATS_URL`, e.g.
//! `nats://127.0.0.1:4222`). Each test uses a stream and subject prefix of its own, deleted at
//! the end, so tests run in parallel without seeing each other's messages.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use adapters_memory::{ManualClock, MemoryStore, SequentialIds};
use adapters_nats::{NatsConfig, NatsPublisher};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use viewing_app::ViewingService;
use viewing_app::relay::Relay;
use viewing_domain::event_ports::{EventPublisher, OutboxRelay, PublishError, RelayChannel};
use viewing_domain::events::*;
use viewing_domain::rules::movie::WatchMovie;
use viewing_domain::values::{Minutes, Percent, Rating, Title};
use viewing_domain::{
    BingeSessionId, DomainEvent, EpisodeId, EventEnvelope, EventId, ItemType, Movie, MovieId,
    RecordId, RulesConfig, SeasonId, ShowId, UserId,
};

/// The server to test against; `None` (after saying so) when unset outside CI.
fn nats_url() -> Option<String> {
    match std::env::var("VIEWING_TEST_NATS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "VIEWING_TEST_NATS_URL is not set: the NATS JetStream suite must run in CI \
             (e.g. VIEWING_TEST_NATS_URL=nats://127.0.0.1:4222)"
        ),
        _ => {
            eprintln!(
                "NATS suite did NOT run: set VIEWING_TEST_NATS_URL=nats://127.0.0.1:4222 to run it"
            );
            None
        }
    }
}

/// A stream and prefix nobody else uses, with a client to inspect it.
struct Scratch {
    config: NatsConfig,
    js: async_nats::jetstream::Context,
}

impl Scratch {
    async fn new(url: &str) -> Scratch {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let mut config = NatsConfig::new(url);
        config.stream = format!("VIEWING_EVENTS_TEST_{}", tag.to_uppercase());
        config.subject_prefix = format!("test.{tag}.viewing.events");
        let client = async_nats::connect(url).await.expect("NATS answers");
        Scratch {
            config,
            js: async_nats::jetstream::new(client),
        }
    }

    async fn messages(&self) -> Vec<async_nats::jetstream::message::StreamMessage> {
        let stream = self
            .js
            .get_stream(&self.config.stream)
            .await
            .expect("the publisher created the stream");
        let count = stream.get_info().await.expect("info").state.messages;
        let mut out = Vec::new();
        for seq in 1..=count {
            out.push(stream.get_raw_message(seq).await.expect("message"));
        }
        out
    }

    async fn delete(self) {
        let _ = self.js.delete_stream(&self.config.stream).await;
    }
}

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, h, 0, 0)
        .single()
        .expect("valid")
}

fn id(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

fn envelope(n: u128, event: DomainEvent) -> EventEnvelope {
    EventEnvelope {
        event_id: EventId::from(uuid::Uuid::now_v7()),
        occurred_at: at(20),
        user_id: UserId::from(id(n)),
        event,
    }
}

/// One event of every type, with the payload fields each must carry.
fn every_event_type() -> Vec<(EventEnvelope, Value)> {
    let rating = Rating::new("r", 8.5).expect("rating");
    vec![
        (
            envelope(
                1,
                DomainEvent::MovieWatched(MovieWatched {
                    movie_id: MovieId::from(id(10)),
                    record_id: RecordId::from(id(11)),
                    watch_date: at(19),
                    viewing_location: Some("home".into()),
                    viewing_platform: Some("Netflix".into()),
                    watched_with: vec!["Ana".into()],
                    viewing_context: Some("date night".into()),
                    is_rewatch: false,
                    viewing_duration: Some(IsoDuration::from_minutes(125)),
                    imported: false,
                }),
            ),
            json!({"movieId": id(10), "recordId": id(11), "watchDate": "2026-03-02T19:00:00Z",
                   "viewingLocation": "home", "viewingPlatform": "Netflix", "watchedWith": ["Ana"],
                   "viewingContext": "date night", "isRewatch": false, "viewingDuration": "PT2H5M"}),
        ),
        (
            envelope(
                1,
                DomainEvent::TvEpisodeWatched(Box::new(TvEpisodeWatched {
                    episode_id: EpisodeId::from(id(20)),
                    record_id: RecordId::from(id(21)),
                    show_id: ShowId::from(id(22)),
                    season_number: 1,
                    episode_number: 2,
                    watch_date: at(19),
                    platform: None,
                    binge_session_id: Some(BingeSessionId::from(id(23))),
                    viewing_duration: IsoDuration::from_minutes(45),
                    is_rewatch: false,
                    backfilled: false,
                    binge_sessions_changed: Vec::new(),
                    completions: Default::default(),
                    imported: true,
                })),
            ),
            json!({"episodeId": id(20), "recordId": id(21), "showId": id(22), "seasonNumber": 1,
                   "episodeNumber": 2, "watchDate": "2026-03-02T19:00:00Z", "platform": null,
                   "bingeSessionId": id(23), "viewingDuration": "PT45M", "isRewatch": false,
                   "backfilled": false, "imported": true}),
        ),
        (
            envelope(
                1,
                DomainEvent::TvSeasonCompleted(TvSeasonCompleted {
                    season_id: SeasonId::from(id(30)),
                    show_id: ShowId::from(id(22)),
                    season_number: 1,
                    completion_date: at(19),
                    binge_duration: IsoDuration::from_minutes(26 * 60),
                    episodes_watched: 10,
                    season_rating: Some(rating),
                    next_season_intent: true,
                    pass: 1,
                }),
            ),
            json!({"seasonId": id(30), "showId": id(22), "seasonNumber": 1,
                   "completionDate": "2026-03-02T19:00:00Z", "bingeDuration": "PT26H",
                   "episodesWatched": 10, "seasonRating": 8.5, "nextSeasonIntent": true,
                   "pass": 1}),
        ),
        (
            envelope(
                1,
                DomainEvent::TvShowCompleted(TvShowCompleted {
                    show_id: ShowId::from(id(22)),
                    completion_date: at(19),
                    total_episodes: 62,
                    total_viewing_time: IsoDuration::from_minutes(62 * 47),
                    overall_rating: Some(rating),
                    rewatch_interest: true,
                    series_finale_reaction: Some("loved".into()),
                    pass: 1,
                }),
            ),
            json!({"showId": id(22), "completionDate": "2026-03-02T19:00:00Z", "totalEpisodes": 62,
                   "totalViewingTime": "PT48H34M", "overallRating": 8.5, "rewatchInterest": true,
                   "seriesFinaleReaction": "loved", "pass": 1}),
        ),
        (
            envelope(
                2,
                DomainEvent::ViewingAbandoned(ViewingAbandoned {
                    item_id: id(22),
                    item_type: ItemType::Show,
                    abandon_date: at(19),
                    progress_percent: Percent::of(1, 4),
                    abandon_reason: Some("no activity for 90 days".into()),
                    quality_rating: None,
                    would_retry: false,
                }),
            ),
            json!({"itemId": id(22), "itemType": "show", "abandonDate": "2026-03-02T19:00:00Z",
                   "progressPercent": 25.0, "abandonReason": "no activity for 90 days",
                   "qualityRating": null, "wouldRetry": false}),
        ),
        (
            envelope(
                2,
                DomainEvent::AchievementUnlocked(AchievementUnlocked {
                    achievement: "marathon".into(),
                    title: "Marathon".into(),
                    unlocked_at: at(19),
                }),
            ),
            json!({"achievement": "marathon", "title": "Marathon",
                   "unlockedAt": "2026-03-02T19:00:00Z"}),
        ),
        (
            envelope(
                2,
                DomainEvent::ShowProgressReset(ShowProgressReset {
                    show_id: ShowId::from(id(22)),
                    pass: 2,
                    reset_at: at(19),
                    completions: Default::default(),
                }),
            ),
            json!({"showId": id(22), "pass": 2, "resetAt": "2026-03-02T19:00:00Z",
                   "completions": {"seasonsRemoved": [], "seasonsAdded": [],
                                   "showRemoved": [], "showAdded": []}}),
        ),
    ]
}

#[tokio::test]
async fn each_event_type_arrives_once_with_its_envelope_and_payload() {
    let Some(url) = nats_url() else { return };
    let scratch = Scratch::new(&url).await;
    let publisher = NatsPublisher::connect(scratch.config.clone())
        .await
        .expect("connect");
    let events = every_event_type();
    for (e, _) in &events {
        publisher.publish(e).await.expect("publish");
    }
    for (e, _) in &events {
        publisher
            .publish(e)
            .await
            .expect("a redelivery is accepted");
    }
    let messages = scratch.messages().await;
    assert_eq!(messages.len(), events.len(), "each event stored once");
    for ((sent, payload), got) in events.iter().zip(&messages) {
        let event_type = sent.event_type();
        assert_eq!(
            got.subject.as_str(),
            format!("{}.{event_type}", scratch.config.subject_prefix)
        );
        let msg_id = got
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned());
        assert_eq!(msg_id, Some(sent.event_id.to_string()));
        let body: Value = serde_json::from_slice(&got.payload).expect("JSON body");
        let expected = json!({
            "schemaVersion": 1,
            "eventId": sent.event_id,
            "eventType": event_type,
            "occurredAt": "2026-03-02T20:00:00Z",
            "userId": sent.user_id,
            "payload": payload,
        });
        assert_eq!(body, expected, "{event_type}");
        let read: EventEnvelope = serde_json::from_slice(&got.payload).expect("an envelope");
        assert_eq!(&read, sent, "{event_type} reads back");
    }
    scratch.delete().await;
}

/// The envelope's schema version (SPEC §9), as consumers see it: every envelope says
/// `schemaVersion: 1`; one without it (written before versions existed) reads as version 1;
/// any other version is refused, never misread. Needs no NATS.
#[test]
fn envelopes_carry_schema_version_1_and_refuse_others() {
    for (sent, _) in every_event_type() {
        let mut body: Value = serde_json::to_value(&sent).expect("serialise");
        assert_eq!(body["schemaVersion"], 1, "{}", sent.event_type());
        let back: EventEnvelope = serde_json::from_value(body.clone()).expect("read back");
        assert_eq!(back, sent);
        if let Some(fields) = body.as_object_mut() {
            fields.remove("schemaVersion");
        }
        let legacy: EventEnvelope = serde_json::from_value(body.clone()).expect("legacy");
        assert_eq!(legacy, sent, "no schemaVersion reads as 1");
        for other in [json!(0), json!(2), json!("1"), json!(-1)] {
            body["schemaVersion"] = other.clone();
            let refused = serde_json::from_value::<EventEnvelope>(body.clone());
            assert!(refused.is_err(), "schemaVersion {other} was accepted");
        }
    }
}

/// A publisher whose target can be switched, to take the broker down and bring it back.
struct Switchable(RwLock<Arc<NatsPublisher>>);

impl Switchable {
    fn set(&self, p: NatsPublisher) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(p);
    }
}

#[async_trait]
impl EventPublisher for Switchable {
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError> {
        let current = self.0.read().unwrap_or_else(|e| e.into_inner()).clone();
        current.publish(event).await
    }
}

fn title(s: &str) -> Title {
    Title::parse(s).ok().flatten().expect("title")
}

#[tokio::test]
async fn nothing_is_lost_while_the_broker_is_down() {
    let Some(url) = nats_url() else { return };
    let scratch = Scratch::new(&url).await;
    let mut dead = scratch.config.clone();
    dead.url = "nats://127.0.0.1:1".into();
    dead.timeout = std::time::Duration::from_millis(500);
    let switch = Arc::new(Switchable(RwLock::new(Arc::new(NatsPublisher::lazy(dead)))));

    let store = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(at(20)));
    let svc = ViewingService::with_parts(
        store.clone(),
        clock.clone(),
        Arc::new(SequentialIds::default()),
        RulesConfig::default(),
    );
    let relay = Relay::new(&svc).with_publisher(switch.clone());
    let user = UserId::from(id(1));
    for n in 0..3u128 {
        svc.upsert_movie(Movie {
            id: MovieId::from(id(100 + n)),
            title: title("Film"),
            runtime: Minutes::from_u32_saturating(90),
            genres: vec![],
            release_date: None,
            external_ids: Default::default(),
        })
        .await
        .expect("movie");
    }
    let mut written = 0;
    for round in 0..3 {
        for n in 0..3u128 {
            svc.watch_movie(user, MovieId::from(id(100 + n)), WatchMovie::default())
                .await
                .expect("writes succeed while the broker is down");
            written += 1;
        }
        // Past the retry time of what failed before, so every round tries the broker again.
        clock.advance(chrono::Duration::minutes(10));
        let pass = relay.pass(RelayChannel::Broker).await.expect("pass");
        assert!(pass.broker_down, "round {round}: the broker is unreachable");
        let backlog = store
            .outbox_backlog(RelayChannel::Broker)
            .await
            .expect("backlog");
        assert!(backlog.pending >= written, "the outbox keeps growing");
        relay
            .pass(RelayChannel::Handlers)
            .await
            .expect("handlers still run");
    }
    let stats = svc
        .statistics(user, &Default::default())
        .await
        .expect("stats");
    assert_eq!(
        stats.movies, written,
        "the handlers did not wait for the broker"
    );

    switch.set(NatsPublisher::lazy(scratch.config.clone()));
    clock.advance(chrono::Duration::minutes(10));
    let mut delivered = 0;
    for _ in 0..100 {
        let pass = relay.pass(RelayChannel::Broker).await.expect("pass");
        delivered += pass.delivered;
        relay.drain().await.expect("drain");
        let left = store
            .outbox_backlog(RelayChannel::Broker)
            .await
            .expect("backlog")
            .pending;
        if left == 0 {
            break;
        }
        clock.advance(chrono::Duration::minutes(10));
    }
    let outbox = store.outbox_events().await;
    assert_eq!(
        store
            .outbox_backlog(RelayChannel::Broker)
            .await
            .expect("backlog")
            .pending,
        0
    );
    assert!(delivered > 0);
    let messages = scratch.messages().await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in &messages {
        let body: Value = serde_json::from_slice(&m.payload).expect("JSON");
        *seen
            .entry(body["eventId"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    assert_eq!(messages.len(), outbox.len(), "every outbox event, counted");
    for e in &outbox {
        assert_eq!(seen.get(&e.event_id.to_string()), Some(&1), "{e:?} once");
    }
    scratch.delete().await;
}

#[tokio::test]
async fn a_lazy_publisher_creates_the_stream_on_first_publish() {
    let Some(url) = nats_url() else { return };
    let scratch = Scratch::new(&url).await;
    let publisher = NatsPublisher::lazy(scratch.config.clone());
    assert!(scratch.js.get_stream(&scratch.config.stream).await.is_err());
    let (event, _) = every_event_type().remove(0);
    publisher.publish(&event).await.expect("publish");
    let stream = scratch
        .js
        .get_stream(&scratch.config.stream)
        .await
        .expect("created");
    let info = stream.get_info().await.expect("info");
    assert_eq!(
        info.config.subjects,
        vec![format!("{}.>", scratch.config.subject_prefix)]
    );
    assert_eq!(info.state.messages, 1);
    scratch.delete().await;
}
