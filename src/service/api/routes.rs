//! Answers for requests no route takes: 405 with `Allow` when the path is
//! a documented route under another method, else 404. The OpenAPI
//! document is the list of routes, so the two cannot drift apart.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use super::problem::Problem;

/// Each documented path, split into segments (`{…}` matches any one),
/// with its methods.
pub struct Routes(Vec<(Vec<String>, Vec<String>)>);

impl Routes {
    pub fn from_document() -> Routes {
        let document: serde_json::Value =
            serde_json::from_str(&super::openapi_json()).expect("the document is JSON");
        let paths = document["paths"].as_object().cloned().unwrap_or_default();
        let routes = paths
            .into_iter()
            .map(|(path, operations)| {
                let segments = path.split('/').map(str::to_string).collect();
                let mut methods: Vec<String> = operations
                    .as_object()
                    .map(|o| o.keys().map(|m| m.to_uppercase()).collect())
                    .unwrap_or_default();
                methods.sort();
                (segments, methods)
            })
            .collect();
        Routes(routes)
    }

    /// The methods a documented path takes, if the path is documented.
    fn methods(&self, path: &str) -> Option<&[String]> {
        let asked: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(segments, _)| {
                segments.len() == asked.len()
                    && segments.iter().zip(&asked).all(|(s, a)| {
                        s == a || (s.starts_with('{') && s.ends_with('}') && !a.is_empty())
                    })
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

/// The app's default service.
pub async fn unrouted(request: HttpRequest, routes: web::Data<Routes>) -> HttpResponse {
    let path = request.path();
    match routes.methods(path) {
        Some(methods) => {
            let allowed = methods.join(", ");
            let detail =
                format!("{} is not allowed on {path}; it takes {allowed}", request.method());
            let mut response =
                Problem::new(StatusCode::METHOD_NOT_ALLOWED, detail).error_response();
            if let Ok(value) = allowed.parse() {
                response.headers_mut().insert(actix_web::http::header::ALLOW, value);
            }
            response
        }
        None => Problem::new(StatusCode::NOT_FOUND, format!("no route {path}")).error_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_paths_are_matched_with_their_methods() {
        let routes = Routes::from_document();
        assert_eq!(routes.methods("/v1/jobs").unwrap(), ["GET", "POST"]);
        assert_eq!(routes.methods("/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel").unwrap(), ["POST"]);
        assert!(routes.methods("/v1/jobs//cancel").is_none());
        assert!(routes.methods("/v1/nothing").is_none());
    }
}
