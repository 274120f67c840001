//! What a job submitted over the API may do, decided before it is queued.
//!
//! A spec from a client names only paths: the buckets it may use, with
//! their endpoints and credentials, and the one local folder come from the
//! service's configuration. So a client cannot point a worker at another
//! host, read a file outside the data folder, or make a job too big.

use std::path::{Component, Path};

use crate::spec::{DatasetSpec, JobSpec, SpecError};
use crate::storage::{Location, StoreOptions};

use super::config::ServiceConfig;

/// Why a request was refused: the field it concerns and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 422 for a wrong value, 413 for one over a size limit.
    pub status: u16,
    /// Dotted path of the field, such as `dataset.uri`.
    pub field: String,
    pub reason: String,
}

impl Rejection {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Rejection {
        Rejection { status: 422, field: field.to_string(), reason: reason.into() }
    }

    pub fn too_large(field: &str, reason: impl Into<String>) -> Rejection {
        Rejection { status: 413, field: field.to_string(), reason: reason.into() }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl From<SpecError> for Rejection {
    fn from(error: SpecError) -> Rejection {
        match error {
            SpecError::Invalid { field, reason } => Rejection::invalid(field, reason),
            SpecError::Syntax(reason) => Rejection::invalid("", reason),
        }
    }
}

/// Checks a submitted spec and returns it with every location resolved:
/// local paths made absolute under the root, allowed buckets given their
/// configured settings.
pub fn admit(mut spec: JobSpec, config: &ServiceConfig) -> Result<JobSpec, Rejection> {
    spec.validate()?;
    spec.dataset = admit_dataset(spec.dataset, config)?;
    if spec.output.storage != StoreOptions::default() {
        return Err(Rejection::invalid("output.storage", STORAGE_FROM_CONFIG));
    }
    let limits = &config.limits;
    if spec.model.epochs > limits.max_epochs {
        let reason = format!(
            "at most {} epochs on this service, got {}",
            limits.max_epochs, spec.model.epochs
        );
        return Err(Rejection::invalid("model.epochs", reason));
    }
    if spec.output.rows > limits.max_rows {
        let reason =
            format!("at most {} rows on this service, got {}", limits.max_rows, spec.output.rows);
        return Err(Rejection::invalid("output.rows", reason));
    }
    (spec.output.uri, spec.output.storage) = resolve(&spec.output.uri, "output.uri", config)?;
    Ok(spec)
}

/// Checks a spec's dataset section and resolves its location, as
/// [`admit`] does for a whole spec.
pub fn admit_dataset(
    mut dataset: DatasetSpec,
    config: &ServiceConfig,
) -> Result<DatasetSpec, Rejection> {
    dataset.validate()?;
    if dataset.storage != StoreOptions::default() {
        return Err(Rejection::invalid("dataset.storage", STORAGE_FROM_CONFIG));
    }
    (dataset.uri, dataset.storage) = resolve(&dataset.uri, "dataset.uri", config)?;
    Ok(dataset)
}

const STORAGE_FROM_CONFIG: &str =
    "store settings come from the service's configuration; remove this field";

/// Resolves one location a client named, or says why it is not allowed.
pub fn resolve(
    uri: &str,
    field: &str,
    config: &ServiceConfig,
) -> Result<(String, StoreOptions), Rejection> {
    let location = Location::parse(uri).map_err(|e| Rejection::invalid(field, e.to_string()))?;
    if let Some(bucket) = location.bucket() {
        let Some(store) = config.store(bucket) else {
            let allowed: Vec<&str> = config.stores.iter().map(|s| s.bucket.as_str()).collect();
            let reason = format!(
                "bucket `{bucket}` is not one this service may use (allowed: {})",
                if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") }
            );
            return Err(Rejection::invalid(field, reason));
        };
        return Ok((location.to_string(), store.options.clone()));
    }

    let Some(root) = &config.local_root else {
        let reason = "local paths are not allowed on this service; use s3://BUCKET/KEY";
        return Err(Rejection::invalid(field, reason));
    };
    let raw = uri.strip_prefix("file://").unwrap_or(uri);
    if Path::new(raw).components().any(|c| c == Component::ParentDir) {
        return Err(Rejection::invalid(field, "a path may not contain `..`"));
    }
    // Relative paths are taken from the root; absolute ones must lie in it.
    let path = root.join(raw);
    if !within(&path, root) {
        let reason = format!("must be a path under {}", root.display());
        return Err(Rejection::invalid(field, reason));
    }
    Ok((path.display().to_string(), StoreOptions::default()))
}

/// Whether `path`, symbolic links followed as far as it exists, is inside
/// `root`.
fn within(path: &Path, root: &Path) -> bool {
    let Ok(root) = root.canonicalize() else {
        return false;
    };
    let mut existing = path.to_path_buf();
    let mut missing = Vec::new();
    while !existing.exists() {
        let Some(name) = existing.file_name() else {
            return false;
        };
        missing.push(name.to_os_string());
        existing.pop();
    }
    let Ok(mut real) = existing.canonicalize() else {
        return false;
    };
    real.extend(missing.iter().rev());
    real.starts_with(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::config::StoreConfig;

    fn config(root: &Path) -> ServiceConfig {
        ServiceConfig {
            local_root: Some(root.to_path_buf()),
            stores: vec![StoreConfig {
                bucket: "synth".to_string(),
                options: StoreOptions {
                    endpoint: Some("http://127.0.0.1:9".to_string()),
                    ..StoreOptions::default()
                },
            }],
            ..ServiceConfig::default()
        }
    }

    fn spec(dataset: &str, output: &str) -> JobSpec {
        let text = format!("dataset: {{uri: '{dataset}'}}\noutput: {{uri: '{output}', rows: 10}}");
        JobSpec::parse(&text).unwrap()
    }

    #[test]
    fn paths_resolve_under_the_root_and_buckets_get_their_settings() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let admitted = admit(spec("data/a.csv", "s3://synth/out/"), &config(&root)).unwrap();
        assert_eq!(admitted.dataset.uri, root.join("data/a.csv").display().to_string());
        assert_eq!(admitted.output.uri, "s3://synth/out");
        assert_eq!(admitted.output.storage.endpoint.as_deref(), Some("http://127.0.0.1:9"));

        let absolute = root.join("b.csv").display().to_string();
        let admitted = admit(spec(&absolute, "out"), &config(&root)).unwrap();
        assert_eq!(admitted.dataset.uri, absolute);
    }

    #[test]
    fn escapes_and_other_buckets_are_refused_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let cases = [
            (spec("../etc/passwd", "out"), "dataset.uri", "`..`"),
            (spec("/etc/passwd", "out"), "dataset.uri", "under"),
            (spec("file:///etc/passwd", "out"), "dataset.uri", "under"),
            (spec("a.csv", "s3://other/out"), "output.uri", "bucket `other`"),
            (spec("a.csv", "http://169.254.169.254/x"), "output.uri", "not a location"),
        ];
        for (spec, field, words) in cases {
            let rejection = admit(spec, &config(&root)).unwrap_err();
            assert_eq!(rejection.status, 422);
            assert_eq!(rejection.field, field, "{rejection}");
            assert!(rejection.reason.contains(words), "{rejection}");
        }
    }

    #[test]
    fn a_symlink_out_of_the_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
        let rejection = admit(spec("etc/passwd", "out"), &config(&root)).unwrap_err();
        assert_eq!(rejection.field, "dataset.uri");
    }

    #[test]
    fn spec_storage_and_limits_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut with_endpoint = spec("a.csv", "out");
        with_endpoint.dataset.storage.endpoint = Some("http://10.0.0.1".to_string());
        let rejection = admit(with_endpoint, &config(dir.path())).unwrap_err();
        assert_eq!(rejection.field, "dataset.storage");

        let mut big = spec("a.csv", "out");
        big.model.epochs = 1_000_000;
        let rejection = admit(big, &config(dir.path())).unwrap_err();
        assert_eq!((rejection.status, rejection.field.as_str()), (422, "model.epochs"));
    }

    #[test]
    fn without_a_root_local_paths_are_refused() {
        let config = ServiceConfig::default();
        let rejection = admit(spec("a.csv", "out"), &config).unwrap_err();
        assert!(rejection.reason.contains("not allowed"), "{rejection}");
    }
}
