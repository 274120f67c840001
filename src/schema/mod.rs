//! What each column of a table is, and how its cells read and write.
//!
//! The schema is inferred from the real table (see [`infer`]), may be
//! overridden by the job spec, and is then the single source of truth for
//! the encoder, the samplers, the evaluator and the writers: all of them
//! parse cells through [`ColumnSchema::number`] and [`ColumnSchema::label`]
//! and write through [`ColumnSchema::format_number`], so a value means the
//! same thing everywhere.

pub mod datetime;
pub mod infer;

use serde::{Deserialize, Serialize};

pub use datetime::DateFormat;

/// Text that stands for a missing value in the sources we read.
pub const NULL_MARKERS: &[&str] = &["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"];

/// The schema of one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub columns: Vec<ColumnSchema>,
}

impl Schema {
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One column: its kind, and the facts about its real values that output
/// must respect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSchema {
    pub name: String,
    #[serde(flatten)]
    pub kind: Kind,
    /// How the source writes a missing value (`NA`, ` ?`, empty), reused when
    /// writing synthetic missing values; `None` when the source has none.
    pub null_marker: Option<String>,
    /// Share of real rows where the value is missing.
    pub missing_rate: f64,
    /// Number of distinct non-missing values in the real column.
    pub distinct: usize,
}

/// The kinds of column shopsynth models differently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Kind {
    /// A number. `integer` outputs are whole; `decimals` is the most
    /// fractional digits a real value shows, so outputs look like inputs.
    Numeric { integer: bool, decimals: u8, min: f64, max: f64 },
    /// A label from a finite set, kept as the source spells it.
    Categorical,
    /// A two-valued label such as TRUE/FALSE, kept as the source spells it.
    Boolean,
    /// A point in time, modelled as seconds and written in `format`.
    Datetime { format: DateFormat, min: f64, max: f64 },
    /// An identifier: never one-hot encoded.
    Id { role: IdRole },
    /// Free text: not learnt; left out of the output and said so in the report.
    Text,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Numeric { .. } => "numeric",
            Kind::Categorical => "categorical",
            Kind::Boolean => "boolean",
            Kind::Datetime { .. } => "datetime",
            Kind::Id { .. } => "id",
            Kind::Text => "text",
        }
    }

    /// Whether the evaluator and encoder treat this column as a number.
    pub fn is_continuous(&self) -> bool {
        matches!(self, Kind::Numeric { .. } | Kind::Datetime { .. })
    }

    /// Whether the column holds labels compared by frequency.
    pub fn is_discrete(&self) -> bool {
        matches!(self, Kind::Categorical | Kind::Boolean)
    }
}

/// What an identifier column names, which decides what the output holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IdRole {
    /// A person or their session (user, customer): output holds fresh
    /// pseudonyms so that no real identifier leaves the real data.
    Subject,
    /// A catalogue key (item, product): output holds real keys drawn with
    /// their real popularity, so they stay valid foreign keys.
    Key,
    /// A row's own key, unique per row: output holds fresh unique keys.
    Row,
}

impl ColumnSchema {
    /// The cell as a number for numeric and datetime columns; `None` when
    /// missing or unparsable.
    pub fn number(&self, cell: Option<&str>) -> Option<f64> {
        let text = cell?;
        if is_null_marker(text) {
            return None;
        }
        match &self.kind {
            Kind::Numeric { .. } => parse_number(text),
            Kind::Datetime { format, .. } => format.parse(text.trim()),
            _ => None,
        }
    }

    /// The cell as a label for any other kind; `None` when missing.
    pub fn label<'a>(&self, cell: Option<&'a str>) -> Option<&'a str> {
        let text = cell?;
        (!is_null_marker(text)).then_some(text)
    }

    /// Writes a number the way the real column writes its values.
    pub fn format_number(&self, value: f64) -> String {
        match &self.kind {
            Kind::Numeric { integer: true, .. } => format!("{}", value.round() as i64),
            Kind::Numeric { decimals, .. } => format_decimal(value, *decimals),
            Kind::Datetime { format, .. } => format.format(value),
            _ => format_decimal(value, 6),
        }
    }

    /// The text written for a missing value.
    pub fn missing_text(&self) -> Option<String> {
        self.null_marker.clone()
    }
}

/// Whether text (after trimming spaces) is one of [`NULL_MARKERS`].
pub fn is_null_marker(text: &str) -> bool {
    NULL_MARKERS.contains(&text.trim())
}

/// Parses a plain decimal number, allowing surrounding spaces.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let value: f64 = text.parse().ok()?;
    let plain = !text.contains(['x', 'X', 'i', 'I', 'n', 'N']);
    (value.is_finite() && plain).then_some(value)
}

/// Formats with at most `decimals` fractional digits and no trailing zeros.
fn format_decimal(value: f64, decimals: u8) -> String {
    let text = format!("{value:.prec$}", prec = decimals as usize);
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" { "0".to_string() } else { trimmed.to_string() }
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_trimmed_like_the_source_writes_them() {
        assert_eq!(format_decimal(0.2, 9), "0.2");
        assert_eq!(format_decimal(2.0, 2), "2");
        assert_eq!(format_decimal(-0.0001, 2), "0");
        assert_eq!(format_decimal(0.021052632, 9), "0.021052632");
    }

    #[test]
    fn null_markers_are_recognised_with_surrounding_spaces() {
        assert!(is_null_marker(" ?"));
        assert!(is_null_marker("NA"));
        assert!(!is_null_marker("0"));
    }

    #[test]
    fn numbers_reject_words_that_rust_would_parse() {
        assert_eq!(parse_number(" 42 "), Some(42.0));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1e3"), Some(1000.0));
    }
}
