//! The in-memory table every format is read into and written from.
//!
//! Cells keep their raw text so that nothing is lost before the schema is
//! known: type inference, the model's encoder and the evaluator all read the
//! same cells, and output is written back in the source's own spelling.
//! `None` is a cell the source itself marks as null (a Parquet or JSON
//! null); textual markers such as `NA` or `?` stay as text and are
//! recognised by the schema, which remembers them for writing.

pub mod csv;
pub mod jsonl;
pub mod parquet;

use std::fmt;

use serde::{Deserialize, Serialize};

/// One named column of raw cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub cells: Vec<Option<String>>,
}

/// A rectangular table: every column holds the same number of cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
}

impl Table {
    /// Builds a table from named columns of equal length.
    ///
    /// # Panics
    /// When the columns differ in length: readers build columns row by row,
    /// so unequal lengths are a bug, not bad input.
    pub fn new(columns: Vec<Column>) -> Self {
        if let Some(first) = columns.first() {
            let rows = first.cells.len();
            assert!(
                columns.iter().all(|c| c.cells.len() == rows),
                "columns of one table must have equal length"
            );
        }
        Table { columns }
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.cells.len())
    }

    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The file formats shopsynth reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Parquet,
    Jsonl,
}

impl Format {
    /// Guesses the format from a file name's extension.
    pub fn from_extension(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit('.').next()?;
        match ext {
            "csv" | "tsv" | "txt" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// How a reader treats a row it cannot parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BadRows {
    /// Stop with an error naming the file, line and reason.
    #[default]
    Error,
    /// Drop the row and count it in the report.
    Skip,
}

/// Options a reader needs beyond the bytes themselves.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Whether the first CSV line names the columns.
    pub header: bool,
    /// Column names for files without a header, or to check a header against.
    pub columns: Option<Vec<String>>,
    pub on_bad_rows: BadRows,
}

/// A row a reader dropped under `on_bad_rows: skip`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedRow {
    /// 1-based line number in the source file.
    pub line: u64,
    pub reason: String,
}

/// What a reader returns: the table and the rows it skipped.
#[derive(Debug, Clone, Default)]
pub struct ReadResult {
    pub table: Table,
    pub skipped: Vec<SkippedRow>,
}

/// Why a file could not be read; always names the file, and the line or
/// column where that is known.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: the file has a header but no data rows")]
    HeaderOnly { file: String },
    #[error("{file}, line {line}: {reason}")]
    BadRow { file: String, line: u64, reason: String },
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
}

/// Reads `bytes` (the whole file named `file`) as `format`.
pub fn read(
    bytes: &[u8],
    file: &str,
    format: Format,
    options: &ReadOptions,
) -> Result<ReadResult, ReadError> {
    let result = match format {
        Format::Csv => csv::read(bytes, file, options)?,
        Format::Parquet => parquet::read(bytes, file, options)?,
        Format::Jsonl => jsonl::read(bytes, file, options)?,
    };
    check_shape(&result.table, file)?;
    Ok(result)
}

/// Rejects tables no model can learn from, whatever their format.
fn check_shape(table: &Table, file: &str) -> Result<(), ReadError> {
    if table.rows() == 0 {
        return Err(ReadError::HeaderOnly { file: file.to_string() });
    }
    let mut seen = std::collections::HashSet::new();
    for column in &table.columns {
        if !seen.insert(column.name.as_str()) {
            return Err(ReadError::Invalid {
                file: file.to_string(),
                reason: format!("column name `{}` appears twice", column.name),
            });
        }
    }
    Ok(())
}

/// Writes `table` in `format`, nulls as the schema's per-column markers
/// (already substituted into the cells by the caller).
pub fn write(table: &Table, format: Format) -> anyhow::Result<Vec<u8>> {
    match format {
        Format::Csv => csv::write(table),
        Format::Parquet => parquet::write(table),
        Format::Jsonl => jsonl::write(table),
    }
}

// Helpers the readers and writers share: text decoding, the column-name
// check for self-describing formats, and the one rule for which cells count
// as numbers, so that Parquet and JSON lines type a column the same way.

/// Returns `bytes` as text, or an error naming the line and byte offset of
/// the first byte that is not UTF-8. A leading byte-order mark is dropped.
pub(crate) fn utf8_text<'a>(bytes: &'a [u8], file: &str) -> Result<&'a str, ReadError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(err) => {
            let offset = err.valid_up_to();
            let line = 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count() as u64;
            let reason = format!(
                "the bytes are not UTF-8 text (byte offset {offset}); \
                 convert the file to UTF-8 first, for example with iconv"
            );
            Err(ReadError::BadRow { file: file.to_string(), line, reason })
        }
    }
}

/// Checks a self-describing file's columns against the names the caller
/// expects and puts them in that order. Every expected name must be present
/// and every present name expected.
pub(crate) fn match_columns(
    table: Table,
    expected: &[String],
    file: &str,
) -> Result<Table, ReadError> {
    let invalid = |reason: String| ReadError::Invalid { file: file.to_string(), reason };
    if let Some(extra) = table.names().into_iter().find(|n| !expected.iter().any(|e| e == n)) {
        return Err(invalid(format!(
            "the file has a column `{extra}` that the given column names do not list; \
             add it to the list or remove it from the file"
        )));
    }
    let mut columns = table.columns;
    let mut ordered = Vec::with_capacity(expected.len());
    for name in expected {
        let Some(at) = columns.iter().position(|c| &c.name == name) else {
            return Err(invalid(format!(
                "the file has no column `{name}`; check the spelling in the given column names"
            )));
        };
        ordered.push(columns.swap_remove(at));
    }
    Ok(Table::new(ordered))
}

/// How a column of text cells is stored where a format has number types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberKind {
    /// Every non-null cell is an `i64` written the way Rust writes it.
    Integer,
    /// Every non-null cell is a plain decimal such as `-12.50` or `3`.
    Decimal,
    /// Anything else, including a column with no non-null cell.
    Text,
}

impl NumberKind {
    /// Classifies a column; a cell such as `007`, `+5`, `1e3` or `NaN` makes
    /// it text, so that codes and identifiers keep their spelling.
    pub(crate) fn of(cells: &[Option<String>]) -> NumberKind {
        let mut present = cells.iter().flatten().peekable();
        if present.peek().is_none() {
            return NumberKind::Text;
        }
        let mut kind = NumberKind::Integer;
        for cell in present {
            if kind == NumberKind::Integer && !is_plain_integer(cell) {
                kind = NumberKind::Decimal;
            }
            if kind == NumberKind::Decimal && !is_plain_decimal(cell) {
                return NumberKind::Text;
            }
        }
        kind
    }
}

/// Whether `text` is an `i64` in its canonical spelling (no `+`, no leading
/// zeros, no `-0`), so that reading it back gives the same text.
fn is_plain_integer(text: &str) -> bool {
    text.parse::<i64>().is_ok_and(|n| n.to_string() == text)
}

/// Whether `text` is `-?(0|[1-9][0-9]*)(\.[0-9]+)?` and either fits an `i64`
/// or has a fraction: long digit strings are identifiers, not numbers.
fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let whole_ok = digits(whole) && (whole == "0" || !whole.starts_with('0'));
    match fraction {
        Some(fraction) => {
            whole_ok && digits(fraction) && text.parse::<f64>().is_ok_and(f64::is_finite)
        }
        None => whole_ok && text.parse::<i64>().is_ok(),
    }
}

/// Writes a float so that it reads back as the same value and still looks
/// like a float: the shortest round-trip digits, `.0` added to whole numbers.
pub(crate) fn float_text(value: impl fmt::Display) -> String {
    let mut text = value.to_string();
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        text.push_str(".0");
    }
    text
}
