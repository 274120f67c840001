//! Schedules over the API, fired by real scheduler processes: fire times
//! in a time zone, exactly one job per fire with two schedulers, and old
//! outputs pruned.

mod common;

use std::time::Duration;

use chrono::{Timelike, Utc};
use common::service::{Service, taobao_spec};
use serde_json::{Value, json};

const TAOBAO: &str = common::TAOBAO;
const LONG: Duration = Duration::from_secs(300);

fn schedule(cron: &str, zone: &str, keep_last: u32) -> Value {
    json!({
        "name": "nightly behaviour",
        "cron": cron,
        "time_zone": zone,
        "spec": taobao_spec("taobao.csv", "ignored", "vae", 2),
        "output_prefix": "nightly/{date}",
        "keep_last": keep_last,
    })
}

fn create(service: &Service, body: &Value) -> Value {
    let response = service.post("/v1/schedules", body);
    let status = response.status();
    let created: Value = response.json().unwrap();
    assert_eq!(status, 201, "{created:#}");
    created
}

#[test]
fn a_schedule_shows_its_next_fire_times_in_its_zone_and_can_be_paused() {
    let service = Service::start("schedule-api", &[]);
    service.dataset(TAOBAO, 200, "taobao.csv");
    let created = create(&service, &schedule("0 3 * * *", "America/New_York", 2));
    let times: Vec<&str> = created["next_fire_times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(times.len(), 3, "{created:#}");
    for time in &times {
        assert!(time.contains("T03:00:00-0"), "not 03:00 New York time: {times:?}");
    }
    let id = created["id"].as_str().unwrap();

    let paused: Value =
        service.post(&format!("/v1/schedules/{id}/pause"), &json!({})).json().unwrap();
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["next_fire_times"].as_array().unwrap().len(), 0);
    let resumed: Value =
        service.post(&format!("/v1/schedules/{id}/resume"), &json!({})).json().unwrap();
    assert_eq!(resumed["next_fire_times"], created["next_fire_times"]);

    let listed: Value = service.get("/v1/schedules").json().unwrap();
    assert_eq!(listed["schedules"][0]["id"], id);

    for (field, body) in [
        ("cron", schedule("61 * * * *", "UTC", 2)),
        ("time_zone", schedule("0 3 * * *", "Mars/Olympus", 2)),
        ("keep_last", schedule("0 3 * * *", "UTC", 0)),
    ] {
        let response = service.post("/v1/schedules", &body);
        assert_eq!(response.status(), 422);
        let problem: Value = response.json().unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem:#}");
    }
    let mut outside = schedule("0 3 * * *", "UTC", 2);
    outside["output_prefix"] = json!("/etc/{date}");
    let problem: Value = service.post("/v1/schedules", &outside).json().unwrap();
    assert_eq!(problem["errors"][0]["field"], "output_prefix", "{problem:#}");

    let deleted = service.request(reqwest::Method::DELETE, &format!("/v1/schedules/{id}"));
    assert_eq!(deleted.bearer_auth(common::service::KEY).send().unwrap().status(), 204);
    assert_eq!(service.get(&format!("/v1/schedules/{id}")).status(), 404);
}

#[test]
fn a_fire_time_starts_exactly_one_job_with_two_schedulers() {
    let mut service = Service::start("schedule-fire", &[]);
    service.dataset(TAOBAO, 500, "taobao.csv");
    service.start_scheduler();
    service.start_scheduler();
    service.start_worker();
    // A cron expression (with seconds) that matches one moment, a few
    // seconds from now.
    let fire = Utc::now() + chrono::TimeDelta::seconds(6);
    let cron = format!(
        "{} {} {} {} {} *",
        fire.second(),
        fire.minute(),
        fire.hour(),
        fire.format("%-d"),
        fire.format("%-m")
    );
    let id = create(&service, &schedule(&cron, "UTC", 5))["id"].as_str().unwrap().to_string();

    let deadline = std::time::Instant::now() + LONG;
    let run = loop {
        let current: Value = service.get(&format!("/v1/schedules/{id}")).json().unwrap();
        let runs = current["runs"].as_array().unwrap().clone();
        if runs.first().is_some_and(|r| r["status"] == "succeeded") {
            break runs[0].clone();
        }
        assert!(std::time::Instant::now() < deadline, "{current:#}\n{}", service.scheduler_logs());
        std::thread::sleep(Duration::from_millis(300));
    };
    // Both schedulers have had several ticks past the fire time by now.
    std::thread::sleep(Duration::from_secs(3));
    let current: Value = service.get(&format!("/v1/schedules/{id}")).json().unwrap();
    assert_eq!(current["runs"].as_array().unwrap().len(), 1, "{current:#}");
    let jobs: Value = service.get("/v1/jobs").json().unwrap();
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 1, "{jobs:#}");
    assert_eq!(jobs["jobs"][0]["origin"]["schedule_id"], id.as_str());
    assert_eq!(service.scheduler_logs().matches("schedule fired").count(), 1);

    let date = fire.format("%Y-%m-%d").to_string();
    let folder = run["folder"].as_str().unwrap();
    let expected =
        service.root.path().join("nightly").join(&date).join(run["job_id"].as_str().unwrap());
    assert_eq!(folder, expected.display().to_string());
    assert!(expected.join("manifest.json").is_file());
}

#[test]
fn keep_last_two_of_four_runs_keeps_the_two_newest_outputs() {
    let mut service = Service::start("schedule-prune", &[]);
    service.dataset(TAOBAO, 500, "taobao.csv");
    service.start_worker();
    service.start_scheduler();
    let id = create(&service, &schedule("0 3 1 1 *", "UTC", 2))["id"].as_str().unwrap().to_string();

    let mut folders = Vec::new();
    for _ in 0..4 {
        let response = service.post(&format!("/v1/schedules/{id}/trigger"), &json!({}));
        assert_eq!(response.status(), 202);
        let job_id = response.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
        let job = service.wait_finished(&job_id, LONG);
        assert_eq!(job["status"], "succeeded", "{job:#}");
        folders.push(std::path::PathBuf::from(job["result"]["folder"].as_str().unwrap()));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while folders[..2].iter().any(|f| f.exists()) {
        assert!(std::time::Instant::now() < deadline, "not pruned:\n{}", service.scheduler_logs());
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        folders[2].join("manifest.json").is_file() && folders[3].join("manifest.json").is_file()
    );
    let current: Value = service.get(&format!("/v1/schedules/{id}")).json().unwrap();
    assert_eq!(current["runs"].as_array().unwrap().len(), 2, "{current:#}");
}

#[test]
fn pruning_never_follows_a_symbolic_link_out_of_the_root() {
    let mut service = Service::start("schedule-prune-link", &[]);
    service.dataset(TAOBAO, 500, "taobao.csv");
    service.start_worker();
    let id = create(&service, &schedule("0 3 1 1 *", "UTC", 1))["id"].as_str().unwrap().to_string();
    let mut folders = Vec::new();
    for _ in 0..2 {
        let response = service.post(&format!("/v1/schedules/{id}/trigger"), &json!({}));
        let job_id = response.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
        let job = service.wait_finished(&job_id, LONG);
        assert_eq!(job["status"], "succeeded", "{job:#}");
        folders.push(std::path::PathBuf::from(job["result"]["folder"].as_str().unwrap()));
    }
    // The dated folder becomes a link to a copy outside the root.
    let dated = folders[0].parent().unwrap().to_path_buf();
    let outside = tempfile::tempdir().unwrap();
    let moved = outside.path().join("dated");
    std::fs::rename(&dated, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &dated).unwrap();

    service.start_scheduler();
    std::thread::sleep(Duration::from_secs(4));
    let old = moved.join(folders[0].file_name().unwrap());
    assert!(old.join("manifest.json").is_file(), "pruned through the link");
    assert!(service.scheduler_logs().contains("not pruning"), "{}", service.scheduler_logs());
}
