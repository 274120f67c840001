//! Helpers shared by the command-line tests: the built binary, job specs
//! written into a fresh folder, and the shared real datasets.

#![allow(dead_code)] // Each test binary uses its own subset of these helpers.

pub mod service;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const TAOBAO: &str = "../shared/datasets/taobao-userbehavior/UserBehavior.csv";
pub const ADULT: &str = "../shared/datasets/uci-adult/adult.csv";
pub const SHOPPERS: &str = "../shared/datasets/uci-online-shoppers/online_shoppers_intention.csv";
pub const RETAIL: &str = "../shared/datasets/uci-online-retail/online_retail_random_sample.csv";
pub const MYNTRA: &str = "../shared/datasets/myntra-products/myntra_products_catalog.csv";

/// Runs the shopsynth binary with `args`, from the crate root.
pub fn shopsynth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shopsynth"))
        .args(args)
        .env("SHOPSYNTH_LOG", "warn")
        // Tests run side by side on few cores; one libtorch thread each
        // avoids the spinning of oversubscribed OpenMP threads.
        .env("OMP_NUM_THREADS", "1")
        .output()
        .expect("the shopsynth binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A job spec for `dataset`, writing `rows` rows under `out`, with extra
/// YAML lines for the `dataset` and `model` sections.
pub fn spec(dataset: &Path, out: &Path, rows: i64, dataset_extra: &str, model: &str) -> String {
    format!(
        "dataset:\n  uri: {}\n{dataset_extra}model:\n{model}output:\n  uri: {}\n  rows: {rows}\n",
        dataset.display(),
        out.display()
    )
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the temporary folder is writable");
    path
}

/// Reads a CSV file with a header into (header, rows).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_path(path).expect("csv");
    let header = reader.headers().expect("header").iter().map(str::to_string).collect();
    let rows =
        reader.records().map(|r| r.expect("record").iter().map(str::to_string).collect()).collect();
    (header, rows)
}

/// The only run folder under `out`.
pub fn run_folder(out: &Path) -> PathBuf {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("output folder exists")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(runs.len(), 1, "expected one run folder in {}", out.display());
    runs.remove(0)
}

/// The first `lines` Taobao events split at the time that leaves a fifth
/// later, written as training.csv and holdout.csv with a header.
pub fn taobao_split(dir: &Path, lines: usize) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(TAOBAO).unwrap();
    let rows: Vec<&str> = text.lines().take(lines).collect();
    let time = |row: &str| row.rsplit(',').next().unwrap().parse::<i64>().unwrap();
    let mut times: Vec<i64> = rows.iter().map(|r| time(r)).collect();
    times.sort();
    let cutoff = times[times.len() * 4 / 5];
    let header = "user_id,item_id,category_id,behavior_type,timestamp\n";
    let part = |later: bool| -> String {
        let kept = rows.iter().filter(|r| (time(r) > cutoff) == later);
        header.to_string() + &kept.map(|r| format!("{r}\n")).collect::<String>()
    };
    (write(dir, "training.csv", part(false)), write(dir, "holdout.csv", part(true)))
}
