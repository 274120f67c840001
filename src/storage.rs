//! Where datasets, models and outputs live: a local folder or an S3 bucket.
//!
//! A job names data as a local path (relative to the current directory), a
//! `file:///` URI or `s3://bucket/key`, and everything is read and written
//! through [`Location`], so the rest of shopsynth never asks which. Local
//! files go through object_store's `LocalFileSystem`, which writes to a
//! temporary sibling and renames it, so a crash never leaves half a file under
//! the final name. S3 settings a job leaves out come from the usual `AWS_*`
//! environment variables; S3-compatible servers (MinIO, SeaweedFS) work
//! through `endpoint`.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use serde::{Deserialize, Serialize};

/// A file or folder, local or in S3, as a job names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    place: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// `path` is absolute; `shown` is the path as the user wrote it, and
    /// `uri` whether they wrote it as `file://`. Both are normalized.
    Local { path: PathBuf, shown: PathBuf, uri: bool },
    /// `key` has no leading, trailing or doubled `/`; empty for the bucket.
    S3 { bucket: String, key: String },
}

impl Location {
    /// Parses a local path, a `file:///` URI or an `s3://bucket/key` URI.
    pub fn parse(uri: &str) -> anyhow::Result<Location> {
        let place = if let Some(rest) = uri.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("`{uri}` names no bucket: write s3://BUCKET/KEY");
            }
            if key.split('/').any(|part| part == "." || part == "..") {
                bail!("`{uri}`: an S3 key cannot hold `.` or `..` parts");
            }
            Place::S3 { bucket: bucket.to_string(), key: clean_key(key) }
        } else if uri.starts_with("file:") {
            let path = url::Url::parse(uri).ok().and_then(|url| url.to_file_path().ok());
            let Some(path) = path else {
                bail!("`{uri}` is not a local file URI: write file:///absolute/path");
            };
            let path = normalize(&path);
            Place::Local { shown: path.clone(), path, uri: true }
        } else if uri.is_empty() || uri.contains("://") {
            bail!("`{uri}` is not a location: give a local path, file:///PATH or s3://BUCKET/KEY");
        } else {
            let cwd = std::env::current_dir().context("finding the current directory")?;
            let path = normalize(&cwd.join(uri));
            Place::Local { path, shown: normalize(Path::new(uri)), uri: false }
        };
        Ok(Location { place })
    }

    /// The location of `name` inside this folder or prefix.
    pub fn join(&self, name: &str) -> Location {
        let place = match &self.place {
            Place::Local { path, shown, uri } => Place::Local {
                path: normalize(&path.join(name)),
                shown: normalize(&shown.join(name)),
                uri: *uri,
            },
            Place::S3 { bucket, key } => {
                Place::S3 { bucket: bucket.clone(), key: clean_key(&format!("{key}/{name}")) }
            }
        };
        Location { place }
    }

    /// The bucket of an `s3://` location.
    pub fn bucket(&self) -> Option<&str> {
        match &self.place {
            Place::S3 { bucket, .. } => Some(bucket),
            Place::Local { .. } => None,
        }
    }

    /// The absolute, normalized path of a local location.
    pub fn local_path(&self) -> Option<&Path> {
        match &self.place {
            Place::Local { path, .. } => Some(path),
            Place::S3 { .. } => None,
        }
    }

    /// The size in bytes of the file or object.
    pub async fn size(&self, options: &StoreOptions) -> anyhow::Result<u64> {
        let (store, path) = self.store(options)?;
        match store.head(&path).await {
            Ok(meta) => Ok(meta.size),
            Err(object_store::Error::NotFound { .. }) => {
                bail!("not found: {self}; check the path (for s3://, the bucket and key)")
            }
            Err(err) => Err(anyhow::Error::new(err).context(format!("looking for {self}"))),
        }
    }

    /// The last part of the path or key, or `None` for a bucket or `/`.
    pub fn file_name(&self) -> Option<&str> {
        match &self.place {
            Place::Local { path, .. } => path.file_name().and_then(|n| n.to_str()),
            Place::S3 { key, .. } => key.rsplit('/').next().filter(|n| !n.is_empty()),
        }
    }

    /// Reads the whole file or object.
    pub async fn read(&self, options: &StoreOptions) -> anyhow::Result<Bytes> {
        let (store, path) = self.store(options)?;
        match store.get(&path).await {
            Ok(found) => Ok(found.bytes().await.with_context(|| format!("reading {self}"))?),
            Err(object_store::Error::NotFound { .. }) => {
                bail!("not found: {self}; check the path (for s3://, the bucket and key)")
            }
            Err(err) => Err(anyhow::Error::new(err).context(format!("reading {self}"))),
        }
    }

    /// Writes `bytes` in one piece, replacing what was there; local folders
    /// are created as needed.
    pub async fn write(&self, bytes: Bytes, options: &StoreOptions) -> anyhow::Result<()> {
        let (store, path) = self.store(options)?;
        store
            .put(&path, PutPayload::from(bytes))
            .await
            .with_context(|| format!("writing {self}"))?;
        Ok(())
    }

    /// Whether a file or object (not a folder or prefix) is at this location.
    pub async fn exists(&self, options: &StoreOptions) -> anyhow::Result<bool> {
        let (store, path) = self.store(options)?;
        match store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(anyhow::Error::new(err).context(format!("looking for {self}"))),
        }
    }

    /// Deletes the file or object; one that is not there is not an error.
    pub async fn delete(&self, options: &StoreOptions) -> anyhow::Result<()> {
        let (store, path) = self.store(options)?;
        match store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(anyhow::Error::new(err).context(format!("deleting {self}"))),
        }
    }

    /// Deletes every file under this folder or prefix, and for a local
    /// folder the emptied folders too; returns how many files went.
    pub async fn delete_tree(&self, options: &StoreOptions) -> anyhow::Result<usize> {
        use futures::TryStreamExt;
        let (store, path) = self.store(options)?;
        if path.as_ref().is_empty() {
            bail!("refusing to delete everything in {self}: name a folder inside it");
        }
        let files: Vec<ObjectPath> =
            match store.list(Some(&path)).map_ok(|m| m.location).try_collect().await {
                Ok(files) => files,
                Err(object_store::Error::NotFound { .. }) => Vec::new(),
                Err(err) => return Err(anyhow::Error::new(err).context(format!("listing {self}"))),
            };
        for file in &files {
            match store.delete(file).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => return Err(anyhow::Error::new(err).context(format!("deleting {file}"))),
            }
        }
        if let Place::Local { path, .. } = &self.place
            && path.is_dir()
        {
            remove_empty_dirs(path).with_context(|| format!("removing the folders of {self}"))?;
        }
        Ok(files.len())
    }

    /// The sorted names of the files and folders directly inside this
    /// folder or prefix; empty when there is none.
    pub async fn list_names(&self, options: &StoreOptions) -> anyhow::Result<Vec<String>> {
        let (store, path) = self.store(options)?;
        let prefix = (!path.as_ref().is_empty()).then_some(&path);
        let listing = match store.list_with_delimiter(prefix).await {
            Ok(listing) => listing,
            Err(object_store::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(err) => return Err(anyhow::Error::new(err).context(format!("listing {self}"))),
        };
        let objects = listing.objects.into_iter().map(|meta| meta.location);
        let mut names: Vec<String> = listing
            .common_prefixes
            .into_iter()
            .chain(objects)
            .filter_map(|child| child.filename().map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The store holding this location and the location's path in it.
    fn store(&self, options: &StoreOptions) -> anyhow::Result<(Arc<dyn ObjectStore>, ObjectPath)> {
        match &self.place {
            Place::Local { path, .. } => {
                let object_path = ObjectPath::from_absolute_path(path)
                    .with_context(|| format!("`{self}` cannot be used as a local path"))?;
                Ok((Arc::new(LocalFileSystem::new()), object_path))
            }
            Place::S3 { bucket, key } => {
                let builder = options.s3_builder(bucket);
                check_credentials(&builder, self)?;
                let store = builder.build().with_context(|| {
                    format!("setting up S3 access for {self}; check the storage options")
                })?;
                Ok((Arc::new(store), ObjectPath::from(key.as_str())))
            }
        }
    }
}

/// Removes `dir` and the folders below it, provided they hold no files.
fn remove_empty_dirs(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            remove_empty_dirs(&entry.path())?;
        }
    }
    match std::fs::remove_dir(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(()),
        other => other,
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Place::Local { shown, uri: false, .. } => write!(f, "{}", shown.display()),
            Place::Local { shown, uri: true, .. } => write!(f, "file://{}", shown.display()),
            Place::S3 { bucket, key } if key.is_empty() => write!(f, "s3://{bucket}"),
            Place::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// An S3 key without empty parts, so `a//b/` and `a/b` are the same key.
fn clean_key(key: &str) -> String {
    key.split('/').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("/")
}

/// Drops `.` parts and resolves `..` against the part before it, without
/// asking the file system (the path may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

/// How to reach S3; every field left out comes from the environment.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StoreOptions {
    /// An S3-compatible endpoint such as `http://127.0.0.1:8333`; default
    /// `AWS_ENDPOINT_URL`, else AWS itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Default `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `us-east-1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Default `AWS_ACCESS_KEY_ID` (with `AWS_SESSION_TOKEN` if set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// Default `AWS_SECRET_ACCESS_KEY`. Never printed nor serialized, so that
    /// saved job settings do not carry it.
    #[serde(skip_serializing)]
    pub secret_access_key: Option<String>,
    /// Put the bucket in the URL path rather than the host name; default true
    /// when an endpoint is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    /// Allow plain HTTP; default true when the endpoint starts with `http://`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_http: Option<bool>,
}

impl StoreOptions {
    /// A builder for `bucket`: the environment's settings, then these.
    fn s3_builder(&self, bucket: &str) -> AmazonS3Builder {
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let given = [
            (AmazonS3ConfigKey::Endpoint, &self.endpoint),
            (AmazonS3ConfigKey::Region, &self.region),
            (AmazonS3ConfigKey::AccessKeyId, &self.access_key_id),
            (AmazonS3ConfigKey::SecretAccessKey, &self.secret_access_key),
        ];
        for (key, value) in given {
            if let Some(value) = value {
                builder = builder.with_config(key, value);
            }
        }
        let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
        let path_style = self.path_style.unwrap_or(endpoint.is_some());
        let http = endpoint.is_some_and(|e| e.starts_with("http://"));
        builder
            .with_virtual_hosted_style_request(!path_style)
            .with_allow_http(self.allow_http.unwrap_or(http))
    }
}

/// Variables that let object_store find credentials without keys: web
/// identity (Kubernetes service accounts) and container credentials.
const KEYLESS_CREDENTIALS: &[&str] = &[
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// Opts in to credentials from the cloud instance's metadata service.
const INSTANCE_METADATA_OPT_IN: &str = "SHOPSYNTH_S3_INSTANCE_METADATA";

/// Refuses S3 access without credentials, rather than letting the client
/// fall back to the cloud metadata address, which outside a cloud instance
/// hangs or fails with a message that never says "no credentials".
fn check_credentials(builder: &AmazonS3Builder, location: &Location) -> anyhow::Result<()> {
    let has_keys = builder.get_config_value(&AmazonS3ConfigKey::AccessKeyId).is_some()
        && builder.get_config_value(&AmazonS3ConfigKey::SecretAccessKey).is_some();
    let keyless = KEYLESS_CREDENTIALS.iter().any(|v| std::env::var_os(v).is_some());
    let metadata = std::env::var(INSTANCE_METADATA_OPT_IN).is_ok_and(|v| v == "1");
    if has_keys || keyless || metadata {
        return Ok(());
    }
    bail!(
        "no S3 credentials for {location}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or \
         storage.access_key_id and storage.secret_access_key in the spec \
         ({INSTANCE_METADATA_OPT_IN}=1 uses the cloud instance's metadata service instead)"
    )
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "***"))
            .field("path_style", &self.path_style)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> StoreOptions {
        StoreOptions::default()
    }

    fn in_dir(dir: &tempfile::TempDir, name: &str) -> Location {
        Location::parse(&dir.path().join(name).display().to_string()).unwrap()
    }

    #[test]
    fn uris_are_parsed_and_shown_normalized() {
        let s3 = Location::parse("s3://shop//exports/orders/").unwrap();
        assert_eq!(s3.to_string(), "s3://shop/exports/orders");
        assert_eq!(s3.join("a.csv").to_string(), "s3://shop/exports/orders/a.csv");
        assert_eq!(s3.file_name(), Some("orders"));
        assert_eq!(Location::parse("s3://shop").unwrap().file_name(), None);
        let relative = Location::parse("./data//x/../orders.csv").unwrap();
        assert_eq!(relative.to_string(), "data/orders.csv");
        let file = Location::parse("file:///srv/data/../orders.csv").unwrap();
        assert_eq!(file.to_string(), "file:///srv/orders.csv");
        assert_eq!(file.file_name(), Some("orders.csv"));
        assert_eq!(file.join("b").to_string(), "file:///srv/orders.csv/b");
    }

    #[test]
    fn unsupported_or_empty_locations_are_refused() {
        for uri in ["gs://bucket/key", "s3:///key", "", "s3://b/../k"] {
            assert!(Location::parse(uri).is_err(), "{uri}");
        }
    }

    #[tokio::test]
    async fn a_written_file_reads_back_and_its_folders_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let location = in_dir(&dir, "out/run 1/data.csv");
        location.write(Bytes::from_static(b"a\n1\n"), &local()).await.unwrap();
        assert_eq!(location.read(&local()).await.unwrap(), Bytes::from_static(b"a\n1\n"));
        assert!(location.exists(&local()).await.unwrap());
    }

    #[tokio::test]
    async fn writing_leaves_no_temporary_file_and_replaces_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let location = in_dir(&dir, "data.csv");
        location.write(Bytes::from_static(b"old, longer"), &local()).await.unwrap();
        location.write(Bytes::from_static(b"new"), &local()).await.unwrap();
        assert_eq!(location.read(&local()).await.unwrap(), Bytes::from_static(b"new"));
        let names: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["data.csv"]);
    }

    #[tokio::test]
    async fn reading_a_missing_file_names_it_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let location = in_dir(&dir, "missing.csv");
        let err = location.read(&local()).await.unwrap_err().to_string();
        assert!(err.starts_with(&format!("not found: {location};")), "{err}");
        assert!(!location.exists(&local()).await.unwrap());
    }

    #[tokio::test]
    async fn folders_list_their_direct_children_and_delete_removes_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = in_dir(&dir, "run");
        for name in ["b.csv", "a/model.pt", "a/deep/x"] {
            root.join(name).write(Bytes::from_static(b"x"), &local()).await.unwrap();
        }
        assert_eq!(root.list_names(&local()).await.unwrap(), ["a", "b.csv"]);
        root.join("b.csv").delete(&local()).await.unwrap();
        root.join("b.csv").delete(&local()).await.unwrap();
        assert_eq!(root.list_names(&local()).await.unwrap(), ["a"]);
        assert!(root.join("none").list_names(&local()).await.unwrap().is_empty());
    }

    #[test]
    fn options_hide_the_secret_and_refuse_unknown_fields() {
        let yaml = "endpoint: http://127.0.0.1:1\nsecret_access_key: hunter2\n";
        let options: StoreOptions = serde_yaml::from_str(yaml).unwrap();
        assert!(!format!("{options:?}").contains("hunter2"));
        assert!(!serde_yaml::to_string(&options).unwrap().contains("hunter2"));
        assert!(serde_yaml::from_str::<StoreOptions>("bucket: x\n").is_err());
    }
}
