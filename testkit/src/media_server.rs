//! A loopback media host, so fakes can pull photos the way real platforms do.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fanout_core::{LocalMediaHost, MediaHost};

use crate::server::FakeServer;

/// A [`LocalMediaHost`] whose links are served on a loopback port.
#[derive(Debug)]
pub struct MediaServer {
    host: Arc<LocalMediaHost>,
    _server: FakeServer,
}

impl MediaServer {
    /// Starts serving; links live ten minutes or until released.
    pub async fn spawn() -> std::io::Result<Self> {
        // Bind first so the host knows its own base URL.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let base = url::Url::parse(&format!("http://{addr}/"))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let host = Arc::new(LocalMediaHost::new(base, Duration::from_secs(600)));
        let app = axum::Router::new()
            .route("/media/{token}", get(serve))
            .with_state(Arc::clone(&host));
        let server = FakeServer::serve(listener, app).await?;
        Ok(Self {
            host,
            _server: server,
        })
    }

    /// The host, for `PublishContext`.
    pub fn host(&self) -> Arc<dyn MediaHost> {
        Arc::clone(&self.host) as Arc<dyn MediaHost>
    }
}

async fn serve(State(host): State<Arc<LocalMediaHost>>, Path(token): Path<String>) -> Response {
    match host.resolve(&token).await {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(file) => (
            [
                (header::CONTENT_TYPE, file.content_type().to_string()),
                (header::CONTENT_LENGTH, file.len().to_string()),
            ],
            Body::from_stream(file.stream()),
        )
            .into_response(),
    }
}
