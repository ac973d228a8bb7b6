//! Builds the actix application: state, middleware, routes; and runs it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use tracing::Instrument;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Auth;
use crate::auth::rate_limit::SignInLimits;
use crate::auth::secrets::{self, Pepper};
use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{Db, DbManager, DbTarget, ensure_data_dir, migrate};
use crate::error::AppError;
use crate::openapi::methods::AllowedMethods;
use crate::state::AppState;
use crate::system::metrics::{Metrics, Served};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] crate::db::OpenError),
    #[error("cannot apply database migrations: {0}")]
    Migrate(String),
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
    #[error("unusable JWT secret: {0}")]
    Jwt(String),
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("cannot set up the metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The secret that hashes codes, PINs and tokens: configured, or kept in the data directory.
pub fn pepper(settings: &Settings) -> Result<Pepper, StartError> {
    let secret = secrets::load_or_create(
        settings.pepper.as_deref(),
        "pepper",
        &settings.data_dir,
        "pepper.key",
    )?;
    Ok(Pepper::new(secret))
}

/// Opens the database, applies migrations and loads secrets.
pub fn prepare(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
    // Migrations run on a connection of their own before the pool opens: a pool keeping
    // one connection ready opens the next in the background as soon as one is taken, and
    // that connection's set-up would meet the migrations' write lock.
    let target =
        DbTarget::parse(&settings.database_url).map_err(|e| StartError::Migrate(e.to_string()))?;
    ensure_data_dir(&target)?;
    let mut conn = DbManager::with_busy_timeout(target, settings.sqlite_busy_timeout())
        .connect()
        .map_err(|e| StartError::Migrate(e.to_string()))?;
    let applied =
        migrate::run_pending(&mut conn).map_err(|e| StartError::Migrate(e.to_string()))?;
    drop(conn);
    let db = Db::open(
        &settings.database_url,
        settings.pool_size,
        settings.db_acquire_timeout(),
        settings.sqlite_busy_timeout(),
    )?;
    if !applied.is_empty() {
        tracing::info!(versions = ?applied, "applied migrations");
    }
    let jwt = secrets::load_or_create(
        settings.jwt_secret.as_deref(),
        "jwt_secret",
        &settings.data_dir,
        "jwt-secret.key",
    )?;
    let pepper = pepper(&settings)?;
    let signing_key = secrets::signing_key(
        settings.signing_key.as_deref(),
        &settings.data_dir,
        secrets::SIGNING_KEY_FILE,
    )?;
    let settings = Arc::new(settings);
    let auth = Auth {
        db: db.clone(),
        keys: TokenKeys::new(&jwt).map_err(|e| StartError::Jwt(e.to_string()))?,
        pepper,
        limits: SignInLimits::default(),
        passwords: Default::default(),
        clock: clock.clone(),
        settings: settings.clone(),
    };
    Ok(AppState {
        db,
        settings,
        clock,
        auth: Arc::new(auth),
        signing_key: Arc::new(signing_key),
    })
}

/// Unknown addresses: problem+json for the API, a page in words for people.
/// Nothing answered: a documented path asked with another method is 405 with `Allow`,
/// anything else is not found (a page for the pages, problem+json for the API).
async fn not_found(
    req: HttpRequest,
    state: web::Data<AppState>,
    allowed: web::Data<AllowedMethods>,
) -> Result<HttpResponse, AppError> {
    if let Some(allow) = allowed.for_path(req.path()) {
        return Err(AppError::MethodNotAllowed { allow });
    }
    if crate::web::is_page(req.path()) {
        return Ok(crate::web::not_found(&req, &state));
    }
    Err(AppError::NotFound)
}

/// A path whose id does not parse names nothing (404), unless the path is another
/// operation's, named in words, that this method does not answer: then 405 with `Allow`
/// (`GET /statements/verify` is not `GET /statements/{id}`).
fn path_refused(_: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    let declared = req
        .app_data::<web::Data<AllowedMethods>>()
        .and_then(|allowed| allowed.for_path(req.path()));
    match declared {
        Some(allow) if !allow.split(", ").any(|m| m == req.method().as_str()) => {
            AppError::MethodNotAllowed { allow }.into()
        }
        _ => AppError::NotFound.into(),
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Pages load only from their own origin and are never framed; `data:` images are for
/// QR codes and Swagger UI's icons, `blob:` ones for the photo a villager just chose,
/// shown before it is sent.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// An address whose path holds control characters (`%0d%0a`, `%00`) names nothing here:
/// it is turned away before any handler could put it into a header or a query.
fn path_has_controls(path: &str) -> bool {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .chars()
        .any(char::is_control)
}

/// Turns away addresses with control characters, and gives every answer the headers
/// that keep pages from being framed, sniffed or loaded from elsewhere.
async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.settings.public_url.as_deref())
        .is_some_and(|url| url.starts_with("https://"));
    let mut res = if path_has_controls(req.path()) {
        let (http, _) = req.into_parts();
        let response = match http.app_data::<web::Data<AppState>>() {
            Some(state) if crate::web::is_page(http.path()) => crate::web::not_found(&http, state),
            _ => actix_web::ResponseError::error_response(&AppError::NotFound),
        };
        ServiceResponse::new(http, response).map_into_right_body()
    } else {
        next.call(req).await?.map_into_left_body()
    };
    let headers = res.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    Ok(res)
}

/// Posts claims whose public notice has ended, runs each village's 清零 when its date
/// has come (also the first tick after a start that missed it), and forgets stale
/// sign-in counters, on a timer, for as long as the server runs. Safe with several
/// servers: each claim posts and each village's year expires exactly once (see
/// `post_due` and `expiry::service`).
fn spawn_posting_job(state: web::Data<AppState>) {
    let every = Duration::from_millis(state.settings.posting_interval_ms.max(10));
    actix_web::rt::spawn(async move {
        let mut ticker = actix_web::rt::time::interval(every);
        loop {
            ticker.tick().await;
            let now = state.clock.now();
            let limits = state.auth.limits;
            match state
                .db
                .run(move |conn| {
                    limits.prune(conn, now)?;
                    // A failing 清零 must not hold up the claims' posting.
                    if let Err(err) = crate::expiry::service::run_due(conn, now) {
                        tracing::error!(error = %err, "expiry job failed");
                    }
                    crate::claims::service::post_due(conn, now)
                })
                .await
            {
                Ok(0) => {}
                Ok(posted) => tracing::info!(posted, "posted claims whose notice ended"),
                Err(err) => tracing::error!(error = %err, "posting job failed"),
            }
        }
    });
}

/// Binds and starts the server and its posting job; the returned handle stops them.
pub fn start(state: AppState) -> Result<(actix_web::dev::Server, Vec<SocketAddr>), StartError> {
    let bind = state.settings.bind.clone();
    let state = web::Data::new(state);
    spawn_posting_job(state.clone());
    let api = crate::openapi::document();
    let allowed = web::Data::new(AllowedMethods::from_document(&api));
    // Shared by every worker, so each is made once, here.
    let auth = web::Data::from(state.auth.clone());
    let settings = web::Data::from(state.settings.clone());
    let metrics = web::Data::new(Metrics::new()?);
    let ticket = web::Data::new(crate::web::TicketCache::default());
    let server = HttpServer::new(move || {
        let observed = metrics.clone();
        let (app, _) = App::new()
            .into_utoipa_app()
            .app_data(state.clone())
            .app_data(auth.clone())
            .app_data(settings.clone())
            .app_data(metrics.clone())
            .app_data(ticket.clone())
            .app_data(allowed.clone())
            .app_data(web::PathConfig::default().error_handler(path_refused))
            .configure(crate::api::routes)
            .split_for_parts();
        app.service(SwaggerUi::new("/swagger-ui/{_:.*}").url("/api-docs/openapi.json", api.clone()))
            .configure(crate::web::routes)
            .default_service(web::to(not_found))
            .wrap(from_fn(guard))
            .wrap_fn(move |req, srv| {
                let started = Instant::now();
                let request_id = uuid::Uuid::new_v4().to_string();
                let method = req.method().to_string();
                let span = tracing::info_span!("request", id = %request_id, method = %method, path = %req.path());
                let metrics = observed.clone();
                let call = srv.call(req);
                async move {
                    let (res, statements) = crate::db::statements::counted(call).await;
                    let mut res = res?;
                    let status = res.status().as_u16();
                    let route = res
                        .request()
                        .match_pattern()
                        .unwrap_or_else(|| "(unmatched)".to_owned());
                    let seconds = started.elapsed().as_secs_f64();
                    metrics.observe(&method, &route, status, Served { seconds, statements });
                    if let Ok(value) = HeaderValue::from_str(&request_id) {
                        res.headers_mut().insert(REQUEST_ID, value);
                    }
                    tracing::info!(status, route = %route, ms = (seconds * 1000.0).round(), statements, "done");
                    Ok(res)
                }
                .instrument(span)
            })
    })
    .workers(worker_count())
    .bind(&bind)
    .map_err(|source| StartError::Bind { bind: bind.clone(), source })?;
    let addrs = server.addrs();
    Ok((server.run(), addrs))
}

fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
}

/// A server running on its own thread, stopped when dropped (used by tests and tools).
pub struct Background {
    pub addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    pub fn spawn(state: AppState) -> Result<Self, StartError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                match start(state) {
                    Ok((server, addrs)) => {
                        let _ = tx.send(Ok((server.handle(), addrs)));
                        let _ = server.await;
                    }
                    Err(err) => {
                        let _ = tx.send(Err(err));
                    }
                }
            });
        });
        let (handle, addrs) = rx
            .recv()
            .map_err(|_| StartError::Io(std::io::Error::other("server thread ended")))??;
        let addr = addrs
            .first()
            .copied()
            .ok_or_else(|| StartError::Io(std::io::Error::other("server bound no address")))?;
        Ok(Self {
            addr,
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::System::new().block_on(handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
