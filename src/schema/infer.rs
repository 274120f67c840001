//! Infers a [`Schema`] from a real table, honouring the job spec's hints.
//!
//! The rules favour what e-commerce tables hold: identifier-named columns
//! (`user_id`, `CustomerID`, `StockCode`) become ids rather than numbers or
//! giant categoricals, integer Unix times in a time-named column become
//! datetimes, and long free text is recognised and left out of training.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::datetime::{self, DateFormat};
use super::{ColumnSchema, IdRole, Kind, Schema, is_null_marker, parse_number};
use crate::table::{Column, Table};

/// At most this many distinct labels make a string column categorical.
const MAX_CATEGORIES: usize = 5000;
/// Integer columns with at most this many distinct values are categorical.
const MAX_INTEGER_CODES: usize = 10;
/// Largest magnitude a numeric column may hold: the mixture fit works on
/// squared distances, which overflow near f64's limit.
const MAX_MAGNITUDE: f64 = 1e100;
/// Cells looked at when detecting datetime formats.
const DATETIME_SAMPLES: usize = 2000;

/// A spec's statement about one column, overriding inference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnHint {
    #[serde(rename = "type")]
    pub kind: HintKind,
    /// Datetime format: `unix_seconds`, `unix_millis` or a strftime pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Identifier role: `subject` (people, pseudonymised), `key` (catalogue
    /// keys, kept) or `row` (unique per row, regenerated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<IdRole>,
}

/// The column types a spec may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HintKind {
    Numeric,
    Categorical,
    Boolean,
    Datetime,
    Id,
    Text,
}

/// Why a schema could not be inferred; names the column.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error("schema names column `{0}`, which the dataset does not have (it has: {1})")]
    UnknownColumn(String, String),
    #[error("column `{0}` holds only missing values; drop it from the data or the spec")]
    AllMissing(String),
    #[error("column `{column}` is declared {kind} but row {row} holds `{value}`")]
    Mismatch { column: String, kind: &'static str, row: usize, value: String },
    #[error("column `{column}`: {reason}")]
    BadHint { column: String, reason: String },
    #[error(
        "the dataset has a single column (`{0}`): nothing to learn between columns; if the file \
         has more, check its delimiter (comma, semicolon, tab and | are recognised)"
    )]
    SingleColumn(String),
}

/// Infers the schema of `table`, with `hints` taking precedence.
pub fn infer(table: &Table, hints: &BTreeMap<String, ColumnHint>) -> Result<Schema, InferError> {
    for name in hints.keys() {
        if table.column(name).is_none() {
            let have = table.names().join(", ");
            return Err(InferError::UnknownColumn(name.clone(), have));
        }
    }
    if let [only] = table.columns.as_slice() {
        return Err(InferError::SingleColumn(only.name.clone()));
    }
    let columns = table
        .columns
        .iter()
        .map(|column| infer_column(column, hints.get(&column.name)))
        .collect::<Result<_, _>>()?;
    Ok(Schema { columns })
}

fn infer_column(column: &Column, hint: Option<&ColumnHint>) -> Result<ColumnSchema, InferError> {
    let present: Vec<(usize, &str)> = column
        .cells
        .iter()
        .enumerate()
        .filter_map(|(row, cell)| cell.as_deref().map(|text| (row, text)))
        .filter(|(_, text)| !is_null_marker(text))
        .collect();
    if present.is_empty() {
        return Err(InferError::AllMissing(column.name.clone()));
    }
    let distinct = present.iter().map(|(_, t)| *t).collect::<HashSet<_>>().len();
    let kind = match hint {
        Some(hint) => hinted_kind(&column.name, hint, &present, distinct)?,
        None => guess_kind(&column.name, &present, distinct, column.cells.len()),
    };
    let kind = with_range(kind, &column.name, &present)?;
    let missing = column.cells.len() - present.len();
    Ok(ColumnSchema {
        name: column.name.clone(),
        kind,
        null_marker: null_marker(column),
        missing_rate: missing as f64 / column.cells.len().max(1) as f64,
        distinct,
    })
}

fn guess_kind(name: &str, present: &[(usize, &str)], distinct: usize, rows: usize) -> Kind {
    let texts: Vec<&str> = present.iter().map(|(_, t)| *t).collect();
    let id_name = looks_like_id(name);
    let all_numbers = texts.iter().all(|t| parse_number(t).is_some());

    if all_numbers {
        let integer = texts.iter().all(|t| !t.contains(['.', 'e', 'E']));
        if integer && let Some(format) = datetime::detect(&sample(&texts), looks_like_time(name)) {
            return datetime_kind(format);
        }
        if id_name && integer && distinct > MAX_INTEGER_CODES {
            return Kind::Id { role: id_role(name, distinct, rows) };
        }
        if integer && distinct <= MAX_INTEGER_CODES {
            return Kind::Categorical;
        }
        return numeric_kind(integer, &texts);
    }
    if is_boolean(&texts) {
        return Kind::Boolean;
    }
    if let Some(format) = datetime::detect(&sample(&texts), looks_like_time(name)) {
        return datetime_kind(format);
    }
    if looks_like_text(&texts, distinct) {
        return Kind::Text;
    }
    if id_name || distinct > MAX_CATEGORIES || distinct * 2 > texts.len().max(40) {
        return Kind::Id { role: id_role(name, distinct, rows) };
    }
    Kind::Categorical
}

fn hinted_kind(
    name: &str,
    hint: &ColumnHint,
    present: &[(usize, &str)],
    distinct: usize,
) -> Result<Kind, InferError> {
    let texts: Vec<&str> = present.iter().map(|(_, t)| *t).collect();
    let bad = |reason: String| InferError::BadHint { column: name.to_string(), reason };
    if hint.format.is_some() && hint.kind != HintKind::Datetime {
        return Err(bad("`format` applies to datetime columns only".into()));
    }
    if hint.role.is_some() && hint.kind != HintKind::Id {
        return Err(bad("`role` applies to id columns only".into()));
    }
    let kind = match hint.kind {
        HintKind::Numeric => {
            check_all(name, "numeric", present, |t| parse_number(t).is_some())?;
            numeric_kind(texts.iter().all(|t| !t.contains(['.', 'e', 'E'])), &texts)
        }
        HintKind::Categorical => Kind::Categorical,
        HintKind::Boolean if distinct > 2 => {
            return Err(bad(format!("declared boolean but holds {distinct} distinct values")));
        }
        HintKind::Boolean => Kind::Boolean,
        HintKind::Datetime => {
            let format = match &hint.format {
                Some(text) => DateFormat::from(text.clone()),
                None => datetime::detect(&sample(&texts), true).ok_or_else(|| {
                    bad("no datetime format reads its values; give one in `format`".into())
                })?,
            };
            format.validate().map_err(bad)?;
            check_all(name, "datetime", present, |t| format.parse(t.trim()).is_some())?;
            datetime_kind(format)
        }
        HintKind::Id => {
            Kind::Id { role: hint.role.unwrap_or(id_role(name, distinct, texts.len())) }
        }
        HintKind::Text => Kind::Text,
    };
    Ok(kind)
}

fn check_all(
    column: &str,
    kind: &'static str,
    present: &[(usize, &str)],
    accepts: impl Fn(&str) -> bool,
) -> Result<(), InferError> {
    match present.iter().find(|(_, text)| !accepts(text)) {
        None => Ok(()),
        Some((row, value)) => Err(InferError::Mismatch {
            column: column.to_string(),
            kind,
            row: row + 1,
            value: value.to_string(),
        }),
    }
}

/// Fills in the real range that outputs must stay inside.
fn with_range(kind: Kind, name: &str, present: &[(usize, &str)]) -> Result<Kind, InferError> {
    let range = |parse: &dyn Fn(&str) -> Option<f64>| {
        present
            .iter()
            .filter_map(|(_, t)| parse(t))
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    Ok(match kind {
        Kind::Numeric { integer, decimals, .. } => {
            let (min, max) = range(&parse_number);
            if min.abs().max(max.abs()) > MAX_MAGNITUDE {
                let reason = format!(
                    "values reach {:e}, beyond the ±{MAX_MAGNITUDE:e} shopsynth can model; \
                     rescale the column or declare it text",
                    if max.abs() > min.abs() { max } else { min }
                );
                return Err(InferError::BadHint { column: name.to_string(), reason });
            }
            Kind::Numeric { integer, decimals, min, max }
        }
        Kind::Datetime { format, .. } => {
            let (min, max) = range(&|t: &str| format.parse(t.trim()));
            if min > max {
                let reason = format!("no value reads as a datetime in format `{format}`");
                return Err(InferError::BadHint { column: name.to_string(), reason });
            }
            Kind::Datetime { format, min, max }
        }
        other => other,
    })
}

fn numeric_kind(integer: bool, texts: &[&str]) -> Kind {
    let decimals = texts
        .iter()
        .filter_map(|t| t.trim().split_once('.').map(|(_, frac)| frac.len()))
        .max()
        .unwrap_or(0)
        .min(12) as u8;
    Kind::Numeric { integer, decimals, min: 0.0, max: 0.0 }
}

fn datetime_kind(format: DateFormat) -> Kind {
    Kind::Datetime { format, min: 0.0, max: 0.0 }
}

/// The most common missing-value marker in the column, if any.
fn null_marker(column: &Column) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for cell in column.cells.iter().flatten() {
        if is_null_marker(cell) {
            *counts.entry(cell.as_str()).or_default() += 1;
        }
    }
    let best = counts.into_iter().max_by_key(|(_, count)| *count)?;
    Some(best.0.to_string())
}

fn sample<'a>(texts: &[&'a str]) -> Vec<&'a str> {
    let step = (texts.len() / DATETIME_SAMPLES).max(1);
    texts.iter().step_by(step).map(|t| t.trim()).collect()
}

fn is_boolean(texts: &[&str]) -> bool {
    const PAIRS: &[[&str; 2]] = &[["true", "false"], ["yes", "no"], ["t", "f"], ["y", "n"]];
    let seen: HashSet<String> = texts.iter().map(|t| t.trim().to_ascii_lowercase()).collect();
    PAIRS.iter().any(|pair| seen.iter().all(|value| pair.contains(&value.as_str())))
}

/// Free text: mostly multi-word values, long or nearly all distinct.
fn looks_like_text(texts: &[&str], distinct: usize) -> bool {
    let words = texts.iter().filter(|t| t.trim().contains(' ')).count();
    let mean_len = texts.iter().map(|t| t.len()).sum::<usize>() / texts.len().max(1);
    words * 2 > texts.len() && (mean_len > 40 || distinct * 2 > texts.len())
}

/// Splits a column name into lowercase words: `CustomerID` -> customer, id.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let lower_before = i > 0 && chars[i - 1].is_lowercase();
        if !c.is_alphanumeric() || (c.is_uppercase() && lower_before) {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            if !c.is_alphanumeric() {
                continue;
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether a name says "identifier": it ends in an id word (`user_id`,
/// `StockCode`), or it is only the name of a shop entity (`user`, `item`,
/// `cat`), as behaviour logs without id suffixes name their columns.
fn looks_like_id(name: &str) -> bool {
    const ID_WORDS: &[&str] = &["id", "uuid", "guid", "key", "sku", "code", "ean", "upc"];
    const ENTITY_WORDS: &[&str] = &[
        "user", "customer", "client", "visitor", "member", "buyer", "account", "session",
        "shopper", "uid", "item", "product", "article", "offer", "listing", "order", "invoice",
        "category", "cat", "brand", "shop", "store", "seller", "merchant",
    ];
    let words = name_words(name);
    let ends_in_id = words.last().is_some_and(|w| ID_WORDS.contains(&w.as_str()));
    let entity = words.iter().all(|w| ENTITY_WORDS.contains(&w.as_str()) || w == "no");
    ends_in_id || (!words.is_empty() && entity)
}

fn looks_like_time(name: &str) -> bool {
    const TIME_WORDS: &[&str] = &["time", "timestamp", "ts", "date", "datetime", "created", "at"];
    name_words(name).iter().any(|w| TIME_WORDS.contains(&w.as_str()))
}

fn id_role(name: &str, distinct: usize, rows: usize) -> IdRole {
    const SUBJECT_WORDS: &[&str] = &[
        "user", "customer", "client", "visitor", "member", "buyer", "account", "session", "person",
        "shopper", "uid",
    ];
    if name_words(name).iter().any(|w| SUBJECT_WORDS.contains(&w.as_str())) {
        IdRole::Subject
    } else if distinct == rows {
        IdRole::Row
    } else {
        IdRole::Key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, cells: &[&str]) -> Column {
        Column { name: name.into(), cells: cells.iter().map(|c| Some(c.to_string())).collect() }
    }

    fn kind_of(name: &str, cells: &[&str]) -> Kind {
        infer_column(&column(name, cells), None).unwrap().kind
    }

    #[test]
    fn camel_case_names_split_into_words() {
        assert_eq!(name_words("CustomerID"), ["customer", "id"]);
        assert_eq!(name_words("user_id"), ["user", "id"]);
        assert_eq!(name_words("Price (INR)"), ["price", "inr"]);
    }

    #[test]
    fn user_ids_are_subjects_and_item_ids_are_keys() {
        let users: Vec<String> = (0..100).map(|i| (i % 30).to_string()).collect();
        let users: Vec<&str> = users.iter().map(String::as_str).collect();
        assert_eq!(kind_of("user_id", &users), Kind::Id { role: IdRole::Subject });
        assert_eq!(kind_of("item_id", &users), Kind::Id { role: IdRole::Key });
    }

    #[test]
    fn bare_entity_names_are_ids_too() {
        let ids: Vec<String> = (0..100).map(|i| (1000 + i % 40).to_string()).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(kind_of("user", &ids), Kind::Id { role: IdRole::Subject });
        assert_eq!(kind_of("item", &ids), Kind::Id { role: IdRole::Key });
        assert_eq!(kind_of("cat", &ids), Kind::Id { role: IdRole::Key });
        assert!(matches!(kind_of("user_age", &ids), Kind::Numeric { .. }));
    }

    #[test]
    fn missing_markers_are_remembered_with_their_spelling() {
        let schema =
            infer_column(&column("workclass", &[" State-gov", " ?", " ?", " Private"]), None)
                .unwrap();
        assert_eq!(schema.null_marker.as_deref(), Some(" ?"));
        assert!((schema.missing_rate - 0.5).abs() < 1e-9);
    }

    #[test]
    fn booleans_keep_their_spelling_as_labels() {
        assert_eq!(kind_of("Weekend", &["TRUE", "FALSE", "FALSE"]), Kind::Boolean);
    }

    #[test]
    fn small_integer_codes_are_categorical_and_others_numeric() {
        assert_eq!(kind_of("Region", &["1", "2", "3", "1"]), Kind::Categorical);
        let ages: Vec<String> = (17..60).map(|a| a.to_string()).collect();
        let ages: Vec<&str> = ages.iter().map(String::as_str).collect();
        assert!(matches!(kind_of("age", &ages), Kind::Numeric { integer: true, min: 17.0, .. }));
    }

    #[test]
    fn a_column_of_only_missing_values_is_an_error_naming_it() {
        let error = infer_column(&column("empty", &["", "NA"]), None).unwrap_err();
        assert!(error.to_string().contains("`empty`"));
    }

    #[test]
    fn hints_are_checked_against_the_values() {
        let hint = ColumnHint { kind: HintKind::Numeric, format: None, role: None };
        let error = infer_column(&column("price", &["1", "x"]), Some(&hint)).unwrap_err();
        assert!(error.to_string().contains("row 2"), "{error}");
    }
}
