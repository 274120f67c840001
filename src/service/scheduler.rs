//! `shopsynth scheduler`: starts the jobs of schedules at their fire times
//! and prunes outputs beyond each schedule's `keep_last`.
//!
//! Several replicas may run against one Redis: a fire's job is created
//! under an idempotency key made of the schedule and the fire time, so
//! exactly one job exists per fire whoever gets there first, and the next
//! fire time moves on by compare-and-set.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::config::ServiceConfig;
use super::jobs::{JobStatus, JobStore, JobTask, Origin};
use super::policy;
use super::queue::{self, Queue};
use super::schedules::{Missed, Schedule, ScheduleStore, Timing};
use crate::storage::Location;

/// How often schedules are looked at.
const TICK: Duration = Duration::from_secs(1);
/// A fire found this late is still on time (a scheduler restart, a slow
/// tick); later ones count as missed and follow the schedule's `missed`.
const GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// What the scheduler and the trigger route share.
#[derive(Clone)]
pub struct Firing {
    pub config: ServiceConfig,
    pub jobs: JobStore,
    pub queue: Queue,
    pub schedules: ScheduleStore,
}

/// Runs until SIGTERM or Ctrl-C.
pub async fn run(config: ServiceConfig) -> anyhow::Result<()> {
    let redis = queue::connect(&config.redis_url).await?;
    let firing = Firing {
        jobs: JobStore::new(redis.clone(), &config.key_prefix),
        queue: Queue::new(redis.clone(), &config),
        schedules: ScheduleStore::new(redis, &config.key_prefix),
        config,
    };
    tracing::info!("scheduler started");
    let mut ticks = tokio::time::interval(TICK);
    let stop = super::worker::shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                if let Err(error) = firing.tick(Utc::now()).await {
                    tracing::warn!(%error, "scheduler tick failed; trying again");
                }
            }
            _ = &mut stop => break,
        }
    }
    tracing::info!("scheduler stopped");
    Ok(())
}

impl Firing {
    /// Fires every due schedule once and prunes old outputs.
    pub async fn tick(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        for id in self.schedules.ids().await? {
            let Some(schedule) = self.schedules.get(&id).await? else { continue };
            let span = tracing::info_span!("schedule", schedule_id = %id);
            let _entered = span.enter();
            if let Err(error) = self.visit(&schedule, now).await {
                tracing::warn!(error = %format!("{error:#}"), "schedule not served this tick");
            }
        }
        Ok(())
    }

    async fn visit(&self, schedule: &Schedule, now: DateTime<Utc>) -> anyhow::Result<()> {
        // Outputs beyond keep_last go even while the schedule is paused
        // (triggered runs still add to them).
        self.prune(schedule).await?;
        if schedule.paused {
            return Ok(());
        }
        let timing = schedule
            .definition
            .timing()
            .map_err(|(field, reason)| anyhow::anyhow!("{field}: {reason}"))?;
        let Some(next) = schedule.next_fire else {
            return Ok(());
        };
        if let Some((latest, following)) = timing.due(next, now) {
            let on_time = now - latest <= GRACE;
            if on_time || schedule.definition.missed == Missed::RunOnce {
                self.fire(schedule, &timing, latest).await?;
            } else {
                tracing::info!(fire_time = %latest, "missed fire skipped, as the schedule says");
            }
            self.schedules.advance(&schedule.id, next, following).await?;
        }
        Ok(())
    }

    /// Starts the job for one fire time; a second call for the same fire
    /// returns the same job. The job id, and whether this call created it.
    pub async fn fire(
        &self,
        schedule: &Schedule,
        timing: &Timing,
        fire_time: DateTime<Utc>,
    ) -> anyhow::Result<(String, bool)> {
        let definition = &schedule.definition;
        let mut spec = definition.spec.clone();
        spec.output.uri = definition.output_for(fire_time, timing);
        let spec = match policy::admit(spec, &self.config) {
            Ok(spec) => spec,
            Err(rejection) => {
                let error = format!("fire at {fire_time} refused: {rejection}");
                self.schedules.set_error(&schedule.id, Some(&error)).await?;
                anyhow::bail!(error);
            }
        };
        let origin = Origin { schedule_id: schedule.id.clone(), fire_time };
        let key = format!("schedule:{}:{}", schedule.id, fire_time.timestamp_millis());
        let task = JobTask::Synthesize { spec };
        let (job_id, created) = self.jobs.create(&task, Some(&key), Some(&origin)).await?;
        self.schedules.add_run(&schedule.id, &job_id, fire_time).await?;
        if created {
            self.queue.push(&job_id).await?;
            self.schedules.set_error(&schedule.id, None).await?;
            tracing::info!(job_id = %job_id, fire_time = %fire_time, "schedule fired");
        }
        Ok((job_id, created))
    }

    /// Deletes the outputs of succeeded runs beyond `keep_last`, oldest
    /// first; only runs this schedule recorded are touched.
    async fn prune(&self, schedule: &Schedule) -> anyhow::Result<()> {
        let mut kept = 0;
        for run in self.schedules.runs(&schedule.id).await? {
            let Some(job) = self.jobs.get(&run.job_id).await? else { continue };
            if job.status != JobStatus::Succeeded {
                continue;
            }
            kept += 1;
            if kept <= schedule.definition.keep_last {
                continue;
            }
            let (Some(result), JobTask::Synthesize { spec }) = (&job.result, &job.task) else {
                continue;
            };
            let store = self.config.store_options(&result.folder, &spec.output.storage);
            let folder = Location::parse(&result.folder)?;
            // A symbolic link swapped in since the run must not lead the
            // deletion out of the root.
            for place in [&result.folder, &spec.output.uri] {
                if Location::parse(place)?.local_path().is_some() {
                    policy::resolve(place, "folder", &self.config).map_err(|rejection| {
                        anyhow::anyhow!("not pruning {place}: {}", rejection.reason)
                    })?;
                }
            }
            let files = folder.delete_tree(&store).await?;
            // A dated folder left empty goes too (local folders only: S3
            // has no empty folders).
            let output = Location::parse(&spec.output.uri)?;
            if output.local_path().is_some() && output.list_names(&store).await?.is_empty() {
                output.delete_tree(&store).await?;
            }
            self.schedules.forget_run(&schedule.id, &run.job_id).await?;
            tracing::info!(job_id = %run.job_id, %folder, files, "old output pruned");
        }
        Ok(())
    }
}
