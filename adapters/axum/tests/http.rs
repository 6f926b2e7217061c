//! The whole HTTP contract suite of `fanout-testkit`, through the axum router served on
//! a real socket.

use fanout_core::Engine;
use fanout_testkit::http_contract::Served;

fn serve(listener: std::net::TcpListener, prefix: &'static str, engine: Engine) -> Served {
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    let listener = tokio::net::TcpListener::from_std(listener).expect("a Tokio listener");
    let app = match prefix {
        "" => fanout_axum::router(engine),
        prefix => axum::Router::new().nest(prefix, fanout_axum::router(engine)),
    };
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    Served::new(move || server.abort())
}

fanout_testkit::http_contract_suite!(serve);
