//! The first connection, made directly and with a deadline, so that a server that cannot be
//! reached is reported at once and in words a person can act on: the pool alone retries a
//! refused connection until its acquire timeout and then says only "pool timed out".

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use viewing_domain::ports::StoreError;

/// How long the first connection may take before the server is reported unreachable.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects once to the server `options` name and closes the connection again; on failure,
/// `cannot connect to PostgreSQL at HOST:PORT: CAUSE` (connection refused, database "x" does
/// not exist, password authentication failed for user "u", no answer within 5 s, …).
pub(crate) async fn check_reachable(options: &PgConnectOptions) -> Result<(), StoreError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => {
            // Closing politely is a courtesy; a failure here says nothing about the server.
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(unreachable(options, &cause(&e))),
        Err(_) => Err(unreachable(
            options,
            &format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        )),
    }
}

/// Where the options point: `host:port`, or the Unix socket.
pub(crate) fn address(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(socket) => format!("{} (port {})", socket.display(), options.get_port()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

fn unreachable(options: &PgConnectOptions, cause: &str) -> StoreError {
    StoreError::unavailable(format!(
        "cannot connect to PostgreSQL at {}: {cause}",
        address(options)
    ))
}

/// The reason, as the server or the operating system gave it. PostgreSQL's own messages are
/// clear (`database "x" does not exist`, `password authentication failed for user "u"`); an
/// I/O error is put in the usual short words.
fn cause(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            std::io::ErrorKind::TimedOut => "connection timed out".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => io.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn the_address_names_host_and_port() {
        let tcp = PgConnectOptions::from_str("postgres://u:pw@db.example:5999/x")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(address(&tcp), "db.example:5999");
        let err = unreachable(&tcp, "connection refused").to_string();
        assert!(
            err.contains("cannot connect to PostgreSQL at db.example:5999: connection refused"),
            "{err}"
        );
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn io_causes_in_short_words() {
        let refused = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert_eq!(cause(&refused), "connection refused");
    }
}
