//! Reads and writes JSON lines: one object per line, as event logs and many
//! APIs export them.
//!
//! Objects need not share their keys: columns appear in the order their keys
//! are first seen, and a key a line lacks is a null there. Values become the
//! same raw text cells the CSV reader produces (numbers and booleans as their
//! text, nested arrays and objects as their JSON text), so that type inference
//! treats every format alike. Blank lines are ignored; line numbers in errors
//! are the file's physical lines.

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::{
    BadRows, Column, NumberKind, ReadError, ReadOptions, ReadResult, SkippedRow, Table, float_text,
    match_columns, utf8_text,
};

/// Reads the JSON lines file `file` held in `bytes`.
///
/// A line that is not a JSON object stops the read, or is dropped and listed
/// in [`ReadResult::skipped`] under [`BadRows::Skip`]. When the caller gives
/// column names, the keys must be exactly those, and the columns follow
/// their order.
pub fn read(bytes: &[u8], file: &str, options: &ReadOptions) -> Result<ReadResult, ReadError> {
    let text = utf8_text(bytes, file)?;
    if text.trim().is_empty() {
        return Err(ReadError::Empty { file: file.to_string() });
    }
    let mut columns = ColumnsBuilder::default();
    let mut skipped = Vec::new();
    for (line, content) in (1u64..).zip(text.split('\n')) {
        if content.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Row>(content) {
            Ok(row) => columns.push(row),
            Err(err) => {
                let reason = json_reason(&err);
                match options.on_bad_rows {
                    BadRows::Error => {
                        return Err(ReadError::BadRow { file: file.to_string(), line, reason });
                    }
                    BadRows::Skip => skipped.push(SkippedRow { line, reason }),
                }
            }
        }
    }
    let mut table = columns.finish();
    if let Some(expected) = &options.columns {
        table = match_columns(table, expected, file)?;
    }
    Ok(ReadResult { table, skipped })
}

/// Says why a line is not a usable JSON object, with the character column
/// where the parser stopped.
fn json_reason(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let message = full.split(" at line ").next().unwrap_or(&full);
    format!("not a JSON object: {message} (at character {})", err.column())
}

/// One line's keys and values in the order they were written.
struct Row(Vec<(String, Option<String>)>);

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RowVisitor)
    }
}

/// Reads a JSON object entry by entry, which keeps the key order without
/// serde_json's `preserve_order` feature.
struct RowVisitor;

impl<'de> Visitor<'de> for RowVisitor {
    type Value = Row;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            entries.push((key, cell_text(value)));
        }
        Ok(Row(entries))
    }
}

/// The raw text cell for a JSON value; `null` is the only null.
fn cell_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number_text(&number)),
        nested @ (Value::Array(_) | Value::Object(_)) => Some(nested.to_string()),
    }
}

/// Integers as written; other numbers as [`float_text`] writes floats.
fn number_text(number: &serde_json::Number) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    number.as_f64().map_or_else(|| number.to_string(), float_text)
}

/// Gathers rows into columns named in first-seen key order.
#[derive(Default)]
struct ColumnsBuilder {
    names: Vec<String>,
    index: HashMap<String, usize>,
    cells: Vec<Vec<Option<String>>>,
    rows: usize,
}

impl ColumnsBuilder {
    /// Adds a row; keys it lacks are nulls, and a repeated key keeps the
    /// last value, as most JSON parsers do.
    fn push(&mut self, row: Row) {
        for (key, value) in row.0 {
            let at = self.column(key);
            let column = &mut self.cells[at];
            // Pads rows that lacked the key, or drops a value this row
            // already gave under the same key.
            column.resize(self.rows, None);
            column.push(value);
        }
        self.rows += 1;
    }

    /// The index of the column named `key`, added with nulls for the rows
    /// before it when it is new.
    fn column(&mut self, key: String) -> usize {
        if let Some(at) = self.index.get(&key) {
            return *at;
        }
        let at = self.names.len();
        self.index.insert(key.clone(), at);
        self.names.push(key);
        self.cells.push(Vec::new());
        at
    }

    fn finish(self) -> Table {
        let rows = self.rows;
        let columns = self
            .names
            .into_iter()
            .zip(self.cells)
            .map(|(name, mut cells)| {
                cells.resize(rows, None);
                Column { name, cells }
            })
            .collect();
        Table::new(columns)
    }
}

/// Writes `table` as JSON lines, one object per row with the columns in
/// order; nulls are `null`.
///
/// A column whose non-null cells are all plain numbers (the rule Parquet
/// uses to type a column) is written as JSON numbers, spelled as in the
/// cells; every other cell is a JSON string.
pub fn write(table: &Table) -> anyhow::Result<Vec<u8>> {
    let keys =
        table.names().into_iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?;
    let numeric: Vec<bool> = table
        .columns
        .iter()
        .map(|column| NumberKind::of(&column.cells) != NumberKind::Text)
        .collect();
    let mut out = String::new();
    for row in 0..table.rows() {
        out.push('{');
        for (at, column) in table.columns.iter().enumerate() {
            if at > 0 {
                out.push(',');
            }
            out.push_str(&keys[at]);
            out.push(':');
            match &column.cells[row] {
                None => out.push_str("null"),
                Some(number) if numeric[at] => out.push_str(number),
                Some(text) => out.push_str(&serde_json::to_string(text)?),
            }
        }
        out.push_str("}\n");
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str, options: &ReadOptions) -> Result<ReadResult, ReadError> {
        read(text.as_bytes(), "t.jsonl", options)
    }

    fn texts(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_string)).collect()
    }

    #[test]
    fn keys_become_columns_in_first_seen_order_with_nulls_for_missing_keys() {
        let text = "{\"b\":1,\"a\":\"x\"}\n\n{\"c\":true,\"a\":null}\r\n{\"b\":2.5}";
        let table = read_text(text, &ReadOptions::default()).unwrap().table;
        assert_eq!(table.names(), ["b", "a", "c"]);
        assert_eq!(table.columns[0].cells, texts(&[Some("1"), None, Some("2.5")]));
        assert_eq!(table.columns[1].cells, texts(&[Some("x"), None, None]));
        assert_eq!(table.columns[2].cells, texts(&[None, Some("true"), None]));
    }

    #[test]
    fn numbers_keep_their_kind_and_nested_values_become_json_text() {
        let text = "{\"i\":-3,\"f\":2.0,\"big\":1e3,\"n\":{\"k\":[1,2]}}\n";
        let table = read_text(text, &ReadOptions::default()).unwrap().table;
        let row: Vec<_> = table.columns.iter().map(|c| c.cells[0].clone()).collect();
        assert_eq!(row, texts(&[Some("-3"), Some("2.0"), Some("1000.0"), Some("{\"k\":[1,2]}")]));
    }

    #[test]
    fn a_line_that_is_not_an_object_is_an_error_naming_its_line() {
        let err = read_text("{\"a\":1}\n\n[1,2]\n", &ReadOptions::default()).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("t.jsonl, line 3: not a JSON object: "), "{message}");
    }

    #[test]
    fn a_broken_line_is_skipped_and_reported_when_asked() {
        let options = ReadOptions { on_bad_rows: BadRows::Skip, ..ReadOptions::default() };
        let result = read_text("{\"a\":1}\n{\"a\":\n{\"a\":3}", &options).unwrap();
        assert_eq!(result.table.columns[0].cells, texts(&[Some("1"), Some("3")]));
        assert_eq!(result.skipped.len(), 1);
        assert_eq!(result.skipped[0].line, 2);
    }

    #[test]
    fn an_empty_file_is_reported_as_empty() {
        let err = read_text(" \n", &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, ReadError::Empty { .. }));
    }

    #[test]
    fn given_column_names_order_the_columns_and_must_all_be_present() {
        let given = |names: &[&str]| ReadOptions {
            columns: Some(names.iter().map(|n| n.to_string()).collect()),
            ..ReadOptions::default()
        };
        let text = "{\"b\":1,\"a\":2}\n";
        let table = read_text(text, &given(&["a", "b"])).unwrap().table;
        assert_eq!(table.names(), ["a", "b"]);
        let err = read_text(text, &given(&["a", "c"])).unwrap_err();
        assert!(err.to_string().contains("`b`"), "{err}");
    }

    #[test]
    fn a_written_table_reads_back_the_same() {
        let table = Table::new(vec![
            Column { name: "id".into(), cells: texts(&[Some("1"), Some("-2"), None]) },
            Column { name: "price".into(), cells: texts(&[Some("2.50"), Some("3"), Some("0.1")]) },
            Column { name: "zip".into(), cells: texts(&[Some("007"), Some("\"q\""), Some("x")]) },
        ]);
        let bytes = write(&table).unwrap();
        let first = String::from_utf8(bytes.clone()).unwrap();
        assert!(first.starts_with("{\"id\":1,\"price\":2.50,\"zip\":\"007\"}\n"), "{first}");
        let back = read(&bytes, "t.jsonl", &ReadOptions::default()).unwrap().table;
        assert_eq!(back.columns[0], table.columns[0]);
        assert_eq!(back.columns[1].cells, texts(&[Some("2.5"), Some("3"), Some("0.1")]));
        assert_eq!(back.columns[2], table.columns[2]);
    }
}
