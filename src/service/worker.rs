//! `shopsynth worker`: takes job ids from the queue and runs them.
//!
//! A worker claims a job under a lease it renews while the job runs, and
//! every worker sweeps for jobs whose lease ran out (their worker was
//! killed) and queues them again. Training writes a checkpoint to the job's
//! output store every few epochs, so the next worker resumes from there.
//! SIGTERM or Ctrl-C finishes the current epoch, checkpoints, hands the job
//! back to the queue and exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use apalis::prelude::{BoxDynError, Data, WorkerBuilder, WorkerBuilderExt};
use bytes::Bytes;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

use super::config::ServiceConfig;
use super::jobs::{
    Claim, ErrorKind, JobError, JobRecord, JobResult, JobStatus, JobStore, JobTask, Progress,
    SampleTask,
};
use super::policy;
use super::queue::{self, JobMessage, Queue};
use crate::model::{Checkpoint, TrainError};
use crate::output::RunFolder;
use crate::pipeline;
use crate::progress::{Event, Phase};
use crate::spec::JobSpec;
use crate::storage::{Location, StoreOptions};

/// Checkpoints live beside the run folders, not in them, so a run folder
/// only ever holds one complete output.
const CHECKPOINTS: &str = "_checkpoints";

/// What every job handler of this process shares.
struct Worker {
    config: ServiceConfig,
    name: String,
    jobs: JobStore,
    queue: Queue,
    /// Set on SIGTERM or Ctrl-C.
    stopping: AtomicBool,
    running: AtomicUsize,
}

/// Runs jobs until SIGTERM or Ctrl-C.
pub async fn run(config: ServiceConfig) -> anyhow::Result<()> {
    if let Some(choice) = config.worker.device {
        crate::model::device(choice).map_err(|e| anyhow::anyhow!("worker.device: {e}"))?;
    }
    let redis = queue::connect(&config.redis_url).await?;
    // A suffix of its own per process, so a worker restarted under a fixed
    // name never collides with the queue registration of the one it
    // replaces (killed, its heartbeat not yet expired).
    let base = config.worker.name.clone().unwrap_or_else(default_name);
    let name = format!("{base}-{:08x}", rand::random::<u32>());
    let worker = Arc::new(Worker {
        jobs: JobStore::new(redis.clone(), &config.key_prefix),
        queue: Queue::new(redis.clone(), &config),
        name: name.clone(),
        stopping: AtomicBool::new(false),
        running: AtomicUsize::new(0),
        config,
    });
    tokio::spawn(sweep(worker.clone()));
    let signalled = worker.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("stopping: finishing the current epoch, then handing jobs back");
        signalled.stopping.store(true, Ordering::SeqCst);
    });
    tracing::info!(worker = %name, concurrency = worker.config.worker.concurrency, "worker started");

    // The queue consumer stops when Redis goes away; it is started again
    // (under a new registration) while jobs in flight carry on.
    for generation in 1.. {
        let apalis = WorkerBuilder::new(format!("{name}.{generation}"))
            .backend(queue::storage(redis.clone(), &worker.config))
            .concurrency(worker.config.worker.concurrency)
            .data(worker.clone())
            .build(handle);
        let watching = worker.clone();
        let stopped = apalis
            .run_until(async move {
                while !watching.stopping.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok::<(), std::io::Error>(())
            })
            .await;
        if worker.stopping.load(Ordering::SeqCst) {
            break;
        }
        match stopped {
            Err(error) => tracing::warn!(%error, "queue connection lost; reconnecting in 5 s"),
            Ok(()) => tracing::warn!("queue consumer ended; starting it again in 5 s"),
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    while worker.running.load(Ordering::SeqCst) > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::info!("worker stopped");
    Ok(())
}

/// Counts a job in flight for as long as it lives.
struct InFlight(Arc<Worker>);

impl InFlight {
    fn new(worker: Arc<Worker>) -> InFlight {
        worker.running.fetch_add(1, Ordering::SeqCst);
        InFlight(worker)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler can be installed");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn default_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_string());
    format!("{host}-{}", std::process::id())
}

/// Queues again the jobs of workers that stopped renewing their lease.
async fn sweep(worker: Arc<Worker>) {
    let every = worker.config.worker.lease() / 2;
    loop {
        tokio::time::sleep(every).await;
        match worker.jobs.reclaim_expired().await {
            Ok(ids) => {
                for id in ids {
                    tracing::warn!(job_id = %id, "lease expired: its worker is gone; queued again");
                    if let Err(error) = worker.queue.push(&id).await {
                        tracing::error!(job_id = %id, %error, "could not queue a reclaimed job");
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "lease sweep failed"),
        }
        let after = Duration::from_secs(worker.config.worker.requeue_after_seconds);
        match worker.jobs.requeue_stale(after).await {
            Ok(ids) => {
                for id in ids {
                    tracing::warn!(job_id = %id, "queued too long without a worker; queued again");
                    if let Err(error) = worker.queue.push(&id).await {
                        tracing::error!(job_id = %id, %error, "could not queue a stale job");
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "stale-job sweep failed"),
        }
    }
}

/// The apalis handler: one delivery of one job id.
async fn handle(message: JobMessage, worker: Data<Arc<Worker>>) -> Result<(), BoxDynError> {
    let worker: Arc<Worker> = (*worker).clone();
    let id = message.job_id;
    let span = tracing::info_span!("job", job_id = %id, worker = %worker.name);
    async move {
        if worker.stopping.load(Ordering::SeqCst) {
            // Taken off the queue just as the consumer stops: put it back
            // (once: the consumer fetches nothing more after this).
            worker.queue.push(&id).await.map_err(|e| e.to_string())?;
            return Ok(());
        }
        let lease_ms = worker.config.worker.lease().as_millis() as u64;
        match worker.jobs.claim(&id, &worker.name, lease_ms).await? {
            Claim::Won { attempt } => {
                // The pipeline's future is not Send (libtorch tensors), so it
                // runs on a blocking thread that drives it to the end, even
                // if the queue consumer that delivered it stops meanwhile.
                let runtime = tokio::runtime::Handle::current();
                let (owner, job, span) = (worker.clone(), id.clone(), tracing::Span::current());
                let in_flight = InFlight::new(worker.clone());
                let outcome = tokio::task::spawn_blocking(move || {
                    let _in_flight = in_flight;
                    runtime.block_on(run_claimed(owner, job, attempt).instrument(span))
                })
                .await;
                if let Err(panic) = outcome {
                    tracing::error!(%panic, "the job's task panicked");
                    let error = JobError { kind: ErrorKind::Internal, message: panic.to_string() };
                    worker
                        .jobs
                        .finish(&id, &worker.name, JobStatus::Failed, None, Some(&error))
                        .await?;
                }
            }
            Claim::Busy => tracing::info!("another worker holds this job; delivery skipped"),
            Claim::Finished => {
                tracing::info!("job already finished; delivery skipped");
                // A job cancelled while queued may still have a checkpoint
                // from an earlier run.
                if let Ok(Some(JobRecord { task: JobTask::Synthesize { spec }, .. })) =
                    worker.jobs.get(&id).await
                {
                    discard_checkpoint(&spec, &id).await;
                }
            }
            Claim::NotFound => tracing::warn!("no record for this job id; delivery dropped"),
        }
        Ok(())
    }
    .instrument(span)
    .await
}

/// How one run of a job ended.
enum Outcome {
    Succeeded(JobResult),
    Failed(anyhow::Error),
    Cancelled,
    /// The worker is stopping; the checkpoint is written.
    HandBack,
    /// Another worker took the job over (this one's lease lapsed).
    Lost,
}

/// Runs a claimed job to an end, retrying passing failures.
async fn run_claimed(worker: Arc<Worker>, id: String, mut attempt: u32) {
    let Ok(Some(job)) = worker.jobs.get(&id).await else {
        tracing::error!("the claimed job's record cannot be read");
        return;
    };
    let lost = Arc::new(AtomicBool::new(false));
    let renewal = tokio::spawn(renew_lease(worker.clone(), id.clone(), lost.clone()));
    tracing::info!(attempt, "job started");

    let outcome = loop {
        let outcome = execute(&worker, &job, &lost).await;
        let Outcome::Failed(error) = &outcome else { break outcome };
        let kind = classify(error);
        if kind != ErrorKind::Unavailable || attempt >= worker.config.worker.max_attempts {
            break outcome;
        }
        let wait = worker.config.worker.retry_backoff_ms << (attempt - 1).min(10);
        tracing::warn!(error = %format!("{error:#}"), attempt, wait_ms = wait, "retrying");
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if !matches!(worker.jobs.count_attempt(&id, &worker.name).await, Ok(true)) {
            break Outcome::Lost;
        }
        attempt += 1;
    };
    renewal.abort();

    let jobs = &worker.jobs;
    let owner = worker.name.as_str();
    let ended = matches!(outcome, Outcome::Succeeded(_) | Outcome::Failed(_) | Outcome::Cancelled);
    // A job that stops running has no time left to estimate.
    if let Ok(Some(current)) = jobs.get(&id).await {
        let progress = Progress { eta_seconds: None, ..current.progress };
        let _ = jobs.set_progress(&id, owner, &progress).await;
    }
    let recorded = match outcome {
        Outcome::Succeeded(result) => {
            tracing::info!(folder = %result.folder, quality = ?result.quality, "job succeeded");
            jobs.finish(&id, owner, JobStatus::Succeeded, Some(&result), None).await
        }
        Outcome::Failed(error) => {
            let error = JobError { kind: classify(&error), message: format!("{error:#}") };
            tracing::warn!(kind = ?error.kind, message = %error.message, "job failed");
            jobs.finish(&id, owner, JobStatus::Failed, None, Some(&error)).await
        }
        Outcome::Cancelled => {
            tracing::info!("job cancelled");
            jobs.finish(&id, owner, JobStatus::Cancelled, None, None).await
        }
        Outcome::HandBack => {
            tracing::info!("job handed back to the queue");
            let handed = jobs.hand_back(&id, owner).await;
            if let Err(error) = worker.queue.push(&id).await {
                tracing::error!(%error, "could not queue the job again; the lease sweep will");
            }
            handed
        }
        Outcome::Lost => {
            tracing::warn!("lease lost: another worker runs this job now");
            Ok(true)
        }
    };
    let recorded = match recorded {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!("the job was no longer this worker's when it ended");
            false
        }
        Err(error) => {
            tracing::error!(%error, "could not record how the job ended");
            false
        }
    };
    // A checkpoint is kept while the job may still resume.
    if let (true, true, JobTask::Synthesize { spec }) = (ended, recorded, &job.task) {
        discard_checkpoint(spec, &id).await;
    }
}

/// Renews the lease until aborted; sets `lost` if the job is taken away.
async fn renew_lease(worker: Arc<Worker>, id: String, lost: Arc<AtomicBool>) {
    let lease = worker.config.worker.lease();
    loop {
        tokio::time::sleep(lease / 3).await;
        match worker.jobs.renew(&id, &worker.name, lease.as_millis() as u64).await {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(error) => tracing::warn!(%error, "lease renewal failed; trying again"),
        }
    }
}

/// Passing failures (a store or network) are retried; anything else is
/// the input's fault or a bug, and retrying would fail the same way.
fn classify(error: &anyhow::Error) -> ErrorKind {
    use std::io::ErrorKind as Io;
    // A local path that is a file where a folder is needed (or the like)
    // stays wrong however often it is tried.
    let permanent = [Io::NotADirectory, Io::IsADirectory, Io::PermissionDenied, Io::NotFound];
    let io_kind = |cause: &(dyn std::error::Error + 'static)| {
        let mut source = Some(cause);
        while let Some(error) = source {
            if let Some(io) = error.downcast_ref::<std::io::Error>() {
                return Some(io.kind());
            }
            source = error.source();
        }
        None
    };
    if error.chain().any(|cause| io_kind(cause).is_some_and(|k| permanent.contains(&k))) {
        return ErrorKind::InvalidInput;
    }
    for cause in error.chain() {
        if let Some(error) = cause.downcast_ref::<object_store::Error>() {
            return match error {
                object_store::Error::NotFound { .. } => ErrorKind::InvalidInput,
                _ => ErrorKind::Unavailable,
            };
        }
        if cause.downcast_ref::<redis::RedisError>().is_some() {
            return ErrorKind::Unavailable;
        }
        if let Some(error) = cause.downcast_ref::<std::io::Error>() {
            let passing =
                [Io::ConnectionRefused, Io::ConnectionReset, Io::TimedOut, Io::Interrupted];
            if passing.contains(&error.kind()) {
                return ErrorKind::Unavailable;
            }
        }
        if let Some(TrainError::Torch(_)) = cause.downcast_ref::<TrainError>() {
            return ErrorKind::Internal;
        }
    }
    ErrorKind::InvalidInput
}

/// One run of a job.
async fn execute(worker: &Arc<Worker>, job: &JobRecord, lost: &Arc<AtomicBool>) -> Outcome {
    match &job.task {
        JobTask::Synthesize { spec } => synthesize(worker, &job.id, spec, lost).await,
        JobTask::Sample(task) => match sample(worker, &job.id, task).await {
            Ok(result) => Outcome::Succeeded(result),
            Err(error) => Outcome::Failed(error),
        },
    }
}

fn checkpoint_location(spec: &JobSpec, id: &str) -> anyhow::Result<Location> {
    Ok(Location::parse(&spec.output.uri)?.join(CHECKPOINTS).join(&format!("{id}.pt")))
}

async fn discard_checkpoint(spec: &JobSpec, id: &str) {
    let Ok(location) = checkpoint_location(spec, id) else { return };
    if let Err(error) = location.delete(&spec.output.storage).await {
        tracing::warn!(%location, error = %format!("{error:#}"), "checkpoint left behind");
    }
    // A local checkpoint folder left empty goes too (S3 has no folders).
    let Ok(folder) = Location::parse(&spec.output.uri).map(|o| o.join(CHECKPOINTS)) else {
        return;
    };
    let store = &spec.output.storage;
    if folder.local_path().is_some() && folder.list_names(store).await.is_ok_and(|n| n.is_empty()) {
        let _ = folder.delete_tree(store).await;
    }
}

/// The last checkpoint of this job, if one was written and can be read.
async fn load_checkpoint(spec: &JobSpec, id: &str) -> anyhow::Result<Option<Checkpoint>> {
    let location = checkpoint_location(spec, id)?;
    if !location.exists(&spec.output.storage).await? {
        return Ok(None);
    }
    let bytes = location.read(&spec.output.storage).await?;
    match Checkpoint::from_bytes(bytes.to_vec()) {
        Ok(checkpoint) => Ok(Some(checkpoint)),
        Err(error) => {
            tracing::warn!(%location, %error, "unreadable checkpoint ignored");
            Ok(None)
        }
    }
}

/// What training tells the worker's async side.
struct Signals {
    progress: watch::Sender<Progress>,
    checkpoints: mpsc::UnboundedSender<Checkpoint>,
}

async fn synthesize(
    worker: &Arc<Worker>,
    id: &str,
    spec: &JobSpec,
    lost: &Arc<AtomicBool>,
) -> Outcome {
    let mut spec = spec.clone();
    if let Some(device) = worker.config.worker.device {
        spec.model.device = device;
    }
    spec.dataset.storage = worker.config.store_options(&spec.dataset.uri, &spec.dataset.storage);
    spec.output.storage = worker.config.store_options(&spec.output.uri, &spec.output.storage);
    if let Err(error) = check_places(&worker.config, &[&spec.dataset.uri, &spec.output.uri], id) {
        return Outcome::Failed(error);
    }
    match finished_run(&spec, id).await {
        Ok(Some(result)) => return Outcome::Succeeded(result),
        Ok(None) => {}
        Err(error) => return Outcome::Failed(error),
    }
    if let Err(error) = check_size(worker, &spec).await {
        return Outcome::Failed(error);
    }
    let resume = match load_checkpoint(&spec, id).await {
        Ok(resume) => resume,
        Err(error) => return Outcome::Failed(error),
    };
    let resumed_from = resume.as_ref().map(|c| c.epoch);
    if let Some(epoch) = resumed_from {
        tracing::info!(epoch, "resuming from checkpoint");
    }

    let initial = Progress { resumed_from_epoch: resumed_from, ..Progress::default() };
    let (progress, progress_rx) = watch::channel(initial);
    let (checkpoints, checkpoint_rx) = mpsc::unbounded_channel();
    let reporter = tokio::spawn(report_progress(worker.clone(), id.to_string(), progress_rx));
    let writer = tokio::spawn(write_checkpoints(spec.clone(), id.to_string(), checkpoint_rx));
    let signals = Signals { progress, checkpoints };

    let mut cancel_flag = match CancelFlag::open(&worker.config.redis_url, worker.jobs.job_key(id))
    {
        Ok(flag) => flag,
        Err(error) => return Outcome::Failed(error),
    };
    let mut cancelled = false;
    let every = worker.config.worker.checkpoint_every.max(1);
    let mut training_started = None;
    let mut listener = |event: &Event<'_>| {
        cancelled = cancelled || cancel_flag.is_set();
        match event {
            Event::Phase(phase) => {
                if *phase == Phase::Training {
                    training_started = Some(std::time::Instant::now());
                }
                signals.progress.send_modify(|p| {
                    p.phase = Some(*phase);
                    p.updated_at = Some(chrono::Utc::now());
                });
            }
            Event::Epoch { report, snapshot } => {
                tracing::info!(
                    epoch = report.epoch,
                    epochs = report.epochs,
                    seconds = format_args!("{:.3}", report.seconds),
                    "epoch finished"
                );
                let elapsed = training_started.map_or(0.0, |t| t.elapsed().as_secs_f64());
                let done_here = report.epoch - resumed_from.unwrap_or(0);
                let per_epoch = elapsed / f64::from(done_here.max(1));
                signals.progress.send_modify(|p| {
                    p.epoch = Some(report.epoch);
                    p.epochs = Some(report.epochs);
                    p.losses = report.losses.iter().map(|(k, v)| (k.to_string(), *v)).collect();
                    p.eta_seconds = Some(per_epoch * f64::from(report.epochs - report.epoch));
                    p.updated_at = Some(chrono::Utc::now());
                });
                let due = report.epoch % every == 0 && report.epoch < report.epochs;
                let stopping = worker.stopping.load(Ordering::SeqCst);
                let handing_back = stopping && !cancelled && !lost.load(Ordering::SeqCst);
                if due || handing_back {
                    match snapshot() {
                        Ok(checkpoint) => {
                            let _ = signals.checkpoints.send(checkpoint);
                        }
                        Err(error) => tracing::warn!(%error, "checkpoint not taken"),
                    }
                }
            }
        }
        let stopping = worker.stopping.load(Ordering::SeqCst);
        if stopping || cancelled || lost.load(Ordering::SeqCst) {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    };
    let result = pipeline::run(&spec, id, resume, &mut listener).await;
    drop(signals);
    let _ = writer.await;
    let _ = reporter.await;

    match result {
        Ok(summary) => match summarize(&spec, summary).await {
            Ok(result) => Outcome::Succeeded(result),
            Err(error) => Outcome::Failed(error),
        },
        Err(error) if is_cancelled(&error) => {
            if lost.load(Ordering::SeqCst) {
                Outcome::Lost
            } else if cancelled {
                Outcome::Cancelled
            } else {
                Outcome::HandBack
            }
        }
        Err(error) => Outcome::Failed(error),
    }
}

/// The job's cancel flag, read from the training thread itself at every
/// event (phase or epoch) on a plain blocking connection, so a cancel is
/// honoured within the epoch it arrives in.
struct CancelFlag {
    url: String,
    key: String,
    connection: Option<redis::Connection>,
}

impl CancelFlag {
    fn open(url: &str, key: String) -> anyhow::Result<CancelFlag> {
        let mut flag = CancelFlag { url: url.to_string(), key, connection: None };
        flag.connection = Some(flag.connect()?);
        Ok(flag)
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url.as_str())?.get_connection_with_timeout(Duration::from_secs(5))
    }

    /// Whether the flag is set; a failed read counts as not set, and the
    /// next read connects again (Redis may have restarted).
    fn is_set(&mut self) -> bool {
        let connection = match self.connection.take() {
            Some(connection) => Ok(connection),
            None => self.connect(),
        };
        let read = connection.and_then(|mut connection| {
            let flag: Option<String> =
                redis::cmd("HGET").arg(&self.key).arg("cancel").query(&mut connection)?;
            self.connection = Some(connection);
            Ok(flag)
        });
        match read {
            Ok(flag) => flag.is_some_and(|f| f == "1"),
            Err(error) => {
                tracing::warn!(%error, "cancel flag unreadable for now");
                false
            }
        }
    }
}

fn is_cancelled(error: &anyhow::Error) -> bool {
    matches!(error.downcast_ref::<TrainError>(), Some(TrainError::Cancelled))
}

/// Checks again, now that the job runs, that every local place it touches
/// is inside the root: a symbolic link swapped in after submission must not
/// lead a worker out of it. (Between this check and the reads and writes a
/// window remains; a root that untrusted users can write to is not safe.)
fn check_places(config: &ServiceConfig, uris: &[&str], id: &str) -> anyhow::Result<()> {
    for uri in uris {
        let location = Location::parse(uri)?;
        if location.local_path().is_none() {
            continue;
        }
        let inside = [location.clone(), location.join(id), location.join(CHECKPOINTS)];
        for place in inside {
            policy::resolve(&place.to_string(), "uri", config)
                .map_err(|rejection| anyhow::anyhow!("{place}: {}", rejection.reason))?;
        }
    }
    Ok(())
}

/// Refuses a dataset that grew past the limit since it was submitted.
async fn check_size(worker: &Worker, spec: &JobSpec) -> anyhow::Result<()> {
    let size = Location::parse(&spec.dataset.uri)?.size(&spec.dataset.storage).await?;
    let limit = worker.config.limits.max_dataset_bytes;
    if size > limit {
        anyhow::bail!(
            "dataset.uri: the dataset has {size} bytes; this service reads at most {limit}"
        );
    }
    Ok(())
}

/// Writes progress to the job record as it changes, until training ends
/// (the sender is dropped).
async fn report_progress(worker: Arc<Worker>, id: String, mut progress: watch::Receiver<Progress>) {
    loop {
        let current = progress.borrow_and_update().clone();
        if let Err(error) = worker.jobs.set_progress(&id, &worker.name, &current).await {
            tracing::warn!(%error, "progress not recorded");
        }
        if progress.changed().await.is_err() {
            return;
        }
    }
}

/// Writes each checkpoint training sends, in order, until training ends.
async fn write_checkpoints(
    spec: JobSpec,
    id: String,
    mut checkpoints: mpsc::UnboundedReceiver<Checkpoint>,
) {
    while let Some(checkpoint) = checkpoints.recv().await {
        let written = async {
            let location = checkpoint_location(&spec, &id)?;
            let bytes = Bytes::copy_from_slice(checkpoint.to_bytes());
            location.write(bytes, &spec.output.storage).await?;
            anyhow::Ok(location)
        };
        match written.await {
            Ok(location) => {
                tracing::info!(epoch = checkpoint.epoch, %location, "checkpoint written")
            }
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "checkpoint not written"),
        }
    }
}

/// The result of a run whose manifest is already written: a worker died
/// after finishing the folder but before recording it.
async fn finished_run(spec: &JobSpec, id: &str) -> anyhow::Result<Option<JobResult>> {
    let folder = Location::parse(&spec.output.uri)?.join(id);
    let manifest = folder.join(crate::output::MANIFEST);
    if !manifest.exists(&spec.output.storage).await? {
        return Ok(None);
    }
    let text = manifest.read(&spec.output.storage).await?;
    let manifest: serde_json::Value = serde_json::from_slice(&text)?;
    let files = manifest["files"].as_array().into_iter().flatten();
    let mut names: Vec<String> =
        files.filter_map(|f| f["name"].as_str()).map(|n| folder.join(n).to_string()).collect();
    names.push(folder.join(crate::output::MANIFEST).to_string());
    let report = read_quality(&folder, &spec.output.storage).await;
    Ok(Some(JobResult {
        folder: folder.to_string(),
        files: names,
        rows: manifest["rows"]["synthetic"].as_u64().unwrap_or(0) as usize,
        quality: manifest["quality"].as_f64(),
        quality_properties: report,
        device: manifest["device"].as_str().unwrap_or("").to_string(),
    }))
}

async fn summarize(spec: &JobSpec, summary: pipeline::RunSummary) -> anyhow::Result<JobResult> {
    let folder = Location::parse(&summary.folder)?;
    let mut files: Vec<String> =
        summary.files.iter().map(|f| folder.join(&f.name).to_string()).collect();
    files.push(folder.join(crate::output::MANIFEST).to_string());
    Ok(JobResult {
        quality_properties: read_quality(&folder, &spec.output.storage).await,
        folder: summary.folder,
        files,
        rows: summary.rows,
        quality: summary.quality,
        device: summary.device,
    })
}

/// Quality by property (SDMetrics' Column Shapes and Column Pair Trends)
/// from the run's report.json; empty if unreadable.
async fn read_quality(
    folder: &Location,
    store: &StoreOptions,
) -> std::collections::BTreeMap<String, Option<f64>> {
    let Ok(bytes) = folder.join("report.json").read(store).await else {
        return Default::default();
    };
    let Ok(report) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Default::default();
    };
    ["column_shapes", "column_pair_trends"]
        .into_iter()
        .map(|name| (name.to_string(), report["quality"][name].as_f64()))
        .collect()
}

#[derive(Serialize)]
struct SampleManifest<'a> {
    run_id: &'a str,
    kind: &'static str,
    source_job: &'a str,
    model: &'a str,
    seed: u64,
    rows: usize,
    created_at: String,
    finished_at: String,
    files: &'a [crate::output::FileEntry],
}

/// Samples a finished job's model into a run folder of its own.
async fn sample(worker: &Worker, id: &str, task: &SampleTask) -> anyhow::Result<JobResult> {
    let store = &worker.config.store_options(&task.output_uri, &task.storage);
    check_places(&worker.config, &[&task.model_uri, &task.output_uri], id)?;
    let output = Location::parse(&task.output_uri)?;
    let spec_for_check = output.join(id).join(crate::output::MANIFEST);
    if spec_for_check.exists(store).await? {
        anyhow::bail!("{} already holds a finished run", output.join(id));
    }
    let created_at = chrono::Utc::now();
    let choice = worker.config.worker.device.unwrap_or_default();
    let device = crate::model::device(choice).map_err(anyhow::Error::msg)?;
    let rows = crate::spec::check_rows(task.rows, "rows")?;
    let (saved, network) = pipeline::load_model(&task.model_uri, store, device).await?;
    let table = pipeline::synthesize(&saved, &network, rows, task.seed)?;

    let mut folder = RunFolder::create(&output, id, store).await?;
    for format in &task.formats {
        let bytes = crate::table::write(&table, *format)?;
        if let Err(error) = folder.put(&format!("data.{}", format.extension()), bytes).await {
            folder.abandon().await;
            return Err(error);
        }
    }
    let files = folder.files().to_vec();
    let manifest = SampleManifest {
        run_id: id,
        kind: "sample",
        source_job: &task.source,
        model: &task.model_uri,
        seed: task.seed,
        rows: table.rows(),
        created_at: created_at.to_rfc3339(),
        finished_at: chrono::Utc::now().to_rfc3339(),
        files: &files,
    };
    let root = folder.finish(&manifest).await?;
    let mut names: Vec<String> = files.iter().map(|f| root.join(&f.name).to_string()).collect();
    names.push(root.join(crate::output::MANIFEST).to_string());
    Ok(JobResult {
        folder: root.to_string(),
        files: names,
        rows: table.rows(),
        quality: None,
        quality_properties: Default::default(),
        device: format!("{device:?}").to_lowercase(),
    })
}
