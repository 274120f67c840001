//! Jobs run by real worker processes: outputs in the bucket, a worker
//! killed or stopped mid-training, cancellation, several workers, and bad
//! data.

mod common;

use std::time::Duration;

use common::service::{Service, taobao_spec};
use serde_json::{Value, json};
use shopsynth::storage::{Location, StoreOptions};

const TAOBAO: &str = common::TAOBAO;
const LONG: Duration = Duration::from_secs(300);

fn s3_options() -> StoreOptions {
    let endpoint = common::service::env("SHOPSYNTH_TEST_S3_ENDPOINT");
    StoreOptions { endpoint: Some(endpoint), ..StoreOptions::default() }
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

/// Every file name under `location`, recursively, relative to it.
fn tree(location: &Location) -> Vec<String> {
    let options = s3_options();
    let mut found = Vec::new();
    let mut pending = vec![(location.clone(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        for name in block_on(folder.list_names(&options)).unwrap() {
            let child = folder.join(&name);
            let path = format!("{prefix}{name}");
            if block_on(child.exists(&options)).unwrap() {
                found.push(path);
            } else {
                pending.push((child, format!("{path}/")));
            }
        }
    }
    found.sort();
    found
}

fn epoch(job: &Value) -> u64 {
    job["progress"]["epoch"].as_u64().unwrap_or(0)
}

#[test]
fn a_submitted_job_writes_data_report_model_and_manifest_to_the_bucket() {
    let mut service = Service::start("bucket", &[]);
    let local = service.dataset(TAOBAO, 3000, "taobao.csv");
    let dataset = format!("{}/in/taobao.csv", service.s3_prefix);
    let bytes = std::fs::read(local).unwrap();
    block_on(Location::parse(&dataset).unwrap().write(bytes.into(), &s3_options())).unwrap();
    service.start_worker();

    let output = format!("{}/out", service.s3_prefix);
    let id = service.submit(&taobao_spec(&dataset, &output, "vae", 6));
    let job = service.wait_finished(&id, LONG);
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(job["attempts"], 1);
    assert!(job["result"]["quality"].as_f64().unwrap() > 0.5, "{job:#}");

    let run = Location::parse(&output).unwrap().join(&id);
    let files = tree(&run);
    let expected = [
        "data.csv",
        "manifest.json",
        "metadata.json",
        "model/model.json",
        "model/weights.pt",
        "report.html",
        "report.json",
    ];
    assert_eq!(files, expected);
    let listed: Vec<&str> =
        job["result"]["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(listed.len(), expected.len(), "{listed:?}");
    assert!(listed.iter().all(|f| f.starts_with(&run.to_string())), "{listed:?}");

    let report = service.get(&format!("/v1/jobs/{id}/report"));
    assert_eq!(report.status(), 200);
    let report: Value = report.json().unwrap();
    assert_eq!(report["quality"]["overall"], job["result"]["quality"]);
    assert_eq!(job["links"]["report_html"], format!("/v1/jobs/{id}/report.html"));
    let page = service.get(&format!("/v1/jobs/{id}/report.html"));
    assert_eq!(page.status(), 200);
    let header = |name: &str| page.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert!(header("content-security-policy").starts_with("default-src 'none'"));
    let page = page.text().unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("category_id"), "{page:.300}");

    // More rows from the trained model, without training again.
    let response = service.post(&format!("/v1/jobs/{id}/samples"), &json!({"rows": 40, "seed": 7}));
    assert_eq!(response.status(), 202);
    let sample_id = response.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let sample = service.wait_finished(&sample_id, LONG);
    assert_eq!(sample["status"], "succeeded", "{sample:#}");
    assert_eq!(sample["result"]["rows"], 40);
    let sampled = Location::parse(&output).unwrap().join(&sample_id);
    assert_eq!(tree(&sampled), ["data.csv", "manifest.json"]);
    let log = service.all_worker_logs();
    assert_eq!(log.matches("epoch finished").count(), 6, "the sample job trained again");
}

#[test]
fn a_worker_killed_mid_training_is_replaced_and_the_job_resumes() {
    let mut service = Service::start("killed", &[]);
    service.dataset(TAOBAO, 20_000, "taobao.csv");
    let first = service.start_worker();
    let id = service.submit(&taobao_spec("taobao.csv", "out", "gan", 14));
    let running = service.wait_for(&id, LONG, |job| epoch(job) >= 5);
    service.signal_worker(first, "KILL");
    let killed_at = epoch(&running);

    let second = service.start_worker();
    let job = service.wait_finished(&id, LONG);
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(job["attempts"], 2, "{job:#}");
    let resumed =
        job["progress"]["resumed_from_epoch"].as_u64().expect("resumed from a checkpoint");
    assert!(
        resumed >= 2 && resumed <= killed_at + 1,
        "resumed at {resumed}, killed at {killed_at}"
    );
    let log = service.worker_log(second);
    assert!(log.contains("resuming from checkpoint"), "{log}");
    let trained_again = log.matches("epoch finished").count() as u64;
    assert_eq!(trained_again, 14 - resumed, "{log}");

    // One complete output, and the checkpoint is gone.
    let out = service.root.path().join("out");
    let mut entries: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, [id.as_str()], "the checkpoint folder should be gone");
    assert!(out.join(&id).join("manifest.json").is_file());
}

#[test]
fn sigterm_finishes_the_epoch_checkpoints_and_hands_the_job_back() {
    let mut service = Service::start("sigterm", &[("SHOPSYNTH_CHECKPOINT_EVERY", "100")]);
    service.dataset(TAOBAO, 20_000, "taobao.csv");
    let first = service.start_worker();
    let id = service.submit(&taobao_spec("taobao.csv", "out", "gan", 12));
    service.wait_for(&id, LONG, |job| epoch(job) >= 2);
    service.signal_worker(first, "TERM");
    assert!(service.wait_worker(first, Duration::from_secs(60)), "{}", service.worker_log(first));

    let handed_back = service.job(&id);
    assert_eq!(handed_back["status"], "queued", "{handed_back:#}");
    let stopped_at = epoch(&handed_back);
    let checkpoint = service.root.path().join(format!("out/_checkpoints/{id}.pt"));
    assert!(checkpoint.is_file(), "no checkpoint at {}", checkpoint.display());
    assert!(service.worker_log(first).contains("handed back"));

    service.start_worker();
    let job = service.wait_finished(&id, LONG);
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(job["progress"]["resumed_from_epoch"].as_u64(), Some(stopped_at), "{job:#}");
    assert!(!checkpoint.exists());
}

#[test]
fn cancel_stops_a_running_job_within_an_epoch() {
    let mut service = Service::start("cancel", &[]);
    service.dataset(TAOBAO, 20_000, "taobao.csv");
    service.start_worker();
    let id = service.submit(&taobao_spec("taobao.csv", "out", "gan", 300));
    service.wait_for(&id, LONG, |job| epoch(job) >= 2);

    let response = service.post(&format!("/v1/jobs/{id}/cancel"), &json!({}));
    assert_eq!(response.status(), 202);
    let asked: Value = response.json().unwrap();
    assert!(asked["cancel_requested"].as_bool().unwrap(), "{asked:#}");
    let job = service.wait_finished(&id, Duration::from_secs(60));
    assert_eq!(job["status"], "cancelled", "{job:#}");
    assert!(
        epoch(&job) <= epoch(&asked) + 1,
        "ran on to epoch {} after {}",
        epoch(&job),
        epoch(&asked)
    );
    assert!(!service.root.path().join("out").join(&id).exists(), "a cancelled job wrote output");
    let conflict = service.post(&format!("/v1/jobs/{id}/cancel"), &json!({}));
    assert_eq!(conflict.status(), 409);
}

#[test]
fn two_workers_run_ten_jobs_each_exactly_once() {
    let mut service = Service::start("ten", &[]);
    service.dataset(TAOBAO, 2000, "taobao.csv");
    service.start_worker();
    service.start_worker();
    let ids: Vec<String> = (0..10)
        .map(|n| service.submit(&taobao_spec("taobao.csv", &format!("out-{n}"), "vae", 3)))
        .collect();
    for id in &ids {
        let job = service.wait_finished(id, LONG);
        assert_eq!(job["status"], "succeeded", "{job:#}");
        assert_eq!(job["attempts"], 1, "{job:#}");
    }
    let logs = service.all_worker_logs();
    for id in &ids {
        let started = logs.lines().filter(|l| l.contains(id.as_str()) && l.contains("job started"));
        assert_eq!(started.count(), 1, "job {id} started other than once:\n{logs}");
    }
    eprintln!(
        "split: worker 0 ran {}, worker 1 ran {}",
        service.worker_log(0).matches("job started").count(),
        service.worker_log(1).matches("job started").count()
    );
}

#[test]
fn a_bad_dataset_fails_at_once_with_its_reason() {
    let mut service = Service::start("bad-data", &[]);
    let path = service.dataset(TAOBAO, 300, "taobao.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("1,2,3\n");
    std::fs::write(&path, text).unwrap();
    service.start_worker();

    let id = service.submit(&taobao_spec("taobao.csv", "out", "vae", 2));
    let job = service.wait_finished(&id, LONG);
    assert_eq!(job["status"], "failed", "{job:#}");
    assert_eq!(job["attempts"], 1, "invalid input must not be retried: {job:#}");
    assert_eq!(job["error"]["kind"], "invalid_input", "{job:#}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("line 301"), "{message}");
    assert!(!service.root.path().join("out").join(&id).exists());
}

#[test]
fn a_store_that_keeps_failing_is_retried_with_backoff_then_reported() {
    // A configured bucket whose endpoint refuses connections: a passing
    // failure as far as the worker can tell.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let mut service = Service::start(
        "unavailable",
        &[("SHOPSYNTH_S3_ENDPOINT", endpoint.as_str()), ("SHOPSYNTH_MAX_ATTEMPTS", "3")],
    );
    service.dataset(TAOBAO, 300, "taobao.csv");
    let ready = service.request(reqwest::Method::GET, "/readyz").send().unwrap();
    assert_eq!(ready.status(), 503);
    service.start_worker();

    let output = format!("{}/out", service.s3_prefix);
    let id = service.submit(&taobao_spec("taobao.csv", &output, "vae", 2));
    let job = service.wait_finished(&id, LONG);
    assert_eq!(job["status"], "failed", "{job:#}");
    assert_eq!(job["error"]["kind"], "unavailable", "{job:#}");
    assert_eq!(job["attempts"], 3, "{job:#}");
    assert_eq!(service.worker_log(0).matches("retrying").count(), 2, "{}", service.worker_log(0));
}

#[test]
fn a_job_whose_queue_message_was_lost_is_queued_again() {
    use shopsynth::service::jobs::{JobStore, JobTask};
    let mut service = Service::start("lost-message", &[("SHOPSYNTH_REQUEUE_AFTER_SECONDS", "2")]);
    service.dataset(TAOBAO, 300, "taobao.csv");
    // A record written as the API writes it, whose queue message never
    // went out (the API died in between).
    let root = service.root.path().display().to_string();
    let mut spec = taobao_spec(&format!("{root}/taobao.csv"), &format!("{root}/out"), "vae", 2);
    spec["model"]["device"] = json!("cpu");
    let task = JobTask::Synthesize { spec: serde_json::from_value(spec).unwrap() };
    let prefix = service.setting("SHOPSYNTH_KEY_PREFIX");
    let id = block_on(async {
        let redis = shopsynth::service::queue::connect(&service.setting("SHOPSYNTH_REDIS_URL"))
            .await
            .unwrap();
        JobStore::new(redis, &prefix).create(&task, None, None).await.unwrap().0
    });
    service.start_worker();
    let job = service.wait_finished(&id, Duration::from_secs(120));
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert!(service.worker_log(0).contains("queued again"), "{}", service.worker_log(0));
}
