//! The schema as SDV single-table metadata, for running SDMetrics yourself.
//!
//! Users who want to check our quality score, or compute other SDMetrics
//! measures, need the metadata SDMetrics reads. Kinds map to sdtypes one to
//! one, except for Unix-time datetimes: SDV formats are strftime patterns,
//! which cannot read epoch numbers, so those columns are declared numerical
//! (every quality metric gives the same score on the raw numbers).

use serde_json::{Map, Value, json};

use crate::schema::{ColumnSchema, DateFormat, IdRole, Kind, Schema};

/// The SDV metadata version this writes.
const SPEC_VERSION: &str = "SINGLE_TABLE_V1";

/// chrono pattern pieces and the Python `strptime` pieces that read the
/// same text (Python's `%m` also reads unpadded months, and so on).
const PYTHON_PIECES: &[(&str, &str)] = &[
    ("%-m", "%m"),
    ("%-d", "%d"),
    ("%-H", "%H"),
    ("%-I", "%I"),
    ("%-M", "%M"),
    ("%-S", "%S"),
    ("%-y", "%y"),
    ("%-j", "%j"),
    ("%.f", ".%f"),
    ("%:z", "%z"),
];

/// SDV single-table metadata (`{"columns": {name: {"sdtype": ...}}}`) for
/// `schema`, with a `datetime_format` on each datetime column.
pub fn sdv_metadata(schema: &Schema) -> Value {
    let columns: Map<String, Value> = schema
        .columns
        .iter()
        .map(|column| (column.name.clone(), column_metadata(column)))
        .collect();
    let mut metadata = Map::new();
    metadata.insert("METADATA_SPEC_VERSION".into(), json!(SPEC_VERSION));
    metadata.insert("columns".into(), Value::Object(columns));
    if let Some(key) = primary_key(schema) {
        metadata.insert("primary_key".into(), json!(key));
    }
    Value::Object(metadata)
}

fn column_metadata(column: &ColumnSchema) -> Value {
    match &column.kind {
        Kind::Numeric { .. } => json!({ "sdtype": "numerical" }),
        Kind::Categorical => json!({ "sdtype": "categorical" }),
        Kind::Boolean => json!({ "sdtype": "boolean" }),
        Kind::Datetime { format: DateFormat::Pattern(pattern), .. } => {
            json!({ "sdtype": "datetime", "datetime_format": python_format(pattern) })
        }
        Kind::Datetime { .. } => json!({ "sdtype": "numerical" }),
        Kind::Id { .. } => json!({ "sdtype": "id" }),
        Kind::Text => json!({ "sdtype": "text" }),
    }
}

/// The single row-key column, which SDV calls the primary key.
fn primary_key(schema: &Schema) -> Option<&str> {
    let mut rows = schema.columns.iter().filter(|c| c.kind == Kind::Id { role: IdRole::Row });
    match (rows.next(), rows.next()) {
        (Some(only), None) => Some(only.name.as_str()),
        _ => None,
    }
}

/// A chrono strftime pattern as the Python pattern that parses the same
/// text.
fn python_format(pattern: &str) -> String {
    PYTHON_PIECES
        .iter()
        .fold(pattern.to_string(), |text, (chrono, python)| text.replace(chrono, python))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, kind: Kind) -> ColumnSchema {
        ColumnSchema { name: name.into(), kind, null_marker: None, missing_rate: 0.0, distinct: 1 }
    }

    #[test]
    fn unpadded_chrono_patterns_become_python_patterns() {
        assert_eq!(python_format("%-m/%-d/%Y %-H:%M"), "%m/%d/%Y %H:%M");
        assert_eq!(python_format("%Y-%m-%dT%H:%M:%S%.fZ"), "%Y-%m-%dT%H:%M:%S.%fZ");
    }

    #[test]
    fn metadata_names_each_column_with_its_sdtype() {
        let pattern = DateFormat::Pattern("%Y-%m-%d".into());
        let schema = Schema {
            columns: vec![
                column("row", Kind::Id { role: IdRole::Row }),
                column("when", Kind::Datetime { format: pattern, min: 0.0, max: 1.0 }),
                column(
                    "ts",
                    Kind::Datetime { format: DateFormat::UnixSeconds, min: 0.0, max: 1.0 },
                ),
                column("note", Kind::Text),
            ],
        };
        let metadata = sdv_metadata(&schema);
        assert_eq!(metadata["primary_key"], "row");
        assert_eq!(metadata["columns"]["when"]["datetime_format"], "%Y-%m-%d");
        assert_eq!(metadata["columns"]["ts"]["sdtype"], "numerical");
        assert_eq!(metadata["columns"]["note"]["sdtype"], "text");
    }
}
