//! A private shopsynth service for one test: the API and any number of
//! workers as real processes, on the Redis and S3 servers that
//! `tests/support/with-services.sh` starts.
//!
//! Each service has its own Redis key prefix, local root and S3 prefix, so
//! tests run side by side without seeing each other's jobs. Without the
//! script's variables the tests fail, naming what is missing: a service
//! test that silently passes without Redis would prove nothing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

pub const KEY: &str = "test-key-0123456789abcdef";

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: the service tests need Redis and S3; run them through \
             `make test` or `tests/support/with-services.sh cargo nextest run`"
        )
    })
}

/// A name unique to this test and run, for key prefixes and S3 prefixes.
pub fn unique(test: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970");
    format!("{test}-{}-{}", std::process::id(), nanos.as_nanos())
}

pub struct Service {
    pub url: String,
    pub root: tempfile::TempDir,
    /// `s3://BUCKET/tests/NAME`, this service's own corner of the bucket.
    pub s3_prefix: String,
    settings: Vec<(String, String)>,
    api: Child,
    workers: Vec<Child>,
    schedulers: Vec<Child>,
    client: Client,
}

impl Service {
    /// Starts the API with the test defaults, then `settings` on top.
    pub fn start(test: &str, settings: &[(&str, &str)]) -> Service {
        let name = unique(test);
        let root = tempfile::tempdir().expect("a temporary folder");
        let port = free_port();
        let bucket = env("SHOPSYNTH_TEST_S3_BUCKET");
        let mut all: Vec<(String, String)> = [
            ("SHOPSYNTH_REDIS_URL", env("SHOPSYNTH_TEST_REDIS_URL")),
            ("SHOPSYNTH_KEY_PREFIX", format!("test-{name}")),
            ("SHOPSYNTH_API_KEYS", format!("tests:{KEY}")),
            ("SHOPSYNTH_LISTEN", format!("127.0.0.1:{port}")),
            ("SHOPSYNTH_LOCAL_ROOT", root.path().display().to_string()),
            ("SHOPSYNTH_S3_BUCKETS", bucket.clone()),
            ("SHOPSYNTH_S3_ENDPOINT", env("SHOPSYNTH_TEST_S3_ENDPOINT")),
            ("SHOPSYNTH_LEASE_SECONDS", "4".to_string()),
            ("SHOPSYNTH_CHECKPOINT_EVERY", "2".to_string()),
            ("SHOPSYNTH_RETRY_BACKOFF_MS", "200".to_string()),
            ("SHOPSYNTH_LOG", "info".to_string()),
            ("OMP_NUM_THREADS", "1".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        all.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let url = format!("http://127.0.0.1:{port}");
        let api = spawn("serve", &all, &root.path().join("api.log"));
        let client = Client::builder().timeout(Duration::from_secs(60)).build().expect("a client");
        let service = Service {
            url,
            s3_prefix: format!("s3://{bucket}/tests/{name}"),
            root,
            settings: all,
            api,
            workers: Vec::new(),
            schedulers: Vec::new(),
            client,
        };
        service.wait_until_up();
        service
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.client.get(format!("{}/healthz", self.url)).send().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the API did not start; its log:\n{}", self.api_log());
    }

    /// Starts a worker process; returns its number.
    pub fn start_worker(&mut self) -> usize {
        let n = self.workers.len();
        let log = self.root.path().join(format!("worker-{n}.log"));
        let mut settings = self.settings.clone();
        settings.push(("SHOPSYNTH_WORKER_NAME".to_string(), format!("worker-{n}")));
        self.workers.push(spawn("worker", &settings, &log));
        n
    }

    /// The value of one of the service's settings (`SHOPSYNTH_*`).
    pub fn setting(&self, name: &str) -> String {
        let found = self.settings.iter().rev().find(|(k, _)| k == name);
        found.map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no setting {name}"))
    }

    /// Starts a scheduler process; returns its number.
    pub fn start_scheduler(&mut self) -> usize {
        let n = self.schedulers.len();
        let log = self.root.path().join(format!("scheduler-{n}.log"));
        self.schedulers.push(spawn("scheduler", &self.settings, &log));
        n
    }

    pub fn scheduler_logs(&self) -> String {
        (0..self.schedulers.len())
            .map(|n| {
                let path = self.root.path().join(format!("scheduler-{n}.log"));
                std::fs::read_to_string(path).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Sends `signal` (`KILL`, `TERM`) to worker `n`.
    pub fn signal_worker(&mut self, n: usize, signal: &str) {
        let pid = self.workers[n].id().to_string();
        let status = Command::new("kill").args([&format!("-{signal}"), &pid]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal} {pid} failed");
    }

    /// Waits for worker `n` to exit and returns whether it exited 0.
    pub fn wait_worker(&mut self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.workers[n].try_wait().expect("a worker status") {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("worker {n} did not exit within {timeout:?}; its log:\n{}", self.worker_log(n));
    }

    pub fn worker_log(&self, n: usize) -> String {
        std::fs::read_to_string(self.root.path().join(format!("worker-{n}.log")))
            .unwrap_or_default()
    }

    pub fn api_log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("api.log")).unwrap_or_default()
    }

    pub fn all_worker_logs(&self) -> String {
        (0..self.workers.len()).map(|n| self.worker_log(n)).collect::<Vec<_>>().join("\n")
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    pub fn get(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path).bearer_auth(KEY).send().expect("the API answers")
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.request(reqwest::Method::POST, path)
            .bearer_auth(KEY)
            .json(body)
            .send()
            .expect("the API answers")
    }

    /// Submits a job and returns its id, failing on any status but 202.
    pub fn submit(&self, spec: &Value) -> String {
        let response = self.post("/v1/jobs", spec);
        let status = response.status();
        let body: Value = response.json().expect("a JSON answer");
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().expect("an id").to_string()
    }

    pub fn job(&self, id: &str) -> Value {
        let response = self.get(&format!("/v1/jobs/{id}"));
        assert_eq!(response.status(), 200);
        response.json().expect("a JSON job")
    }

    /// Polls a job until `done` holds for it, or fails with the logs.
    pub fn wait_for(&self, id: &str, timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let job = self.job(id);
            if done(&job) {
                return job;
            }
            if Instant::now() > deadline {
                panic!(
                    "job {id} did not get there within {timeout:?}: {job:#}\nworkers:\n{}",
                    self.all_worker_logs()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn wait_finished(&self, id: &str, timeout: Duration) -> Value {
        self.wait_for(id, timeout, |job| {
            matches!(job["status"].as_str(), Some("succeeded" | "failed" | "cancelled"))
        })
    }

    /// Copies the first `rows` lines of a shared dataset into the root.
    pub fn dataset(&self, source: &str, rows: usize, name: &str) -> PathBuf {
        use std::io::BufRead;
        let file = std::fs::File::open(Path::new(env!("CARGO_MANIFEST_DIR")).join(source))
            .expect("the shared dataset is readable");
        let mut text = String::new();
        for line in std::io::BufReader::new(file).lines().take(rows) {
            text.push_str(&line.expect("a line"));
            text.push('\n');
        }
        let path = self.root.path().join(name);
        std::fs::write(&path, text).expect("the root is writable");
        path
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let children = self.workers.iter_mut().chain(self.schedulers.iter_mut());
        for child in children.chain(std::iter::once(&mut self.api)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(command: &str, settings: &[(String, String)], log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("a log file");
    Command::new(env!("CARGO_BIN_EXE_shopsynth"))
        .arg(command)
        .envs(settings.iter().map(|(k, v)| (k, v)))
        .env_remove("SHOPSYNTH_CONFIG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the shopsynth binary starts")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("an address").port()
}

/// A Taobao behaviour-log spec for `dataset` (relative to the root), with
/// output under `output`.
pub fn taobao_spec(dataset: &str, output: &str, kind: &str, epochs: u32) -> Value {
    serde_json::json!({
        "dataset": {
            "uri": dataset,
            "header": false,
            "columns": ["user_id", "item_id", "category_id", "behavior", "timestamp"],
            "schema": {"timestamp": {"type": "datetime", "format": "unix_seconds"}}
        },
        "model": {"kind": kind, "epochs": epochs, "batch_size": 500, "device": "cpu"},
        "output": {"uri": output, "rows": 500, "formats": ["csv"]}
    })
}
