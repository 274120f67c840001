//! Schedules: a job spec run on a cron expression in a time zone, each run
//! writing under a dated output prefix, old runs pruned.
//!
//! A schedule is a Redis hash (`P:schedule:ID`, definition and state), an
//! entry in `P:schedules`, and its runs in `P:schedule:ID:runs` (job ids
//! scored by fire time). Fire times are computed here; the scheduler
//! process ([`super::scheduler`]) acts on them.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::spec::JobSpec;

/// How many fire times the API shows ahead.
pub const UPCOMING: usize = 3;
/// Runs listed with a schedule; older entries are dropped (not deleted).
pub const RUNS_SHOWN: isize = 50;
/// The template in `output_prefix` replaced by the fire date.
pub const DATE_TEMPLATE: &str = "{date}";

/// What to do about fire times missed while no scheduler ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Run once for the latest missed fire time, however many were missed.
    #[default]
    RunOnce,
    /// Run nothing until the next fire time.
    Skip,
}

/// A schedule as a client defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDefinition {
    /// A name for people; need not be unique.
    pub name: String,
    /// A cron expression: minute hour day-of-month month day-of-week, with
    /// an optional leading seconds field.
    pub cron: String,
    /// An IANA time zone, such as `Europe/Berlin`; fire times follow its
    /// daylight-saving changes.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// The job each fire runs; its `output.uri` is replaced by the rendered
    /// `output_prefix`.
    pub spec: JobSpec,
    /// Where each run writes, with `{date}` replaced by the fire date
    /// (YYYY-MM-DD in the schedule's time zone), such as
    /// `s3://synth/behaviour/{date}/`.
    pub output_prefix: String,
    /// How many succeeded runs keep their output; older ones are deleted.
    #[serde(default = "default_keep")]
    #[schema(minimum = 1, maximum = 1000)]
    pub keep_last: u32,
    #[serde(default)]
    pub missed: Missed,
}

fn utc() -> String {
    "UTC".to_string()
}

fn default_keep() -> u32 {
    7
}

/// A definition that was checked: its cron expression and zone parsed.
#[derive(Debug, Clone)]
pub struct Timing {
    cron: Cron,
    zone: Tz,
}

impl ScheduleDefinition {
    /// Checks the fields the API cannot leave to the spec's own checks,
    /// naming the one at fault.
    pub fn timing(&self) -> Result<Timing, (&'static str, String)> {
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(("name", "must be 1 to 200 characters".to_string()));
        }
        if !(1..=1000).contains(&self.keep_last) {
            return Err(("keep_last", format!("must be 1 to 1000, got {}", self.keep_last)));
        }
        let zone = Tz::from_str(&self.time_zone).map_err(|_| {
            let reason =
                format!("`{}` is not an IANA time zone such as Europe/Berlin", self.time_zone);
            ("time_zone", reason)
        })?;
        let cron = Cron::from_str(&self.cron)
            .map_err(|e| ("cron", format!("`{}` is not a cron expression: {e}", self.cron)))?;
        let timing = Timing { cron, zone };
        if timing.next_after(Utc::now()).is_none() {
            return Err(("cron", format!("`{}` never fires", self.cron)));
        }
        Ok(timing)
    }

    /// The output folder of a run fired at `fire`.
    pub fn output_for(&self, fire: DateTime<Utc>, timing: &Timing) -> String {
        let date = fire.with_timezone(&timing.zone).format("%Y-%m-%d").to_string();
        self.output_prefix.replace(DATE_TEMPLATE, &date)
    }
}

impl Timing {
    /// The first fire time strictly after `after`. A wall-clock time that
    /// happens twice (clocks going back) fires once, at its first instant.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        use chrono::{LocalResult, TimeZone};
        let mut cursor = after.with_timezone(&self.zone);
        for _ in 0..64 {
            let next = self.cron.find_next_occurrence(&cursor, false).ok()?;
            let repeated = matches!(
                self.zone.from_local_datetime(&next.naive_local()),
                LocalResult::Ambiguous(first, _) if first != next
            );
            if !repeated {
                return Some(next.with_timezone(&Utc));
            }
            cursor = next;
        }
        None
    }

    /// The next `count` fire times after `after`, in the schedule's zone.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Tz>> {
        let mut times = Vec::with_capacity(count);
        let mut cursor = after;
        while times.len() < count {
            let Some(next) = self.next_after(cursor) else { break };
            times.push(next.with_timezone(&self.zone));
            cursor = next;
        }
        times
    }

    /// The fire times due from `next` up to `now`: the latest one, and the
    /// first one after `now`. `None` when `next` is still ahead.
    pub fn due(
        &self,
        next: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        if next > now {
            return None;
        }
        let mut latest = next;
        // Bounded: a per-minute schedule down for a year is ~525,600 fires;
        // past this many, jump straight to the one before now.
        for _ in 0..10_000 {
            match self.next_after(latest) {
                Some(after) if after <= now => latest = after,
                following => return Some((latest, following)),
            }
        }
        let following = self.next_after(now);
        let before = self.cron.find_previous_occurrence(&now.with_timezone(&self.zone), true);
        Some((before.map(|t| t.with_timezone(&Utc)).unwrap_or(latest), following))
    }
}

/// A schedule as stored.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub id: String,
    pub definition: ScheduleDefinition,
    pub paused: bool,
    pub created_at: DateTime<Utc>,
    /// The next fire time the scheduler waits for.
    pub next_fire: Option<DateTime<Utc>>,
    /// Why the last fire could not start a job, if it could not.
    pub last_error: Option<String>,
}

/// One run of a schedule, newest first in listings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Run {
    pub job_id: String,
    pub fire_time: DateTime<Utc>,
}

#[derive(Clone)]
pub struct ScheduleStore {
    redis: ConnectionManager,
    prefix: String,
}

impl ScheduleStore {
    pub fn new(redis: ConnectionManager, prefix: &str) -> ScheduleStore {
        ScheduleStore { redis, prefix: prefix.to_string() }
    }

    fn key(&self, id: &str) -> String {
        format!("{}:schedule:{id}", self.prefix)
    }

    fn runs_key(&self, id: &str) -> String {
        format!("{}:schedule:{id}:runs", self.prefix)
    }

    fn index_key(&self) -> String {
        format!("{}:schedules", self.prefix)
    }

    pub async fn create(
        &self,
        definition: &ScheduleDefinition,
        next_fire: Option<DateTime<Utc>>,
    ) -> redis::RedisResult<String> {
        let id = ulid::Ulid::new().to_string();
        let mut redis = self.redis.clone();
        let definition = serde_json::to_string(definition).expect("a definition serializes");
        let next = next_fire.map_or(String::new(), |t| t.timestamp_millis().to_string());
        redis::pipe()
            .atomic()
            .hset_multiple(
                self.key(&id),
                &[
                    ("definition", definition.as_str()),
                    ("paused", "0"),
                    ("created_at", &Utc::now().to_rfc3339()),
                    ("next_fire", &next),
                ],
            )
            .zadd(self.index_key(), &id, 0)
            .query_async::<()>(&mut redis)
            .await?;
        Ok(id)
    }

    pub async fn get(&self, id: &str) -> redis::RedisResult<Option<Schedule>> {
        if ulid::Ulid::from_string(id).is_err() {
            return Ok(None);
        }
        let fields: BTreeMap<String, String> = self.redis.clone().hgetall(self.key(id)).await?;
        Ok(schedule(id, &fields))
    }

    /// Every schedule id, newest first.
    pub async fn ids(&self) -> redis::RedisResult<Vec<String>> {
        self.redis.clone().zrevrangebylex(self.index_key(), "+", "-").await
    }

    /// Up to `limit` schedules, newest first, with ids below `before`.
    pub async fn list(
        &self,
        before: Option<&str>,
        limit: usize,
    ) -> redis::RedisResult<Vec<Schedule>> {
        let max = before.map_or("+".to_string(), |id| format!("({id}"));
        let ids: Vec<String> = self
            .redis
            .clone()
            .zrevrangebylex_limit(self.index_key(), max, "-", 0, limit as isize)
            .await?;
        let mut schedules = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(schedule) = self.get(&id).await? {
                schedules.push(schedule);
            }
        }
        Ok(schedules)
    }

    /// Pauses or resumes; resuming starts from the next fire after now, so
    /// the paused stretch is not caught up. `false` if there is no such
    /// schedule.
    pub async fn set_paused(
        &self,
        id: &str,
        paused: bool,
        next_fire: Option<DateTime<Utc>>,
    ) -> redis::RedisResult<bool> {
        let mut redis = self.redis.clone();
        if !redis.exists::<_, bool>(self.key(id)).await? {
            return Ok(false);
        }
        let next = next_fire.map_or(String::new(), |t| t.timestamp_millis().to_string());
        let flag = if paused { "1" } else { "0" };
        let _: () =
            redis.hset_multiple(self.key(id), &[("paused", flag), ("next_fire", &next)]).await?;
        Ok(true)
    }

    /// Deletes the schedule (its runs' jobs and outputs stay).
    pub async fn delete(&self, id: &str) -> redis::RedisResult<bool> {
        let mut redis = self.redis.clone();
        let (removed, _, _): (i64, i64, i64) = redis::pipe()
            .atomic()
            .del(self.key(id))
            .del(self.runs_key(id))
            .zrem(self.index_key(), id)
            .query_async(&mut redis)
            .await?;
        Ok(removed == 1)
    }

    /// Moves the schedule's next fire time from `expected` to `next`, unless
    /// another scheduler already did.
    pub async fn advance(
        &self,
        id: &str,
        expected: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> redis::RedisResult<bool> {
        let script = redis::Script::new(
            r"if redis.call('HGET', KEYS[1], 'next_fire') == ARGV[1] then
                redis.call('HSET', KEYS[1], 'next_fire', ARGV[2])
                return 1
              end
              return 0",
        );
        let next = next.map_or(String::new(), |t| t.timestamp_millis().to_string());
        let moved: i64 = script
            .key(self.key(id))
            .arg(expected.timestamp_millis().to_string())
            .arg(next)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(moved == 1)
    }

    pub async fn set_error(&self, id: &str, error: Option<&str>) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        match error {
            Some(error) => redis.hset(self.key(id), "last_error", error).await,
            None => redis.hdel(self.key(id), "last_error").await,
        }
    }

    /// Records a run; keeps the newest [`RUNS_SHOWN`].
    pub async fn add_run(
        &self,
        id: &str,
        job_id: &str,
        fire: DateTime<Utc>,
    ) -> redis::RedisResult<()> {
        redis::pipe()
            .zadd(self.runs_key(id), job_id, fire.timestamp_millis())
            .zremrangebyrank(self.runs_key(id), 0, -RUNS_SHOWN - 1)
            .query_async::<()>(&mut self.redis.clone())
            .await
    }

    /// The runs, newest first.
    pub async fn runs(&self, id: &str) -> redis::RedisResult<Vec<Run>> {
        let scored: Vec<(String, i64)> =
            self.redis.clone().zrevrange_withscores(self.runs_key(id), 0, -1).await?;
        Ok(scored
            .into_iter()
            .filter_map(|(job_id, ms)| {
                Some(Run { job_id, fire_time: DateTime::from_timestamp_millis(ms)? })
            })
            .collect())
    }

    /// Forgets a run whose output was pruned.
    pub async fn forget_run(&self, id: &str, job_id: &str) -> redis::RedisResult<()> {
        self.redis.clone().zrem(self.runs_key(id), job_id).await
    }
}

fn schedule(id: &str, fields: &BTreeMap<String, String>) -> Option<Schedule> {
    let time = |ms: &String| ms.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis);
    Some(Schedule {
        id: id.to_string(),
        definition: serde_json::from_str(fields.get("definition")?).ok()?,
        paused: fields.get("paused").is_some_and(|p| p == "1"),
        created_at: DateTime::parse_from_rfc3339(fields.get("created_at")?)
            .ok()?
            .with_timezone(&Utc),
        next_fire: fields.get("next_fire").and_then(time),
        last_error: fields.get("last_error").cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(cron: &str, zone: &str) -> ScheduleDefinition {
        let spec = "dataset: {uri: a.csv}\noutput: {uri: out, rows: 5}";
        ScheduleDefinition {
            name: "nightly".to_string(),
            cron: cron.to_string(),
            time_zone: zone.to_string(),
            spec: JobSpec::parse(spec).unwrap(),
            output_prefix: "out/{date}".to_string(),
            keep_last: 2,
            missed: Missed::RunOnce,
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn fire_times_keep_local_time_across_a_dst_change() {
        // New York leaves daylight saving time on 1 November 2026.
        let timing = definition("0 3 * * *", "America/New_York").timing().unwrap();
        let times: Vec<String> =
            timing.upcoming(at("2026-10-30T12:00:00Z"), 3).iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(
            times,
            ["2026-10-31T03:00:00-04:00", "2026-11-01T03:00:00-05:00", "2026-11-02T03:00:00-05:00"]
        );
        let utc: Vec<String> = timing
            .upcoming(at("2026-10-30T12:00:00Z"), 3)
            .iter()
            .map(|t| t.with_timezone(&Utc).format("%H:%M").to_string())
            .collect();
        assert_eq!(utc, ["07:00", "08:00", "08:00"]);
    }

    #[test]
    fn a_wall_clock_time_repeated_by_dst_fires_once() {
        // Berlin goes back from 03:00 to 02:00 on 31 October 2027.
        let timing = definition("0,30 2 31 10 *", "Europe/Berlin").timing().unwrap();
        let times: Vec<String> =
            timing.upcoming(at("2027-10-30T12:00:00Z"), 3).iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(
            times,
            ["2027-10-31T02:00:00+02:00", "2027-10-31T02:30:00+02:00", "2028-10-31T02:00:00+01:00"]
        );
    }

    #[test]
    fn missed_fires_collapse_to_the_latest() {
        let timing = definition("30 2 * * *", "UTC").timing().unwrap();
        let next = at("2026-12-01T02:30:00Z");
        let (latest, following) = timing.due(next, at("2026-12-04T09:00:00Z")).unwrap();
        assert_eq!(latest, at("2026-12-04T02:30:00Z"));
        assert_eq!(following, Some(at("2026-12-05T02:30:00Z")));
        assert!(timing.due(at("2026-12-05T02:30:00Z"), at("2026-12-04T09:00:00Z")).is_none());
    }

    #[test]
    fn bad_definitions_name_their_field() {
        assert_eq!(definition("61 * * * *", "UTC").timing().unwrap_err().0, "cron");
        assert_eq!(definition("0 3 * * *", "Mars/Olympus").timing().unwrap_err().0, "time_zone");
        let mut none = definition("0 3 * * *", "UTC");
        none.keep_last = 0;
        assert_eq!(none.timing().unwrap_err().0, "keep_last");
    }

    #[test]
    fn the_nightly_examples_in_jobs_are_valid_schedules() {
        for text in [
            include_str!("../../jobs/nightly-behaviour.schedule.json"),
            include_str!("../../jobs/nightly-catalogue.schedule.json"),
        ] {
            let definition: ScheduleDefinition = serde_json::from_str(text).unwrap();
            definition.spec.validate().unwrap();
            let timing = definition.timing().unwrap();
            let fire = timing.next_after(at("2026-12-04T00:00:00Z")).unwrap();
            assert!(definition.output_for(fire, &timing).contains("/2026-12-0"), "{definition:?}");
        }
    }

    #[test]
    fn the_output_prefix_takes_the_local_date() {
        let definition = definition("0 1 * * *", "Asia/Tokyo");
        let timing = definition.timing().unwrap();
        // 20:00 UTC on the 3rd is 05:00 on the 4th in Tokyo.
        assert_eq!(definition.output_for(at("2026-12-03T20:00:00Z"), &timing), "out/2026-12-04");
    }
}
