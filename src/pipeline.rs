//! A job from start to finish, and the pieces `sample`, `evaluate` and
//! `inspect` reuse.
//!
//! `run` reads the real table, infers its schema, plans the columns, trains
//! the network, samples, evaluates and writes the run folder. Everything the
//! sampler needs later is kept in [`SavedModel`], so `sample` reproduces
//! exactly what `run` would have written for the same seed.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Instant;

use anyhow::{Context, bail};
use bytes::Bytes;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::Device;

use crate::encode::Encoder;
use crate::evaluate::{self, Report, holdout, page};
use crate::model::{self, Checkpoint, ModelKind, Network, NetworkConfig, TrainError, TrainOptions};
use crate::output::{FileEntry, RunFolder};
use crate::plan::Plan;
use crate::progress::{Event, Listener, Phase};
use crate::schema::infer::infer;
use crate::schema::{Kind, Schema};
use crate::spec::JobSpec;
use crate::storage::{Location, StoreOptions};
use crate::table::{self, Column, Format, ReadOptions, ReadResult, SkippedRow, Table};

/// Version of the saved model's layout; bumped on incompatible changes.
const MODEL_FORMAT: u32 = 1;
const MODEL_JSON: &str = "model/model.json";
const MODEL_WEIGHTS: &str = "model/weights.pt";
/// Mixed into the seed for the plan's draws (keys, pseudonyms).
const PLAN_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;
/// Skipped rows listed by line in the report; the rest are only counted.
const SKIPPED_EXAMPLES: usize = 20;

/// Everything needed to sample again without the real data or retraining.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    pub format: u32,
    pub shopsynth_version: String,
    pub kind: ModelKind,
    pub batch_size: usize,
    pub schema: Schema,
    pub plan: Plan,
    pub encoder: Encoder,
    pub network: NetworkConfig,
}

/// The report.json of a run: where the data came from, then the scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub dataset: DatasetSummary,
    #[serde(flatten)]
    pub evaluation: Report,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetSummary {
    pub uri: String,
    pub rows: usize,
    pub synthetic_rows: usize,
    pub skipped_rows: usize,
    /// The first skipped rows, by line, with the reason.
    pub skipped_examples: Vec<SkippedRow>,
    /// How each column was produced.
    pub columns: BTreeMap<String, String>,
}

/// What a finished run reports back.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub folder: String,
    pub files: Vec<FileEntry>,
    pub rows: usize,
    /// The overall quality score; `None` when no column could be scored.
    pub quality: Option<f64>,
    pub skipped_rows: usize,
    pub device: String,
}

#[derive(Debug, Clone, Serialize)]
struct Manifest<'a> {
    run_id: &'a str,
    created_at: String,
    finished_at: String,
    spec: &'a JobSpec,
    seed: u64,
    versions: BTreeMap<&'static str, String>,
    device: String,
    rows: BTreeMap<&'static str, usize>,
    files: &'a [FileEntry],
    timings_s: BTreeMap<&'static str, f64>,
    quality: Option<f64>,
}

/// Runs `spec` end to end, writing `<output.uri>/<run_id>/`; training
/// starts from `resume` when given and it fits the network.
#[tracing::instrument(skip_all, fields(run_id = %run_id))]
pub async fn run(
    spec: &JobSpec,
    run_id: &str,
    resume: Option<Checkpoint>,
    listener: &mut Listener<'_>,
) -> anyhow::Result<RunSummary> {
    spec.validate()?;
    let created_at = chrono::Utc::now();
    let rows = crate::spec::check_rows(spec.output.rows, "output.rows")?;
    let device = model::device(spec.model.device).map_err(anyhow::Error::msg)?;
    let output = Location::parse(&spec.output.uri).context("output.uri")?;
    let mut folder = RunFolder::create(&output, run_id, &spec.output.storage).await?;
    let mut timings = BTreeMap::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut BTreeMap<&'static str, f64>| {
        timings.insert(name, clock.elapsed().as_secs_f64());
        clock = Instant::now();
    };

    emit(listener, Phase::Reading)?;
    let source = read_dataset(spec).await?;
    lap("read", &mut timings);

    emit(listener, Phase::Planning)?;
    let parts = hold_out(spec, &source.table)?;
    let real = parts.as_ref().map_or(&source.table, |p| &p.training);
    let schema = infer(real, &spec.dataset.schema)?;
    let plan = Plan::build(real, &schema)?;
    lap("plan", &mut timings);

    emit(listener, Phase::Training)?;
    let (saved, network) = train(spec, real, schema, plan, device, resume, listener)?;
    lap("train", &mut timings);

    emit(listener, Phase::Sampling)?;
    let synthetic = synthesize(&saved, &network, rows, spec.model.seed)?;
    lap("sample", &mut timings);

    emit(listener, Phase::Evaluating)?;
    let evaluation = evaluate::evaluate(&evaluate::Inputs {
        real,
        synthetic: &synthetic,
        holdout: parts.as_ref().map(|p| (&p.holdout, &p.split)).map_err(String::as_str),
        schema: &saved.schema,
        seed: spec.model.seed,
    });
    let report = RunReport { dataset: summarize(spec, &source, &saved, rows), evaluation };
    let page = render_page(&report, run_id, spec, device);
    lap("evaluate", &mut timings);

    emit(listener, Phase::Writing)?;
    let report_files = ReportFiles { report: &report, page };
    let written =
        write_outputs(&mut folder, spec, &synthetic, &report_files, &saved, &network).await;
    if let Err(error) = written {
        folder.abandon().await;
        return Err(error);
    }
    lap("write", &mut timings);
    timings.insert("total", (chrono::Utc::now() - created_at).as_seconds_f64());

    let quality = report.evaluation.quality.overall;
    let files = folder.files().to_vec();
    let manifest = Manifest {
        run_id,
        created_at: created_at.to_rfc3339(),
        finished_at: chrono::Utc::now().to_rfc3339(),
        spec,
        seed: spec.model.seed,
        versions: versions(),
        device: format!("{device:?}"),
        rows: BTreeMap::from([
            ("real", source.table.rows()),
            ("training", real.rows()),
            ("holdout", parts.as_ref().map_or(0, |p| p.holdout.rows())),
            ("skipped", source.skipped.len()),
            ("synthetic", synthetic.rows()),
        ]),
        files: &files,
        timings_s: timings,
        quality,
    };
    let root = folder.finish(&manifest).await?;
    Ok(RunSummary {
        run_id: run_id.to_string(),
        folder: root.to_string(),
        files,
        rows: synthetic.rows(),
        quality,
        skipped_rows: source.skipped.len(),
        device: format!("{device:?}").to_lowercase(),
    })
}

/// Splits off the spec's holdout share; `Err` carries why there is none,
/// which the report states. The split reads the schema inferred from the
/// whole table, which only decides whether the table is a behaviour log.
fn hold_out(spec: &JobSpec, table: &Table) -> anyhow::Result<Result<holdout::Parts, String>> {
    let share = spec.report.holdout;
    if share == 0.0 {
        return Ok(Err("the spec sets report.holdout to 0".to_string()));
    }
    let schema = infer(table, &spec.dataset.schema)?;
    let parts = holdout::split(table, &schema, share, spec.model.seed);
    match &parts {
        Ok(parts) => tracing::info!(
            method = ?parts.split.method,
            training = parts.training.rows(),
            holdout = parts.holdout.rows(),
            "real rows held out"
        ),
        Err(reason) => tracing::warn!(%reason, "training on every real row"),
    }
    Ok(parts)
}

fn emit(listener: &mut Listener<'_>, phase: Phase) -> anyhow::Result<()> {
    match listener(&Event::Phase(phase)) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(TrainError::Cancelled.into()),
    }
}

/// Reads the spec's dataset with its reading options.
pub async fn read_dataset(spec: &JobSpec) -> anyhow::Result<ReadResult> {
    let format = spec.dataset_format()?;
    let options = ReadOptions {
        header: spec.dataset.header,
        columns: spec.dataset.columns.clone(),
        on_bad_rows: spec.dataset.on_bad_rows,
    };
    read_table(&spec.dataset.uri, format, &options, &spec.dataset.storage).await
}

/// Reads one table from any location.
pub async fn read_table(
    uri: &str,
    format: Format,
    options: &ReadOptions,
    store: &StoreOptions,
) -> anyhow::Result<ReadResult> {
    let location = Location::parse(uri)?;
    let bytes = location.read(store).await?;
    let result = table::read(&bytes, &location.to_string(), format, options)?;
    if !result.skipped.is_empty() {
        tracing::warn!(file = %location, skipped = result.skipped.len(), "bad rows skipped");
    }
    Ok(result)
}

/// Fits the encoder and trains the network on the modelled columns.
fn train(
    spec: &JobSpec,
    real: &Table,
    schema: Schema,
    plan: Plan,
    device: Device,
    resume: Option<Checkpoint>,
    listener: &mut Listener<'_>,
) -> anyhow::Result<(SavedModel, Network)> {
    let modelled: Vec<(&crate::schema::ColumnSchema, &Column)> = plan
        .modelled
        .iter()
        .map(|name| {
            let column = real.column(name).expect("the plan names real columns");
            (schema.column(name).expect("the plan names schema columns"), column)
        })
        .collect();
    let encoder = Encoder::fit(&modelled, spec.model.seed);
    let columns: Vec<&Column> = modelled.iter().map(|(_, c)| *c).collect();
    let encoded = encoder.encode(&columns, spec.model.seed);
    tracing::info!(rows = encoded.rows, width = encoded.width, ?device, "training data encoded");

    let mut options = TrainOptions {
        epochs: spec.model.epochs as u32,
        // A batch larger than the data would only repeat rows.
        batch_size: (spec.model.batch_size as usize).min(encoded.rows.max(2)),
        seed: spec.model.seed,
        device,
        resume,
    };
    let mut observer = |report: &model::EpochReport, snapshot: &model::Snapshot<'_>| {
        listener(&Event::Epoch { report, snapshot })
    };
    let mut trained = tokio::task::block_in_place(|| {
        Network::train(spec.model.kind, encoder.spans(), &encoded, &options, &mut observer)
    });
    // A checkpoint from another spec or build cannot be used; starting over
    // is slower but still right.
    if let Err(TrainError::Checkpoint(reason)) = &trained {
        tracing::warn!(%reason, "checkpoint ignored; training from the first epoch");
        options.resume = None;
        trained = tokio::task::block_in_place(|| {
            Network::train(spec.model.kind, encoder.spans(), &encoded, &options, &mut observer)
        });
    }
    let network = trained?;
    let saved = SavedModel {
        format: MODEL_FORMAT,
        shopsynth_version: env!("CARGO_PKG_VERSION").to_string(),
        kind: spec.model.kind,
        batch_size: options.batch_size,
        schema,
        plan,
        encoder,
        network: network.config(),
    };
    Ok((saved, network))
}

/// Samples exactly `rows` synthetic rows.
pub fn synthesize(
    saved: &SavedModel,
    network: &Network,
    rows: usize,
    seed: u64,
) -> anyhow::Result<Table> {
    let (values, sigmas) =
        tokio::task::block_in_place(|| network.sample(rows, saved.batch_size, seed))?;
    let cells = saved.encoder.decode(&values, rows, sigmas.as_deref(), seed);
    let modelled = saved
        .encoder
        .columns
        .iter()
        .zip(cells)
        .map(|(encoding, cells)| Column { name: encoding.column().name.clone(), cells })
        .collect();
    // A stream of its own, so key and pseudonym draws never reuse the
    // numbers the network's sampler drew from the same seed.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ PLAN_STREAM);
    let table = saved.plan.complete(modelled, rows, &mut rng);
    Ok(order_rows(table, saved))
}

/// Orders a behaviour log like a real one: by subject, then by time.
fn order_rows(table: Table, saved: &SavedModel) -> Table {
    let Some(subject) = saved.plan.subjects.first() else {
        return table;
    };
    let time = saved.schema.columns.iter().find(|c| matches!(c.kind, Kind::Datetime { .. }));
    let Some(subjects) = table.column(&subject.column) else {
        return table;
    };
    let times: Vec<f64> = match time.and_then(|t| table.column(&t.name).map(|c| (t, c))) {
        Some((schema, column)) => {
            column.cells.iter().map(|c| schema.number(c.as_deref()).unwrap_or(0.0)).collect()
        }
        None => vec![0.0; table.rows()],
    };
    let ids: Vec<(bool, u64, &str)> = subjects
        .cells
        .iter()
        .map(|c| {
            let text = c.as_deref().unwrap_or("");
            (c.is_none(), text.parse::<u64>().unwrap_or(u64::MAX), text)
        })
        .collect();
    let mut order: Vec<usize> = (0..table.rows()).collect();
    order.sort_by(|&a, &b| ids[a].cmp(&ids[b]).then(times[a].total_cmp(&times[b])));
    let columns = table
        .columns
        .into_iter()
        .map(|c| Column {
            name: c.name,
            cells: order.iter().map(|&i| c.cells[i].clone()).collect(),
        })
        .collect();
    Table::new(columns)
}

fn summarize(
    spec: &JobSpec,
    source: &ReadResult,
    saved: &SavedModel,
    rows: usize,
) -> DatasetSummary {
    let network = format!("{:?}", saved.kind).to_lowercase();
    let columns = saved.plan.describe(&network);
    DatasetSummary {
        uri: spec.dataset.uri.clone(),
        rows: source.table.rows(),
        synthetic_rows: rows,
        skipped_rows: source.skipped.len(),
        skipped_examples: source.skipped.iter().take(SKIPPED_EXAMPLES).cloned().collect(),
        columns,
    }
}

/// report.html for a run: the report with the run's facts on top.
fn render_page(report: &RunReport, run_id: &str, spec: &JobSpec, device: Device) -> String {
    let dataset = &report.dataset;
    let split = report.evaluation.holdout.as_ref().map(|h| &h.split);
    let training = split.map_or(dataset.rows, |s| s.training_rows);
    let holdout = split.map_or("none".to_string(), |s| {
        format!("{} rows ({:?} split)", s.holdout_rows, s.method).to_lowercase()
    });
    let model = format!(
        "{} for {} epochs on {}",
        format!("{:?}", spec.model.kind).to_uppercase(),
        spec.model.epochs,
        format!("{device:?}").to_lowercase()
    );
    let facts = [
        ("run", run_id.to_string()),
        ("dataset", dataset.uri.clone()),
        ("real rows", dataset.rows.to_string()),
        ("training rows", training.to_string()),
        ("holdout", holdout),
        ("synthetic rows", dataset.synthetic_rows.to_string()),
        ("model", model),
    ];
    let context = page::PageContext {
        title: format!("shopsynth report: {}", dataset.uri),
        facts: facts.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    };
    page::render(&report.evaluation, &context)
}

/// The report in its two forms, written side by side.
struct ReportFiles<'a> {
    report: &'a RunReport,
    page: String,
}

async fn write_outputs(
    folder: &mut RunFolder,
    spec: &JobSpec,
    synthetic: &Table,
    report: &ReportFiles<'_>,
    saved: &SavedModel,
    network: &Network,
) -> anyhow::Result<()> {
    for format in &spec.output.formats {
        let bytes = table::write(synthetic, *format)?;
        folder.put(&format!("data.{}", format.extension()), bytes).await?;
    }
    folder.put("report.json", serde_json::to_vec_pretty(report.report)?).await?;
    folder.put("report.html", report.page.clone().into_bytes()).await?;
    let metadata = evaluate::sdv_metadata(&saved.schema);
    folder.put("metadata.json", serde_json::to_vec_pretty(&metadata)?).await?;
    folder.put(MODEL_JSON, serde_json::to_vec(saved)?).await?;
    folder.put(MODEL_WEIGHTS, network.weights()?).await?;
    Ok(())
}

/// Loads a saved model from a run folder or its `model/` folder.
pub async fn load_model(
    uri: &str,
    store: &StoreOptions,
    device: Device,
) -> anyhow::Result<(SavedModel, Network)> {
    let location = Location::parse(uri)?;
    let (json, weights) = if location.join("model.json").exists(store).await? {
        (location.join("model.json"), location.join("weights.pt"))
    } else if location.join(MODEL_JSON).exists(store).await? {
        (location.join(MODEL_JSON), location.join(MODEL_WEIGHTS))
    } else {
        bail!("{location} holds no model: expected model.json or model/model.json inside it");
    };
    let saved: SavedModel = serde_json::from_slice(&json.read(store).await?)
        .with_context(|| format!("{json} is not a shopsynth model"))?;
    if saved.format != MODEL_FORMAT {
        bail!(
            "{json} has model format {}, this shopsynth reads format {MODEL_FORMAT}",
            saved.format
        );
    }
    let weights = weights.read(store).await?;
    let network = Network::load(saved.network.clone(), saved.encoder.spans(), &weights, device)
        .with_context(|| format!("loading weights from {location}"))?;
    Ok((saved, network))
}

/// Writes a table to a file location, in the format its extension names.
pub async fn write_table(
    table: &Table,
    uri: &str,
    store: &StoreOptions,
) -> anyhow::Result<Location> {
    let location = Location::parse(uri)?;
    refuse_existing(&location, store).await?;
    let format = Format::from_extension(uri)
        .filter(|f| uri.to_ascii_lowercase().ends_with(&format!(".{}", f.extension())))
        .with_context(|| format!("`{uri}`: end the name in .csv, .parquet or .jsonl"))?;
    location.write(Bytes::from(table::write(table, format)?), store).await?;
    Ok(location)
}

fn versions() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("shopsynth", env!("CARGO_PKG_VERSION").to_string()),
        ("libtorch", tch_version()),
    ])
}

/// The libtorch version this binary was built against.
fn tch_version() -> String {
    option_env!("SHOPSYNTH_TORCH_VERSION").unwrap_or("unknown").to_string()
}

/// Errors when `location` already holds a file, so that no command replaces
/// data it did not write itself.
pub async fn refuse_existing(location: &Location, store: &StoreOptions) -> anyhow::Result<()> {
    if location.exists(store).await? {
        bail!("{location} already exists; choose another name or remove it first");
    }
    Ok(())
}
