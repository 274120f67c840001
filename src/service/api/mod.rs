//! The HTTP API, version 1: jobs, dataset inspection, health, metrics and
//! the OpenAPI document that client SDKs are generated from.
//!
//! Every `/v1` route needs a bearer token from the configuration; health,
//! readiness, metrics and the documentation do not, so probes and scrapers
//! need no secret.

mod auth;
mod jobs;
mod paging;
pub mod problem;
mod routes;
mod schedules;
mod system;

use std::sync::Arc;

use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use redis::aio::ConnectionManager;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

use super::config::ServiceConfig;
use super::jobs::JobStore;
use super::queue::Queue;
use super::schedules::ScheduleStore;

/// What every handler shares.
pub struct State {
    pub config: Arc<ServiceConfig>,
    pub jobs: JobStore,
    pub queue: Queue,
    pub schedules: ScheduleStore,
    pub redis: ConnectionManager,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shopsynth",
        description = "Synthetic e-commerce tables learnt from real ones: submit a job spec, \
                       follow its progress, fetch its outputs from the store."
    ),
    paths(
        jobs::submit,
        jobs::list,
        jobs::get,
        jobs::cancel,
        jobs::report,
        jobs::report_page,
        jobs::sample,
        jobs::inspect,
        schedules::create,
        schedules::list,
        schedules::get,
        schedules::remove,
        schedules::pause,
        schedules::resume,
        schedules::trigger,
        system::healthz,
        system::readyz,
        system::metrics,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "jobs", description = "Synthesis and sampling jobs"),
        (name = "datasets", description = "Datasets, read without training"),
        (name = "schedules", description = "Jobs run on a cron schedule, old outputs pruned"),
        (name = "system", description = "Health, readiness and metrics; no key needed"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The OpenAPI document as committed in `openapi/shopsynth.json`.
pub fn openapi_json() -> String {
    let mut text = ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

/// Serves the API until the process is told to stop.
pub async fn serve(config: ServiceConfig) -> anyhow::Result<()> {
    if config.api_keys.is_empty() {
        anyhow::bail!(
            "no API keys configured: set api_keys in the configuration file or \
             SHOPSYNTH_API_KEYS=name:key (keys of 16 characters or more)"
        );
    }
    let redis = super::queue::connect(&config.redis_url).await?;
    let state = web::Data::new(State {
        jobs: JobStore::new(redis.clone(), &config.key_prefix),
        queue: Queue::new(redis.clone(), &config),
        schedules: ScheduleStore::new(redis.clone(), &config.key_prefix),
        redis,
        config: Arc::new(config.clone()),
    });
    let body_limit = config.limits.max_body_bytes;
    let routes = web::Data::new(routes::Routes::from_document());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(routes.clone())
            .app_data(web::PayloadConfig::new(body_limit))
            .wrap(ErrorHandlers::new().default_handler(problem::rewrite))
            .wrap(from_fn(system::request_span))
            .service(
                web::scope("/v1")
                    .wrap(from_fn(auth::require_key))
                    .service(jobs::submit)
                    .service(jobs::list)
                    .service(jobs::get)
                    .service(jobs::cancel)
                    .service(jobs::report)
                    .service(jobs::report_page)
                    .service(jobs::sample)
                    .service(jobs::inspect)
                    .service(schedules::create)
                    .service(schedules::list)
                    .service(schedules::get)
                    .service(schedules::remove)
                    .service(schedules::pause)
                    .service(schedules::resume)
                    .service(schedules::trigger),
            )
            .service(system::healthz)
            .service(system::readyz)
            .service(system::metrics)
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()))
            .service(web::redirect("/docs", "/docs/"))
            .default_service(web::to(routes::unrouted))
    })
    .bind(&config.listen)
    .map_err(|e| {
        anyhow::anyhow!("cannot listen on {} (listen, SHOPSYNTH_LISTEN): {e}", config.listen)
    })?;
    tracing::info!(listen = %config.listen, "API listening");
    server.run().await?;
    Ok(())
}
