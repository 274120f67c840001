//! Reads and writes CSV, the format most shop exports arrive in.
//!
//! Exports differ in dialect, so the reader guesses the delimiter (`,` `;`
//! tab or `|`) from the first line and accepts quoting, CRLF and a missing
//! final newline. Cells are kept exactly as written, leading spaces included:
//! UCI Adult's categories start with one, and the writer must reproduce them.
//! An empty field is an empty string, not a null; the schema decides later
//! which spellings mean "missing". Rows are reported by the physical line they
//! start on, so a user can find them in an editor.
//!
//! A header cell that is empty (R writes one above its row numbers) names its
//! column `unnamed_N`, N counting columns from 1, so that every column has a
//! name a job can refer to.

use ::csv::{ReaderBuilder, StringRecord, Terminator, WriterBuilder};

use super::{BadRows, Column, ReadError, ReadOptions, ReadResult, SkippedRow, Table, utf8_text};

/// The delimiters the reader recognises, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Reads the CSV file `file` held in `bytes`.
///
/// Rows with the wrong number of fields stop the read, or are dropped and
/// listed in [`ReadResult::skipped`] under [`BadRows::Skip`]. A header with no
/// rows gives an empty table, which the caller rejects with its own message.
pub fn read(bytes: &[u8], file: &str, options: &ReadOptions) -> Result<ReadResult, ReadError> {
    let text = utf8_text(bytes, file)?;
    let empty = || ReadError::Empty { file: file.to_string() };
    if text.trim().is_empty() {
        return Err(empty());
    }
    let mut records = Records::new(text, file);
    let first_line = records.next()?.ok_or_else(empty)?;
    let names = if options.header {
        header_names(&records.record, first_line, file, options.columns.as_deref())?
    } else {
        given_or_numbered_names(records.record.len(), options.columns.as_deref())
    };
    let mut rows = RowSink::new(file, options.on_bad_rows, names.len());
    if !options.header {
        rows.push(&records.record, first_line)?;
    }
    while let Some(line) = records.next()? {
        rows.push(&records.record, line)?;
    }
    Ok(rows.finish(names))
}

/// Picks the candidate delimiter that appears most often outside quotes in
/// the first line; `,` when none appears.
fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for byte in text.bytes() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(at) = DELIMITERS.iter().position(|d| *d == byte) {
                    counts[at] += 1;
                }
            }
            _ => {}
        }
    }
    let mut best = 0;
    for (at, count) in counts.iter().enumerate() {
        if *count > counts[best] {
            best = at;
        }
    }
    DELIMITERS[best]
}

/// Walks the records of a CSV text, keeping the current one in `record`.
struct Records<'a> {
    reader: ::csv::Reader<&'a [u8]>,
    text: &'a [u8],
    file: &'a str,
    record: StringRecord,
    /// How far into `text` lines have been counted, and the line there.
    counted_to: usize,
    line: u64,
}

impl<'a> Records<'a> {
    /// Reads `text` with the delimiter its first line suggests; every line,
    /// the header too, is a record, and records may differ in width.
    fn new(text: &'a str, file: &'a str) -> Self {
        let reader = ReaderBuilder::new()
            .delimiter(detect_delimiter(text))
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let record = StringRecord::new();
        Records { reader, text: text.as_bytes(), file, record, counted_to: 0, line: 1 }
    }

    /// Reads the next record and returns the line it starts on, or `None` at
    /// the end of the file.
    fn next(&mut self) -> Result<Option<u64>, ReadError> {
        match self.reader.read_record(&mut self.record) {
            Ok(true) => Ok(Some(self.start_line())),
            Ok(false) => Ok(None),
            Err(err) => Err(csv_error(&err, self.file)),
        }
    }

    /// The line the current record starts on. The csv crate's position is
    /// taken before it skips blank lines, so its line number can be short by
    /// those; the line is counted here from the first byte past them.
    fn start_line(&mut self) -> u64 {
        let position = self.record.position().map_or(0, |p| p.byte());
        let mut start = usize::try_from(position).unwrap_or(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let start = start.clamp(self.counted_to, self.text.len());
        let newlines = self.text[self.counted_to..start].iter().filter(|b| **b == b'\n').count();
        self.line += newlines as u64;
        self.counted_to = start;
        self.line
    }
}

/// Turns an error of the csv crate into one naming the file and line.
fn csv_error(err: &::csv::Error, file: &str) -> ReadError {
    let reason = format!("the CSV cannot be parsed: {err}");
    match err.position() {
        Some(position) => {
            ReadError::BadRow { file: file.to_string(), line: position.line(), reason }
        }
        None => ReadError::Invalid { file: file.to_string(), reason },
    }
}

/// Names the columns from the header on `line`, checked against `expected`
/// when the caller gave names.
fn header_names(
    header: &StringRecord,
    line: u64,
    file: &str,
    expected: Option<&[String]>,
) -> Result<Vec<String>, ReadError> {
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(at, name)| if name.is_empty() { format!("unnamed_{}", at + 1) } else { name.into() })
        .collect();
    let Some(expected) = expected else {
        return Ok(names);
    };
    let bad = |reason: String| ReadError::BadRow { file: file.to_string(), line, reason };
    if let Some(at) = names.iter().zip(expected).position(|(found, want)| found != want) {
        return Err(bad(format!(
            "column {} is named `{}` in the header but `{}` in the given column names; \
             make them agree",
            at + 1,
            names[at],
            expected[at]
        )));
    }
    if names.len() != expected.len() {
        return Err(bad(format!(
            "the header names {} columns but {} column names were given; make them agree",
            names.len(),
            expected.len()
        )));
    }
    Ok(names)
}

/// Names for a file without a header: the caller's, or `column_1`,
/// `column_2`, ... for as many fields as the first row has.
fn given_or_numbered_names(width: usize, given: Option<&[String]>) -> Vec<String> {
    match given {
        Some(names) => names.to_vec(),
        None => (1..=width).map(|n| format!("column_{n}")).collect(),
    }
}

/// Collects rows column by column, dropping or rejecting those of the wrong
/// width.
struct RowSink<'a> {
    file: &'a str,
    on_bad_rows: BadRows,
    width: usize,
    cells: Vec<Vec<Option<String>>>,
    skipped: Vec<SkippedRow>,
}

impl<'a> RowSink<'a> {
    fn new(file: &'a str, on_bad_rows: BadRows, width: usize) -> Self {
        let cells = vec![Vec::new(); width];
        RowSink { file, on_bad_rows, width, cells, skipped: Vec::new() }
    }

    /// Adds the record that starts on `line`, or handles it as a bad row.
    fn push(&mut self, record: &StringRecord, line: u64) -> Result<(), ReadError> {
        if record.len() != self.width {
            let reason = format!("expected {} fields, found {}", self.width, record.len());
            return match self.on_bad_rows {
                BadRows::Error => {
                    Err(ReadError::BadRow { file: self.file.to_string(), line, reason })
                }
                BadRows::Skip => {
                    self.skipped.push(SkippedRow { line, reason });
                    Ok(())
                }
            };
        }
        for (column, field) in self.cells.iter_mut().zip(record.iter()) {
            column.push(Some(field.to_string()));
        }
        Ok(())
    }

    fn finish(self, names: Vec<String>) -> ReadResult {
        let columns =
            names.into_iter().zip(self.cells).map(|(name, cells)| Column { name, cells }).collect();
        ReadResult { table: Table::new(columns), skipped: self.skipped }
    }
}

/// Writes `table` as CSV: a header line, then one line per row, `\n` line
/// endings, fields quoted only where needed and nulls as empty fields.
///
/// Header names holding `;`, tab or `|` are quoted so that the reader's
/// delimiter guess still finds `,`.
pub fn write(table: &Table) -> anyhow::Result<Vec<u8>> {
    let names = table.names();
    let other_delimiter = |name: &&str| name.bytes().any(|b| DELIMITERS[1..].contains(&b));
    let header_style = if names.iter().any(other_delimiter) {
        ::csv::QuoteStyle::Always
    } else {
        ::csv::QuoteStyle::Necessary
    };
    let mut header = WriterBuilder::new()
        .terminator(Terminator::Any(b'\n'))
        .quote_style(header_style)
        .from_writer(Vec::new());
    header.write_record(&names)?;
    let out = header.into_inner().map_err(|err| err.into_error())?;

    let mut writer = WriterBuilder::new().terminator(Terminator::Any(b'\n')).from_writer(out);
    for row in 0..table.rows() {
        let fields = table.columns.iter().map(|c| c.cells[row].as_deref().unwrap_or(""));
        writer.write_record(fields)?;
    }
    Ok(writer.into_inner().map_err(|err| err.into_error())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header() -> ReadOptions {
        ReadOptions { header: true, ..ReadOptions::default() }
    }

    fn skipping() -> ReadOptions {
        ReadOptions { header: true, on_bad_rows: BadRows::Skip, ..ReadOptions::default() }
    }

    fn cells(table: &Table, name: &str) -> Vec<Option<String>> {
        table.column(name).expect("the column exists").cells.clone()
    }

    fn texts(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some(v.to_string())).collect()
    }

    #[test]
    fn crlf_line_endings_are_read_like_lf() {
        let result = read(b"a,b\r\n1,2\r\n3,4\r\n", "t.csv", &with_header()).unwrap();
        assert_eq!(cells(&result.table, "b"), texts(&["2", "4"]));
    }

    #[test]
    fn a_file_without_a_final_newline_keeps_its_last_row() {
        let result = read(b"a,b\n1,2\n3,4", "t.csv", &with_header()).unwrap();
        assert_eq!(cells(&result.table, "a"), texts(&["1", "3"]));
    }

    #[test]
    fn quoted_commas_doubled_quotes_and_newlines_stay_inside_their_cell() {
        let bytes = b"id,text\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n";
        let result = read(bytes, "t.csv", &with_header()).unwrap();
        assert_eq!(cells(&result.table, "text"), texts(&["a, b", "say \"hi\"", "two\nlines"]));
    }

    #[test]
    fn leading_spaces_and_empty_fields_are_kept_as_written() {
        let result = read(b"age,work\n39, State-gov\n40,\n", "t.csv", &with_header()).unwrap();
        assert_eq!(cells(&result.table, "work"), texts(&[" State-gov", ""]));
    }

    #[test]
    fn a_cut_off_last_line_is_an_error_naming_its_line() {
        let err = read(b"a,b,c\n1,2,3\n\"x\ny\",5,6\n7,8", "t.csv", &with_header()).unwrap_err();
        assert_eq!(err.to_string(), "t.csv, line 5: expected 3 fields, found 2");
    }

    #[test]
    fn a_cut_off_last_line_is_skipped_and_reported_when_asked() {
        let result = read(b"a,b,c\n1,2,3\n\n7,8", "t.csv", &skipping()).unwrap();
        assert_eq!(result.table.rows(), 1);
        let skipped = SkippedRow { line: 4, reason: "expected 3 fields, found 2".into() };
        assert_eq!(result.skipped, vec![skipped]);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error_naming_line_and_offset() {
        let err = read(b"a,b\n1,caf\xe9\n", "t.csv", &with_header()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("t.csv, line 2: the bytes are not UTF-8 text (byte offset 9)"),
            "{message}"
        );
    }

    #[test]
    fn a_semicolon_file_is_read_with_the_right_delimiter() {
        let result = read(b"a;b\n1,5;2\n", "t.csv", &with_header()).unwrap();
        assert_eq!(result.table.names(), ["a", "b"]);
        assert_eq!(cells(&result.table, "a"), texts(&["1,5"]));
    }

    #[test]
    fn tab_and_pipe_files_are_read_with_the_right_delimiter() {
        for bytes in [&b"a\tb\n1\t2\n"[..], b"a|b\n1|2\n"] {
            let result = read(bytes, "t.csv", &with_header()).unwrap();
            assert_eq!(cells(&result.table, "b"), texts(&["2"]));
        }
    }

    #[test]
    fn a_delimiter_inside_quotes_does_not_count_in_the_guess() {
        let result = read(b"\"a;b;c\",d\n1,2\n", "t.csv", &with_header()).unwrap();
        assert_eq!(result.table.names(), ["a;b;c", "d"]);
    }

    #[test]
    fn a_header_only_file_gives_named_columns_and_no_rows() {
        let result = read(b"a,b\n", "t.csv", &with_header()).unwrap();
        assert_eq!(result.table.names(), ["a", "b"]);
        assert_eq!(result.table.rows(), 0);
        let err = super::super::read(b"a,b\n", "t.csv", super::super::Format::Csv, &with_header());
        assert!(matches!(err, Err(ReadError::HeaderOnly { .. })));
    }

    #[test]
    fn an_empty_or_blank_file_is_reported_as_empty() {
        for bytes in [&b""[..], b"  \n\r\n"] {
            let err = read(bytes, "t.csv", &with_header()).unwrap_err();
            assert!(matches!(err, ReadError::Empty { .. }), "{err}");
        }
    }

    #[test]
    fn a_file_without_header_gets_numbered_or_given_names() {
        let bytes = b"1,pv\n2,buy\n";
        let numbered = read(bytes, "t.csv", &ReadOptions::default()).unwrap();
        assert_eq!(numbered.table.names(), ["column_1", "column_2"]);
        assert_eq!(numbered.table.rows(), 2);
        let columns = Some(vec!["user".to_string(), "action".to_string()]);
        let named = read(bytes, "t.csv", &ReadOptions { columns, ..ReadOptions::default() });
        assert_eq!(named.unwrap().table.names(), ["user", "action"]);
    }

    #[test]
    fn a_header_that_disagrees_with_the_given_names_names_the_first_mismatch() {
        let columns = Some(vec!["a".to_string(), "c".to_string()]);
        let options = ReadOptions { header: true, columns, ..ReadOptions::default() };
        let err = read(b"a,b\n1,2\n", "t.csv", &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 1: column 2 is named `b` in the header but `c` in the given column \
             names; make them agree"
        );
    }

    #[test]
    fn an_empty_header_cell_names_its_column_by_position() {
        let result = read(b"\"\",\"x\"\n\"1\",\"2\"\n", "t.csv", &with_header()).unwrap();
        assert_eq!(result.table.names(), ["unnamed_1", "x"]);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_name() {
        let result = read(b"\xef\xbb\xbfa,b\n1,2\n", "t.csv", &with_header()).unwrap();
        assert_eq!(result.table.names(), ["a", "b"]);
    }

    #[test]
    fn a_written_table_reads_back_the_same() {
        let table = Table::new(vec![
            Column { name: "a;b".into(), cells: texts(&["1", " x", "say \"hi\""]) },
            Column {
                name: "c".into(),
                cells: vec![Some("p, q".into()), None, Some("l\nm".into())],
            },
        ]);
        let bytes = write(&table).unwrap();
        let back = read(&bytes, "t.csv", &with_header()).unwrap().table;
        assert_eq!(back.names(), ["a;b", "c"]);
        assert_eq!(back.columns[0], table.columns[0]);
        assert_eq!(
            cells(&back, "c"),
            vec![Some("p, q".into()), Some(String::new()), Some("l\nm".into())]
        );
    }

    #[test]
    fn writing_uses_lf_and_quotes_only_where_needed() {
        let table = Table::new(vec![
            Column { name: "a".into(), cells: texts(&["1", "x,y"]) },
            Column { name: "b".into(), cells: vec![None, Some("z".into())] },
        ]);
        assert_eq!(write(&table).unwrap(), b"a,b\n1,\n\"x,y\",z\n");
    }

    fn shared_dataset(path: &str) -> Vec<u8> {
        let full = format!("{}/../shared/datasets/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full).unwrap_or_else(|err| panic!("{full}: {err}"))
    }

    #[test]
    fn the_truncated_last_taobao_row_is_skipped_with_its_line() {
        let bytes = shared_dataset("taobao-userbehavior/UserBehavior.csv");
        let options = ReadOptions { on_bad_rows: BadRows::Skip, ..ReadOptions::default() };
        let result = read(&bytes, "UserBehavior.csv", &options).unwrap();
        assert_eq!(result.table.rows(), 84_475);
        assert_eq!(result.skipped.len(), 1);
        assert_eq!(result.skipped[0].line, 84_476);
    }

    #[test]
    fn the_online_retail_sample_reads_with_its_unnamed_first_column() {
        let bytes = shared_dataset("uci-online-retail/online_retail_random_sample.csv");
        let result = read(&bytes, "online_retail.csv", &with_header()).unwrap();
        assert_eq!(result.table.names()[..2], ["unnamed_1", "InvoiceNo"]);
        assert_eq!(result.table.rows(), 2_709);
    }
}
