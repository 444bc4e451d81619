//! The TLS listener: accepts TCP connections, completes the handshake with the reloader's current
//! configuration, and serves the app on each with hyper-util's automatic HTTP/1.1-or-HTTP/2
//! connection (chosen by ALPN), marking every request with its peer address (`ConnectInfo`, as the
//! plain listener does) and `client::TlsConnection`. On shutdown it stops accepting and waits for
//! open connections to finish their requests, as `axum::serve`'s graceful shutdown does.

use super::TlsReloader;
use crate::client::TlsConnection;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Version};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

/// How long a client may take to complete the handshake before its connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// Serves `app` over TLS on `listener` until `shutdown` completes, then waits for open connections
/// to finish (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    tls: Arc<TlsReloader>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin, as axum does.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config());
        let watcher = graceful.watcher();
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(tcp, peer, acceptor, app, watcher).await {
                tracing::debug!(%peer, error = %e, "TLS connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// One connection: the handshake, then HTTP until the client or a shutdown closes it.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    app: axum::Router,
    watcher: hyper_util::server::graceful::Watcher,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let _ = tcp.set_nodelay(true);
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
        .await
        .map_err(|_| "TLS handshake timed out")??;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        app.clone().oneshot(mark(req, peer))
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    watcher.watch(conn.into_owned()).await
}

/// What the app needs to know about the connection a request came on. HTTP/2 requests carry the
/// host in the `:authority` pseudo-header, which hyper puts in the URI; the handlers (and SigV4,
/// which signs `host`) read the `Host` header, so it is filled in from there.
fn mark(mut req: Request<Incoming>, peer: SocketAddr) -> Request<axum::body::Body> {
    req.extensions_mut().insert(ConnectInfo(peer));
    req.extensions_mut().insert(TlsConnection);
    if req.version() == Version::HTTP_2 && !req.headers().contains_key(header::HOST) {
        if let Some(host) = req
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            req.headers_mut().insert(header::HOST, host);
        }
    }
    req.map(axum::body::Body::new)
}
