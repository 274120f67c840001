//! The `shopsynth` command line: run a job, sample a saved model, evaluate
//! two files, inspect a dataset's inferred schema, or run the service (the
//! API, its workers) and write its OpenAPI document.
//!
//! Every failure ends in one line on stderr naming the problem and a
//! non-zero exit; no manifest is written for a failed run.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use shopsynth::evaluate::{self, holdout, page};
use shopsynth::pipeline;
use shopsynth::progress::Console;
use shopsynth::schema::infer::infer;
use shopsynth::service::config::ServiceConfig;
use shopsynth::spec::JobSpec;
use shopsynth::storage::StoreOptions;
use shopsynth::table::{BadRows, Format, ReadOptions};

#[derive(Parser)]
#[command(name = "shopsynth", version, about = "Synthetic e-commerce tables from real ones")]
struct Cli {
    /// Log lines as JSON objects instead of text.
    #[arg(long, global = true, value_enum, default_value = "text", env = "SHOPSYNTH_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run a synthesis job: train, sample, evaluate and write a run folder.
    Run {
        /// The job spec, YAML or JSON.
        spec: PathBuf,
        /// Name of the run folder under output.uri (default: the UTC time).
        #[arg(long)]
        run_id: Option<String>,
        /// Read this dataset instead of the spec's dataset.uri.
        #[arg(long)]
        dataset: Option<String>,
        /// Write under this folder instead of the spec's output.uri.
        #[arg(long)]
        output: Option<String>,
    },
    /// Sample more rows from a saved model without retraining.
    Sample {
        /// A run folder, or its model/ folder.
        model: String,
        #[arg(long)]
        rows: i64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output file; its extension (.csv, .parquet, .jsonl) sets the format.
        #[arg(long)]
        out: String,
    },
    /// Score a synthetic file against a real one and write the report.
    Evaluate {
        #[arg(long)]
        real: String,
        #[arg(long)]
        synthetic: String,
        /// Real rows the synthetic data was not learnt from, read like
        /// --real: scored beside it as the real reference, and the later
        /// events that recommender utility is measured on.
        #[arg(long)]
        holdout: Option<String>,
        /// Where to write report.json (default: standard output).
        #[arg(long)]
        out: Option<String>,
        /// Also write the report as a self-contained page (report.html).
        #[arg(long)]
        html: Option<String>,
        /// Seeds the report's samples and models.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The synthetic file has a header line even though --no-header
        /// describes the real one (shopsynth's own output always has one).
        #[arg(long)]
        synthetic_header: bool,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Print the schema inferred for a dataset.
    Inspect {
        dataset: String,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Serve the REST API (configuration: --config or SHOPSYNTH_CONFIG,
    /// then SHOPSYNTH_* variables).
    Serve {
        /// The service configuration file (YAML; see deploy/service.yaml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run queued jobs until SIGTERM; same configuration as `serve`.
    Worker {
        /// The service configuration file (YAML; see deploy/service.yaml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Start schedules' jobs at their fire times and prune old outputs;
    /// same configuration as `serve`. Replicas may run side by side.
    Scheduler {
        /// The service configuration file (YAML; see deploy/service.yaml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the OpenAPI document, or check or write the committed copy.
    Openapi {
        /// Write the document to this file.
        #[arg(long, conflicts_with = "check")]
        out: Option<PathBuf>,
        /// Fail if this file differs from the document.
        #[arg(long)]
        check: Option<PathBuf>,
    },
}

/// How to read files given on the command line.
#[derive(clap::Args)]
struct ReadArgs {
    /// The files have no header line; name columns with --columns.
    #[arg(long)]
    no_header: bool,
    /// Comma-separated column names.
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    /// Skip malformed rows instead of failing.
    #[arg(long)]
    skip_bad_rows: bool,
    /// File format, when the extension does not tell.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Csv,
    Parquet,
    Jsonl,
}

impl ReadArgs {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            header: !self.no_header,
            columns: self.columns.clone(),
            on_bad_rows: if self.skip_bad_rows { BadRows::Skip } else { BadRows::Error },
        }
    }

    fn format(&self, uri: &str) -> anyhow::Result<Format> {
        match self.format {
            Some(FormatArg::Csv) => Ok(Format::Csv),
            Some(FormatArg::Parquet) => Ok(Format::Parquet),
            Some(FormatArg::Jsonl) => Ok(Format::Jsonl),
            None => Format::from_extension(uri)
                .with_context(|| format!("cannot tell the format of `{uri}`; pass --format")),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line. Causes whose text the previous
/// message already holds are dropped (storage errors repeat their sources),
/// and only the first line of each is kept (libtorch appends C++ traces).
fn one_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        let first = text.lines().next().unwrap_or("").trim().to_string();
        if first.is_empty() || parts.last().is_some_and(|last| last.contains(&first)) {
            continue;
        }
        parts.push(first);
    }
    parts.join(": ")
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHOPSYNTH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run { spec, run_id, dataset, output } => run(spec, run_id, dataset, output).await,
        Command::Sample { model, rows, seed, out } => sample(&model, rows, seed, &out).await,
        Command::Evaluate { real, synthetic, holdout, out, html, seed, synthetic_header, read } => {
            let files = EvaluateFiles { real, synthetic, holdout, out, html };
            evaluate(&files, seed, synthetic_header, &read).await
        }
        Command::Inspect { dataset, read } => inspect(&dataset, &read).await,
        Command::Serve { config } => {
            shopsynth::service::api::serve(ServiceConfig::load(config.as_deref())?).await
        }
        Command::Worker { config } => {
            shopsynth::service::worker::run(ServiceConfig::load(config.as_deref())?).await
        }
        Command::Scheduler { config } => {
            shopsynth::service::scheduler::run(ServiceConfig::load(config.as_deref())?).await
        }
        Command::Openapi { out, check } => openapi(out, check),
    }
}

fn openapi(out: Option<PathBuf>, check: Option<PathBuf>) -> anyhow::Result<()> {
    let document = shopsynth::service::api::openapi_json();
    if let Some(path) = check {
        let committed = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if committed != document {
            anyhow::bail!(
                "{} differs from the API's OpenAPI document; run `shopsynth openapi --out {}`",
                path.display(),
                path.display()
            );
        }
        return Ok(());
    }
    match out {
        Some(path) => std::fs::write(&path, document)
            .with_context(|| format!("cannot write {}", path.display())),
        None => print_stdout(document.trim_end()),
    }
}

async fn run(
    path: PathBuf,
    run_id: Option<String>,
    dataset: Option<String>,
    output: Option<String>,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read job spec {}", path.display()))?;
    let mut spec = JobSpec::parse(&text).with_context(|| format!("{}", path.display()))?;
    if let Some(uri) = dataset {
        spec.dataset.uri = uri;
    }
    if let Some(uri) = output {
        spec.output.uri = uri;
    }
    let run_id = run_id.unwrap_or_else(shopsynth::output::default_run_id);

    let mut console = Console::default();
    let result = pipeline::run(&spec, &run_id, None, &mut |event| console.on_event(event)).await;
    console.close_line();
    let summary = result?;
    let data: Vec<String> = summary
        .files
        .iter()
        .filter(|f| f.name.starts_with("data."))
        .map(|f| format!("{}/{}", summary.folder, f.name))
        .collect();
    tracing::info!(
        rows = summary.rows,
        quality = %score(summary.quality),
        skipped_rows = summary.skipped_rows,
        device = %summary.device,
        "run finished"
    );
    eprintln!("data:   {}", data.join("  "));
    eprintln!("report: {}/report.json (quality {})", summary.folder, score(summary.quality));
    eprintln!("page:   {}/report.html", summary.folder);
    eprintln!("model:  {}/model/", summary.folder);
    Ok(())
}

async fn sample(model: &str, rows: i64, seed: u64, out: &str) -> anyhow::Result<()> {
    let rows = shopsynth::spec::check_rows(rows, "--rows")?;
    let store = StoreOptions::default();
    let (saved, network) =
        pipeline::load_model(model, &store, tch::Device::cuda_if_available()).await?;
    let table = pipeline::synthesize(&saved, &network, rows, seed)?;
    let location = pipeline::write_table(&table, out, &store).await?;
    eprintln!("wrote {rows} rows to {location}");
    Ok(())
}

/// The files `evaluate` reads and writes.
struct EvaluateFiles {
    real: String,
    synthetic: String,
    holdout: Option<String>,
    out: Option<String>,
    html: Option<String>,
}

async fn evaluate(
    files: &EvaluateFiles,
    seed: u64,
    synthetic_header: bool,
    read: &ReadArgs,
) -> anyhow::Result<()> {
    let store = StoreOptions::default();
    let targets: Vec<&String> = files.out.iter().chain(&files.html).collect();
    if let [out, html] = targets[..]
        && same_file(out, html)
    {
        anyhow::bail!("--out and --html both name {out}; give the page its own file");
    }
    for uri in targets {
        check_new(uri, &store).await?;
    }
    let options = read.options();
    let real = read_file(&files.real, read, &options, &store).await?;
    let holdout = match &files.holdout {
        Some(uri) => Some(read_file(uri, read, &options, &store).await?),
        None => None,
    };
    let synthetic_options =
        ReadOptions { header: options.header || synthetic_header, ..options.clone() };
    let synthetic = read_file(&files.synthetic, read, &synthetic_options, &store).await?;

    let schema = infer(&real, &BTreeMap::new())?;
    check_same_columns(&schema, &synthetic, &files.synthetic)?;
    if let (Some(table), Some(uri)) = (&holdout, &files.holdout) {
        check_real_columns(&real, table, uri)?;
    }
    let split = holdout.as_ref().map(|table| holdout::given(&real, table, &schema));
    let reference = match (&holdout, &split) {
        (Some(table), Some(split)) => Ok((table, split)),
        _ => Err("no --holdout file was given"),
    };
    let report = evaluate::evaluate(&evaluate::Inputs {
        real: &real,
        synthetic: &synthetic,
        holdout: reference,
        schema: &schema,
        seed,
    });

    if let Some(uri) = &files.html {
        let context = page::PageContext {
            title: format!("shopsynth report: {}", files.synthetic),
            facts: vec![
                ("real".to_string(), format!("{} ({} rows)", files.real, real.rows())),
                (
                    "synthetic".to_string(),
                    format!("{} ({} rows)", files.synthetic, synthetic.rows()),
                ),
            ],
        };
        write_new(uri, page::render(&report, &context), &store).await?;
        eprintln!("page: {uri}");
    }
    let text = serde_json::to_string_pretty(&report)?;
    match &files.out {
        Some(uri) => {
            write_new(uri, text, &store).await?;
            eprintln!("report: {uri} (quality {})", score(report.quality.overall));
        }
        None => print_stdout(&text)?,
    }
    Ok(())
}

async fn read_file(
    uri: &str,
    read: &ReadArgs,
    options: &ReadOptions,
    store: &StoreOptions,
) -> anyhow::Result<shopsynth::table::Table> {
    Ok(pipeline::read_table(uri, read.format(uri)?, options, store).await?.table)
}

/// Refuses an output path that exists or is a folder, before any work is
/// done, so that a refusal never comes after another file was written.
async fn check_new(uri: &str, store: &StoreOptions) -> anyhow::Result<()> {
    if uri.ends_with('/') {
        anyhow::bail!("{uri} names a folder; name a file to write");
    }
    let location = shopsynth::storage::Location::parse(uri)?;
    if location.local_path().is_some_and(|path| path.is_dir()) {
        anyhow::bail!("{location} is a folder; name a file to write");
    }
    pipeline::refuse_existing(&location, store).await
}

/// Whether two output names are one file (`out/r` and `out/./r` are).
fn same_file(a: &str, b: &str) -> bool {
    let plain = |uri: &str| -> PathBuf {
        let path = std::path::Path::new(uri.strip_prefix("file://").unwrap_or(uri));
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        path.components().filter(|c| *c != std::path::Component::CurDir).collect()
    };
    plain(a) == plain(b)
}

/// Writes a file that must not exist yet.
async fn write_new(uri: &str, text: String, store: &StoreOptions) -> anyhow::Result<()> {
    let location = shopsynth::storage::Location::parse(uri)?;
    pipeline::refuse_existing(&location, store).await?;
    location.write(bytes::Bytes::from(text), store).await
}

/// A holdout file is real data: it must have exactly the real columns.
fn check_real_columns(
    real: &shopsynth::table::Table,
    holdout: &shopsynth::table::Table,
    file: &str,
) -> anyhow::Result<()> {
    if real.names() != holdout.names() {
        anyhow::bail!(
            "{file} does not have the real file's columns: expected [{}], found [{}]",
            real.names().join(", "),
            holdout.names().join(", ")
        );
    }
    Ok(())
}

/// The synthetic file must hold the real columns, free text aside (runs
/// leave it out), and no others: a mismatch would silently drop columns
/// from the score.
fn check_same_columns(
    schema: &shopsynth::schema::Schema,
    synthetic: &shopsynth::table::Table,
    file: &str,
) -> anyhow::Result<()> {
    use shopsynth::schema::Kind;
    let extra: Vec<&str> =
        synthetic.names().into_iter().filter(|n| schema.column(n).is_none()).collect();
    let missing: Vec<&str> = schema
        .columns
        .iter()
        .filter(|c| c.kind != Kind::Text && synthetic.column(&c.name).is_none())
        .map(|c| c.name.as_str())
        .collect();
    if !extra.is_empty() || !missing.is_empty() {
        anyhow::bail!(
            "{file} does not have the real file's columns: missing [{}], unexpected [{}]",
            missing.join(", "),
            extra.join(", ")
        );
    }
    Ok(())
}

async fn inspect(dataset: &str, read: &ReadArgs) -> anyhow::Result<()> {
    let store = StoreOptions::default();
    let result =
        pipeline::read_table(dataset, read.format(dataset)?, &read.options(), &store).await?;
    let schema = infer(&result.table, &BTreeMap::new())?;
    let out = serde_json::json!({
        "dataset": dataset,
        "rows": result.table.rows(),
        "skipped_rows": result.skipped.len(),
        "columns": schema.columns,
    });
    print_stdout(&serde_json::to_string_pretty(&out)?)?;
    Ok(())
}

fn score(value: Option<f64>) -> String {
    value.map_or_else(|| "not computable".to_string(), |v| format!("{v:.3}"))
}

/// Prints to stdout; a reader that closed the pipe early (`| head`) is not
/// an error.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}
