//! Runs, samples, evaluations and inspections through the binary, as a user
//! would call them.

mod common;

use std::path::Path;

use common::*;

const QUICK_GAN: &str = "  kind: gan\n  epochs: 2\n  batch_size: 200\n  seed: 11\n";
const QUICK_VAE: &str = "  kind: vae\n  epochs: 2\n  batch_size: 200\n  seed: 11\n";

fn run(spec: &Path, run_id: &str) {
    let output = shopsynth(&["run", spec.to_str().unwrap(), "--run-id", run_id]);
    assert!(output.status.success(), "run failed: {}", stderr(&output));
}

#[test]
fn two_runs_with_one_seed_write_identical_data() {
    for model in [QUICK_GAN, QUICK_VAE] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let spec = write(dir.path(), "job.yaml", spec(Path::new(SHOPPERS), &out, 700, "", model));
        run(&spec, "first");
        run(&spec, "second");
        for file in ["data.csv", "data.parquet"] {
            let first = std::fs::read(out.join("first").join(file)).unwrap();
            let second = std::fs::read(out.join("second").join(file)).unwrap();
            assert!(first == second, "{file} differs between runs with one seed ({model})");
        }
    }
}

#[test]
fn sampling_a_saved_model_reproduces_the_run_and_gives_the_rows_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spec = write(dir.path(), "job.yaml", spec(Path::new(ADULT), &out, 500, "", QUICK_VAE));
    run(&spec, "adult");
    let run_dir = out.join("adult");

    let again = dir.path().join("again.csv");
    let args = ["sample", run_dir.to_str().unwrap(), "--rows", "500", "--seed", "11"];
    let output = shopsynth(&[&args[..], &["--out", again.to_str().unwrap()]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    let original = std::fs::read(run_dir.join("data.csv")).unwrap();
    assert!(std::fs::read(&again).unwrap() == original, "sample with the run's seed differs");

    let more = dir.path().join("more.parquet");
    let model = run_dir.join("model");
    let args =
        ["sample", model.to_str().unwrap(), "--rows", "1234", "--out", more.to_str().unwrap()];
    let output = shopsynth(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let inspect = shopsynth(&["inspect", more.to_str().unwrap()]);
    let schema: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(schema["rows"], 1234);
}

#[test]
fn a_run_writes_manifest_last_with_checksums_of_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spec = write(dir.path(), "job.yaml", spec(Path::new(RETAIL), &out, 300, "", QUICK_GAN));
    run(&spec, "retail");
    let folder = out.join("retail");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    for expected in ["data.csv", "data.parquet", "report.json", "model/model.json"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    for file in files {
        let bytes = std::fs::read(folder.join(file["name"].as_str().unwrap())).unwrap();
        assert_eq!(file["bytes"], bytes.len());
        let sha = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
        assert_eq!(file["sha256"], shopsynth::output::hex(&sha));
    }
    assert_eq!(manifest["rows"]["synthetic"], 300);
    assert_eq!(manifest["seed"], 11);

    let again = shopsynth(&["run", spec.to_str().unwrap(), "--run-id", "retail"]);
    assert!(!again.status.success(), "a finished run id must not be overwritten");
    assert!(stderr(&again).contains("already holds a finished run"));
}

#[test]
fn evaluate_with_a_holdout_calls_a_copied_log_a_leak_and_writes_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let (training, holdout) = taobao_split(dir.path(), 20_000);
    let (report, page) = (dir.path().join("report.json"), dir.path().join("report.html"));
    let training = training.to_str().unwrap();
    let output = shopsynth(&[
        "evaluate",
        "--real",
        training,
        "--synthetic",
        training,
        "--holdout",
        holdout.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();

    assert_eq!(report["holdout"]["split"]["method"], "time", "the holdout file is later");
    let privacy = &report["privacy"];
    let rows = &privacy["exact_copies"]["synthetic_rows"];
    assert_eq!(&privacy["exact_copies"]["synthetic"], rows, "every copied row is a copy");
    assert_eq!(privacy["synthetic"]["median"], 0.0);
    assert_eq!(privacy["closer_than_holdout_median"], 1.0, "{privacy}");
    assert!(privacy["subjects"]["real_ids"].as_u64().unwrap() > 0, "real ids are found");

    let auc = report["detection"]["synthetic"]["auc"].as_f64().unwrap();
    assert!(auc < 0.6, "a copy cannot be told from the real rows: AUC {auc}");

    for model in report["utility"]["models"].as_array().unwrap() {
        if model["model"] == "bpr" {
            continue;
        }
        let (real, synthetic) = (&model["real"], &model["synthetic"]);
        assert_eq!(real, synthetic, "a copy trains {} exactly like the real log", model["model"]);
    }

    let page = std::fs::read_to_string(&page).unwrap();
    assert!(page.matches("<svg").count() > 5, "a plot per column and the heat map");
}

#[test]
fn evaluate_refuses_a_holdout_with_other_columns() {
    let dir = tempfile::tempdir().unwrap();
    let (training, _) = taobao_split(dir.path(), 2_000);
    let training = training.to_str().unwrap();
    let output =
        shopsynth(&["evaluate", "--real", training, "--synthetic", training, "--holdout", ADULT]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("adult.csv does not have the real file's columns"), "{message}");
}

#[test]
fn evaluate_refuses_outputs_that_clash_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let (training, _) = taobao_split(dir.path(), 2_000);
    let training = training.to_str().unwrap();
    let kept = write(dir.path(), "kept.json", "{}");
    let (page, same) = (dir.path().join("page.html"), dir.path().join("./page.html"));
    let unused = dir.path().join("unused.json");
    let folder = format!("{}/", dir.path().join("nodir").display());
    let cases: [(&str, &str, &str); 3] = [
        (kept.to_str().unwrap(), page.to_str().unwrap(), "already exists"),
        (page.to_str().unwrap(), same.to_str().unwrap(), "both name"),
        (unused.to_str().unwrap(), &folder, "names a folder"),
    ];
    for (out, html, expected) in cases {
        let args = ["evaluate", "--real", training, "--synthetic", training];
        let output = shopsynth(&[&args[..], &["--out", out, "--html", html]].concat());
        assert!(!output.status.success(), "--out {out} --html {html} was accepted");
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
        let written = [&page, &unused, &dir.path().join("nodir")].map(|p| p.exists());
        assert_eq!(written, [false; 3], "nothing is written");
    }
    assert_eq!(std::fs::read_to_string(kept).unwrap(), "{}");
}

#[test]
fn evaluate_scores_any_two_files_and_inspect_prints_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let args =
        ["evaluate", "--real", ADULT, "--synthetic", ADULT, "--out", report.to_str().unwrap()];
    let output = shopsynth(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let overall = report["quality"]["overall"].as_f64().unwrap();
    assert!(overall > 0.999, "a file scored against itself gives {overall}");

    let output = shopsynth(&[
        "inspect",
        TAOBAO,
        "--no-header",
        "--columns",
        "user_id,item_id,category_id,behavior_type,timestamp",
        "--skip-bad-rows",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let types: Vec<(&str, &str)> = schema["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("user_id", "id"),
            ("item_id", "id"),
            ("category_id", "id"),
            ("behavior_type", "categorical"),
            ("timestamp", "datetime")
        ]
    );
    assert_eq!(schema["skipped_rows"], 1);
}

#[test]
fn the_binary_needs_libtorch_cuda_and_finds_libtorch_by_rpath() {
    let binary = env!("CARGO_BIN_EXE_shopsynth");
    let output = std::process::Command::new("readelf").args(["-d", binary]).output();
    let output = output.expect("readelf (binutils) is installed");
    let dynamic = String::from_utf8_lossy(&output.stdout);
    let libtorch =
        std::env::var("LIBTORCH").expect("tests run with LIBTORCH set, as make test does");
    let lib = Path::new(&libtorch).join("lib");
    assert!(
        dynamic.contains(&format!("[{}]", lib.display()))
            || dynamic.contains(&lib.display().to_string()),
        "no rpath to {} in:\n{dynamic}",
        lib.display()
    );
    // The PyPI wheel the Makefile installs is the CUDA build.
    assert!(lib.join("libtorch_cuda.so").exists(), "{} is not a CUDA build", lib.display());
    assert!(
        dynamic.contains("[libtorch_cuda.so]"),
        "libtorch_cuda.so was dropped by --as-needed:\n{dynamic}"
    );
}
