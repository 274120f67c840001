//! Bearer-token checks for the `/v1` routes.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use sha2::{Digest, Sha256};

use super::State;
use super::problem::Problem;

/// The name of the key a request was made with, for logs and idempotency.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

/// Lets a request through when it carries a configured key.
pub async fn require_key(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = request.app_data::<web::Data<State>>().expect("the app has its state");
    let token = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(token) = token else {
        let detail = "this route needs an API key: send `Authorization: Bearer <key>`";
        return Err(Problem::new(StatusCode::UNAUTHORIZED, detail).into());
    };
    // Digests have one length, so comparing them takes the same time
    // whichever key (if any) is close to the token.
    let digest = Sha256::digest(token.as_bytes());
    let caller = state
        .config
        .api_keys
        .iter()
        .find(|key| Sha256::digest(key.key.as_bytes()) == digest)
        .map(|key| key.name.clone());
    let Some(name) = caller else {
        return Err(Problem::new(StatusCode::UNAUTHORIZED, "the API key is not valid").into());
    };
    tracing::Span::current().record("caller", name.as_str());
    request.extensions_mut().insert(Caller(name));
    next.call(request).await
}
