//! How long the report takes on whole real files, printed as figures (not a
//! timed test).
//!
//! Each job below runs end to end on the whole file with a short training
//! (the report's cost does not depend on how well the model learnt) and as
//! many synthetic rows as real ones; the figures are the report's parts as
//! report.json times them, the whole evaluate phase (page included) as the
//! manifest times it, and the size of report.html. The goal for the whole
//! Taobao file is under a minute on a 2-core machine.
//!
//!     make bench                   # training and report benchmarks
//!     cargo bench --bench report   # this one alone

use std::ops::ControlFlow;

use shopsynth::pipeline;
use shopsynth::spec::JobSpec;

const JOBS: [(&str, &str); 2] = [
    (
        "taobao",
        "dataset:
  uri: ../shared/datasets/taobao-userbehavior/UserBehavior.csv
  header: false
  columns: [user_id, item_id, category_id, behavior_type, timestamp]
  on_bad_rows: skip
  schema: {timestamp: {type: datetime, format: unix_seconds}}
model: {kind: vae, epochs: 2}
output: {uri: OUT, rows: 84475, formats: [csv]}
",
    ),
    (
        "adult",
        "dataset: {uri: ../shared/datasets/uci-adult/adult.csv}
model: {kind: vae, epochs: 2}
output: {uri: OUT, rows: 32561, formats: [csv]}
",
    ),
];

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let out = tempfile::tempdir().expect("a temporary folder");
    for (name, text) in JOBS {
        let text = text.replace("OUT", &out.path().display().to_string());
        let spec = JobSpec::parse(&text).expect("the bench specs are valid");
        let mut quiet = |_: &shopsynth::progress::Event<'_>| ControlFlow::Continue(());
        let summary = runtime
            .block_on(pipeline::run(&spec, name, None, &mut quiet))
            .expect("the bench job runs");
        print_figures(name, &summary.folder);
    }
}

fn print_figures(name: &str, folder: &str) {
    let read = |file: &str| -> serde_json::Value {
        let text = std::fs::read(format!("{folder}/{file}")).expect("the run wrote it");
        serde_json::from_slice(&text).expect("it is JSON")
    };
    let manifest = read("manifest.json");
    let report = read("report.json");
    let page = std::fs::metadata(format!("{folder}/report.html")).expect("report.html").len();

    let rows = &manifest["rows"];
    println!(
        "{name}: {} real rows ({} training, {} holdout), {} synthetic",
        rows["real"], rows["training"], rows["holdout"], rows["synthetic"]
    );
    let parts = report["timings_s"].as_object().expect("the report times its parts");
    for (part, seconds) in parts {
        println!("  {part:<14} {:>8.2} s", seconds.as_f64().unwrap_or(f64::NAN));
    }
    let evaluate = manifest["timings_s"]["evaluate"].as_f64().unwrap_or(f64::NAN);
    let goal = if name == "taobao" { "   (goal: under 60 s)" } else { "" };
    println!("  {:<14} {evaluate:>8.2} s{goal}", "report, all");
    println!("  {:<14} {:>8.0} KiB", "report.html", page as f64 / 1024.0);
}
