//! The router in process, over a fake inbound service (the port the handlers call): a service
//! whose store is down answers 503 `unavailable` (readiness, reads, writes, idempotency keys),
//! never a 500; query strings reach the service as typed, half-open values.

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use adapters_http::{AppState, HttpConfig, JwtSecret, router};
use adapters_memory::MemoryStore;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use tower::ServiceExt;
use viewing_app::api::ViewingApi;
use viewing_app::domain::engagement::{Achievement, Reminder, WatchlistItem};
use viewing_app::domain::event_ports::DeadLetter;
use viewing_app::domain::idempotency::{
    Decision, IdempotencyKey, RequestFingerprint, StoredResponse,
};
use viewing_app::domain::ports::HistoryFilter;
use viewing_app::domain::rules::abandon::Abandon;
use viewing_app::domain::rules::episode::WatchEpisode;
use viewing_app::domain::rules::history::EditRecord;
use viewing_app::domain::rules::movie::WatchMovie;
use viewing_app::domain::rules::progress::ProgressView;
use viewing_app::domain::{
    AbandonId, AbandonRecord, BingeSession, BingeSessionId, EpisodeId, EventId, Movie, MovieId,
    RecordId, Show, ShowId, UserId, ViewingRecord,
};
use viewing_app::engagement::GenrePreference;
use viewing_app::history::{HistoryPage, HistoryPageRequest};
use viewing_app::statistics::{Statistics, StatisticsRequest};
use viewing_app::viewing::EpisodeWatched;
use viewing_app::{AppError, AppResult, ViewingService};

/// The inbound port with nothing behind it: no catalog, no records, and a switch that takes
/// the (imaginary) store down. It keeps the history queries it was asked and the idempotency
/// keys it holds.
#[derive(Clone, Default)]
struct Fake {
    down: Arc<AtomicBool>,
    held: Arc<Mutex<HashSet<String>>>,
    asked: Arc<Mutex<Vec<(HistoryFilter, HistoryPageRequest)>>>,
}

impl Fake {
    fn up(&self) -> AppResult<()> {
        if self.down.load(Ordering::SeqCst) {
            Err(AppError::Unavailable("connection refused".into()))
        } else {
            Ok(())
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn asked(&self) -> Vec<(HistoryFilter, HistoryPageRequest)> {
        self.asked.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// What a route these tests do not call answers.
fn not_faked<T>() -> AppResult<T> {
    Err(AppError::Unexpected("not part of this fake".into()))
}

impl ViewingApi for Fake {
    async fn ping(&self) -> AppResult<()> {
        self.up()
    }
    async fn upsert_movie(&self, _: Movie) -> AppResult<Movie> {
        self.up().and_then(|_| not_faked())
    }
    async fn upsert_show(&self, _: Show) -> AppResult<Show> {
        self.up().and_then(|_| not_faked())
    }
    async fn movie(&self, _: MovieId) -> AppResult<Movie> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn show(&self, _: ShowId) -> AppResult<Show> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn watch_movie(&self, _: UserId, _: MovieId, _: WatchMovie) -> AppResult<ViewingRecord> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn watch_episode(
        &self,
        _: UserId,
        _: EpisodeId,
        _: WatchEpisode,
    ) -> AppResult<EpisodeWatched> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn abandon(&self, _: UserId, _: uuid::Uuid, _: Abandon) -> AppResult<AbandonRecord> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn viewing_record(&self, _: UserId, _: RecordId) -> AppResult<ViewingRecord> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn delete_record(&self, _: UserId, _: RecordId) -> AppResult<()> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn edit_record(&self, _: UserId, _: RecordId, _: EditRecord) -> AppResult<ViewingRecord> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn undo_abandon(&self, _: UserId, _: AbandonId) -> AppResult<()> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn lookup(
        &self,
        _: &viewing_app::catalog::LookupQuery,
    ) -> AppResult<viewing_app::catalog::LookupResult> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn import_history(
        &self,
        _: UserId,
        _: viewing_app::imports::ImportRequest,
    ) -> AppResult<viewing_app::domain::imports::Import> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn imports(&self, _: UserId) -> AppResult<Vec<viewing_app::domain::imports::Import>> {
        self.up().and(Ok(Vec::new()))
    }
    async fn import(
        &self,
        _: UserId,
        _: viewing_app::domain::ImportId,
    ) -> AppResult<viewing_app::domain::imports::Import> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn import_items(
        &self,
        _: UserId,
        _: viewing_app::domain::ImportId,
        _: Option<viewing_app::domain::imports::RowOutcome>,
        _: u32,
        _: u32,
    ) -> AppResult<Vec<viewing_app::domain::imports::ImportItem>> {
        self.up().and(Ok(Vec::new()))
    }
    async fn playback_start(
        &self,
        _: UserId,
        _: viewing_app::playback::PlaybackReport,
    ) -> AppResult<viewing_app::domain::rules::playback::Playback> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn playback_pause(
        &self,
        _: UserId,
        _: viewing_app::playback::PlaybackReport,
    ) -> AppResult<viewing_app::domain::rules::playback::Playback> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn playback_stop(
        &self,
        _: UserId,
        _: viewing_app::playback::PlaybackReport,
    ) -> AppResult<viewing_app::playback::Stopped> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn now_watching(
        &self,
        _: UserId,
    ) -> AppResult<Option<viewing_app::domain::rules::playback::Playback>> {
        self.up().and(Ok(None))
    }
    async fn paused_playbacks(
        &self,
        _: UserId,
    ) -> AppResult<Vec<viewing_app::domain::rules::playback::Playback>> {
        self.up().and(Ok(Vec::new()))
    }
    async fn drop_playback(&self, _: UserId, _: viewing_app::domain::PlaybackId) -> AppResult<()> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn create_integration(
        &self,
        _: UserId,
        _: viewing_app::domain::integrations::IntegrationKind,
        _: Vec<String>,
    ) -> AppResult<viewing_app::integrations::NewIntegration> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn integrations(
        &self,
        _: UserId,
    ) -> AppResult<Vec<viewing_app::domain::integrations::Integration>> {
        self.up().and(Ok(Vec::new()))
    }
    async fn revoke_integration(
        &self,
        _: UserId,
        _: viewing_app::domain::IntegrationId,
    ) -> AppResult<()> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn deliveries(
        &self,
        _: UserId,
        _: viewing_app::domain::IntegrationId,
        _: u32,
        _: u32,
    ) -> AppResult<Vec<viewing_app::domain::integrations::Delivery>> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn receive_webhook(
        &self,
        _: &str,
        _: Vec<u8>,
    ) -> AppResult<viewing_app::integrations::Received> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn replay_delivery(
        &self,
        _: UserId,
        _: viewing_app::domain::IntegrationId,
        _: viewing_app::domain::DeliveryId,
    ) -> AppResult<viewing_app::domain::integrations::Delivery> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn export(&self, _: UserId) -> AppResult<viewing_app::export::ExportDocument> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn export_letterboxd(&self, _: UserId) -> AppResult<String> {
        self.up().and(Ok(String::new()))
    }
    async fn undo_import(
        &self,
        _: UserId,
        _: viewing_app::domain::ImportId,
    ) -> AppResult<viewing_app::domain::imports::Import> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn search_titles(
        &self,
        _: &str,
        _: Option<viewing_app::domain::ItemKind>,
        _: Option<i32>,
    ) -> AppResult<Vec<viewing_app::domain::search::TitleHit>> {
        self.up().and(Ok(Vec::new()))
    }
    async fn refresh(
        &self,
        _: viewing_app::domain::ItemKind,
        _: uuid::Uuid,
    ) -> AppResult<viewing_app::domain::metadata::Fetched> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn reset_progress(&self, _: UserId, _: ShowId) -> AppResult<ProgressView> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn undo_reset(&self, _: UserId, _: ShowId) -> AppResult<()> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn abandon_record(&self, _: UserId, _: AbandonId) -> AppResult<AbandonRecord> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn binge_session(&self, _: UserId, _: BingeSessionId) -> AppResult<BingeSession> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn history(
        &self,
        _: UserId,
        filter: &HistoryFilter,
        request: HistoryPageRequest,
    ) -> AppResult<HistoryPage> {
        self.up()?;
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((filter.clone(), request));
        Ok(HistoryPage {
            items: Vec::new(),
            page: request.page(),
            limit: request.limit(),
            total_items: 0,
            total_pages: 0,
            next_cursor: None,
        })
    }
    async fn progress(&self, _: UserId, _: ShowId) -> AppResult<ProgressView> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn up_next(&self, _: UserId) -> AppResult<Vec<ProgressView>> {
        self.up().map(|_| Vec::new())
    }
    async fn statistics(&self, _: UserId, _: &StatisticsRequest) -> AppResult<Statistics> {
        self.up().and_then(|_| not_faked())
    }
    async fn achievements(&self, _: UserId) -> AppResult<Vec<Achievement>> {
        self.up().map(|_| Vec::new())
    }
    async fn watchlist(&self, _: UserId) -> AppResult<Vec<WatchlistItem>> {
        self.up().map(|_| Vec::new())
    }
    async fn add_to_watchlist(&self, _: UserId, _: uuid::Uuid) -> AppResult<(WatchlistItem, bool)> {
        self.up().and(Err(AppError::ContentNotFound))
    }
    async fn remove_from_watchlist(&self, _: UserId, _: uuid::Uuid) -> AppResult<()> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn reminders(&self, _: UserId) -> AppResult<Vec<Reminder>> {
        self.up().map(|_| Vec::new())
    }
    async fn preferences(&self, _: UserId) -> AppResult<Vec<GenrePreference>> {
        self.up().map(|_| Vec::new())
    }
    async fn dead_letters(&self) -> AppResult<Vec<DeadLetter>> {
        self.up().map(|_| Vec::new())
    }
    async fn retry_dead_letter(&self, _: EventId) -> AppResult<Vec<DeadLetter>> {
        self.up().and(Err(AppError::NotFound))
    }
    async fn claim_idempotency_key(
        &self,
        _: UserId,
        key: &IdempotencyKey,
        _: &RequestFingerprint,
    ) -> AppResult<Decision> {
        self.up()?;
        Ok(if self.held().insert(key.as_str().to_owned()) {
            Decision::Fresh
        } else {
            Decision::InFlight
        })
    }
    async fn complete_idempotency_key(
        &self,
        _: UserId,
        _: &IdempotencyKey,
        _: &StoredResponse,
    ) -> AppResult<()> {
        self.up()
    }
    async fn release_idempotency_key(&self, _: UserId, key: &IdempotencyKey) -> AppResult<()> {
        self.up()?;
        self.held().remove(key.as_str());
        Ok(())
    }
}

const SECRET: &str = "router-test-secret";

fn config() -> HttpConfig {
    let n = |v| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    HttpConfig {
        jwt_secret: JwtSecret::new(SECRET),
        rate_limit_per_min: n(600),
        rate_limit_burst: n(100),
        anon_rate_limit_per_min: n(60),
        anon_rate_limit_burst: n(20),
    }
}

fn app(service: Fake) -> (axum::Router, String) {
    let state = AppState::new(service, &config());
    let now = Utc::now();
    let token = state
        .authenticator()
        .mint(
            UserId::from(uuid::Uuid::new_v4()),
            true,
            now,
            now + chrono::Duration::hours(1),
        )
        .unwrap_or_default();
    (router(state), token)
}

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(content_type, "application/problem+json");
    }
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_store_that_is_down_answers_503() {
    let store = Fake::default();
    let (app, token) = app(store.clone());

    let (status, _) = call(&app, get("/health/ready", &token)).await;
    assert_eq!(status, StatusCode::OK);

    store.down.store(true, Ordering::SeqCst);
    let (status, body) = call(&app, get("/health/ready", &token)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "unavailable");
    let (status, body) = call(&app, get("/api/viewing/history", &token)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "unavailable");
    let movie = uuid::Uuid::new_v4();
    let post = |key: Option<&str>| {
        let mut b = Request::post(format!("/api/viewing/movies/{movie}/watched"))
            .header("authorization", format!("Bearer {token}"));
        if let Some(k) = key {
            b = b.header("idempotency-key", k);
        }
        b.body(Body::from("{}")).unwrap_or_default()
    };
    for key in [None, Some("k")] {
        let (status, body) = call(&app, post(key)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{key:?}");
        assert_eq!(body["code"], "unavailable");
    }
    // Liveness does not depend on the store.
    let (status, _) = call(&app, get("/health/live", &token)).await;
    assert_eq!(status, StatusCode::OK);

    // Back up: the same key runs, its failure was not kept.
    store.down.store(false, Ordering::SeqCst);
    let (status, body) = call(&app, post(Some("k"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "content-not-found");
}

#[tokio::test]
async fn the_openapi_document_is_valid_json_with_every_route() {
    let (app, token) = app(Fake::default());
    let (status, doc) = call(&app, get("/api/openapi.json", &token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["paths"].as_object().map(|p| p.len()), Some(42));
}

#[tokio::test]
async fn metrics_append_the_background_runners_numbers() {
    let service = ViewingService::new(MemoryStore::new());
    let relay = viewing_app::relay::Relay::new(&service);
    relay
        .refresh_backlog()
        .await
        .unwrap_or_else(|e| panic!("backlog: {e}"));
    let state = AppState::new(service, &config()).with_relay_metrics(relay.metrics());
    let response = router(state)
        .oneshot(
            Request::get("/metrics")
                .body(Body::empty())
                .unwrap_or_default(),
        )
        .await
        .unwrap_or_else(|e| match e {});
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE viewing_outbox_backlog gauge"),
        "{text}"
    );
    assert!(
        text.contains("viewing_outbox_backlog{channel=\"handlers\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE viewing_handler_lag_seconds gauge"),
        "{text}"
    );
}

fn utc(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[tokio::test]
async fn history_queries_reach_the_service_typed_and_half_open() {
    let service = Fake::default();
    let (app, token) = app(service.clone());
    let (status, body) = call(
        &app,
        get(
            "/api/viewing/history?startDate=2026-07-01&endDate=2026-07-01&tz=Europe/Paris\
             &contentType=episode&platform=&limit=5&page=2",
            &token,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["page"].as_u64(), body["limit"].as_u64()),
        (Some(2), Some(5))
    );
    let asked = service.asked();
    let [(filter, request)] = asked.as_slice() else {
        panic!("asked {asked:?}");
    };
    assert_eq!(filter.from, utc("2026-06-30T22:00:00Z"));
    assert_eq!(
        filter.to,
        utc("2026-07-01T22:00:00Z"),
        "the day after, exclusive"
    );
    assert_eq!(filter.platform, None, "an empty platform is absent");
    assert_eq!((request.page(), request.limit()), (2, 5));

    // A bad value is a 400 naming the parameter, and the service is not asked.
    for (query, param) in [
        ("endDate=", "endDate"),
        ("startDate=1899-12-31", "startDate"),
        ("tz=Mars/Olympus", "tz"),
        ("limit=101", "limit"),
        ("cursor=zz", "cursor"),
    ] {
        let (status, body) =
            call(&app, get(&format!("/api/viewing/history?{query}"), &token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["code"], "malformed-request", "{query}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with(&format!("{param}: ")),
            "{query}: {detail}"
        );
    }
    assert_eq!(service.asked().len(), 1);
}
