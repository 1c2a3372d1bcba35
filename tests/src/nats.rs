//! The NATS JetStream server named by `VIEWING_TEST_NATS_URL` (e.g. `nats://127.0.0.1:4222`).

const ENV: &str = "VIEWING_TEST_NATS_URL";

/// The server's URL, or `None` when NATS tests may be skipped here (never under `CI=true`).
pub fn test_url() -> Option<String> {
    match std::env::var(ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{ENV} is not set and CI=true: the NATS black-box test must run in CI")
        }
        _ => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** NATS black-box test did NOT run: set {ENV}=nats://HOST:PORT ***\n"
            );
            None
        }
    }
}
