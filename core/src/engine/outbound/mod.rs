//! The one guarded client every outbound fetch goes through (media given as URLs).
//!
//! Only `http` and `https`; no user name or password in a URL; the address of every
//! hop is checked after DNS (a domain through the client's own resolver, so the
//! address connected to is the address checked; an IP literal before sending, after
//! the `url` crate has normalised spellings such as `2130706433` or `0x7f.1`);
//! redirects are followed here, a few at most, each re-checked; no proxy from the
//! environment; and a minimum transfer rate, so a source that trickles bytes fails
//! after one window rather than after the whole fetch timeout.

mod address;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

pub use address::{InvalidCidr, IpCidr};

/// How outbound fetches are guarded and bounded (the server's `[fetch]` table).
///
/// ```
/// let mut fetch = fanout_core::FetchSettings::default();
/// fetch.allow = fanout_core::IpCidr::loopback();
/// assert_eq!(fetch.max_redirects, 5);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchSettings {
    /// Address blocks fetches may reach besides global unicast addresses. Empty by
    /// default: loopback, private, link-local, unique-local, multicast, unspecified
    /// and the other special blocks are refused.
    pub allow: Vec<IpCidr>,
    /// How many media one request may give as URLs (35, the most photos a platform
    /// takes); more is a 400 before anything is fetched or counted.
    pub max_urls: usize,
    /// How many bytes the URLs of one request may bring in all (413 beyond);
    /// `None`: the upload cap (`max_upload_bytes`), which also bounds any value set.
    pub max_total_bytes: Option<u64>,
    /// The slowest transfer accepted, in bytes per second, measured over each
    /// `rate_window` (16 KiB/s).
    pub min_bytes_per_sec: u64,
    /// The window the rate is measured over; also how long connecting, and the
    /// response head, may take (10 s).
    pub rate_window: Duration,
    /// How many redirects one URL may take, each re-checked (5).
    pub max_redirects: usize,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            max_urls: 35,
            max_total_bytes: None,
            min_bytes_per_sec: 16 * 1024,
            rate_window: Duration::from_secs(10),
            max_redirects: 5,
        }
    }
}

/// Why a fetch failed: one class per sentence a client reads. None of them carries a
/// port, a path or the transport's own error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Not an `http`/`https` URL.
    NotHttp,
    /// The URL carries a user name or password.
    Credentials,
    /// A hop leads to an address that is not global and not allowed.
    AddressRefused,
    /// More redirects than allowed.
    TooManyRedirects,
    /// Slower than the minimum rate over a window (or no answer within one).
    TooSlow,
    /// The whole fetch took longer than its timeout.
    TimedOut,
    /// Anything else: DNS, connection, TLS, an error status, a broken body.
    Unreachable,
}

impl std::fmt::Display for Failure {
    /// A short name for logs; clients read the sentences of `fetch`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// The error the resolver returns when every address of a name is refused; found
/// again in the source chain of reqwest's error.
#[derive(Debug)]
struct AddressRefused;

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("every address of the host is refused")
    }
}

impl std::error::Error for AddressRefused {}

/// Resolves names with the system resolver and keeps only permitted addresses, so
/// the connection goes to an address that was checked.
struct CheckedResolver {
    allow: Arc<[IpCidr]>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = Arc::clone(&self.allow);
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| address::permitted(addr.ip(), &allow))
                .collect();
            if found.is_empty() {
                return Err(Box::new(AddressRefused) as Box<_>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// The guarded client. One per engine.
pub(crate) struct Outbound {
    client: reqwest::Client,
    allow: Arc<[IpCidr]>,
    settings: FetchSettings,
    timeout: Duration,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("settings", &self.settings)
            .finish()
    }
}

/// A successful answer, and the URL it came from after redirects.
pub(crate) struct Fetched {
    pub response: reqwest::Response,
    pub url: Url,
}

impl Outbound {
    /// A client for `settings`; one fetch (all hops and the body) takes at most
    /// `timeout`.
    pub(crate) fn new(settings: &FetchSettings, timeout: Duration) -> Result<Self, reqwest::Error> {
        let allow: Arc<[IpCidr]> = settings.allow.clone().into();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(settings.rate_window)
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver {
                allow: Arc::clone(&allow),
            }))
            .build()?;
        Ok(Self {
            client,
            allow,
            settings: settings.clone(),
            timeout,
        })
    }

    /// The settings this client enforces.
    pub(crate) fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// How long one fetch may take in all.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET raw`, following redirects here, each hop checked; a 2xx answer whose
    /// head arrived within the rate window.
    pub(crate) async fn get(&self, raw: &str) -> Result<Fetched, Failure> {
        let mut url = self.checked(Url::parse(raw).map_err(|_| Failure::NotHttp)?)?;
        let mut redirects = 0;
        loop {
            let sent = tokio::time::timeout(
                self.settings.rate_window,
                self.client.get(url.clone()).send(),
            )
            .await
            .map_err(|_| Failure::TooSlow)?;
            let response = sent.map_err(|e| classify(&e))?;
            let status = response.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                if redirects == self.settings.max_redirects {
                    return Err(Failure::TooManyRedirects);
                }
                redirects += 1;
                let next = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|location| url.join(location).ok())
                    .ok_or(Failure::Unreachable)?;
                url = match self.checked(next) {
                    // A redirect to another scheme is the source's fault, not the URL's.
                    Err(Failure::NotHttp) => return Err(Failure::Unreachable),
                    other => other?,
                };
                continue;
            }
            if !response.status().is_success() {
                return Err(Failure::Unreachable);
            }
            return Ok(Fetched { response, url });
        }
    }

    /// `url` when it may be fetched: http(s), no credentials, and a literal address
    /// permitted (a domain's addresses are checked by the resolver when connecting).
    fn checked(&self, url: Url) -> Result<Url, Failure> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Failure::NotHttp);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Failure::Credentials);
        }
        let literal = match url.host() {
            None => return Err(Failure::NotHttp),
            Some(Host::Domain(_)) => None,
            Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        };
        match literal {
            Some(addr) if !address::permitted(addr, &self.allow) => Err(Failure::AddressRefused),
            _ => Ok(url),
        }
    }

    /// The body of `response`, failing with [`Failure::TooSlow`] when fewer bytes than
    /// the minimum rate allows arrive within a window; the failure is also written to
    /// `seen` (the spool keeps only an error's text).
    pub(crate) fn body(
        &self,
        response: reqwest::Response,
        seen: Arc<Mutex<Option<Failure>>>,
    ) -> impl Stream<Item = Result<Bytes, Failure>> + Send + Unpin + 'static {
        let window = self.settings.rate_window;
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let least = self.settings.min_bytes_per_sec.saturating_mul(window_ms) / 1000;
        let start = Paced {
            inner: Box::pin(response.bytes_stream()),
            until: tokio::time::Instant::now() + window,
            got: 0,
            done: false,
        };
        Box::pin(futures::stream::unfold(start, move |mut state| {
            let seen = Arc::clone(&seen);
            async move {
                let outcome = state.next(window, least).await?;
                if let Err(failure) = &outcome {
                    state.done = true;
                    if let Ok(mut slot) = seen.lock() {
                        *slot = Some(*failure);
                    }
                }
                Some((outcome, state))
            }
        }))
    }
}

type ByteStream = std::pin::Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A body read against a minimum rate: `got` bytes arrived in the window ending at
/// `until`.
struct Paced {
    inner: ByteStream,
    until: tokio::time::Instant,
    got: u64,
    done: bool,
}

impl Paced {
    /// The next chunk, or the failure that ends the body; `None` at its end.
    async fn next(&mut self, window: Duration, least: u64) -> Option<Result<Bytes, Failure>> {
        if self.done {
            return None;
        }
        loop {
            match tokio::time::timeout_at(self.until, self.inner.next()).await {
                Ok(None) => return None,
                Ok(Some(Err(e))) => return Some(Err(classify(&e))),
                Ok(Some(Ok(chunk))) => {
                    self.got = self.got.saturating_add(chunk.len() as u64);
                    let now = tokio::time::Instant::now();
                    if now >= self.until {
                        if self.got < least {
                            return Some(Err(Failure::TooSlow));
                        }
                        self.got = 0;
                        self.until = now + window;
                    }
                    return Some(Ok(chunk));
                }
                Err(_) => {
                    if self.got < least {
                        return Some(Err(Failure::TooSlow));
                    }
                    self.got = 0;
                    self.until += window;
                }
            }
        }
    }
}

/// The class of a transport error: a refused address (from the resolver), a timeout,
/// or anything else.
fn classify(error: &reqwest::Error) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<AddressRefused>() {
            return Failure::AddressRefused;
        }
        source = e.source();
    }
    if error.is_timeout() {
        Failure::TimedOut
    } else {
        Failure::Unreachable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbound(allow: Vec<IpCidr>) -> Outbound {
        let settings = FetchSettings {
            allow,
            ..FetchSettings::default()
        };
        Outbound::new(&settings, Duration::from_secs(5)).unwrap()
    }

    #[test]
    fn urls_are_checked_before_anything_is_sent() {
        let guarded = outbound(Vec::new());
        let check = |raw: &str| guarded.checked(Url::parse(raw).unwrap()).map(|_| ());
        assert_eq!(check("ftp://example.com/v.mp4"), Err(Failure::NotHttp));
        assert_eq!(check("file:///etc/passwd"), Err(Failure::NotHttp));
        assert_eq!(check("http://u:p@example.com/"), Err(Failure::Credentials));
        assert_eq!(check("http://u@example.com/"), Err(Failure::Credentials));
        for refused in [
            "http://127.0.0.1:8080/x",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://0.0.0.0/",
            "http://0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://[fd00::1]/",
            "https://100.64.0.1/",
        ] {
            assert_eq!(check(refused), Err(Failure::AddressRefused), "{refused}");
        }
        assert_eq!(check("https://93.184.216.34/v.mp4"), Ok(()));
        assert_eq!(
            check("https://example.com/v.mp4"),
            Ok(()),
            "checked when resolved"
        );
        let loopback = outbound(IpCidr::loopback());
        let check = |raw: &str| loopback.checked(Url::parse(raw).unwrap()).map(|_| ());
        assert_eq!(check("http://2130706433:9/"), Ok(()));
        assert_eq!(check("http://[::1]:9/"), Ok(()));
        assert_eq!(check("http://10.0.0.1/"), Err(Failure::AddressRefused));
    }

    #[tokio::test]
    async fn a_name_with_only_refused_addresses_is_refused_when_resolved() {
        let guarded = outbound(Vec::new());
        assert_eq!(
            guarded.get("http://localhost:9/").await.err(),
            Some(Failure::AddressRefused)
        );
    }
}
