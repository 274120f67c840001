//! Errors as `application/problem+json` (RFC 9457), the one error shape
//! every route answers with, so clients handle failures in one place.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::policy::Rejection;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// An error, as RFC 9457 describes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says
    /// it all.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong in this request, and what to do about it.
    pub detail: String,
    /// For validation errors: each field that is wrong.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One wrong field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the field, such as `model.epochs`; empty for the
    /// whole body.
    pub field: String,
    pub message: String,
}

/// The errors every `/v1` route can answer, documented once.
#[derive(utoipa::IntoResponses)]
pub enum CommonErrors {
    /// No valid API key
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// A store the request needs (jobs, or the run's output) is unavailable;
    /// retry later
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank".to_string(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Problem {
        let message = message.into();
        let detail = if field.is_empty() { message.clone() } else { format!("{field}: {message}") };
        let mut problem = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail);
        problem.errors.push(FieldError { field: field.to_string(), message });
        problem
    }

    pub fn not_found(what: &str) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, format!("{what} was not found"))
    }

    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        Problem::status_code(self)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(Problem::status_code(self));
        response.insert_header((header::CONTENT_TYPE, CONTENT_TYPE));
        if self.status == 401 {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(self)
    }
}

impl From<Rejection> for Problem {
    fn from(rejection: Rejection) -> Problem {
        let mut problem = Problem::invalid(&rejection.field, rejection.reason);
        if rejection.status == 413 {
            problem.status = 413;
            problem.title = "Payload Too Large".to_string();
        }
        problem
    }
}

/// Redis failed: the service cannot answer now, but may soon.
impl From<redis::RedisError> for Problem {
    fn from(error: redis::RedisError) -> Problem {
        tracing::error!(%error, "redis request failed");
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "the job store is unavailable; retry later")
    }
}

/// Rewrites an error response that is not problem+json yet (actix's own:
/// an unknown route, a wrong method, a body over the limit) into one.
pub fn rewrite<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Problems, and JSON bodies a route chose to send with an error status
    // (readiness), are left as they are.
    let typed = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v == HeaderValue::from_static(CONTENT_TYPE)
            || v == HeaderValue::from_static("application/json")
    });
    if typed {
        return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
    }
    let status = response.status();
    let detail = match status {
        StatusCode::NOT_FOUND => format!("no route {}", response.request().path()),
        StatusCode::METHOD_NOT_ALLOWED => {
            format!(
                "{} is not allowed on {}",
                response.request().method(),
                response.request().path()
            )
        }
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is over the service's limit".to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let (request, _) = response.into_parts();
    let problem: HttpResponse<BoxBody> = Problem::new(status, detail).error_response();
    let response = ServiceResponse::new(request, problem).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(response))
}
