//! Cells as a plain `pandas.read_csv` would hold them.
//!
//! SDMetrics works on pandas frames, so its scores depend on what pandas
//! makes of each raw cell, not on what our schema makes of it. The two
//! differ: pandas turns only its own list of markers into NaN (` ?` stays a
//! label), decides per file whether a column holds numbers, booleans or
//! text, and reads `1` and `1.0` as the same value. This module reproduces
//! those choices for one column on one side, so that the quality metrics
//! see exactly the values SDMetrics would.

use std::collections::HashMap;

use crate::schema::{ColumnSchema, DateFormat, Kind};

/// Texts that `pandas.read_csv` reads as NaN by default (matched exactly,
/// spaces included).
const PANDAS_NA: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// Texts pandas reads as `True` or `False` when a whole column holds them.
const PANDAS_TRUE: &[&str] = &["True", "TRUE", "true"];
const PANDAS_FALSE: &[&str] = &["False", "FALSE", "false"];

/// Nanoseconds per second: pandas turns datetimes into nanoseconds.
const NANOS_PER_SECOND: f64 = 1e9;

/// The code of a missing value in a [`Labels`] column.
pub(super) const MISSING: u32 = 0;

/// Whether pandas reads the raw cell as NaN.
pub(super) fn is_pandas_na(cell: Option<&str>) -> bool {
    cell.is_none_or(|text| PANDAS_NA.contains(&text))
}

/// A number as pandas' CSV parser reads it (surrounding spaces allowed).
fn pandas_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

/// A continuous column as SDMetrics sees it on one side: numbers with NaN
/// where missing, or `None` when pandas would hold text SDMetrics cannot
/// turn into numbers (which makes every score on the column incomputable).
pub(super) fn numbers(schema: &ColumnSchema, cells: &[Option<String>]) -> Option<Vec<f64>> {
    cells
        .iter()
        .map(|cell| match cell.as_deref() {
            Some(text) if !is_pandas_na(Some(text)) => cell_number(&schema.kind, text),
            _ => Some(f64::NAN),
        })
        .collect()
}

/// A present cell as the number SDMetrics computes with: nanoseconds for
/// datetimes pandas parses with a format, the plain number otherwise (Unix
/// times are numbers to pandas).
fn cell_number(kind: &Kind, text: &str) -> Option<f64> {
    match kind {
        Kind::Datetime { format: format @ DateFormat::Pattern(_), .. } => {
            format.parse(text.trim()).map(|seconds| seconds * NANOS_PER_SECOND)
        }
        _ => pandas_number(text),
    }
}

/// A label as a pandas value: numbers compare by value, booleans as
/// booleans, anything else as its exact text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Label<'a> {
    Number(u64),
    Boolean(bool),
    Text(&'a str),
}

/// How pandas types one side of a discrete column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Typing {
    Numbers,
    Booleans,
    Texts,
}

/// Both sides of a discrete column as codes into one shared dictionary;
/// [`MISSING`] marks NaN, labels are numbered from 1.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Labels {
    pub real: Vec<u32>,
    pub synthetic: Vec<u32>,
}

/// Codes both sides of a discrete column the way pandas would label them.
pub(super) fn labels(real: &[Option<String>], synthetic: &[Option<String>]) -> Labels {
    let mut dictionary: HashMap<Label, u32> = HashMap::new();
    let real = code_side(real, &mut dictionary);
    let synthetic = code_side(synthetic, &mut dictionary);
    Labels { real, synthetic }
}

fn code_side<'a>(
    cells: &'a [Option<String>],
    dictionary: &mut HashMap<Label<'a>, u32>,
) -> Vec<u32> {
    let typing = side_typing(cells);
    cells
        .iter()
        .map(|cell| match cell.as_deref() {
            Some(text) if !is_pandas_na(Some(text)) => {
                let next = dictionary.len() as u32 + 1;
                *dictionary.entry(label(text, typing)).or_insert(next)
            }
            _ => MISSING,
        })
        .collect()
}

/// Numbers when every present cell is one, else booleans when every
/// present cell is a pandas boolean word, else text.
fn side_typing(cells: &[Option<String>]) -> Typing {
    let present = || cells.iter().filter_map(|c| c.as_deref()).filter(|t| !is_pandas_na(Some(t)));
    if present().all(|text| pandas_number(text).is_some()) {
        Typing::Numbers
    } else if present().all(|text| pandas_boolean(text).is_some()) {
        Typing::Booleans
    } else {
        Typing::Texts
    }
}

fn pandas_boolean(text: &str) -> Option<bool> {
    if PANDAS_TRUE.contains(&text) {
        Some(true)
    } else if PANDAS_FALSE.contains(&text) {
        Some(false)
    } else {
        None
    }
}

/// The label of a present cell under its side's typing (which guarantees
/// the parse succeeds; text is the fallback all the same).
fn label(text: &str, typing: Typing) -> Label<'_> {
    let parsed = match typing {
        Typing::Numbers => pandas_number(text).map(|value| Label::Number(number_key(value))),
        Typing::Booleans => pandas_boolean(text).map(Label::Boolean),
        Typing::Texts => None,
    };
    parsed.unwrap_or(Label::Text(text))
}

/// Bits identifying a number, with `-0` and `0` the same as in Python.
fn number_key(value: f64) -> u64 {
    if value == 0.0 { 0.0f64.to_bits() } else { value.to_bits() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(texts: &[&str]) -> Vec<Option<String>> {
        texts.iter().map(|t| Some(t.to_string())).collect()
    }

    #[test]
    fn question_marks_are_labels_to_pandas_but_na_is_missing() {
        assert!(!is_pandas_na(Some(" ?")));
        assert!(!is_pandas_na(Some("?")));
        assert!(!is_pandas_na(Some(" NA")));
        assert!(is_pandas_na(Some("NA")));
        assert!(is_pandas_na(Some("")));
        assert!(is_pandas_na(None));
    }

    #[test]
    fn one_and_one_point_zero_are_the_same_label_across_sides() {
        let coded = labels(&cells(&["1", "2", "NA"]), &cells(&["1.0", "2.0", "2"]));
        assert_eq!(coded.real, [1, 2, MISSING]);
        assert_eq!(coded.synthetic, [1, 2, 2]);
    }

    #[test]
    fn a_word_among_numbers_makes_the_whole_side_text() {
        let coded = labels(&cells(&["1", "2"]), &cells(&["1", "x"]));
        assert_eq!(coded.real, [1, 2]);
        assert_eq!(coded.synthetic, [3, 4]);
    }

    #[test]
    fn boolean_spellings_are_one_label_to_pandas() {
        let coded = labels(&cells(&["TRUE", "FALSE"]), &cells(&["True", "false"]));
        assert_eq!(coded.real, [1, 2]);
        assert_eq!(coded.synthetic, [1, 2]);
    }

    #[test]
    fn a_numeric_column_holding_text_cannot_be_read_as_numbers() {
        let schema = ColumnSchema {
            name: "age".into(),
            kind: Kind::Numeric { integer: true, decimals: 0, min: 0.0, max: 9.0 },
            null_marker: None,
            missing_rate: 0.0,
            distinct: 2,
        };
        let read = numbers(&schema, &cells(&[" 3", "", "4"])).expect("numbers read");
        assert_eq!(read[0], 3.0);
        assert!(read[1].is_nan());
        assert!(numbers(&schema, &cells(&["3", " ?"])).is_none());
    }
}
