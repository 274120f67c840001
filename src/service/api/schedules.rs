//! The `/v1/schedules` routes.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::State;
use super::jobs::{JobView, parse_body, parse_query};
use super::paging;
use super::problem::{CommonErrors, Problem};
use crate::service::jobs::JobStatus;
use crate::service::policy;
use crate::service::scheduler::Firing;
use crate::service::schedules::{Missed, Schedule, ScheduleDefinition, UPCOMING};

/// A schedule as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub id: String,
    pub name: String,
    pub cron: String,
    pub time_zone: String,
    pub spec: crate::spec::JobSpec,
    pub output_prefix: String,
    pub keep_last: u32,
    pub missed: Missed,
    pub paused: bool,
    pub created_at: DateTime<Utc>,
    /// The next fire times (RFC 3339 in the schedule's time zone); empty
    /// while paused.
    pub next_fire_times: Vec<String>,
    /// Why the last fire could not start a job, if it could not.
    pub last_error: Option<String>,
    /// The latest runs, newest first; runs whose output was pruned are gone.
    pub runs: Vec<RunView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub job_id: String,
    pub fire_time: DateTime<Utc>,
    /// The job's status; absent if its record is gone.
    pub status: Option<JobStatus>,
    /// The run folder, once the job succeeded.
    pub folder: Option<String>,
}

async fn view(state: &State, schedule: Schedule) -> Result<ScheduleView, Problem> {
    let mut runs = Vec::new();
    for run in state.schedules.runs(&schedule.id).await? {
        let job = state.jobs.get(&run.job_id).await?;
        runs.push(RunView {
            status: job.as_ref().map(|j| j.status),
            folder: job.and_then(|j| j.result).map(|r| r.folder),
            job_id: run.job_id,
            fire_time: run.fire_time,
        });
    }
    let definition = schedule.definition;
    let next_fire_times = match (schedule.paused, definition.timing()) {
        (false, Ok(timing)) => {
            let from = schedule.next_fire.map_or(Utc::now(), |t| t - chrono::TimeDelta::seconds(1));
            timing.upcoming(from, UPCOMING).iter().map(|t| t.to_rfc3339()).collect()
        }
        _ => Vec::new(),
    };
    Ok(ScheduleView {
        id: schedule.id,
        name: definition.name,
        cron: definition.cron,
        time_zone: definition.time_zone,
        spec: definition.spec,
        output_prefix: definition.output_prefix,
        keep_last: definition.keep_last,
        missed: definition.missed,
        paused: schedule.paused,
        created_at: schedule.created_at,
        next_fire_times,
        last_error: schedule.last_error,
        runs,
    })
}

async fn find(state: &State, id: &str) -> Result<Schedule, Problem> {
    state.schedules.get(id).await?.ok_or_else(|| Problem::not_found(&format!("schedule {id}")))
}

/// Create a schedule.
///
/// Checks the cron expression, the time zone and the spec (its output
/// replaced by `output_prefix` for today) as a submitted job would be
/// checked, and answers with the next fire times.
#[utoipa::path(
    post, path = "/v1/schedules", tag = "schedules",
    request_body = ScheduleDefinition,
    responses(
        (status = 201, description = "Created", body = ScheduleView),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The schedule is invalid or not allowed", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[post("/schedules")]
pub async fn create(state: web::Data<State>, body: web::Bytes) -> Result<HttpResponse, Problem> {
    let definition: ScheduleDefinition = parse_body(&body)?;
    let timing = definition.timing().map_err(|(field, reason)| Problem::invalid(field, reason))?;
    let mut probe = definition.spec.clone();
    probe.output.uri = definition.output_for(Utc::now(), &timing);
    if let Err(rejection) = policy::admit(probe, &state.config) {
        let field = match rejection.field.as_str() {
            "output.uri" => "output_prefix".to_string(),
            field => format!("spec.{field}"),
        };
        return Err(Problem::invalid(&field, rejection.reason));
    }
    let next = timing.next_after(Utc::now());
    let id = state.schedules.create(&definition, next).await?;
    tracing::info!(schedule_id = %id, cron = %definition.cron, "schedule created");
    let schedule = find(&state, &id).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, format!("/v1/schedules/{id}")))
        .json(view(&state, schedule).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Schedules per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulePage {
    pub schedules: Vec<ScheduleView>,
    pub next_cursor: Option<String>,
}

/// List schedules, newest first.
#[utoipa::path(
    get, path = "/v1/schedules", tag = "schedules",
    params(ScheduleQuery),
    responses(
        (status = 200, description = "A page of schedules", body = SchedulePage),
        (status = 422, description = "A query parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[get("/schedules")]
pub async fn list(state: web::Data<State>, request: HttpRequest) -> Result<HttpResponse, Problem> {
    let query: ScheduleQuery = parse_query(request.query_string())?;
    let limit = paging::checked(query.cursor.as_deref(), query.limit)?;
    let found = state.schedules.list(query.cursor.as_deref(), limit + 1).await?;
    let (found, next_cursor) = paging::cut(found, limit, |schedule| schedule.id.clone());
    let mut schedules = Vec::with_capacity(found.len());
    for schedule in found {
        schedules.push(view(&state, schedule).await?);
    }
    Ok(HttpResponse::Ok().json(SchedulePage { schedules, next_cursor }))
}

/// A schedule with its next fire times and latest runs.
#[utoipa::path(
    get, path = "/v1/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "The schedule id")),
    responses(
        (status = 200, description = "The schedule", body = ScheduleView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[get("/schedules/{id}")]
pub async fn get(state: web::Data<State>, id: web::Path<String>) -> Result<HttpResponse, Problem> {
    let schedule = find(&state, &id).await?;
    Ok(HttpResponse::Ok().json(view(&state, schedule).await?))
}

/// Delete a schedule; its past jobs and outputs stay.
#[utoipa::path(
    delete, path = "/v1/schedules/{id}", tag = "schedules",
    params(("id" = String, Path, description = "The schedule id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[delete("/schedules/{id}")]
pub async fn remove(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    if ulid::Ulid::from_string(&id).is_err() || !state.schedules.delete(&id).await? {
        return Err(Problem::not_found(&format!("schedule {id}")));
    }
    tracing::info!(schedule_id = %id, "schedule deleted");
    Ok(HttpResponse::NoContent().finish())
}

async fn set_paused(state: &State, id: &str, paused: bool) -> Result<HttpResponse, Problem> {
    let schedule = find(state, id).await?;
    let next = match (paused, schedule.definition.timing()) {
        (false, Ok(timing)) => timing.next_after(Utc::now()),
        _ => None,
    };
    if !state.schedules.set_paused(id, paused, next).await? {
        return Err(Problem::not_found(&format!("schedule {id}")));
    }
    let schedule = find(state, id).await?;
    Ok(HttpResponse::Ok().json(view(state, schedule).await?))
}

/// Pause a schedule: no fires until it is resumed.
#[utoipa::path(
    post, path = "/v1/schedules/{id}/pause", tag = "schedules",
    params(("id" = String, Path, description = "The schedule id")),
    responses(
        (status = 200, description = "Paused", body = ScheduleView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[post("/schedules/{id}/pause")]
pub async fn pause(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    set_paused(&state, &id, true).await
}

/// Resume a schedule from its next fire time; the paused stretch is not
/// caught up.
#[utoipa::path(
    post, path = "/v1/schedules/{id}/resume", tag = "schedules",
    params(("id" = String, Path, description = "The schedule id")),
    responses(
        (status = 200, description = "Resumed", body = ScheduleView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[post("/schedules/{id}/resume")]
pub async fn resume(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    set_paused(&state, &id, false).await
}

/// Run a schedule's job now, as if it fired at this moment.
#[utoipa::path(
    post, path = "/v1/schedules/{id}/trigger", tag = "schedules",
    params(("id" = String, Path, description = "The schedule id")),
    responses(
        (status = 202, description = "The job started", body = JobView),
        (status = 404, description = "No such schedule", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The schedule's spec is no longer allowed", body = Problem, content_type = "application/problem+json"),
        CommonErrors,
    ),
    security(("bearer" = []))
)]
#[post("/schedules/{id}/trigger")]
pub async fn trigger(
    state: web::Data<State>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let schedule = find(&state, &id).await?;
    let timing =
        schedule.definition.timing().map_err(|(field, reason)| Problem::invalid(field, reason))?;
    let firing = Firing {
        config: (*state.config).clone(),
        jobs: state.jobs.clone(),
        queue: state.queue.clone(),
        schedules: state.schedules.clone(),
    };
    let (job_id, _) = firing
        .fire(&schedule, &timing, Utc::now())
        .await
        .map_err(|e| Problem::invalid("spec", format!("{e:#}")))?;
    let job = state.jobs.get(&job_id).await?.ok_or_else(|| Problem::not_found("the new job"))?;
    Ok(HttpResponse::Accepted().json(JobView::from(job)))
}
