//! The Taobao behaviour job end to end, checking the facts the issue names:
//! the cut-off last line is reported, the output has exactly the rows asked,
//! every item id is real and keeps its real category, no real user id
//! appears, and behaviour types and timestamps stay in the real sets; and
//! the report answers likeness, privacy and recommender utility with real
//! references, as JSON and as a page with a plot per column.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::*;

const COLUMNS: &str = "  header: false\n  columns: [user_id, item_id, category_id, behavior_type, timestamp]\n  on_bad_rows: skip\n";

struct Real {
    users: HashSet<String>,
    categories: HashMap<String, HashSet<String>>,
    behaviours: HashSet<String>,
    times: (i64, i64),
}

fn real_taobao() -> Real {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(TAOBAO)
        .expect("the shared Taobao file is there");
    let mut real = Real {
        users: HashSet::new(),
        categories: HashMap::new(),
        behaviours: HashSet::new(),
        times: (i64::MAX, i64::MIN),
    };
    for record in reader.records() {
        let record = record.expect("csv record");
        if record.len() < 5 {
            continue;
        }
        real.users.insert(record[0].to_string());
        real.categories.entry(record[1].to_string()).or_default().insert(record[2].to_string());
        real.behaviours.insert(record[3].to_string());
        let t: i64 = record[4].parse().expect("integer timestamp");
        real.times = (real.times.0.min(t), real.times.1.max(t));
    }
    real
}

fn run_taobao(kind: &str, out: &Path, rows: i64) {
    let dir = out.parent().expect("out has a parent");
    let model = format!("  kind: {kind}\n  epochs: 2\n  seed: 7\n");
    let spec = write(dir, "taobao.yaml", spec(Path::new(TAOBAO), out, rows, COLUMNS, &model));
    let output = shopsynth(&["run", spec.to_str().unwrap(), "--run-id", "taobao"]);
    assert!(output.status.success(), "run failed: {}", stderr(&output));
}

fn check_taobao_output(kind: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_taobao(kind, &out, 3000);
    let run = out.join("taobao");
    let real = real_taobao();

    let (header, rows) = read_csv(&run.join("data.csv"));
    assert_eq!(header, ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]);
    assert_eq!(rows.len(), 3000, "exactly the rows asked for");
    for row in &rows {
        assert!(!real.users.contains(&row[0]), "real user id {} leaked", row[0]);
        let categories = real.categories.get(&row[1]);
        assert!(categories.is_some(), "item {} is not a real item", row[1]);
        assert!(categories.unwrap().contains(&row[2]), "item {} lost its category", row[1]);
        assert!(real.behaviours.contains(&row[3]), "unknown behaviour {}", row[3]);
        let t: i64 = row[4].parse().expect("timestamps stay integers");
        assert!(t >= real.times.0 && t <= real.times.1, "timestamp {t} out of the real range");
    }

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["dataset"]["skipped_rows"], 1, "the cut-off last line is counted");
    assert_eq!(report["dataset"]["skipped_examples"][0]["line"], 84476);
    assert!(run.join("manifest.json").exists());
    assert!(run.join("data.parquet").exists());
    check_report(&report, 3000);
    check_page(&run.join("report.html"));
}

fn number(value: &serde_json::Value, path: &str) -> f64 {
    let found = path.split('.').fold(value, |v, key| &v[key]);
    found.as_f64().unwrap_or_else(|| panic!("report.{path} should be a number, is {found}"))
}

fn share(value: &serde_json::Value, path: &str) -> f64 {
    let found = number(value, path);
    assert!((0.0..=1.0).contains(&found), "report.{path} = {found} is not in [0, 1]");
    found
}

/// The figures a reader of the Taobao report is promised.
fn check_report(report: &serde_json::Value, synthetic_rows: u64) {
    let split = &report["holdout"]["split"];
    assert_eq!(split["method"], "time", "a behaviour log is split by time: {split}");
    let (training, held) = (number(split, "training_rows"), number(split, "holdout_rows"));
    assert_eq!(training + held, 84475.0, "every readable row is on one side");
    assert!((held / 84475.0 - 0.2).abs() < 0.01, "about a fifth is held out: {held}");

    for side in ["quality", "holdout.quality"] {
        share(report, &format!("{side}.overall"));
        share(report, &format!("{side}.column_shapes"));
    }

    let privacy = &report["privacy"];
    for side in ["synthetic", "holdout"] {
        share(privacy, &format!("{side}.median"));
        assert!(number(privacy, &format!("{side}.rows")) > 0.0);
    }
    share(privacy, "closer_than_holdout_median");
    let copies = number(privacy, "exact_copies.synthetic");
    assert!(copies <= synthetic_rows as f64);
    assert_eq!(number(privacy, "exact_copies.synthetic_rows"), synthetic_rows as f64);
    assert_eq!(privacy["subjects"]["real_ids"], 0, "no real user id: {privacy}");
    assert_eq!(privacy["subjects"]["copied"], 0, "no real sequence copied: {privacy}");
    assert!(privacy["method"].as_str().is_some_and(|m| !m.is_empty()));

    share(report, "detection.synthetic.auc");
    share(report, "detection.holdout.auc");

    let utility = &report["utility"];
    assert!(number(utility, "test_users") > 0.0);
    let models: Vec<&str> = utility["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["popularity", "item_cooccurrence", "bpr"]);
    for model in utility["models"].as_array().unwrap() {
        for side in ["real", "synthetic", "combined"] {
            share(model, &format!("{side}.recall"));
            share(model, &format!("{side}.ndcg"));
        }
    }
    let popularity = &utility["models"][0];
    assert!(number(popularity, "real.recall") > 0.0, "popular items are bought again");
    number(popularity, "ratio.recall");
    number(popularity, "ratio.ndcg");
}

/// report.html stands alone and has a plot for each of the five columns.
fn check_page(path: &Path) {
    let page = std::fs::read_to_string(path).expect("report.html is written beside report.json");
    for column in ["user_id", "item_id", "category_id", "behavior_type", "timestamp"] {
        assert!(page.contains(column), "the page names column {column}");
    }
    let plots = page.matches("<svg").count();
    assert!(plots > 5, "a plot per column plus the pair heat map, found {plots} plots");
    let outside = ["src=\"http", "href=\"http", "@import", "<script"];
    for reference in outside {
        assert!(!page.contains(reference), "the page must not load {reference}");
    }
}

#[test]
fn taobao_gan_output_keeps_real_items_categories_and_hides_users() {
    check_taobao_output("gan");
}

#[test]
fn taobao_vae_output_keeps_real_items_categories_and_hides_users() {
    check_taobao_output("vae");
}

#[test]
fn taobao_cut_off_line_is_an_error_naming_file_and_line_without_skip() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let columns = COLUMNS.replace("  on_bad_rows: skip\n", "");
    let spec_text = spec(Path::new(TAOBAO), &out, 10, &columns, "  epochs: 1\n");
    let spec = write(dir.path(), "taobao.yaml", spec_text);
    let output = shopsynth(&["run", spec.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("UserBehavior.csv, line 84476"), "{message}");
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}
