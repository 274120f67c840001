//! Training and sampling speed, printed as figures (not a timed test).
//!
//! For the Adult and Taobao data: seconds per training epoch for `gan` and
//! `vae` (mean over a few epochs after a warm-up one), rows sampled per
//! second, and the process's peak resident memory. Compare with SDV 2.0 on
//! the same 2-core machine: CTGAN 2.8 s/epoch and TVAE 0.72 s/epoch on Adult.
//!
//!     make bench                      # or: cargo bench --bench training
//!     BENCH_EPOCHS=10 make bench      # more epochs, steadier figures

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Instant;

use shopsynth::encode::Encoder;
use shopsynth::model::{EpochReport, ModelKind, Network, Snapshot, TrainOptions};
use shopsynth::plan::Plan;
use shopsynth::schema::infer::{ColumnHint, HintKind, infer};
use shopsynth::table::{self, BadRows, Format, ReadOptions, Table};

struct Dataset {
    name: &'static str,
    path: &'static str,
    options: ReadOptions,
    hints: BTreeMap<String, ColumnHint>,
}

fn datasets() -> Vec<Dataset> {
    let taobao_columns = ["user_id", "item_id", "category_id", "behavior_type", "timestamp"];
    let timestamp =
        ColumnHint { kind: HintKind::Datetime, format: Some("unix_seconds".into()), role: None };
    vec![
        Dataset {
            name: "adult",
            path: "../shared/datasets/uci-adult/adult.csv",
            options: ReadOptions { header: true, ..Default::default() },
            hints: BTreeMap::new(),
        },
        Dataset {
            name: "taobao",
            path: "../shared/datasets/taobao-userbehavior/UserBehavior.csv",
            options: ReadOptions {
                header: false,
                columns: Some(taobao_columns.map(String::from).to_vec()),
                on_bad_rows: BadRows::Skip,
            },
            hints: BTreeMap::from([("timestamp".to_string(), timestamp)]),
        },
    ]
}

fn main() {
    let epochs: u32 = std::env::var("BENCH_EPOCHS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let device = tch::Device::cuda_if_available();
    println!("device {device:?}, {} torch threads, {epochs} epochs", tch::get_num_threads());
    println!(
        "{:<8} {:<4} {:>8} {:>6} {:>10} {:>14}",
        "data", "kind", "rows", "width", "s/epoch", "rows sampled/s"
    );
    for dataset in datasets() {
        let bytes = std::fs::read(dataset.path).expect("the shared datasets are beside the repo");
        let table = table::read(&bytes, dataset.path, Format::Csv, &dataset.options)
            .expect("dataset reads")
            .table;
        for kind in [ModelKind::Gan, ModelKind::Vae] {
            bench(&dataset, &table, kind, epochs, device);
        }
    }
    println!("peak resident memory: {} MiB", peak_memory_mib());
}

fn bench(dataset: &Dataset, table: &Table, kind: ModelKind, epochs: u32, device: tch::Device) {
    let schema = infer(table, &dataset.hints).expect("schema");
    let plan = Plan::build(table, &schema).expect("plan");
    let modelled: Vec<_> = plan
        .modelled
        .iter()
        .map(|name| (schema.column(name).unwrap(), table.column(name).unwrap()))
        .collect();
    let encoder = Encoder::fit(&modelled, 1);
    let columns: Vec<_> = modelled.iter().map(|(_, c)| *c).collect();
    let encoded = encoder.encode(&columns, 1);

    let options =
        TrainOptions { epochs: epochs + 1, batch_size: 500, seed: 1, device, resume: None };
    let mut seconds = Vec::new();
    let mut observer = |report: &EpochReport, _: &Snapshot<'_>| {
        seconds.push(report.seconds);
        ControlFlow::Continue(())
    };
    let network = Network::train(kind, encoder.spans(), &encoded, &options, &mut observer)
        .expect("training runs");
    // The first epoch pays for allocations and thread start-up.
    let per_epoch = seconds[1..].iter().sum::<f64>() / (seconds.len() - 1) as f64;

    let rows = 100_000;
    let started = Instant::now();
    let (values, sigmas) = network.sample(rows, 500, 1).expect("sampling runs");
    let _cells = encoder.decode(&values, rows, sigmas.as_deref(), 1);
    let rate = rows as f64 / started.elapsed().as_secs_f64();

    let kind = format!("{kind:?}").to_lowercase();
    println!(
        "{:<8} {:<4} {:>8} {:>6} {:>10.3} {:>14.0}",
        dataset.name, kind, encoded.rows, encoded.width, per_epoch, rate
    );
}

/// Peak resident set size of this process, from /proc (Linux).
fn peak_memory_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    kib / 1024
}
