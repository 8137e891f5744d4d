//! The Audit Logs server: the Leptos page, its server functions, and the plain HTTP API
//! (ingest, read and the live tail), on one axum router.
//!
//! Library first: `app(state)` builds the router and `run` serves it until `shutdown` resolves, so
//! tests and benchmarks start the real server on port 0 in-process.

pub mod api;
pub mod auth;
pub mod demo;
pub mod exports;
pub mod progress;
pub mod trust;

use std::future::Future;
use std::sync::OnceLock;

use app::accounts::looked::ReadAudit;
use app::accounts::session::{SessionConfig, SignInThrottle};
use app::events::noise::NoisyEvents;
use app::export::ExportLimits;
use app::store::Store;
use app::{App, shell};
use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::FromRef;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower::ServiceExt as _;
use tower_http::trace::TraceLayer;

/// How long a completed server export's file is kept unless configured.
pub const DEFAULT_EXPORT_KEEP: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Everything a request handler may need; cloned per request.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub store: Store,
    pub leptos_options: LeptosOptions,
    /// Event names the page's "Hide noisy events" switch hides.
    pub noise: NoisyEvents,
    /// The live tail's settings, counters and shutdown signal.
    pub live: api::Live,
    /// The limits of exports.
    pub export: ExportLimits,
    /// The server exports' jobs and files.
    pub exports: exports::ExportJobs,
    /// How long sessions last and how their cookie is sent.
    pub sessions: SessionConfig,
    /// Failed sign-ins per name and address.
    pub throttle: SignInThrottle,
    /// Ingest rate limits per API key (off unless configured; the server's flags turn it on).
    pub ingest_limit: api::rate::IngestLimiter,
    /// Who looked: reads recorded as events (off unless configured; the server turns it on, tests
    /// of other things count the events they read).
    pub reads: ReadAudit,
    /// The longest time range one read may span (none unless configured).
    pub read_limits: app::events::query::ReadLimits,
    /// How long a client may take to send a request.
    pub timeouts: HttpTimeouts,
}

/// How long a client may take to send a request: a slow client (a slowloris) holds a connection
/// and its memory only this long.
#[derive(Clone, Copy, Debug)]
pub struct HttpTimeouts {
    /// From the connection's first byte, or the end of the previous request on it, to the end
    /// of the request's head; a client slower than this is disconnected.
    pub header: std::time::Duration,
    /// The longest wait for the next piece of any request body (the request then fails).
    pub body_idle: std::time::Duration,
    /// The whole body of an ingest request (408 after it).
    pub body: std::time::Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            header: std::time::Duration::from_secs(10),
            body_idle: std::time::Duration::from_secs(10),
            body: std::time::Duration::from_secs(30),
        }
    }
}

impl AppState {
    /// State for serving the site built by cargo-leptos under `site_root`.
    pub fn new(store: Store, site_root: &str) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name("auditlog")
            .site_root(site_root)
            .site_pkg_dir("pkg")
            .build();
        // A folder of its own until the caller says where exports go (`with_exports`).
        static FOLDERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = FOLDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("auditlog-exports-{}-{n}", std::process::id()));
        let exports = exports::ExportJobs::new(store.clone(), dir, DEFAULT_EXPORT_KEEP);
        Self {
            exports,
            store,
            leptos_options,
            noise: NoisyEvents::default(),
            live: api::Live::default(),
            export: ExportLimits::default(),
            sessions: SessionConfig::default(),
            throttle: SignInThrottle::default(),
            ingest_limit: api::rate::IngestLimiter::new(api::rate::RateConfig {
                rate: 0,
                burst: 0,
            }),
            reads: ReadAudit::off(),
            read_limits: Default::default(),
            timeouts: HttpTimeouts::default(),
        }
    }

    /// The same state with other limits on how long a client may take to send a request.
    pub fn with_timeouts(self, timeouts: HttpTimeouts) -> Self {
        Self { timeouts, ..self }
    }

    /// The same state with a longest time range for reads.
    pub fn with_read_limits(self, read_limits: app::events::query::ReadLimits) -> Self {
        Self {
            read_limits,
            ..self
        }
    }

    /// The same state recording reads (see `app::accounts::looked`).
    pub fn with_read_audit(self, reads: ReadAudit) -> Self {
        Self { reads, ..self }
    }

    /// The same state with ingest limited per API key.
    pub fn with_ingest_limit(self, config: api::rate::RateConfig) -> Self {
        Self {
            ingest_limit: api::rate::IngestLimiter::new(config),
            ..self
        }
    }

    /// The same state with other session settings.
    pub fn with_sessions(self, sessions: SessionConfig) -> Self {
        Self { sessions, ..self }
    }

    /// The same state with exports written into `dir` and kept for `keep` once complete.
    pub fn with_exports(
        self,
        dir: impl Into<std::path::PathBuf>,
        keep: std::time::Duration,
    ) -> Self {
        Self {
            exports: exports::ExportJobs::new(self.store.clone(), dir, keep),
            ..self
        }
    }

    /// The same state with other export limits.
    pub fn with_export(self, export: ExportLimits) -> Self {
        Self { export, ..self }
    }

    /// The same state with other live tail settings (tests shorten the keep-alive interval).
    pub fn with_live(self, config: api::LiveConfig) -> Self {
        Self {
            live: api::Live::new(config),
            ..self
        }
    }

    /// The same state with another list of noisy event names.
    pub fn with_noise(self, noise: NoisyEvents) -> Self {
        Self { noise, ..self }
    }
}

/// The whole HTTP surface: API routes, server functions, pages and static files.
pub fn app(state: AppState) -> Router {
    let routes = route_list();
    let store = state.store.clone();
    let noise = state.noise.clone();
    let limits = state.export;
    let sessions = state.sessions;
    let reads = state.reads.clone();
    let read_limits = state.read_limits;
    let body_idle = state.timeouts.body_idle;
    let options = state.leptos_options.clone();
    Router::new()
        .nest("/api/v1", api::router())
        .route("/sign-in", axum::routing::get(auth::sign_in_page))
        // No icon: an empty answer rather than a 404 in every browser console.
        .route(
            "/favicon.ico",
            axum::routing::get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/auth/sign-in", axum::routing::post(auth::sign_in))
        .route("/auth/sign-out", axum::routing::post(auth::sign_out))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(store.clone());
                provide_context(noise.clone());
                provide_context(limits);
                provide_context(sessions);
                provide_context(reads.clone());
                provide_context(read_limits);
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::gate,
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_idle))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The page routes, listed once per process. Listing them runs the app with resource loading
/// suppressed by a process-wide flag: a page rendering meanwhile on another server in the same
/// process (the tests run several) would wait forever for its resources.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: OnceLock<Vec<leptos_axum::AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Serves `app(state)` on `listener` until `shutdown` resolves, then ends the live streams, lets
/// in-flight requests finish and waits for the writer to commit everything it acknowledged.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let live = state.live.clone();
    let header_timeout = state.timeouts.header;
    let router = app(state);
    // axum::serve sets no timer, so a request head could take forever: connections are served
    // here instead, with the head's deadline, and each request learns its peer's address.
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = router
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(axum::body::Body::new)
            });
        let conn = builder.serve_connection_with_upgrades(
            TokioIo::new(stream),
            TowerToHyperService::new(service),
        );
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // The live streams end first: they would hold their connections open.
    live.close();
    graceful.shutdown().await;
    store.close().await;
    Ok(())
}
