//! Prints the domain events stored in JetStream stream `VIEWING_EVENTS` as they arrive, one
//! line each: sequence, subject, JSON envelope. For a machine without the `nats` CLI:
//!
//! ```sh
//! cargo run -p adapters-nats --example tail-events -- nats://127.0.0.1:4222 [--from-start]
//! ```
//!
//! It reads the stream (what JetStream stored), not the live subjects, so `--from-start`
//! replays every event kept so far.

use std::time::Duration;

use adapters_nats::NatsConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut url = "nats://127.0.0.1:4222".to_owned();
    let mut from_start = false;
    for arg in std::env::args().skip(1) {
        if arg == "--from-start" {
            from_start = true;
        } else {
            url = arg;
        }
    }
    let js = async_nats::jetstream::new(async_nats::connect(url.as_str()).await?);
    eprintln!(
        "following stream {} on {url} (Ctrl-C stops)",
        NatsConfig::STREAM
    );
    // The next sequence to print; `None` until the stream is first seen.
    let mut next: Option<u64> = from_start.then_some(1);
    loop {
        match js.get_stream(NatsConfig::STREAM).await {
            Ok(stream) => {
                let state = stream.get_info().await?.state;
                let mut seq = next
                    .unwrap_or(state.last_sequence + 1)
                    .max(state.first_sequence);
                while seq <= state.last_sequence {
                    // A message deleted meanwhile is skipped.
                    if let Ok(m) = stream.get_raw_message(seq).await {
                        println!(
                            "{} {} {}",
                            m.sequence,
                            m.subject,
                            String::from_utf8_lossy(&m.payload)
                        );
                    }
                    seq += 1;
                }
                next = Some(seq);
            }
            // Not created yet (the server creates it at its first publish): all will be new.
            Err(_) => next = next.or(Some(1)),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
