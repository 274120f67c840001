//! A run's output folder: data, report and model, then the manifest.
//!
//! The manifest is written last and lists every file with its size and
//! SHA-256, so a folder without one is known to be incomplete. A run that
//! fails removes what it wrote, and a run id that already has a manifest is
//! refused, so finished results are never overwritten.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::storage::{Location, StoreOptions};

pub const MANIFEST: &str = "manifest.json";

/// One written file, as listed in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The folder of one run, being filled.
pub struct RunFolder {
    root: Location,
    options: StoreOptions,
    written: Vec<FileEntry>,
}

/// Checks that a run id is safe as one path segment.
pub fn check_run_id(id: &str) -> anyhow::Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.is_empty() || id.len() > 128 || !id.chars().all(allowed) || id.starts_with('.') {
        anyhow::bail!(
            "run id `{id}` must be 1-128 letters, digits, '-', '_' or '.', not starting with '.'"
        );
    }
    Ok(())
}

/// A run id from the current UTC time, such as `20261204T161502Z`.
pub fn default_run_id() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string().replace('.', "")
}

impl RunFolder {
    /// Opens `<output>/<run_id>/`, refusing one that holds a finished run.
    pub async fn create(
        output: &Location,
        run_id: &str,
        options: &StoreOptions,
    ) -> anyhow::Result<RunFolder> {
        check_run_id(run_id)?;
        let root = output.join(run_id);
        if root.join(MANIFEST).exists(options).await? {
            anyhow::bail!(
                "{root} already holds a finished run; choose another --run-id or remove it first"
            );
        }
        Ok(RunFolder { root, options: options.clone(), written: Vec::new() })
    }

    /// Writes one file (a path relative to the run folder).
    pub async fn put(&mut self, name: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        let entry = FileEntry {
            name: name.to_string(),
            bytes: bytes.len() as u64,
            sha256: hex(&Sha256::digest(&bytes)),
        };
        self.root.join(name).write(Bytes::from(bytes), &self.options).await?;
        tracing::info!(file = %self.root.join(name), bytes = entry.bytes, "artifact written");
        self.written.push(entry);
        Ok(())
    }

    /// The files written so far.
    pub fn files(&self) -> &[FileEntry] {
        &self.written
    }

    /// Writes the manifest, which marks the run complete.
    pub async fn finish<M: Serialize>(self, manifest: &M) -> anyhow::Result<Location> {
        let text = serde_json::to_vec_pretty(manifest)?;
        if let Err(error) = self.root.join(MANIFEST).write(Bytes::from(text), &self.options).await {
            self.abandon().await;
            return Err(error);
        }
        Ok(self.root)
    }

    /// Removes what was written, after a failure; best effort, since the
    /// missing manifest already marks the folder incomplete.
    pub async fn abandon(self) {
        for file in &self.written {
            if let Err(error) = self.root.join(&file.name).delete(&self.options).await {
                tracing::warn!(file = %file.name, %error, "could not remove a partial file");
            }
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
