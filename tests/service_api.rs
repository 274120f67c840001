//! The API on its own (no worker): keys, refusals, idempotency, listing,
//! inspection, cancellation of queued jobs and the OpenAPI document.

mod common;

use common::service::{KEY, Service, taobao_spec};
use reqwest::Method;
use serde_json::{Value, json};

const TAOBAO: &str = common::TAOBAO;

fn problem(response: reqwest::blocking::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().expect("a problem body");
    assert_eq!(body["status"], status, "{body}");
    body
}

#[test]
fn no_v1_route_answers_without_a_valid_key() {
    let service = Service::start("auth", &[]);
    let document: Value =
        serde_json::from_str(include_str!("../openapi/shopsynth.json")).expect("the document");
    let mut checked = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let path = path.replace("{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        for method in operations.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let bare = service.request(method.clone(), &path).json(&json!({})).send().unwrap();
            let body = problem(bare, 401);
            assert!(body["detail"].as_str().unwrap().contains("Bearer"), "{body}");
            for wrong in ["not-the-key-0123456789", &KEY[..KEY.len() - 1]] {
                let answer = service.request(method.clone(), &path).bearer_auth(wrong).send();
                problem(answer.unwrap(), 401);
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} /v1 operations found in the document");

    for open in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs/"] {
        let response = service.request(Method::GET, open).send().unwrap();
        assert_eq!(response.status(), 200, "{open}");
    }
}

#[test]
fn specs_naming_places_outside_the_configuration_are_refused() {
    let service = Service::start("places", &[]);
    let other_bucket = common::service::env("SHOPSYNTH_TEST_S3_SECOND_BUCKET");
    let base = taobao_spec("taobao.csv", "out", "vae", 2);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("dataset.uri", json!({"uri": "../../etc/passwd"}), "`..`"),
        ("dataset.uri", json!({"uri": "/etc/passwd"}), "under"),
        ("dataset.uri", json!({"uri": "file:///etc/passwd"}), "under"),
        ("dataset.uri", json!({"uri": format!("s3://{other_bucket}/x.csv")}), "not one"),
        ("dataset.uri", json!({"uri": "http://169.254.169.254/latest"}), "not a location"),
        ("dataset.storage", json!({"storage": {"endpoint": "http://127.0.0.2:9"}}), "remove"),
    ];
    for (field, change, words) in cases {
        let mut spec = base.clone();
        for (k, v) in change.as_object().unwrap() {
            spec["dataset"][k] = v.clone();
        }
        let body = problem(service.post("/v1/jobs", &spec), 422);
        assert_eq!(body["errors"][0]["field"], field, "{body}");
        assert!(body["detail"].as_str().unwrap().contains(words), "{body}");
    }
    let mut spec = base.clone();
    spec["output"]["uri"] = json!(format!("s3://{other_bucket}/out"));
    let body = problem(service.post("/v1/jobs", &spec), 422);
    assert_eq!(body["errors"][0]["field"], "output.uri", "{body}");

    let list = service.get("/v1/jobs").json::<Value>().unwrap();
    assert_eq!(list["jobs"].as_array().unwrap().len(), 0, "a refused spec left a job: {list}");
}

#[test]
fn bad_bodies_and_limits_answer_with_the_field_and_never_a_crash() {
    let service = Service::start(
        "limits",
        &[("SHOPSYNTH_MAX_BODY_BYTES", "4000"), ("SHOPSYNTH_MAX_DATASET_BYTES", "20000")],
    );
    service.dataset(TAOBAO, 100, "small.csv");
    service.dataset(TAOBAO, 2000, "big.csv");

    let not_json = service
        .request(Method::POST, "/v1/jobs")
        .bearer_auth(KEY)
        .body("{\"dataset\": ")
        .send()
        .unwrap();
    problem(not_json, 400);

    let mut unknown = taobao_spec("small.csv", "out", "vae", 2);
    unknown["model"]["epoch"] = json!(3);
    let body = problem(service.post("/v1/jobs", &unknown), 422);
    assert!(body["detail"].as_str().unwrap().contains("epoch"), "{body}");
    assert_eq!(body["errors"][0]["field"], "model.epoch", "{body}");

    let mut wrong_type = taobao_spec("small.csv", "out", "vae", 2);
    wrong_type["output"]["rows"] = json!("many");
    let body = problem(service.post("/v1/jobs", &wrong_type), 422);
    assert_eq!(body["errors"][0]["field"], "output.rows", "{body}");

    let mut too_many = taobao_spec("small.csv", "out", "vae", 2);
    too_many["model"]["epochs"] = json!(1_000_000);
    let body = problem(service.post("/v1/jobs", &too_many), 422);
    assert_eq!(body["errors"][0]["field"], "model.epochs", "{body}");

    let missing = taobao_spec("absent.csv", "out", "vae", 2);
    let body = problem(service.post("/v1/jobs", &missing), 422);
    assert!(body["detail"].as_str().unwrap().contains("not found"), "{body}");

    let big = taobao_spec("big.csv", "out", "vae", 2);
    let body = problem(service.post("/v1/jobs", &big), 413);
    assert_eq!(body["errors"][0]["field"], "dataset.uri", "{body}");

    let mut huge_body = taobao_spec("small.csv", "out", "vae", 2);
    huge_body["dataset"]["columns"] = json!(vec!["x".repeat(100); 100]);
    problem(service.post("/v1/jobs", &huge_body), 413);

    let response = service.request(Method::DELETE, "/v1/jobs").bearer_auth(KEY).send().unwrap();
    assert_eq!(response.headers()["allow"], "GET, POST");
    problem(response, 405);
    let head = service.request(Method::PUT, "/healthz").send().unwrap();
    problem(head, 405);
    problem(service.get("/v1/nothing-here"), 404);
    problem(service.get("/v1/jobs/not-an-id"), 404);
    problem(service.get("/v1/jobs?limit=0"), 422);
    let body = problem(service.get("/v1/jobs?status=lost"), 422);
    assert_eq!(body["errors"][0]["field"], "status", "{body}");
    let trailing = service
        .request(Method::POST, "/v1/jobs")
        .bearer_auth(KEY)
        .body(taobao_spec("small.csv", "out", "vae", 2).to_string() + " xyz")
        .send()
        .unwrap();
    problem(trailing, 400);
    let array = service.request(Method::POST, "/v1/datasets/inspect").bearer_auth(KEY);
    problem(array.body("[\"small.csv\"]").send().unwrap(), 400);
    let mut no_rows = taobao_spec("small.csv", "out", "vae", 2);
    no_rows["output"].as_object_mut().unwrap().remove("rows");
    let body = problem(service.post("/v1/jobs", &no_rows), 422);
    assert_eq!(body["errors"][0]["field"], "output.rows", "{body}");
}

#[test]
fn an_idempotency_key_returns_the_first_job() {
    let service = Service::start("idempotency", &[]);
    service.dataset(TAOBAO, 200, "taobao.csv");
    let spec = taobao_spec("taobao.csv", "out", "vae", 2);
    let send = |spec: &Value, key: &str| {
        service
            .request(Method::POST, "/v1/jobs")
            .bearer_auth(KEY)
            .header("Idempotency-Key", key)
            .json(spec)
            .send()
            .unwrap()
    };
    let first = send(&spec, "nightly-1");
    assert_eq!(first.status(), 202);
    let first: Value = first.json().unwrap();
    let again = send(&spec, "nightly-1");
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().unwrap()["id"], first["id"]);

    let mut other = spec.clone();
    other["output"]["rows"] = json!(7);
    problem(send(&other, "nightly-1"), 409);
    assert_eq!(send(&spec, "nightly-2").status(), 202);
    assert_eq!(service.post("/v1/jobs", &spec).status(), 202);

    // Three jobs, listed newest first, a page at a time.
    let page = service.get("/v1/jobs?limit=2").json::<Value>().unwrap();
    let ids: Vec<&str> =
        page["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] > ids[1], "newest first: {ids:?}");
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let rest = service.get(&format!("/v1/jobs?limit=2&cursor={cursor}")).json::<Value>().unwrap();
    assert_eq!(rest["jobs"][0]["id"], first["id"]);
    assert!(rest["next_cursor"].is_null(), "{rest}");
    let queued = service.get("/v1/jobs?status=queued").json::<Value>().unwrap();
    assert_eq!(queued["jobs"].as_array().unwrap().len(), 3);
    let running = service.get("/v1/jobs?status=running").json::<Value>().unwrap();
    assert_eq!(running["jobs"].as_array().unwrap().len(), 0);
}

#[test]
fn a_queued_job_cancels_at_once_and_only_once() {
    let service = Service::start("cancel-queued", &[]);
    service.dataset(TAOBAO, 200, "taobao.csv");
    let id = service.submit(&taobao_spec("taobao.csv", "out", "vae", 2));
    let response = service.post(&format!("/v1/jobs/{id}/cancel"), &json!({}));
    assert_eq!(response.status(), 202);
    let job: Value = response.json().unwrap();
    assert_eq!(job["status"], "cancelled");
    assert!(job["finished_at"].is_string(), "{job}");

    let body = problem(service.post(&format!("/v1/jobs/{id}/cancel"), &json!({})), 409);
    assert!(body["detail"].as_str().unwrap().contains("already finished"), "{body}");
    problem(service.get(&format!("/v1/jobs/{id}/report")), 409);
    problem(service.get(&format!("/v1/jobs/{id}/report.html")), 409);
    problem(service.post(&format!("/v1/jobs/{id}/samples"), &json!({"rows": 5})), 409);
    let unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    problem(service.post(&format!("/v1/jobs/{unknown}/cancel"), &json!({})), 404);

    let metrics = service.request(Method::GET, "/metrics").send().unwrap().text().unwrap();
    assert!(metrics.contains("shopsynth_jobs{status=\"cancelled\"} 1"), "{metrics}");
    assert!(metrics.contains("shopsynth_queue_depth 0"), "{metrics}");
}

#[test]
fn inspect_answers_the_inferred_schema_without_training() {
    let service = Service::start("inspect", &[]);
    service.dataset(TAOBAO, 500, "taobao.csv");
    let request = json!({
        "uri": "taobao.csv",
        "header": false,
        "columns": ["user_id", "item_id", "category_id", "behavior", "timestamp"],
    });
    let response = service.post("/v1/datasets/inspect", &request);
    assert_eq!(response.status(), 200);
    let inspection: Value = response.json().unwrap();
    assert_eq!(inspection["rows"], 500);
    let kinds: Vec<(&str, &str)> = inspection["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["type"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("item_id", "id")), "{kinds:?}");
    assert!(kinds.contains(&("behavior", "categorical")), "{kinds:?}");
    assert_eq!(inspection["columns"][4]["details"]["format"], "unix_seconds", "{inspection}");
    assert!(inspection["plan"]["item_id"].as_str().unwrap().contains("real keys"), "{inspection}");

    let body = problem(service.post("/v1/datasets/inspect", &json!({"uri": "/etc/passwd"})), 422);
    assert_eq!(body["errors"][0]["field"], "uri", "{body}");
    let body = problem(service.post("/v1/datasets/inspect", &json!({"uri": "nope.csv"})), 422);
    assert!(body["detail"].as_str().unwrap().contains("not found"), "{body}");
}

#[test]
fn the_committed_openapi_document_is_the_served_one() {
    let committed = include_str!("../openapi/shopsynth.json");
    let check = common::shopsynth(&["openapi", "--check", "openapi/shopsynth.json"]);
    assert!(
        check.status.success(),
        "{}\nregenerate with `shopsynth openapi --out openapi/shopsynth.json`",
        common::stderr(&check)
    );
    let service = Service::start("openapi", &[]);
    let served: Value =
        service.request(Method::GET, "/openapi.json").send().unwrap().json().unwrap();
    assert_eq!(served, serde_json::from_str::<Value>(committed).unwrap());
}
