//! The use cases, relay passes and handlers open `debug` spans under whatever span the caller
//! is in (the HTTP request's), so a slow request or a stuck pass shows which step was slow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::support::*;
use async_trait::async_trait;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Instrument, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use viewing_app::handlers::{EventHandler, HandlerContext};
use viewing_app::relay::Relay;
use viewing_app::{AppError, AppResult};
use viewing_domain::ports::UnitOfWork;
use viewing_domain::{EventEnvelope, ShowStatus};

/// A span as it was opened, with its parent and every field recorded on it.
#[derive(Debug, Clone)]
struct SeenSpan {
    name: &'static str,
    parent: Option<&'static str>,
    fields: Vec<String>,
}

impl SeenSpan {
    fn has(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f == field)
    }
}

#[derive(Debug, Clone)]
struct SeenEvent {
    span: Option<&'static str>,
    fields: Vec<String>,
}

#[derive(Default)]
struct Seen {
    spans: Vec<SeenSpan>,
    by_id: HashMap<u64, usize>,
    events: Vec<SeenEvent>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Seen>>);

struct Fields<'a>(&'a mut Vec<String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(format!("{}={value}", field.name()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{}={value:?}", field.name()));
    }
}

impl Capture {
    fn seen<T>(&self, f: impl FnOnce(&mut Seen) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn spans(&self, name: &str) -> Vec<SeenSpan> {
        self.seen(|s| s.spans.iter().filter(|x| x.name == name).cloned().collect())
    }

    fn events(&self) -> Vec<SeenEvent> {
        self.seen(|s| s.events.clone())
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let parent = ctx.span(id).and_then(|s| s.parent()).map(|p| p.name());
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        self.seen(|s| {
            s.by_id.insert(id.into_u64(), s.spans.len());
            s.spans.push(SeenSpan {
                name: attrs.metadata().name(),
                parent,
                fields,
            });
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        self.seen(|s| {
            if let Some(&i) = s.by_id.get(&id.into_u64()) {
                values.record(&mut Fields(&mut s.spans[i].fields));
            }
        });
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let span = ctx.event_span(event).map(|s| s.name());
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.seen(|s| s.events.push(SeenEvent { span, fields }));
    }
}

/// Captures everything at `level` and above on this thread while the guard lives.
fn capture(level: LevelFilter) -> (Capture, tracing::subscriber::DefaultGuard) {
    let c = Capture::default();
    let subscriber = tracing_subscriber::registry().with(c.clone().with_filter(level));
    (c, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn a_use_case_span_sits_under_the_callers_span_and_names_the_user_and_episode() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[3])).await;
    let (seen, _guard) = capture(LevelFilter::DEBUG);

    w.watch_at(1, 1, 1, t0())
        .instrument(tracing::info_span!("request"))
        .await
        .expect("S1E1");

    let spans = seen.spans("watch_episode");
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(spans[0].parent, Some("request"));
    assert!(spans[0].has(&format!("user={}", w.user)), "{spans:?}");
    assert!(
        spans[0].has(&format!("episode={}", episode_id(1, 1, 1))),
        "{spans:?}"
    );
}

#[tokio::test]
async fn a_refused_command_is_an_answer_and_records_no_failure() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[3])).await;
    let (seen, _guard) = capture(LevelFilter::DEBUG);

    let refused = w.watch_at(1, 1, 3, t0()).await;
    assert!(matches!(refused, Err(AppError::EpisodeOutOfOrder(_))));

    assert_eq!(seen.spans("watch_episode").len(), 1);
    let failures: Vec<_> = seen
        .events()
        .into_iter()
        .filter(|e| e.fields.iter().any(|f| f.starts_with("error=")))
        .collect();
    assert!(failures.is_empty(), "a 4xx is not a failure: {failures:?}");
}

#[tokio::test]
async fn the_spans_are_debug_so_the_default_info_log_stays_quiet() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[3])).await;
    let (seen, _guard) = capture(LevelFilter::INFO);
    w.watch_at(1, 1, 1, t0()).await.expect("S1E1");
    w.drain().await;
    assert!(seen.seen(|s| s.spans.is_empty() && s.events.is_empty()));
}

#[tokio::test]
async fn a_relay_pass_records_its_counts_and_applies_its_batch_to_each_handler_in_its_own_span() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[3])).await;
    w.watch_at(1, 1, 1, t0()).await.expect("S1E1");
    w.watch_at(1, 1, 2, t0() + minutes(50)).await.expect("S1E2");
    let (seen, _guard) = capture(LevelFilter::DEBUG);

    assert_eq!(w.drain().await, 2);

    let passes = seen.spans("pass");
    let busy: Vec<_> = passes.iter().filter(|p| p.has("claimed=2")).collect();
    assert_eq!(busy.len(), 1, "{passes:?}");
    assert!(busy[0].has("channel=handlers"));
    assert!(busy[0].has("delivered=2"));
    assert!(busy[0].has("failed=0"));
    assert_eq!(busy[0].parent, Some("drain"));

    // Both events in one unit of work: one batch span under the pass.
    let batches = seen.spans("apply_batch");
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert_eq!(batches[0].parent, Some("pass"));
    assert!(batches[0].has("events=2"));
    let handles = seen.spans("handle");
    let names: Vec<_> = handles
        .iter()
        .filter_map(|h| h.fields.iter().find(|f| f.starts_with("handler=")))
        .collect();
    for handler in [
        "statistics",
        "achievements",
        "watchlist",
        "reminders",
        "preferences",
    ] {
        let n = names
            .iter()
            .filter(|f| **f == &format!("handler={handler}"))
            .count();
        assert_eq!(n, 2, "{handler}: {names:?}");
    }
}

struct Broken;

#[async_trait]
impl<U: UnitOfWork> EventHandler<U> for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    async fn handle(&self, _: &mut U, _: &EventEnvelope, _: &HandlerContext<'_>) -> AppResult<()> {
        Err(AppError::Unexpected("the disk is on fire".into()))
    }
}

#[tokio::test]
async fn a_failing_handler_is_recorded_on_the_delivery_and_the_pass_counts_it() {
    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[3])).await;
    w.watch_at(1, 1, 1, t0()).await.expect("S1E1");
    let relay = Relay::new(&w.svc).with_handlers(vec![Box::new(Broken)]);
    let (seen, _guard) = capture(LevelFilter::DEBUG);

    let o = relay
        .pass(viewing_domain::event_ports::RelayChannel::Handlers)
        .await
        .expect("pass");
    assert_eq!(o.failed, 1);

    let pass = seen.spans("pass");
    assert!(pass.iter().any(|p| p.has("failed=1")), "{pass:?}");
    let failed_delivery = seen.events().into_iter().any(|e| {
        e.span == Some("deliver_to_handlers")
            && e.fields
                .iter()
                .any(|f| f.starts_with("error=") && f.contains("broken"))
    });
    assert!(failed_delivery, "{:?}", seen.events());
}

#[tokio::test]
async fn each_runner_step_is_a_trace_of_its_own_named_like_its_task() {
    use viewing_app::engagement::RecordingNotifier;
    use viewing_app::runner::{Runner, RunnerConfig};

    let w = World::new();
    w.given_show(show(1, ShowStatus::Ended, &[3])).await;
    w.watch_at(1, 1, 1, t0()).await.expect("S1E1");
    let (seen, _guard) = capture(LevelFilter::DEBUG);

    Runner::new(
        w.svc.clone(),
        Relay::new(&w.svc),
        Arc::new(RecordingNotifier::default()),
    )
    .with_config(RunnerConfig {
        poll_interval: std::time::Duration::from_millis(10),
        ..RunnerConfig::default()
    })
    .run(tokio::time::sleep(std::time::Duration::from_millis(100)))
    .await;

    let steps = seen.spans("runner");
    assert!(steps.iter().all(|s| s.parent.is_none()), "{steps:?}");
    for task in ["relay", "metrics", "reminders", "inactivity"] {
        assert!(
            steps.iter().any(|s| s.has(&format!("task={task}"))),
            "{task}: {steps:?}"
        );
    }
    let passes = seen.spans("pass");
    assert!(passes.iter().all(|p| p.parent == Some("runner")));
    assert!(passes.iter().any(|p| p.has("delivered=1")), "{passes:?}");
    let jobs = seen.spans("report_inactive_shows");
    assert!(jobs.iter().all(|j| j.parent == Some("runner")) && !jobs.is_empty());
}
