//! The `/v1/jobs` and `/v1/datasets` routes.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::State;
use super::auth::Caller;
use super::paging;
use super::problem::{CommonErrors, Problem};
use crate::schema::ColumnSchema;
use crate::service::jobs::{
    Cancelled, JobError, JobRecord, JobResult, JobStatus, JobTask, Origin, Progress, SampleTask,
};
use crate::service::policy::{self, Rejection};
use crate::spec::{DatasetSpec, JobSpec};
use crate::table::{Format, ReadOptions};

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 200;

/// A job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// A ULID: sorts by creation time.
    pub id: String,
    /// `synthesize` (train and sample) or `sample` (from another job's model).
    pub kind: String,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Runs started, including ones resumed after a worker stopped.
    pub attempts: u32,
    pub cancel_requested: bool,
    pub progress: Progress,
    /// Present when the job failed.
    pub error: Option<JobError>,
    /// Outputs and quality, present when the job succeeded.
    pub result: Option<JobResult>,
    /// The spec as admitted, locations resolved (synthesize jobs).
    pub spec: Option<JobSpec>,
    /// What is sampled and how (sample jobs).
    pub sample: Option<SampleTask>,
    /// The schedule that started this job, if one did.
    pub origin: Option<Origin>,
    pub links: Links,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    pub this: String,
    pub report: String,
    pub report_html: String,
    pub cancel: String,
    pub samples: String,
}

impl From<JobRecord> for JobView {
    fn from(job: JobRecord) -> JobView {
        let base = format!("/v1/jobs/{}", job.id);
        let (kind, spec, sampling) = match job.task {
            JobTask::Synthesize { spec } => ("synthesize", Some(spec), None),
            JobTask::Sample(task) => ("sample", None, Some(task)),
        };
        JobView {
            id: job.id,
            kind: kind.to_string(),
            status: job.status,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            attempts: job.attempts,
            cancel_requested: job.cancel_requested,
            progress: job.progress,
            error: job.error,
            result: job.result,
            spec,
            sample: sampling,
            origin: job.origin,
            links: Links {
                report: format!("{base}/report"),
                report_html: format!("{base}/report.html"),
                cancel: format!("{base}/cancel"),
                samples: format!("{base}/samples"),
                this: base,
            },
        }
    }
}

/// Parses a JSON object body, naming the field at fault.
pub(super) fn parse_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Problem> {
    let not_json = |reason: String| Problem::new(StatusCode::BAD_REQUEST, reason);
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(not_json("the body must be a JSON object".to_string()));
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return not_json(format!("the body is not JSON: {inner}"));
        }
        Problem::invalid(&field_of(&path, &inner.to_string()), plain(&inner.to_string()))
    })?;
    reader.end().map_err(|e| not_json(format!("the body has more after its JSON object: {e}")))?;
    Ok(value)
}

/// The dotted field a serde error concerns: a missing field is named by
/// the error text, not the path (which stops at its parent).
pub(super) fn field_of(path: &str, message: &str) -> String {
    let path = if path == "." { "" } else { path };
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match missing {
        Some(name) if path.is_empty() => name.to_string(),
        Some(name) => format!("{path}.{name}"),
        None => path.to_string(),
    }
}

/// A serde message without its position suffix (` at line 1 column 65`).
fn plain(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_string(),
        None => message.to_string(),
    }
}

/// Parses a query string, naming the parameter at fault.
pub(super) fn parse_query<T: for<'de> Deserialize<'de>>(query: &str) -> Result<T, Problem> {
    let pairs = url::form_urlencoded::parse(query.as_bytes());
    let reader = serde_urlencoded::Deserializer::new(pairs);
    serde_path_to_error::deserialize(reader).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        Problem::invalid(&field_of(&path, &message), message)
    })
}

/// Checks that the dataset exists and is within the size limit, so a
/// client hears now rather than after queueing.
async fn check_dataset(dataset: &DatasetSpec, state: &State) -> Result<(), Problem> {
    let location = crate::storage::Location::parse(&dataset.uri)
        .map_err(|e| Problem::invalid("dataset.uri", e.to_string()))?;
    let size = match tokio::time::timeout(STORE_TIMEOUT, location.size(&dataset.storage)).await {
        Ok(Ok(size)) => size,
        // The store failed (a missing file is not an object_store error
        // here): the service's problem, not the spec's.
        Ok(Err(error)) if error.chain().any(|c| c.is::<object_store::Error>()) => {
            return Err(store_failed(&error));
        }
        Ok(Err(error)) => return Err(Problem::invalid("dataset.uri", first_line(&error))),
        Err(_) => return Err(store_silent()),
    };
    let limit = state.config.limits.max_dataset_bytes;
    if size > limit {
        let reason = format!("the dataset has {size} bytes; this service reads at most {limit}");
        return Err(Rejection::too_large("dataset.uri", reason).into());
    }
    Ok(())
}

fn idempotency_key(request: &HttpRequest) -> Result<Option<String>, Problem> {
    let Some(value) = request.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let text = value.to_str().ok().map(str::trim).filter(|t| !t.is_empty());
    match text {
        Some(text) if text.len() <= MAX_IDEMPOTENCY_KEY => {
            let caller = request.extensions().get::<Caller>().map(|c| c.0.clone());
            let scoped = format!("{}\n{text}", caller.unwrap_or_default());
            Ok(Some(crate::output::hex(&Sha256::digest(scoped.as_bytes()))))
        }
        _ => Err(Problem::invalid(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
        )),
    }
}

/// Creates a job, or returns the one an earlier request with the same
/// `Idempotency-Key` created.
async fn create(
    state: &State,
    task: JobTask,
    request: &HttpRequest,
) -> Result<HttpResponse, Problem> {
    let idempotency = idempotency_key(request)?;
    let (id, created) = state.jobs.create(&task, idempotency.as_deref(), None).await?;
    let job = state.jobs.get(&id).await?.ok_or_else(|| Problem::not_found("the new job"))?;
    if !created {
        if job.task != task {
            let detail = "this Idempotency-Key was used for a different request; use a new key";
            return Err(Problem::new(StatusCode::CONFLICT, detail));
        }
        return Ok(HttpResponse::Ok().json(JobView::from(job)));
    }
    if let Err(error) = state.queue.push(&id).await {
        tracing::error!(job_id = %id, error = %error, "enqueueing failed");
        // The record stays queued; any worker's sweep finds and enqueues it.
    }
    tracing::info!(job_id = %id, "job queued");
    let location = format!("/v1/jobs/{id}");
    Ok(HttpResponse::Accepted()
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(JobView::from(job)))
}

/// Submit a synthesis job.
///
/// Takes the job spec of `shopsynth run`. Locations must be under the
/// service's local root or in a configured bucket; store settings come
/// from the service, never from the spec.
#[utoipa::path(
    post, path = "/v1/jobs", tag = "jobs",
    request_body = JobSpec,
    params(("Idempotency-Key" = Option<String>, Header,
            description = "Repeating a submit with the same key returns the first job")),
    responses(
        (status = 202, description = "Queued", body = JobView),
        (status = 200, description = "The job this Idempotency-Key created before", body = JobView),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key was used for another spec", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or dataset over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The spec is invalid or not allowed", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[post("/jobs")]
pub async fn submit(
    state: web::Data<State>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let spec: JobSpec = parse_body(&body)?;
    let spec = policy::admit(spec, &state.config)?;
    check_dataset(&spec.dataset, &state).await?;
    create(&state, JobTask::Synthesize { spec }, &request).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only jobs with this status.
    pub status: Option<JobStatus>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Jobs per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    /// Newest first.
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// List jobs, newest first.
#[utoipa::path(
    get, path = "/v1/jobs", tag = "jobs",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobPage),
        (status = 422, description = "A query parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[get("/jobs")]
pub async fn list(state: web::Data<State>, request: HttpRequest) -> Result<HttpResponse, Problem> {
    let query: ListQuery = parse_query(request.query_string())?;
    let limit = paging::checked(query.cursor.as_deref(), query.limit)?;
    let found = state.jobs.list(query.status, query.cursor.as_deref(), limit + 1).await?;
    let (jobs, next_cursor) = paging::cut(found, limit, |job| job.id.clone());
    let jobs = jobs.into_iter().map(JobView::from).collect();
    Ok(HttpResponse::Ok().json(JobPage { jobs, next_cursor }))
}

async fn find(state: &State, id: &str) -> Result<JobRecord, Problem> {
    state.jobs.get(id).await?.ok_or_else(|| Problem::not_found(&format!("job {id}")))
}

/// A job's status, progress, outputs and quality.
#[utoipa::path(
    get, path = "/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[get("/jobs/{id}")]
pub async fn get(state: web::Data<State>, id: web::Path<String>) -> Result<HttpResponse, Problem> {
    Ok(HttpResponse::Ok().json(JobView::from(find(&state, &id).await?)))
}

/// Cancel a job.
///
/// A queued job is cancelled at once; a running one stops at the end of
/// its current training epoch.
#[utoipa::path(
    post, path = "/v1/jobs/{id}/cancel", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses(
        (status = 202, description = "Cancelled, or stopping at the end of this epoch", body = JobView),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has already finished", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[post("/jobs/{id}/cancel")]
pub async fn cancel(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    match state.jobs.cancel(&id).await? {
        Cancelled::NotFound => Err(Problem::not_found(&format!("job {id}"))),
        Cancelled::AlreadyFinished(status) => Err(Problem::new(
            StatusCode::CONFLICT,
            format!("job {id} has already finished ({})", status.as_str()),
        )),
        Cancelled::Now | Cancelled::Requested => {
            tracing::info!(job_id = %id, "cancel requested");
            Ok(HttpResponse::Accepted().json(JobView::from(find(&state, &id).await?)))
        }
    }
}

/// report.json of a finished run, as written in its folder.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct Report(serde_json::Value);

/// The job's report: data summary, quality with its holdout reference,
/// privacy, detection, recommender utility and per-column distributions.
#[utoipa::path(
    get, path = "/v1/jobs/{id}/report", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses(
        (status = 200, description = "report.json", body = Report),
        (status = 404, description = "No such job, or its report is no longer in the store", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has no report (yet)", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[get("/jobs/{id}/report")]
pub async fn report(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let (location, bytes) = run_file(&state, &id, "report.json").await?;
    let report: Report = serde_json::from_slice(&bytes).map_err(|e| {
        Problem::new(StatusCode::NOT_FOUND, format!("{location} is not a report: {e}"))
    })?;
    Ok(HttpResponse::Ok().json(report))
}

/// What the report page may load: nothing but its own inline styles and
/// SVG, so data that reaches the page (labels, column names) cannot fetch
/// or run anything even if it slipped past escaping.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The job's report as one self-contained page, with a plot per column.
#[utoipa::path(
    get, path = "/v1/jobs/{id}/report.html", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses(
        (status = 200, description = "report.html: no scripts, no network", body = String, content_type = "text/html"),
        (status = 404, description = "No such job, or its page is no longer in the store", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has no report (yet)", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[get("/jobs/{id}/report.html")]
pub async fn report_page(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let (_, bytes) = run_file(&state, &id, "report.html").await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", PAGE_POLICY))
        .body(bytes))
}

/// Reads one file of a succeeded synthesis job's run folder.
async fn run_file(
    state: &State,
    id: &str,
    name: &str,
) -> Result<(crate::storage::Location, bytes::Bytes), Problem> {
    let job = find(state, id).await?;
    let (Some(result), JobTask::Synthesize { spec }) = (&job.result, &job.task) else {
        let detail = format!(
            "job {id} has no report: it is {} and reports come with succeeded synthesis jobs",
            job.status.as_str()
        );
        return Err(Problem::new(StatusCode::CONFLICT, detail));
    };
    let location = crate::storage::Location::parse(&result.folder)
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .join(name);
    if location.local_path().is_some() {
        policy::resolve(&location.to_string(), "report", &state.config).map_err(|r| {
            Problem::new(StatusCode::NOT_FOUND, format!("{location} is not readable: {}", r.reason))
        })?;
    }
    let store = state.config.store_options(&result.folder, &spec.output.storage);
    if !with_timeout(location.exists(&store)).await? {
        let detail = format!("{location} is no longer in the store (pruned or removed)");
        return Err(Problem::new(StatusCode::NOT_FOUND, detail));
    }
    let bytes = with_timeout(location.read(&store)).await?;
    Ok((location, bytes))
}

/// How long a route waits for the object store.
const STORE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Runs a store request within [`STORE_TIMEOUT`]; a failing or silent store
/// is the service's problem (503), not the client's.
async fn with_timeout<T>(
    request: impl std::future::Future<Output = anyhow::Result<T>>,
) -> Result<T, Problem> {
    match tokio::time::timeout(STORE_TIMEOUT, request).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(store_failed(&error)),
        Err(_) => Err(store_silent()),
    }
}

fn store_failed(error: &anyhow::Error) -> Problem {
    tracing::warn!(error = %format!("{error:#}"), "store request failed");
    let detail = format!("the store failed: {}; retry later", first_line(error));
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, detail)
}

fn store_silent() -> Problem {
    let detail =
        format!("the store did not answer within {} s; retry later", STORE_TIMEOUT.as_secs());
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, detail)
}

fn first_line(error: &anyhow::Error) -> String {
    error.to_string().lines().next().unwrap_or("").chars().take(300).collect()
}

/// How many rows to sample from a finished job's model.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleRequest {
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub rows: i64,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Output formats; CSV when left out.
    #[serde(default)]
    pub formats: Vec<Format>,
}

fn default_seed() -> u64 {
    42
}

/// Sample new rows from a succeeded job's model, without retraining.
///
/// Creates a job that writes a run folder of its own beside the source
/// job's, under the source's output location.
#[utoipa::path(
    post, path = "/v1/jobs/{id}/samples", tag = "jobs",
    params(("id" = String, Path, description = "The job whose model is sampled"),
           ("Idempotency-Key" = Option<String>, Header,
            description = "Repeating a request with the same key returns the first job")),
    request_body = SampleRequest,
    responses(
        (status = 202, description = "Queued", body = JobView),
        (status = 200, description = "The job this Idempotency-Key created before", body = JobView),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has no model: it has not succeeded, or is a sample job", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The request is invalid", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[post("/jobs/{id}/samples")]
pub async fn sample(
    state: web::Data<State>,
    id: web::Path<String>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let asked: SampleRequest = parse_body(&body)?;
    crate::spec::check_rows(asked.rows, "rows").map_err(Rejection::from)?;
    if asked.rows > state.config.limits.max_rows {
        let reason = format!("at most {} rows on this service", state.config.limits.max_rows);
        return Err(Problem::invalid("rows", reason));
    }
    let source = find(&state, &id).await?;
    let (Some(result), JobTask::Synthesize { spec }) = (&source.result, &source.task) else {
        let detail = format!(
            "job {id} has no model to sample: it is a {} {} job; sample a succeeded synthesis job",
            source.status.as_str(),
            if matches!(source.task, JobTask::Sample(_)) { "sample" } else { "synthesis" },
        );
        return Err(Problem::new(StatusCode::CONFLICT, detail));
    };
    let formats = if asked.formats.is_empty() { vec![Format::Csv] } else { asked.formats };
    let task = SampleTask {
        source: source.id.clone(),
        model_uri: result.folder.clone(),
        output_uri: spec.output.uri.clone(),
        rows: asked.rows,
        seed: asked.seed,
        formats,
        storage: spec.output.storage.clone(),
    };
    create(&state, JobTask::Sample(task), &request).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inspection {
    pub dataset: String,
    pub rows: usize,
    pub skipped_rows: usize,
    /// Each column's inferred kind and facts, as a job would use them.
    pub columns: Vec<InspectedColumn>,
    /// How each column would be synthesised.
    pub plan: BTreeMap<String, String>,
}

/// One column as inference sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectedColumn {
    pub name: String,
    /// numeric, categorical, boolean, datetime, id or text.
    #[serde(rename = "type")]
    pub kind: String,
    /// How the source writes a missing value, if it has any.
    pub null_marker: Option<String>,
    /// Share of rows where the value is missing.
    pub missing_rate: f64,
    /// Distinct non-missing values.
    pub distinct: usize,
    /// The facts of this type: range and decimals of numbers, the format of
    /// datetimes, the role of ids.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<ColumnSchema> for InspectedColumn {
    fn from(column: ColumnSchema) -> InspectedColumn {
        let mut details = serde_json::to_value(&column.kind).expect("a kind serializes");
        if let Some(facts) = details.as_object_mut() {
            facts.remove("type");
        }
        InspectedColumn {
            name: column.name,
            kind: column.kind.name().to_string(),
            null_marker: column.null_marker,
            missing_rate: column.missing_rate,
            distinct: column.distinct,
            details,
        }
    }
}

/// Infer a dataset's schema without training.
///
/// Reads the dataset as a job would and answers with each column's
/// inferred type, so a spec can be fixed before it is paid for.
#[utoipa::path(
    post, path = "/v1/datasets/inspect", tag = "datasets",
    request_body = DatasetSpec,
    responses(
        (status = 200, description = "The inferred schema", body = Inspection),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or dataset over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The reference is invalid, not allowed, or unreadable", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[post("/datasets/inspect")]
pub async fn inspect(state: web::Data<State>, body: web::Bytes) -> Result<HttpResponse, Problem> {
    let dataset: DatasetSpec = parse_body(&body)?;
    // The body is a spec's dataset section, checked by the same rules; its
    // errors name fields as the body has them (`uri`, not `dataset.uri`).
    let inspection = inspect_dataset(dataset, &state).await.map_err(|mut problem| {
        for error in &mut problem.errors {
            error.field = error.field.trim_start_matches("dataset").trim_start_matches('.').into();
        }
        problem
    })?;
    Ok(HttpResponse::Ok().json(inspection))
}

async fn inspect_dataset(dataset: DatasetSpec, state: &State) -> Result<Inspection, Problem> {
    let dataset = policy::admit_dataset(dataset, &state.config)?;
    check_dataset(&dataset, state).await?;
    let format = dataset.format().map_err(Rejection::from)?;
    let options = ReadOptions {
        header: dataset.header,
        columns: dataset.columns.clone(),
        on_bad_rows: dataset.on_bad_rows,
    };
    let read = crate::pipeline::read_table(&dataset.uri, format, &options, &dataset.storage)
        .await
        .map_err(|e| Problem::invalid("dataset.uri", format!("{e:#}")))?;
    let schema = crate::schema::infer::infer(&read.table, &dataset.schema)
        .map_err(|e| Problem::invalid("dataset.schema", format!("{e:#}")))?;
    let plan = crate::plan::Plan::build(&read.table, &schema)
        .map_err(|e| Problem::invalid("dataset", format!("{e:#}")))?;
    Ok(Inspection {
        rows: read.table.rows(),
        skipped_rows: read.skipped.len(),
        columns: schema.columns.into_iter().map(InspectedColumn::from).collect(),
        plan: plan.describe("gan or vae"),
        dataset: dataset.uri,
    })
}
