//! The request body as the parsers read it: capped in size and time, cut into small
//! pieces, and watched while the multipart parser looks for part headers.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Future, Stream, StreamExt};

/// The largest piece handed to a parser at once. Larger chunks are split (without
/// copying), so what a parser buffers beyond a cap is at most a piece or two.
pub(super) const MAX_PIECE: usize = 64 * 1024;

/// Why a [`GuardedBody`] stopped the body. Stored in [`Guard::stop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Stop {
    /// More than `max_upload_bytes` arrived.
    TooLarge = 1,
    /// Nothing arrived for the idle timeout.
    Stalled = 2,
    /// The total deadline passed.
    TooSlow = 3,
    /// More than the cap arrived before the parser found the end of a part's headers.
    PartHeaders = 4,
    /// More than the cap arrived before the first boundary.
    Preamble = 5,
}

impl Stop {
    fn from_u8(value: u8) -> Option<Self> {
        [
            Self::TooLarge,
            Self::Stalled,
            Self::TooSlow,
            Self::PartHeaders,
            Self::Preamble,
        ]
        .into_iter()
        .find(|stop| *stop as u8 == value)
    }
}

/// State shared between a [`GuardedBody`] and the parser reading it (one request, one
/// task: the atomics only make it `Send`).
#[derive(Debug)]
pub(super) struct Guard {
    stop: AtomicU8,
    /// Bytes the body may still yield before [`Stop::PartHeaders`]; `u64::MAX` while
    /// no window is open.
    window: AtomicU64,
    /// Whether the one piece allowed after a used-up window has been handed out.
    spare_taken: AtomicBool,
}

impl Guard {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            stop: AtomicU8::new(0),
            window: AtomicU64::new(u64::MAX),
            spare_taken: AtomicBool::new(false),
        })
    }

    /// Why the body was stopped, if it was.
    pub(super) fn stopped(&self) -> Option<Stop> {
        Stop::from_u8(self.stop.load(Ordering::SeqCst))
    }

    fn set(&self, stop: Stop) {
        // The first reason wins.
        let _ = self
            .stop
            .compare_exchange(0, stop as u8, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// From now on, about `bytes` more may arrive until [`Guard::close_window`] (see
    /// `take_from_window`): the parser is looking for the end of a part's headers.
    pub(super) fn open_window(&self, bytes: u64) {
        self.window.store(bytes, Ordering::SeqCst);
        self.spare_taken.store(false, Ordering::SeqCst);
    }

    /// The parser found what it looked for: no limit but the others.
    pub(super) fn close_window(&self) {
        self.window.store(u64::MAX, Ordering::SeqCst);
    }

    /// Takes a piece of `len` bytes from an open window; false once the window and one
    /// spare piece after it are used up.
    ///
    /// One piece may hold many small parts, so the piece that uses the window up is
    /// still handed out. So is one more: multer reads before it parses, and while it
    /// looks for the first boundary it may read twice in one call, leaving a piece it
    /// has not looked at yet (a legitimate body cut into large chunks hit exactly
    /// that). What the parser buffers while looking for headers stays under the window
    /// plus two pieces.
    fn take_from_window(&self, len: u64) -> bool {
        let window = self.window.load(Ordering::SeqCst);
        if window == u64::MAX {
            return true;
        }
        if window == 0 {
            return !self.spare_taken.swap(true, Ordering::SeqCst);
        }
        self.window
            .store(window.saturating_sub(len), Ordering::SeqCst);
        true
    }
}

/// Looks for the first `--boundary` within the first `cap` bytes (plus the boundary's
/// own length) of a multipart body, so a body whose first part never starts is cut off
/// early instead of being buffered by the parser.
#[derive(Debug)]
pub(super) struct Preamble {
    needle: Vec<u8>,
    /// The last `needle.len() - 1` bytes seen, to find a boundary split across pieces.
    tail: Vec<u8>,
    seen: u64,
    cap: u64,
    found: bool,
}

impl Preamble {
    pub(super) fn new(boundary: &str, cap: usize) -> Self {
        let needle = format!("--{boundary}").into_bytes();
        Self {
            cap: cap as u64 + needle.len() as u64,
            needle,
            tail: Vec::new(),
            seen: 0,
            found: false,
        }
    }

    /// Feeds one piece; false once the cap passed without a boundary.
    fn feed(&mut self, piece: &[u8]) -> bool {
        if self.found {
            return true;
        }
        let room = usize::try_from(self.cap.saturating_sub(self.seen)).unwrap_or(usize::MAX);
        let look = &piece[..piece.len().min(room)];
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(look);
        if window
            .windows(self.needle.len())
            .any(|w| w == self.needle.as_slice())
        {
            self.found = true;
            return true;
        }
        self.seen += look.len() as u64;
        if look.len() < piece.len() || self.seen >= self.cap {
            return false;
        }
        let keep = self.needle.len().saturating_sub(1).min(window.len());
        self.tail = window.split_off(window.len() - keep);
        true
    }
}

/// The error a [`GuardedBody`] yields; the reason is in its [`Guard`].
#[derive(Debug, thiserror::Error)]
pub(super) enum BodyError {
    #[error("the body was cut off")]
    Stopped,
    #[error("the body could not be read: {0}")]
    Read(String),
}

/// A body stream that ends with an error once more than `remaining` bytes arrive,
/// when nothing arrives for the idle timeout, when the total deadline passes, or when
/// a window opened by the parser overflows — saying which through its [`Guard`].
///
/// It hands out pieces of at most [`MAX_PIECE`] bytes and answers `Pending` (waking
/// itself) after each one, so a parser that reads "everything available" (multer does)
/// buffers at most one piece past where it stands.
///
/// That `Pending` also means the end of the body is never reported in the same poll
/// of its reader that brought data. multer 3.1 checks for the end of the stream
/// without re-reading what the same call just buffered, so a body whose bytes and end
/// arrived together right after a `Pending` (the usual case when the body crosses
/// threads, as in the actix-web adapter) was refused as "incomplete multipart stream".
pub(super) struct GuardedBody<S> {
    inner: S,
    guard: Arc<Guard>,
    remaining: u64,
    idle_timeout: Duration,
    idle: Pin<Box<tokio::time::Sleep>>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    preamble: Option<Preamble>,
    /// The rest of a chunk larger than [`MAX_PIECE`].
    carry: Option<Bytes>,
    /// A piece was just handed out: the next poll yields first.
    just_yielded: bool,
}

impl<S> GuardedBody<S> {
    pub(super) fn new(
        inner: S,
        guard: Arc<Guard>,
        max_bytes: u64,
        idle_timeout: Duration,
        total: Duration,
    ) -> Self {
        let now = tokio::time::Instant::now();
        Self {
            inner,
            guard,
            remaining: max_bytes,
            idle_timeout,
            idle: Box::pin(tokio::time::sleep_until(now + idle_timeout)),
            deadline: Box::pin(tokio::time::sleep_until(
                now.checked_add(total)
                    .unwrap_or(now + Duration::from_secs(86_400 * 365)),
            )),
            preamble: None,
            carry: None,
            just_yielded: false,
        }
    }

    /// Also cut the body off when no `--boundary` comes within the preamble's cap.
    pub(super) fn with_preamble(mut self, preamble: Preamble) -> Self {
        self.preamble = Some(preamble);
        self
    }

    fn stop(&self, stop: Stop) -> Poll<Option<Result<Bytes, BodyError>>> {
        self.guard.set(stop);
        Poll::Ready(Some(Err(BodyError::Stopped)))
    }

    /// Checks and hands out one piece of at most [`MAX_PIECE`] bytes of `chunk`,
    /// keeping the rest for the next poll.
    fn hand_out(&mut self, mut chunk: Bytes) -> Poll<Option<Result<Bytes, BodyError>>> {
        if chunk.len() > MAX_PIECE {
            let rest = chunk.split_off(MAX_PIECE);
            self.carry = Some(rest);
        }
        let len = chunk.len() as u64;
        if len > self.remaining {
            return self.stop(Stop::TooLarge);
        }
        self.remaining -= len;
        if self.deadline.is_elapsed() {
            return self.stop(Stop::TooSlow);
        }
        if let Some(preamble) = &mut self.preamble {
            if !preamble.feed(&chunk) {
                return self.stop(Stop::Preamble);
            }
        }
        if !self.guard.take_from_window(len) {
            return self.stop(Stop::PartHeaders);
        }
        self.just_yielded = true;
        Poll::Ready(Some(Ok(chunk)))
    }
}

impl<S, E> Stream for GuardedBody<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.guard.stopped().is_some() {
            return Poll::Ready(None);
        }
        if self.just_yielded {
            self.just_yielded = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if let Some(rest) = self.carry.take() {
            return self.hand_out(rest);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let deadline = tokio::time::Instant::now() + self.idle_timeout;
                self.idle.as_mut().reset(deadline);
                if chunk.is_empty() {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                self.hand_out(chunk)
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(BodyError::Read(e.to_string())))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if self.deadline.as_mut().poll(cx).is_ready() {
                    return self.stop(Stop::TooSlow);
                }
                if self.idle.as_mut().poll(cx).is_ready() {
                    return self.stop(Stop::Stalled);
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    async fn collect(
        body: &mut GuardedBody<impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin>,
    ) -> Vec<Result<Bytes, String>> {
        let mut out = Vec::new();
        while let Some(item) = body.next().await {
            out.push(item.map_err(|e| e.to_string()));
        }
        out
    }

    #[test]
    fn a_boundary_split_across_pieces_is_found() {
        let mut preamble = Preamble::new("XyZ", 10);
        assert!(preamble.feed(b"hello -"));
        assert!(preamble.feed(b"-X"));
        assert!(preamble.feed(b"yZ\r\n"));
        assert!(preamble.found);
    }

    #[test]
    fn a_preamble_past_its_cap_is_refused() {
        let mut preamble = Preamble::new("XyZ", 10);
        assert!(preamble.feed(b"0123456789"));
        assert!(!preamble.feed(b"abcdefgh"));
        // Exactly at the cap, a boundary still counts.
        let mut preamble = Preamble::new("XyZ", 4);
        assert!(preamble.feed(b"0123--XyZ"));
        assert!(preamble.found);
    }

    #[tokio::test]
    async fn large_chunks_come_out_in_pieces_and_windows_overflow() {
        let guard = Guard::new();
        let big = Bytes::from(vec![1u8; MAX_PIECE * 2 + 10]);
        let mut body = GuardedBody::new(
            stream::iter([Ok::<_, std::io::Error>(big)]),
            Arc::clone(&guard),
            u64::MAX,
            Duration::from_secs(5),
            Duration::from_secs(5),
        );
        let lens: Vec<usize> = collect(&mut body)
            .await
            .into_iter()
            .map(|piece| piece.unwrap().len())
            .collect();
        assert_eq!(lens, vec![MAX_PIECE, MAX_PIECE, 10]);

        let guard = Guard::new();
        let mut body = GuardedBody::new(
            stream::iter([
                Ok::<_, std::io::Error>(Bytes::from_static(b"0123")),
                Ok(Bytes::from_static(b"4567")),
                Ok(Bytes::from_static(b"89")),
            ]),
            Arc::clone(&guard),
            u64::MAX,
            Duration::from_secs(5),
            Duration::from_secs(5),
        );
        guard.open_window(3);
        let items = collect(&mut body).await;
        // The piece that uses the window up and one spare piece; then the stop.
        assert_eq!(items.len(), 3);
        assert!(items[0].is_ok() && items[1].is_ok());
        assert!(items[2].is_err());
        assert_eq!(guard.stopped(), Some(Stop::PartHeaders));
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_meets_the_total_deadline() {
        let guard = Guard::new();
        let trickle = stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            Some((Ok::<_, std::io::Error>(Bytes::from_static(b"x")), ()))
        });
        let mut body = GuardedBody::new(
            Box::pin(trickle),
            Arc::clone(&guard),
            u64::MAX,
            Duration::from_secs(1),
            Duration::from_secs(3),
        );
        let mut pieces = 0;
        while let Some(item) = body.next().await {
            if item.is_err() {
                break;
            }
            pieces += 1;
        }
        assert_eq!(guard.stopped(), Some(Stop::TooSlow));
        assert!((4..=6).contains(&pieces), "{pieces}");
    }
}
