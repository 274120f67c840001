//! Reads and writes Parquet, the format data warehouses and pandas export.
//!
//! Parquet is typed, but the rest of shopsynth works on raw text cells, so
//! the reader renders every value as text the way the CSV of the same data
//! would spell it: integers as digits, floats in their shortest round-trip
//! form (with `.0` on whole numbers, so they still read as floats), booleans
//! as `true`/`false`, dates as `%Y-%m-%d` and timestamps as
//! `%Y-%m-%dT%H:%M:%S` with a fraction only when it is not zero. Zoned
//! timestamps are shown in UTC. Types without a rule of their own (decimals,
//! times, durations, binary, nested values) use arrow's display format.
//!
//! The writer types a column as `Int64` or `Float64` when all its cells are
//! plain numbers, and as text otherwise, so that the output stays typed
//! for the tools that read it.

use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ::parquet::basic::Compression;
use ::parquet::file::properties::WriterProperties;
use arrow_array::cast::AsArray;
use arrow_array::temporal_conversions::as_datetime;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};

use super::{
    Column, NumberKind, ReadError, ReadOptions, ReadResult, Table, float_text, match_columns,
};

/// Timestamps as text; `%.f` prints the fraction only when it is not zero.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.f";
const DATE_FORMAT: &str = "%Y-%m-%d";

/// Reads the Parquet file `file` held in `bytes`.
///
/// When the caller gives column names, the file's columns must be exactly
/// those, and are put in their order. Parquet has no bad rows to skip.
pub fn read(bytes: &[u8], file: &str, options: &ReadOptions) -> Result<ReadResult, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty { file: file.to_string() });
    }
    let invalid = |err: &dyn std::fmt::Display| ReadError::Invalid {
        file: file.to_string(),
        reason: format!("the file cannot be read as Parquet: {err}"),
    };
    let data = bytes::Bytes::copy_from_slice(bytes);
    let builder = ParquetRecordBatchReaderBuilder::try_new(data).map_err(|e| invalid(&e))?;
    let mut columns: Vec<Column> = builder
        .schema()
        .fields()
        .iter()
        .map(|field| Column { name: field.name().clone(), cells: Vec::new() })
        .collect();
    for batch in builder.build().map_err(|e| invalid(&e))? {
        let batch = batch.map_err(|e| invalid(&e))?;
        for (column, array) in columns.iter_mut().zip(batch.columns()) {
            push_cells(array.as_ref(), &mut column.cells).map_err(|e| invalid(&e))?;
        }
    }
    let mut table = Table::new(columns);
    if let Some(expected) = &options.columns {
        table = match_columns(table, expected, file)?;
    }
    Ok(ReadResult { table, skipped: Vec::new() })
}

/// Appends the text cells of one arrow array; nulls become `None`.
fn push_cells(array: &dyn Array, cells: &mut Vec<Option<String>>) -> Result<(), ArrowError> {
    let plain = |n: &dyn std::fmt::Display| n.to_string();
    match array.data_type() {
        DataType::Utf8 => cells.extend(array.as_string::<i32>().iter().map(owned)),
        DataType::LargeUtf8 => cells.extend(array.as_string::<i64>().iter().map(owned)),
        DataType::Utf8View => cells.extend(array.as_string_view().iter().map(owned)),
        DataType::Boolean => cells.extend(array.as_boolean().iter().map(|v| v.map(|b| plain(&b)))),
        DataType::Int8 => push_primitive::<Int8Type>(array, cells, |n| plain(&n)),
        DataType::Int16 => push_primitive::<Int16Type>(array, cells, |n| plain(&n)),
        DataType::Int32 => push_primitive::<Int32Type>(array, cells, |n| plain(&n)),
        DataType::Int64 => push_primitive::<Int64Type>(array, cells, |n| plain(&n)),
        DataType::UInt8 => push_primitive::<UInt8Type>(array, cells, |n| plain(&n)),
        DataType::UInt16 => push_primitive::<UInt16Type>(array, cells, |n| plain(&n)),
        DataType::UInt32 => push_primitive::<UInt32Type>(array, cells, |n| plain(&n)),
        DataType::UInt64 => push_primitive::<UInt64Type>(array, cells, |n| plain(&n)),
        DataType::Float32 => push_primitive::<Float32Type>(array, cells, float_text),
        DataType::Float64 => push_primitive::<Float64Type>(array, cells, float_text),
        DataType::Date32 => push_dates::<Date32Type>(array, cells, i64::from),
        DataType::Date64 => push_dates::<Date64Type>(array, cells, |n| n),
        DataType::Timestamp(unit, _) => push_timestamps(array, cells, *unit),
        DataType::Dictionary(_, values) => {
            return push_cells(arrow_cast::cast(array, values)?.as_ref(), cells);
        }
        _ => push_displayed(array, cells)?,
    }
    Ok(())
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_string)
}

/// Appends the cells of a primitive array, each value rendered by `render`.
fn push_primitive<T: ArrowPrimitiveType>(
    array: &dyn Array,
    cells: &mut Vec<Option<String>>,
    render: impl Fn(T::Native) -> String,
) {
    cells.extend(array.as_primitive::<T>().iter().map(|v| v.map(&render)));
}

/// Appends dates as `%Y-%m-%d`; `days` turns the stored value into the
/// `i64` that [`as_datetime`] takes.
fn push_dates<T: ArrowPrimitiveType>(
    array: &dyn Array,
    cells: &mut Vec<Option<String>>,
    days: impl Fn(T::Native) -> i64,
) {
    push_primitive::<T>(array, cells, |value| {
        let raw = days(value);
        as_datetime::<T>(raw).map_or_else(|| raw.to_string(), |d| d.format(DATE_FORMAT).to_string())
    });
}

/// Appends timestamps of any unit as `%Y-%m-%dT%H:%M:%S` plus a non-zero
/// fraction. A value outside chrono's range keeps its raw number.
fn push_timestamps(array: &dyn Array, cells: &mut Vec<Option<String>>, unit: TimeUnit) {
    fn render<T: ArrowPrimitiveType>(raw: i64) -> String {
        as_datetime::<T>(raw)
            .map_or_else(|| raw.to_string(), |d| d.format(TIMESTAMP_FORMAT).to_string())
    }
    match unit {
        TimeUnit::Second => {
            push_primitive::<TimestampSecondType>(array, cells, render::<TimestampSecondType>)
        }
        TimeUnit::Millisecond => push_primitive::<TimestampMillisecondType>(
            array,
            cells,
            render::<TimestampMillisecondType>,
        ),
        TimeUnit::Microsecond => push_primitive::<TimestampMicrosecondType>(
            array,
            cells,
            render::<TimestampMicrosecondType>,
        ),
        TimeUnit::Nanosecond => push_primitive::<TimestampNanosecondType>(
            array,
            cells,
            render::<TimestampNanosecondType>,
        ),
    }
}

/// Appends any other type in arrow's display format.
fn push_displayed(array: &dyn Array, cells: &mut Vec<Option<String>>) -> Result<(), ArrowError> {
    let formatter = ArrayFormatter::try_new(array, &FormatOptions::default())?;
    for row in 0..array.len() {
        let cell = (!array.is_null(row)).then(|| formatter.value(row).to_string());
        cells.push(cell);
    }
    Ok(())
}

/// Writes `table` as Snappy-compressed Parquet with nullable columns:
/// `Int64` or `Float64` where every non-null cell is a plain number (see
/// [`NumberKind`]), text otherwise.
pub fn write(table: &Table) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(
        !table.columns.is_empty(),
        "a Parquet file needs at least one column, and the table to write has none"
    );
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = table.columns.iter().map(typed).unzip();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, Some(properties))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(out)
}

/// The field and array for one column, typed by [`NumberKind`].
fn typed(column: &Column) -> (Field, ArrayRef) {
    let cells = &column.cells;
    let (data_type, array): (DataType, ArrayRef) = match NumberKind::of(cells) {
        // The kind guarantees every present cell parses, so `ok()` drops nothing.
        NumberKind::Integer => {
            let values = cells.iter().map(|c| c.as_deref().and_then(|t| t.parse().ok()));
            (DataType::Int64, Arc::new(values.collect::<Int64Array>()))
        }
        NumberKind::Decimal => {
            let values = cells.iter().map(|c| c.as_deref().and_then(|t| t.parse().ok()));
            (DataType::Float64, Arc::new(values.collect::<Float64Array>()))
        }
        NumberKind::Text => {
            (DataType::Utf8, Arc::new(cells.iter().map(Option::as_deref).collect::<StringArray>()))
        }
    };
    (Field::new(&column.name, data_type, true), array)
}

#[cfg(test)]
mod tests {
    use super::*;

    use arrow_array::{
        BooleanArray, Date32Array, Decimal128Array, DictionaryArray, Float32Array,
        TimestampMillisecondArray, UInt8Array,
    };

    fn texts(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_string)).collect()
    }

    /// Writes arrays as a Parquet file the way another tool would.
    fn parquet_of(arrays: Vec<(&str, ArrayRef)>) -> Vec<u8> {
        let batch = RecordBatch::try_from_iter(arrays).unwrap();
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        out
    }

    fn read_cells(bytes: &[u8]) -> Vec<Vec<Option<String>>> {
        let table = read(bytes, "t.parquet", &ReadOptions::default()).unwrap().table;
        table.columns.into_iter().map(|c| c.cells).collect()
    }

    #[test]
    fn a_written_table_reads_back_the_same_up_to_number_spelling() {
        let table = Table::new(vec![
            Column { name: "id".into(), cells: texts(&[Some("1"), None, Some("-30")]) },
            Column { name: "price".into(), cells: texts(&[Some("2.50"), Some("3"), None]) },
            Column { name: "code".into(), cells: texts(&[Some("007"), Some(""), Some(" x")]) },
        ]);
        let bytes = write(&table).unwrap();
        let back = read(&bytes, "t.parquet", &ReadOptions::default()).unwrap().table;
        assert_eq!(back.names(), ["id", "price", "code"]);
        assert_eq!(back.columns[0], table.columns[0]);
        assert_eq!(back.columns[1].cells, texts(&[Some("2.5"), Some("3.0"), None]));
        assert_eq!(back.columns[2], table.columns[2]);
    }

    #[test]
    fn number_columns_are_written_typed_and_snappy_compressed() {
        let table = Table::new(vec![
            Column { name: "n".into(), cells: texts(&[Some("1"), None]) },
            Column { name: "f".into(), cells: texts(&[Some("1"), Some("0.5")]) },
            Column { name: "s".into(), cells: texts(&[Some("+1"), Some("1e3")]) },
            Column { name: "empty".into(), cells: texts(&[None, None]) },
        ]);
        let bytes = bytes::Bytes::from(write(&table).unwrap());
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
        let types: Vec<_> =
            builder.schema().fields().iter().map(|f| f.data_type().clone()).collect();
        assert_eq!(types, [DataType::Int64, DataType::Float64, DataType::Utf8, DataType::Utf8]);
        let column = builder.metadata().row_group(0).column(0);
        assert_eq!(column.compression(), Compression::SNAPPY);
    }

    #[test]
    fn typed_values_are_read_as_the_text_a_csv_would_hold() {
        let bytes = parquet_of(vec![
            ("b", Arc::new(BooleanArray::from(vec![Some(true), None])) as ArrayRef),
            ("u", Arc::new(UInt8Array::from(vec![200, 7]))),
            ("f", Arc::new(Float32Array::from(vec![0.1, 2.0]))),
            ("d", Arc::new(Date32Array::from(vec![0, 19_000]))),
            ("t", Arc::new(TimestampMillisecondArray::from(vec![1_500, 86_400_000]))),
        ]);
        assert_eq!(
            read_cells(&bytes),
            [
                texts(&[Some("true"), None]),
                texts(&[Some("200"), Some("7")]),
                texts(&[Some("0.1"), Some("2.0")]),
                texts(&[Some("1970-01-01"), Some("2022-01-08")]),
                texts(&[Some("1970-01-01T00:00:01.500"), Some("1970-01-02T00:00:00")]),
            ]
        );
    }

    #[test]
    fn decimals_and_dictionaries_are_read_as_their_values() {
        let decimal = Decimal128Array::from(vec![Some(12_345), None])
            .with_precision_and_scale(10, 2)
            .unwrap();
        let dictionary: DictionaryArray<Int32Type> = vec!["pv", "buy"].into_iter().collect();
        let bytes = parquet_of(vec![
            ("price", Arc::new(decimal) as ArrayRef),
            ("action", Arc::new(dictionary)),
        ]);
        assert_eq!(
            read_cells(&bytes),
            [texts(&[Some("123.45"), None]), texts(&[Some("pv"), Some("buy")]),]
        );
    }

    #[test]
    fn bytes_that_are_not_parquet_are_an_invalid_file() {
        let err = read(b"a,b\n1,2\n", "t.parquet", &ReadOptions::default()).unwrap_err();
        assert!(err.to_string().starts_with("t.parquet: the file cannot be read as Parquet"));
        let empty = read(b"", "t.parquet", &ReadOptions::default()).unwrap_err();
        assert!(matches!(empty, ReadError::Empty { .. }));
    }
}
