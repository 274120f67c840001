//! Every kind of bad input ends with a non-zero exit, one clear line naming
//! the problem, and no manifest.

mod common;

use std::path::Path;

use common::*;

/// Runs a job on `data` (a file name in the temporary folder, or a path)
/// and returns the error line.
fn failing_run(dir: &Path, data: &Path, rows: i64, dataset_extra: &str) -> String {
    let out = dir.join("out");
    let spec = write(dir, "job.yaml", spec(data, &out, rows, dataset_extra, "  epochs: 1\n"));
    let output = shopsynth(&["run", spec.to_str().unwrap()]);
    let message = stderr(&output);
    assert!(!output.status.success(), "expected a failure, got success: {message}");
    let lines: Vec<&str> = message.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got:\n{message}");
    assert!(lines[0].starts_with("error: "), "{message}");
    let manifests = walk(&out).into_iter().filter(|p| p.ends_with("manifest.json")).count();
    assert_eq!(manifests, 0, "a failed run wrote a manifest");
    lines[0].to_string()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] })
        .collect()
}

fn expect_error(data_name: &str, contents: &[u8], rows: i64, extra: &str, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), data_name, contents);
    let line = failing_run(dir.path(), &data, rows, extra);
    assert!(line.contains(needle), "`{needle}` not in: {line}");
}

const GOOD: &[u8] = b"price,colour\n1,red\n2,blue\n3,red\n";

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let line = failing_run(dir.path(), &dir.path().join("nope.csv"), 10, "");
    assert!(line.contains("nope.csv"), "{line}");
}

#[test]
fn an_empty_file_is_named() {
    expect_error("empty.csv", b"", 10, "", "empty.csv: the file is empty");
}

#[test]
fn a_header_without_rows_is_named() {
    expect_error("head.csv", b"price,colour\n", 10, "", "header but no data rows");
}

#[test]
fn an_unknown_delimiter_leaves_one_column_and_says_so() {
    expect_error("colon.csv", b"price:colour\n1:red\n2:blue\n", 10, "", "single column");
}

#[test]
fn non_utf8_bytes_are_named_with_their_line() {
    expect_error("latin1.csv", b"price,colour\n1,red\n2,bl\xe9u\n", 10, "", "line 3");
}

#[test]
fn a_column_of_only_missing_values_is_named() {
    let data = b"price,colour,note\n1,red,\n2,blue,NA\n3,red,\n";
    expect_error("nulls.csv", data, 10, "", "`note` holds only missing values");
}

#[test]
fn an_unknown_column_in_the_schema_is_named() {
    let extra = "  schema:\n    colour: {type: categorical}\n    size: {type: numeric}\n";
    expect_error("good.csv", GOOD, 10, extra, "`size`");
}

#[test]
fn zero_and_negative_row_counts_are_refused() {
    expect_error("good.csv", GOOD, 0, "", "output.rows");
    expect_error("good.csv", GOOD, -3, "", "output.rows");
}

#[test]
fn an_unknown_spec_field_is_refused() {
    expect_error("good.csv", GOOD, 10, "  delimiter: ';'\n", "unknown field `delimiter`");
}

#[test]
fn a_value_contradicting_a_declared_type_names_column_and_row() {
    let extra = "  schema:\n    colour: {type: numeric}\n";
    expect_error("good.csv", GOOD, 10, extra, "row 1");
}

#[test]
fn sampling_zero_rows_is_refused() {
    let output = shopsynth(&["sample", "nowhere", "--rows", "0", "--out", "x.csv"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--rows"), "{}", stderr(&output));
}

#[test]
fn s3_without_credentials_is_refused_before_any_request() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shopsynth"))
        .args(["inspect", "s3://bucket/events.csv"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no S3 credentials for s3://bucket/events.csv"));
}

#[test]
fn numbers_beyond_what_the_mixture_can_hold_are_named() {
    let mut data = b"x,y\n1e308,a\n-1e308,b\n".to_vec();
    for i in 0..50 {
        data.extend(format!("{i},a\n").as_bytes());
    }
    expect_error("huge.csv", &data, 10, "", "column `x`: values reach");
}

#[test]
fn evaluate_refuses_files_with_other_columns() {
    let dir = tempfile::tempdir().unwrap();
    let real = write(dir.path(), "real.csv", GOOD);
    let other = write(dir.path(), "other.csv", b"price,size\n1,s\n2,m\n");
    let output = shopsynth(&[
        "evaluate",
        "--real",
        real.to_str().unwrap(),
        "--synthetic",
        other.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("missing [colour], unexpected [size]"), "{message}");
}

#[test]
fn commands_never_replace_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let real = write(dir.path(), "real.csv", GOOD);
    let before = std::fs::read(&real).unwrap();
    let args = ["evaluate", "--real", real.to_str().unwrap(), "--synthetic"];
    let output = shopsynth(
        &[&args[..], &[real.to_str().unwrap(), "--out", real.to_str().unwrap()]].concat(),
    );
    assert!(!output.status.success());
    assert!(stderr(&output).contains("already exists"), "{}", stderr(&output));
    assert_eq!(std::fs::read(&real).unwrap(), before, "the real file was changed");
}
