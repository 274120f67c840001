//! The service's settings, shared by `serve` and `worker`: one YAML file,
//! then environment variables prefixed `SHOPSYNTH_`, which win.
//!
//! Everything a job may touch is decided here and not by the job: which
//! buckets (with their endpoints and credentials), which local folder, and
//! how big a job may be. A spec only names paths inside what is allowed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::model::DeviceChoice;
use crate::storage::StoreOptions;

/// The environment variable that names the configuration file.
pub const CONFIG_ENV: &str = "SHOPSYNTH_CONFIG";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// Address the API listens on.
    pub listen: String,
    /// Redis holding the queue and the job records.
    pub redis_url: String,
    /// Prefix of every Redis key, so several deployments can share a server.
    pub key_prefix: String,
    /// Bearer tokens accepted on /v1 routes.
    pub api_keys: Vec<ApiKey>,
    /// The only buckets a job may read or write.
    pub stores: Vec<StoreConfig>,
    /// The only local folder a job may read or write; none by default.
    pub local_root: Option<PathBuf>,
    pub limits: Limits,
    pub worker: WorkerConfig,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            listen: "127.0.0.1:8080".to_string(),
            redis_url: "redis://127.0.0.1:6379/".to_string(),
            key_prefix: "shopsynth".to_string(),
            api_keys: Vec::new(),
            stores: Vec::new(),
            local_root: None,
            limits: Limits::default(),
            worker: WorkerConfig::default(),
        }
    }
}

/// One accepted API key; the name appears in logs, the key never does.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub name: String,
    pub key: String,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A bucket jobs may use, and how to reach it. (Unknown fields are refused
/// by the flattened options, since serde cannot refuse them here.)
#[derive(Debug, Clone, Deserialize)]
pub struct StoreConfig {
    pub bucket: String,
    #[serde(flatten)]
    pub options: StoreOptions,
}

/// How big a job or request may be.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_rows: i64,
    pub max_epochs: i64,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest dataset file a job may read, in bytes.
    pub max_dataset_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_rows: 10_000_000,
            max_epochs: 2_000,
            max_body_bytes: 1 << 20,
            max_dataset_bytes: 4 << 30,
        }
    }
}

/// How a worker process runs jobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Jobs run at once; one per device is right for training.
    pub concurrency: usize,
    /// Overrides each spec's `model.device` when set.
    pub device: Option<DeviceChoice>,
    /// Epochs between checkpoints written to the store.
    pub checkpoint_every: u32,
    /// A running job whose worker has not renewed its lease for this long is
    /// handed to another worker.
    pub lease_seconds: u64,
    /// Runs of a job that failed for a passing reason (store, network)
    /// before it is marked failed.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further one.
    pub retry_backoff_ms: u64,
    /// The worker's name in the queue; host name and process id by default.
    pub name: Option<String>,
    /// A job queued this long without a worker taking it is put on the
    /// queue again, in case its message was lost.
    pub requeue_after_seconds: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 1,
            device: None,
            checkpoint_every: 5,
            lease_seconds: 30,
            max_attempts: 3,
            retry_backoff_ms: 2_000,
            name: None,
            requeue_after_seconds: 600,
        }
    }
}

impl WorkerConfig {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_seconds)
    }
}

impl ServiceConfig {
    /// Reads the file named by `path` or `SHOPSYNTH_CONFIG` (defaults when
    /// neither is given), then applies `SHOPSYNTH_*` variables.
    pub fn load(path: Option<&Path>) -> anyhow::Result<ServiceConfig> {
        let from_env = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
        let mut config = match path.map(Path::to_path_buf).or(from_env) {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read configuration {}", path.display()))?;
                serde_yaml::from_str(&text)
                    .with_context(|| format!("configuration {}", path.display()))?
            }
            None => ServiceConfig::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.check()?;
        Ok(config)
    }

    /// Applies `SHOPSYNTH_*` overrides read through `var`.
    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let number = |name: &str| -> anyhow::Result<Option<u64>> {
            var(name)
                .map(|v| {
                    v.trim()
                        .parse()
                        .with_context(|| format!("{name}=`{v}` is not a whole number of 0 or more"))
                })
                .transpose()
        };
        if let Some(v) = var("SHOPSYNTH_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = var("SHOPSYNTH_REDIS_URL") {
            self.redis_url = v;
        }
        if let Some(v) = var("SHOPSYNTH_KEY_PREFIX") {
            self.key_prefix = v;
        }
        if let Some(v) = var("SHOPSYNTH_API_KEYS") {
            self.api_keys = parse_api_keys(&v)?;
        }
        if let Some(v) = var("SHOPSYNTH_LOCAL_ROOT") {
            self.local_root = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(buckets) = var("SHOPSYNTH_S3_BUCKETS") {
            let options = StoreOptions {
                endpoint: var("SHOPSYNTH_S3_ENDPOINT"),
                region: var("SHOPSYNTH_S3_REGION"),
                ..StoreOptions::default()
            };
            self.stores = buckets
                .split(',')
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(|bucket| StoreConfig { bucket: bucket.to_string(), options: options.clone() })
                .collect();
        }
        if let Some(v) = number("SHOPSYNTH_MAX_ROWS")? {
            self.limits.max_rows = v as i64;
        }
        if let Some(v) = number("SHOPSYNTH_MAX_EPOCHS")? {
            self.limits.max_epochs = v as i64;
        }
        if let Some(v) = number("SHOPSYNTH_MAX_BODY_BYTES")? {
            self.limits.max_body_bytes = v as usize;
        }
        if let Some(v) = number("SHOPSYNTH_MAX_DATASET_BYTES")? {
            self.limits.max_dataset_bytes = v;
        }
        if let Some(v) = number("SHOPSYNTH_WORKER_CONCURRENCY")? {
            self.worker.concurrency = v as usize;
        }
        if let Some(v) = var("SHOPSYNTH_WORKER_DEVICE") {
            let device = serde_yaml::from_str(&v)
                .with_context(|| format!("SHOPSYNTH_WORKER_DEVICE=`{v}`: use auto, cpu or cuda"))?;
            self.worker.device = Some(device);
        }
        if let Some(v) = number("SHOPSYNTH_CHECKPOINT_EVERY")? {
            self.worker.checkpoint_every = v as u32;
        }
        if let Some(v) = number("SHOPSYNTH_LEASE_SECONDS")? {
            self.worker.lease_seconds = v;
        }
        if let Some(v) = number("SHOPSYNTH_MAX_ATTEMPTS")? {
            self.worker.max_attempts = v as u32;
        }
        if let Some(v) = number("SHOPSYNTH_RETRY_BACKOFF_MS")? {
            self.worker.retry_backoff_ms = v;
        }
        if let Some(v) = number("SHOPSYNTH_REQUEUE_AFTER_SECONDS")? {
            self.worker.requeue_after_seconds = v.max(1);
        }
        if let Some(v) = var("SHOPSYNTH_WORKER_NAME") {
            self.worker.name = Some(v);
        }
        Ok(())
    }

    /// Refuses settings that cannot work, naming the setting.
    fn check(&self) -> anyhow::Result<()> {
        if self.key_prefix.is_empty() || self.key_prefix.contains(char::is_whitespace) {
            bail!("key_prefix must be a non-empty word, got `{}`", self.key_prefix);
        }
        if self.worker.concurrency == 0 {
            bail!("worker.concurrency must be at least 1");
        }
        if self.worker.lease_seconds < 3 {
            bail!("worker.lease_seconds must be at least 3, got {}", self.worker.lease_seconds);
        }
        if self.worker.max_attempts == 0 {
            bail!("worker.max_attempts must be at least 1");
        }
        if self.api_keys.iter().any(|k| k.key.len() < 16) {
            bail!("api_keys: every key must be at least 16 characters long");
        }
        let mut names = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for key in &self.api_keys {
            if !names.insert(&key.name) || !keys.insert(&key.key) {
                bail!("api_keys: `{}` is named twice, or its key is another's", key.name);
            }
        }
        if self.limits.max_body_bytes < 1024 {
            bail!(
                "limits.max_body_bytes must be at least 1024, got {}",
                self.limits.max_body_bytes
            );
        }
        if self.worker.checkpoint_every == 0 {
            bail!("worker.checkpoint_every must be at least 1 epoch");
        }
        if self.worker.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            bail!("worker.name must not be empty; leave it out for the host name");
        }
        if let Some(root) = &self.local_root
            && (!root.is_absolute() || !root.is_dir())
        {
            bail!(
                "local_root must be an existing folder given as an absolute path, got {}",
                root.display()
            );
        }
        for store in &self.stores {
            let valid =
                |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.');
            if store.bucket.len() < 3 || !store.bucket.chars().all(valid) {
                bail!("stores: `{}` is not a bucket name (3+ of a-z, 0-9, '-', '.')", store.bucket);
            }
            if let Some(endpoint) = &store.options.endpoint
                && !endpoint.starts_with("http://")
                && !endpoint.starts_with("https://")
            {
                bail!(
                    "stores: endpoint `{endpoint}` of `{}` must start with http:// or https://",
                    store.bucket
                );
            }
        }
        Ok(())
    }

    /// The settings of an allowed bucket.
    pub fn store(&self, bucket: &str) -> Option<&StoreConfig> {
        self.stores.iter().find(|s| s.bucket == bucket)
    }

    /// The settings for `uri` from this process's own configuration when it
    /// names a configured bucket, else `recorded`: job records never hold
    /// secrets, and keys may have been rotated since a job was queued.
    pub fn store_options(&self, uri: &str, recorded: &StoreOptions) -> StoreOptions {
        let location = crate::storage::Location::parse(uri).ok();
        match location.as_ref().and_then(|l| l.bucket()).and_then(|b| self.store(b)) {
            Some(store) => store.options.clone(),
            None => recorded.clone(),
        }
    }
}

/// `name:key` pairs separated by commas; a bare key is named by position.
fn parse_api_keys(text: &str) -> anyhow::Result<Vec<ApiKey>> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .enumerate()
        .map(|(i, part)| {
            let (name, key) = part.split_once(':').unwrap_or(("", part));
            let name = name.trim();
            let name = if name.is_empty() { format!("key{}", i + 1) } else { name.to_string() };
            Ok(ApiKey { name, key: key.trim().to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with_env(pairs: &[(&str, &str)]) -> anyhow::Result<ServiceConfig> {
        let env: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut config = ServiceConfig::default();
        config.apply_env(|name| env.get(name).cloned())?;
        config.check()?;
        Ok(config)
    }

    #[test]
    fn environment_overrides_name_their_variable_when_wrong() {
        let config = with_env(&[
            ("SHOPSYNTH_API_KEYS", "ci:0123456789abcdef, fedcba9876543210"),
            ("SHOPSYNTH_S3_BUCKETS", "synth, raw"),
            ("SHOPSYNTH_S3_ENDPOINT", "http://127.0.0.1:8333"),
            ("SHOPSYNTH_MAX_ROWS", "500"),
        ])
        .unwrap();
        assert_eq!(config.api_keys[0].name, "ci");
        assert_eq!(config.api_keys[1].name, "key2");
        assert_eq!(
            config.store("raw").unwrap().options.endpoint.as_deref(),
            Some("http://127.0.0.1:8333")
        );
        assert_eq!(config.limits.max_rows, 500);

        let error = with_env(&[("SHOPSYNTH_MAX_ROWS", "lots")]).unwrap_err();
        assert!(format!("{error:#}").contains("SHOPSYNTH_MAX_ROWS"), "{error:#}");
        let error = with_env(&[("SHOPSYNTH_API_KEYS", "short")]).unwrap_err();
        assert!(error.to_string().contains("16 characters"), "{error}");
    }

    #[test]
    fn the_file_refuses_unknown_settings() {
        let error = serde_yaml::from_str::<ServiceConfig>("listen: x\nredis: y\n").unwrap_err();
        assert!(error.to_string().contains("redis"), "{error}");
        let text =
            "stores: [{bucket: synth, endpoint: 'http://127.0.0.1:1'}]\nworker: {lease_seconds: 9}";
        let config: ServiceConfig = serde_yaml::from_str(text).unwrap();
        assert_eq!(config.worker.lease_seconds, 9);
        assert_eq!(config.stores[0].bucket, "synth");
    }
}
