//! Health, readiness and metrics: the routes probes and scrapers call,
//! with no key.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use tracing::Instrument;
use utoipa::ToSchema;

use super::State;
use crate::service::jobs::JobStatus;
use crate::storage::Location;

/// How long readiness waits for each dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// One span per request with its method, path, status and duration.
pub async fn request_span(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.path(),
        caller = tracing::field::Empty,
    );
    let started = Instant::now();
    let response = next.call(request).instrument(span.clone()).await;
    let _entered = span.enter();
    match &response {
        Ok(response) => tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request finished"
        ),
        Err(error) => tracing::info!(
            status = error.as_response_error().status_code().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request refused"
        ),
    }
    response
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// The process is alive.
#[utoipa::path(
    get, path = "/healthz", tag = "system",
    responses((status = 200, description = "Alive", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok".to_string() })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` when every dependency answered, else `unavailable`.
    pub status: String,
    /// Each dependency (`redis`, `s3://BUCKET`, the local root) and what it
    /// answered: `ok` or the error.
    pub checks: BTreeMap<String, String>,
}

/// Redis and every configured store answer.
#[utoipa::path(
    get, path = "/readyz", tag = "system",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "A dependency does not answer", body = Readiness),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<State>) -> HttpResponse {
    let mut checks = BTreeMap::new();
    let ping = async {
        let mut redis = state.redis.clone();
        redis::cmd("PING").query_async::<String>(&mut redis).await
    };
    let answer = match tokio::time::timeout(PROBE_TIMEOUT, ping).await {
        Ok(Ok(_)) => "ok".to_string(),
        Ok(Err(error)) => error.to_string(),
        Err(_) => "no answer within 3 s".to_string(),
    };
    checks.insert("redis".to_string(), answer);
    for store in &state.config.stores {
        let bucket = Location::parse(&format!("s3://{}/", store.bucket))
            .expect("configured buckets are checked at start");
        let listing = bucket.list_names(&store.options);
        let answer = match tokio::time::timeout(PROBE_TIMEOUT, listing).await {
            Ok(Ok(_)) => "ok".to_string(),
            Ok(Err(error)) => format!("{error:#}"),
            Err(_) => "no answer within 3 s".to_string(),
        };
        checks.insert(format!("s3://{}", store.bucket), answer);
    }
    if let Some(root) = &state.config.local_root {
        let answer = if root.is_dir() { "ok" } else { "not a folder" };
        checks.insert(root.display().to_string(), answer.to_string());
    }
    let ready = checks.values().all(|v| v == "ok");
    let body =
        Readiness { status: if ready { "ready" } else { "unavailable" }.to_string(), checks };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics: jobs by status, queue depth and job durations,
/// counted across every worker.
#[utoipa::path(
    get, path = "/metrics", tag = "system",
    responses(
        (status = 200, description = "Prometheus text format", body = String,
         content_type = "text/plain"),
        (status = 503, description = "The job store is unavailable",
         body = super::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<State>) -> Result<HttpResponse, super::problem::Problem> {
    let counts = state.jobs.counts().await?;
    let (buckets, sum, count) = state.jobs.durations().await?;
    let mut text = String::new();
    let _ = writeln!(text, "# HELP shopsynth_jobs Jobs by status.");
    let _ = writeln!(text, "# TYPE shopsynth_jobs gauge");
    for (status, n) in &counts {
        let _ = writeln!(text, "shopsynth_jobs{{status=\"{}\"}} {n}", status.as_str());
    }
    let queued = counts.iter().find(|(s, _)| *s == JobStatus::Queued).map_or(0, |(_, n)| *n);
    let _ = writeln!(text, "# HELP shopsynth_queue_depth Jobs waiting for a worker.");
    let _ = writeln!(text, "# TYPE shopsynth_queue_depth gauge");
    let _ = writeln!(text, "shopsynth_queue_depth {queued}");
    let _ = writeln!(text, "# HELP shopsynth_job_duration_seconds Time from start to finish.");
    let _ = writeln!(text, "# TYPE shopsynth_job_duration_seconds histogram");
    for (le, n) in buckets {
        let _ = writeln!(text, "shopsynth_job_duration_seconds_bucket{{le=\"{le}\"}} {n}");
    }
    let _ = writeln!(text, "shopsynth_job_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
    let _ = writeln!(text, "shopsynth_job_duration_seconds_sum {sum}");
    let _ = writeln!(text, "shopsynth_job_duration_seconds_count {count}");
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(text))
}
