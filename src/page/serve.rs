//! Serving the page's connections: hyper's HTTP/1 connection builder driven
//! by our own accept loop, so that a program on the same computer cannot
//! hold the page server up. Headers must arrive within [`HEADER_TIMEOUT`]
//! (an idle connection is closed after as long); at most [`MAX_CONNECTIONS`]
//! are open at once, fewer under a low open-file limit, so accepting never
//! fails for lack of files and the page's own requests wait about one header
//! timeout for a place even behind 1,000 half-sent requests; and the replies
//! hyper writes by itself (400, 414, 431, when a request cannot even be
//! read) carry the same security headers as every other reply.
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};

/// How long a request's head may take to arrive in full.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections served at once at most; more wait, unaccepted, until one
/// closes. Lower when the open-file limit is (see [`connection_cap`]).
pub const MAX_CONNECTIONS: usize = 768;

/// Files kept free for everything else the check opens (its own files, the
/// connection test's sockets, the draft).
#[cfg(unix)]
const FILES_KEPT: usize = 128;

/// How many connections to serve at once: [`MAX_CONNECTIONS`], or fewer so
/// that accepting one never fails for want of a file.
fn connection_cap() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            let files = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
            return files.saturating_sub(FILES_KEPT).clamp(16, MAX_CONNECTIONS);
        }
    }
    MAX_CONNECTIONS
}

/// Serve `router` on `listener` until `stop` is notified, then let open
/// connections finish briefly.
pub(super) async fn serve(listener: TcpListener, router: axum::Router, stop: Arc<Notify>) {
    let places = Arc::new(Semaphore::new(connection_cap()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    loop {
        let place = tokio::select! {
            place = places.clone().acquire_owned() => place,
            () = stop.notified() => break,
        };
        let Ok(place) = place else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of files or similar: wait a moment rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.notified() => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection =
            graceful.watch(builder.serve_connection(TokioIo::new(Guarded::new(stream)), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(place);
        });
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
}

/// A connection whose replies from hyper itself get the security headers.
///
/// Every reply the router makes carries them already (`super::secure`);
/// hyper answers a request it cannot parse on its own, with a bare 400, 414
/// or 431. Such a head is rewritten on its way out, once, whole.
struct Guarded {
    inner: TcpStream,
    /// A rewritten head being written: its bytes, how many are out, and the
    /// length of the original write to report once all are out.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl Guarded {
    fn new(inner: TcpStream) -> Guarded {
        Guarded {
            inner,
            pending: None,
        }
    }
}

/// `head` with the security headers added after its status line, when it is
/// one of hyper's own error replies (which never carry them).
fn with_security_headers(head: &[u8]) -> Option<Vec<u8>> {
    let own_error = [b"HTTP/1.1 400 ", b"HTTP/1.1 414 ", b"HTTP/1.1 431 "]
        .iter()
        .any(|start| head.starts_with(*start));
    if !own_error {
        return None;
    }
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    let lower = head[..end].to_ascii_lowercase();
    if lower
        .windows(b"content-security-policy".len())
        .any(|w| w == b"content-security-policy")
    {
        return None;
    }
    let line_end = head.windows(2).position(|w| w == b"\r\n")? + 2;
    let mut out = Vec::with_capacity(head.len() + 600);
    out.extend_from_slice(&head[..line_end]);
    for (name, value) in super::SECURITY_HEADERS {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(&head[line_end..]);
    Some(out)
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            match with_security_headers(buf) {
                Some(rewritten) => this.pending = Some((rewritten, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        // hyper writes the same bytes again until told they are out.
        loop {
            let Some((bytes, out, original)) = this.pending.as_mut() else {
                unreachable!("a rewritten head is pending");
            };
            if *out == bytes.len() {
                let original = *original;
                this.pending = None;
                return Poll::Ready(Ok(original));
            }
            match ready!(Pin::new(&mut this.inner).poll_write(cx, &bytes[*out..])) {
                Ok(0) => {
                    this.pending = None;
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Ok(n) => *out += n,
                Err(e) => {
                    this.pending = None;
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// One buffer per write, so a head is always seen whole.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_own_bare_errors_are_rewritten() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let fixed = String::from_utf8(with_security_headers(bare).unwrap()).unwrap();
        assert!(fixed.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(fixed.contains("\r\ncontent-security-policy: default-src 'none'"));
        assert!(fixed.ends_with("content-length: 0\r\n\r\n"));
        // Ours already carry them; other statuses and bodies are left alone.
        assert!(with_security_headers(fixed.as_bytes()).is_none());
        assert!(with_security_headers(b"HTTP/1.1 200 OK\r\n\r\n").is_none());
        assert!(with_security_headers(b"<p>HTTP/1.1 400 </p>").is_none());
    }
}
