//! The whole HTTP contract suite of `fanout-testkit`, through the actix-web scope served
//! on a real socket.

use actix_web::{App, HttpServer};
use fanout_core::Engine;
use fanout_testkit::http_contract::Served;

/// At the root the engine's side runs on the test's runtime (`scope_on`, as a server
/// would mount it); under a prefix on the worker's own (`scope`): both are exercised.
fn serve(listener: std::net::TcpListener, prefix: &'static str, engine: Engine) -> Served {
    let runtime = tokio::runtime::Handle::current();
    let server = HttpServer::new(move || {
        let engine = engine.clone();
        let scope = match prefix {
            "" => fanout_actix::scope_on(prefix, engine, runtime.clone()),
            prefix => fanout_actix::scope(prefix, engine),
        };
        App::new().service(scope)
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("actix-web listens")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Served::new(move || drop(handle.stop(false)))
}

fanout_testkit::http_contract_suite!(serve);
