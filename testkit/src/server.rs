//! Running a fake platform on an ephemeral loopback port.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use url::Url;

/// An axum app served on `127.0.0.1:<ephemeral>`; stops when dropped.
#[derive(Debug)]
pub struct FakeServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl FakeServer {
    /// Binds an ephemeral loopback port and serves `app` on it in the background.
    pub async fn spawn(app: axum::Router) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        Self::serve(listener, app).await
    }

    /// Serves `app` on an already bound listener in the background.
    pub async fn serve(
        listener: tokio::net::TcpListener,
        app: axum::Router,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(err) = serve.await {
                tracing::warn!(%err, "a fake platform server stopped with an error");
            }
        });
        Ok(Self {
            addr,
            stop: Some(stop),
        })
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        // A socket address always forms a valid URL.
        Url::parse(&format!("http://{}/", self.addr)).unwrap_or_else(|_| unreachable!())
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
