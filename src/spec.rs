//! The job spec: one format, YAML or JSON, for the CLI, the API and
//! schedules alike.
//!
//! Every struct rejects unknown fields, so a typo is an error rather than a
//! setting silently ignored, and [`JobSpec::validate`] checks the values
//! before any data is read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{DeviceChoice, ModelKind};
use crate::schema::infer::ColumnHint;
use crate::storage::StoreOptions;
use crate::table::{BadRows, Format};

/// A synthesis job: what to learn, how, and where to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub dataset: DatasetSpec,
    #[serde(default)]
    pub model: ModelSpec,
    pub output: OutputSpec,
    #[serde(default)]
    pub report: ReportSpec,
}

/// The real table and how to read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// A local path, `file:///abs/path` or `s3://bucket/key`.
    pub uri: String,
    /// Taken from the extension when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// Whether the first CSV line names the columns.
    #[serde(default = "yes")]
    pub header: bool,
    /// Column names: required without a header, checked against one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    #[serde(default)]
    pub on_bad_rows: BadRows,
    /// Per-column types that override inference.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub schema: BTreeMap<String, ColumnHint>,
    /// Object-store settings; the environment fills in what is missing.
    #[serde(default, skip_serializing_if = "is_default")]
    pub storage: StoreOptions,
}

/// The network and its training settings; defaults are CTGAN's and TVAE's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    #[serde(default)]
    pub kind: ModelKind,
    #[serde(default = "default_epochs")]
    #[schema(minimum = 1)]
    pub epochs: i64,
    #[serde(default = "default_batch_size")]
    #[schema(minimum = 2, maximum = 1_000_000)]
    pub batch_size: i64,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub device: DeviceChoice,
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            kind: ModelKind::default(),
            epochs: default_epochs(),
            batch_size: default_batch_size(),
            seed: default_seed(),
            device: DeviceChoice::default(),
        }
    }
}

/// Where results go and how many rows to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// A folder or `s3://bucket/prefix/`; each run writes a sub-folder.
    pub uri: String,
    /// The exact number of synthetic rows.
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub rows: i64,
    #[serde(default = "default_formats")]
    pub formats: Vec<Format>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub storage: StoreOptions,
}

/// How the job judges its own output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// Share of the real rows kept out of training and scored beside the
    /// synthetic table as its real reference: the latest events of a
    /// behaviour log, random rows otherwise. 0 keeps none (and the report
    /// then has no references and no recommender utility).
    #[serde(default = "default_holdout")]
    #[schema(minimum = 0.0, maximum = 0.5)]
    pub holdout: f64,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec { holdout: default_holdout() }
    }
}

fn default_holdout() -> f64 {
    0.2
}

/// Largest holdout share: beyond it the model learns from too little.
pub const MAX_HOLDOUT: f64 = 0.5;

fn yes() -> bool {
    true
}

fn default_epochs() -> i64 {
    300
}

fn default_batch_size() -> i64 {
    500
}

fn default_seed() -> u64 {
    42
}

fn default_formats() -> Vec<Format> {
    vec![Format::Csv, Format::Parquet]
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Why a spec was refused; names the field.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{0}")]
    Syntax(String),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

fn invalid(field: &'static str, reason: impl Into<String>) -> SpecError {
    SpecError::Invalid { field, reason: reason.into() }
}

/// Most rows one job may ask for; larger runs belong in several jobs.
pub const MAX_ROWS: i64 = 100_000_000;

impl JobSpec {
    /// Parses YAML or JSON text (JSON is read as YAML, which includes it).
    pub fn parse(text: &str) -> Result<JobSpec, SpecError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let spec: JobSpec =
            serde_yaml::from_str(text).map_err(|e| SpecError::Syntax(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Checks values that the types alone cannot.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.dataset.validate()?;
        if self.model.epochs <= 0 {
            let reason = format!("must be a positive number of epochs, got {}", self.model.epochs);
            return Err(invalid("model.epochs", reason));
        }
        if self.model.batch_size <= 1 || self.model.batch_size > MAX_BATCH_SIZE {
            let reason = format!(
                "must be between 2 and {MAX_BATCH_SIZE} rows, got {}",
                self.model.batch_size
            );
            return Err(invalid("model.batch_size", reason));
        }
        check_rows(self.output.rows, "output.rows")?;
        if self.output.uri.trim().is_empty() {
            return Err(invalid("output.uri", "must name a folder"));
        }
        if self.output.formats.is_empty() {
            return Err(invalid("output.formats", "name at least one of csv, parquet, jsonl"));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = self.output.formats.iter().find(|f| !seen.insert(**f)) {
            let reason = format!("`{}` is named twice", twice.extension());
            return Err(invalid("output.formats", reason));
        }
        let holdout = self.report.holdout;
        if !(0.0..=MAX_HOLDOUT).contains(&holdout) {
            let reason = format!("must be a share between 0 and {MAX_HOLDOUT}, got {holdout}");
            return Err(invalid("report.holdout", reason));
        }
        Ok(())
    }

    /// The dataset's format: as given, else from the file extension.
    pub fn dataset_format(&self) -> Result<Format, SpecError> {
        self.dataset.format()
    }
}

impl DatasetSpec {
    /// Checks the dataset section on its own (the API's inspect route
    /// takes just this section); fields are named as in a job spec.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.uri.trim().is_empty() {
            return Err(invalid("dataset.uri", "must name a file"));
        }
        if !self.header && self.columns.is_none() {
            return Err(invalid("dataset.columns", "required when dataset.header is false"));
        }
        if let Some(columns) = &self.columns {
            let mut seen = std::collections::HashSet::new();
            if let Some(dup) = columns.iter().find(|c| !seen.insert(c.as_str())) {
                return Err(invalid("dataset.columns", format!("`{dup}` is named twice")));
            }
        }
        Ok(())
    }

    /// The format: as given, else from the file extension.
    pub fn format(&self) -> Result<Format, SpecError> {
        if let Some(format) = self.format {
            return Ok(format);
        }
        Format::from_extension(&self.uri).ok_or_else(|| {
            let reason =
                format!("cannot tell the format of `{}`; set csv, parquet or jsonl", self.uri);
            invalid("dataset.format", reason)
        })
    }
}

/// Largest batch a spec may ask for; batches are also cut to the data's size.
pub const MAX_BATCH_SIZE: i64 = 1_000_000;

/// Checks a requested row count; `field` names where it came from
/// (`output.rows` in a spec, `--rows` on the command line).
pub fn check_rows(rows: i64, field: &'static str) -> Result<usize, SpecError> {
    if rows <= 0 {
        return Err(invalid(field, format!("must be a positive number of rows, got {rows}")));
    }
    if rows > MAX_ROWS {
        return Err(invalid(field, format!("at most {MAX_ROWS} rows per job, got {rows}")));
    }
    Ok(rows as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "dataset: {uri: data.csv}\noutput: {uri: out/, rows: 10}\n";

    #[test]
    fn defaults_match_ctgan_and_tvae() {
        let spec = JobSpec::parse(MINIMAL).unwrap();
        assert_eq!(spec.model.epochs, 300);
        assert_eq!(spec.model.batch_size, 500);
        assert_eq!(spec.output.formats, [Format::Csv, Format::Parquet]);
    }

    #[test]
    fn unknown_fields_are_errors_naming_them() {
        let text = MINIMAL.replace("rows: 10", "rows: 10, rowz: 3");
        let error = JobSpec::parse(&text).unwrap_err().to_string();
        assert!(error.contains("rowz"), "{error}");
    }

    #[test]
    fn zero_and_negative_rows_are_refused() {
        for rows in ["0", "-5"] {
            let text = MINIMAL.replace("rows: 10", &format!("rows: {rows}"));
            let error = JobSpec::parse(&text).unwrap_err().to_string();
            assert!(error.starts_with("output.rows: must be a positive"), "{error}");
        }
    }

    #[test]
    fn json_specs_are_read_too() {
        let text = r#"{"dataset": {"uri": "a.parquet"}, "output": {"uri": "o", "rows": 1}}"#;
        let spec = JobSpec::parse(text).unwrap();
        assert_eq!(spec.dataset_format().unwrap(), Format::Parquet);
    }

    #[test]
    fn the_holdout_share_defaults_to_a_fifth_and_is_bounded() {
        assert_eq!(JobSpec::parse(MINIMAL).unwrap().report.holdout, 0.2);
        let none = format!("{MINIMAL}report: {{holdout: 0}}\n");
        assert_eq!(JobSpec::parse(&none).unwrap().report.holdout, 0.0);
        for share in ["0.6", "-0.1", "1"] {
            let text = format!("{MINIMAL}report: {{holdout: {share}}}\n");
            let error = JobSpec::parse(&text).unwrap_err().to_string();
            assert!(error.starts_with("report.holdout: must be a share"), "{error}");
        }
    }

    #[test]
    fn headerless_files_need_column_names() {
        let text = MINIMAL.replace("{uri: data.csv}", "{uri: data.csv, header: false}");
        let error = JobSpec::parse(&text).unwrap_err().to_string();
        assert!(error.starts_with("dataset.columns"), "{error}");
    }
}
