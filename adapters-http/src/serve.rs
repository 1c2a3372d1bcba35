//! The HTTP edge: serving the router so that *every* error is problem+json (SPEC §9), even
//! those hyper answers itself before the router sees the request, and the URI length limit.
//!
//! hyper refuses some requests while parsing them: more than [`MAX_HEADERS`] header fields or a
//! header section over its read buffer (431), a request target over 64 KiB (414), a request
//! line or header it cannot parse (400). For those it writes a body-less response of its own
//! (`HTTP/1.1 431 Request Header Fields Too Large`, `connection: close`, `content-length: 0`,
//! `date`) and closes the connection (hyper `proto/h1/conn.rs` `on_parse_error`, `role.rs`
//! `Server::on_error`). No router, middleware or service is involved, so [`serve()`] wraps each
//! connection's stream in [`EdgeIo`], which recognises exactly that response on its way out
//! and writes a problem+json one instead. Recognising it is sound because no response of the
//! router has that shape: every router response carries `x-request-id`, and every error of the
//! router has a problem+json body (`problem_guard`), so never `content-length: 0`.
//!
//! Those answers, and many of the router's errors (413, 414, a 401 or 403 given before the body
//! is looked at), go out before the request was read whole, and hyper then closes the
//! connection. Closing a socket with unread input makes the kernel reset the connection, and a
//! client still sending then loses the answer. So after an error answer [`EdgeIo`] closes the
//! connection gently ("lingering close", as Apache and nginx do): it sends its end-of-stream,
//! then reads and discards what the client still sends, at most [`LINGER`] and
//! [`LINGER_BYTES`], before the socket is dropped.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::{Listener, ListenerExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::error::{ApiError, PROBLEM_JSON};

/// Longest request target (path and query, in bytes) the service reads: longer → 414.
pub const MAX_URI_LEN: usize = 8 * 1024;

/// Longest wait, when closing a connection after an error answer, for the client to finish
/// sending (see the module documentation).
pub const LINGER: Duration = Duration::from_secs(2);

/// Most bytes read and discarded while lingering.
pub const LINGER_BYTES: usize = 1024 * 1024;

/// Most request header fields hyper reads (its default, which `axum::serve` keeps): more →
/// 431.
pub const MAX_HEADERS: usize = 100;

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests in
/// flight. Each handler can read the client address as `ConnectInfo<SocketAddr>` (the
/// per-address rate limit does), and requests hyper refuses while parsing them are answered
/// with problem+json (see the module documentation).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // `tap_io` is what gives a custom listener `ConnectInfo<SocketAddr>` in axum 0.8; the tap
    // itself turns off Nagle's algorithm, as small JSON answers want.
    let listener = EdgeListener(listener).tap_io(|io: &mut EdgeIo<TcpStream>| {
        if let Err(e) = io.get_ref().set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// A request target over [`MAX_URI_LEN`] bytes → 414 problem+json, before anything else looks
/// at the request.
pub async fn limit_uri(req: Request, next: Next) -> Response {
    let len = req
        .uri()
        .path_and_query()
        .map_or(req.uri().path().len(), |pq| pq.as_str().len());
    if len > MAX_URI_LEN {
        return ApiError::UriTooLong.into_response();
    }
    next.run(req).await
}

/// An error answer to a request that came with a body says `connection: close`. Most errors
/// (401, 403, a bad path id, 413, 429…) are given before the body is read, and hyper then
/// cannot keep the connection: without the header, a client would believe it could send its
/// next request on a connection that is about to close.
pub async fn close_after_error(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    let mut response = next.run(req).await;
    let status = response.status();
    if has_body && (status.is_client_error() || status.is_server_error()) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A TCP listener whose connections are [`EdgeIo`] streams.
#[derive(Debug)]
pub struct EdgeListener(pub TcpListener);

impl Listener for EdgeListener {
    type Io = EdgeIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        (EdgeIo::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection's stream that replaces hyper's own body-less error response (400, 414, 431)
/// with a problem+json response; everything else passes through untouched.
#[derive(Debug)]
pub struct EdgeIo<T> {
    inner: T,
    /// The problem+json response written in place of hyper's, and how much of it is sent.
    replacement: Vec<u8>,
    sent: usize,
    /// An error answer went out (its request may be unread): linger at shutdown.
    linger: bool,
    /// Our end-of-stream is sent.
    shut: bool,
    /// Set when lingering starts.
    linger_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    discarded: usize,
}

impl<T> EdgeIo<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            replacement: Vec::new(),
            sent: 0,
            linger: false,
            shut: false,
            linger_deadline: None,
            discarded: 0,
        }
    }

    pub fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: AsyncWrite + Unpin> EdgeIo<T> {
    /// Writes what is left of the replacement response.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(rest) = self.replacement.get(self.sent..).filter(|r| !r.is_empty()) {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Notes an error answer (4xx, 5xx) starting in `bytes`: the connection lingers at
    /// shutdown after one.
    fn note_status(&mut self, bytes: &[u8]) {
        if let Some(b'4' | b'5') = bytes
            .strip_prefix(b"HTTP/1.1 ")
            .or_else(|| bytes.strip_prefix(b"HTTP/1.0 "))
            .and_then(|status| status.first())
        {
            self.linger = true;
        }
    }

    /// When `head` is hyper's own refusal, stages the problem+json response instead.
    fn replace(&mut self, head: &[u8]) -> bool {
        let Some((status, date)) = parser_refusal(head) else {
            return false;
        };
        tracing::info!(
            status = status.as_u16(),
            "request refused while parsing it; answered with problem+json"
        );
        self.replacement = problem_response(status, date);
        self.sent = 0;
        true
    }
}

impl<T: AsyncRead + Unpin> EdgeIo<T> {
    /// Reads and discards the client's input until it ends, [`LINGER`] passes or
    /// [`LINGER_BYTES`] are read.
    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self
            .linger_deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(LINGER)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        let mut scratch = [0_u8; 8192];
        while self.discarded < LINGER_BYTES {
            let mut buf = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut self.inner).poll_read(cx, &mut buf)) {
                Ok(()) if !buf.filled().is_empty() => self.discarded += buf.filled().len(),
                // End of input, or a broken connection: nothing left to wait for.
                Ok(()) | Err(_) => break,
            }
        }
        Poll::Ready(())
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for EdgeIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for EdgeIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        this.note_status(buf);
        if this.replace(buf) {
            // hyper's bytes count as written; the replacement goes out on flush.
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        // A response head comes first, in one slice; hyper's refusal is that head alone.
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        if let Some(first) = filled.next() {
            this.note_status(first);
            if filled.next().is_none() && this.replace(first) {
                return Poll::Ready(Ok(first.len()));
            }
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if !this.shut {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.shut = true;
        }
        if this.linger {
            ready!(this.poll_linger(cx));
        }
        Poll::Ready(Ok(()))
    }
}

/// The status (and `date` value) of `bytes` when they are exactly hyper's automatic answer to
/// a request it could not parse: a 400, 414 or 431 status line, `content-length: 0`, at most
/// `connection: close` and a `date` header besides, and nothing after the head.
fn parser_refusal(bytes: &[u8]) -> Option<(StatusCode, Option<&[u8]>)> {
    let head = bytes.strip_suffix(b"\r\n\r\n")?;
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next()?;
    let rest = status_line
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix(b"HTTP/1.0 "))?;
    let status = match rest.get(..4)? {
        b"400 " => StatusCode::BAD_REQUEST,
        b"414 " => StatusCode::URI_TOO_LONG,
        b"431 " => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => return None,
    };
    let (mut empty_body, mut close, mut date) = (false, false, None);
    for line in lines {
        let colon = line.iter().position(|b| *b == b':')?;
        let (name, value) = (line.get(..colon)?, line.get(colon + 1..)?.trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") && value == b"0" && !empty_body {
            empty_body = true;
        } else if name.eq_ignore_ascii_case(b"connection")
            && value.eq_ignore_ascii_case(b"close")
            && !close
        {
            close = true;
        } else if name.eq_ignore_ascii_case(b"date") && date.is_none() {
            date = Some(value);
        } else {
            return None;
        }
    }
    empty_body.then_some((status, date))
}

/// The problem+json response for a request hyper refused; the connection closes after it.
fn problem_response(status: StatusCode, date: Option<&[u8]>) -> Vec<u8> {
    let error = match status {
        StatusCode::URI_TOO_LONG => ApiError::UriTooLong,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::HeadersTooLarge,
        _ => ApiError::Malformed("the request is not valid HTTP/1.1".to_owned()),
    };
    let body = serde_json::to_vec(&error.problem()).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\nconnection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    if let Some(date) = date {
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(date);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// What hyper 1.12 writes for 150 request headers, byte for byte.
    const HYPER_431: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Tue, 02 Jun 2026 10:00:00 GMT\r\n\r\n";

    #[test]
    fn recognises_hypers_refusals_only() {
        assert_eq!(
            parser_refusal(HYPER_431),
            Some((
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                Some(&b"Tue, 02 Jun 2026 10:00:00 GMT"[..])
            ))
        );
        assert_eq!(
            parser_refusal(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n"),
            Some((StatusCode::URI_TOO_LONG, None))
        );
        assert_eq!(
            parser_refusal(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
            Some((StatusCode::BAD_REQUEST, None))
        );
        for not_hyper in [
            // Another status.
            &b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"[..],
            // A body.
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nx",
            // A router response: it names its request.
            b"HTTP/1.1 400 Bad Request\r\nx-request-id: 1\r\ncontent-length: 0\r\n\r\n",
            // No content-length: a streamed body may follow.
            b"HTTP/1.1 400 Bad Request\r\ndate: x\r\n\r\n",
            // Not a whole head.
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n",
            b"",
        ] {
            assert_eq!(
                parser_refusal(not_hyper),
                None,
                "{}",
                String::from_utf8_lossy(not_hyper)
            );
        }
    }

    #[tokio::test]
    async fn writes_problem_json_in_place_of_hypers_refusal_and_lingers() {
        let (server, mut client) = tokio::io::duplex(64 * 1024);
        let mut io = EdgeIo::new(server);
        let server_side = tokio::spawn(async move {
            io.write_all(HYPER_431).await?;
            io.shutdown().await?;
            Ok::<_, io::Error>(io.discarded)
        });
        // The client is still sending the rest of its request when the answer comes.
        client
            .write_all(b"x-late: 1\r\n\r\n")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut got = String::new();
        client
            .read_to_string(&mut got)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        client.shutdown().await.unwrap_or_else(|e| panic!("{e}"));
        // The server read (and dropped) the late bytes before closing, and stopped lingering
        // as soon as the client was done, well before `LINGER`.
        let discarded = tokio::time::timeout(LINGER / 2, server_side)
            .await
            .unwrap_or_else(|_| panic!("shutdown waited for the linger timeout"))
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(discarded, b"x-late: 1\r\n\r\n".len());

        let (head, body) = got
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no head: {got}"));
        assert!(
            head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{head}"
        );
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert!(head.contains("connection: close"), "{head}");
        assert!(
            head.contains("date: Tue, 02 Jun 2026 10:00:00 GMT"),
            "{head}"
        );
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let problem: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(problem["code"], "headers-too-large");
        assert_eq!(problem["status"], 431);
    }

    #[tokio::test]
    async fn other_bytes_pass_through_without_lingering() {
        let (server, mut client) = tokio::io::duplex(64 * 1024);
        let mut io = EdgeIo::new(server);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        io.write_all(ok).await.unwrap_or_else(|e| panic!("{e}"));
        // The client keeps its end open: a 200 closes at once all the same.
        tokio::time::timeout(LINGER / 2, io.shutdown())
            .await
            .unwrap_or_else(|_| panic!("lingered after a 200"))
            .unwrap_or_else(|e| panic!("{e}"));
        drop(io);
        let mut got = Vec::new();
        client
            .read_to_end(&mut got)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, ok);
    }
}
