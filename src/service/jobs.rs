//! Job records in Redis: what the API shows and what workers claim.
//!
//! The queue (apalis) only carries job ids; this record is the truth about a
//! job. Every change of status is one Lua script, so the API and any number
//! of workers never race: a job is claimed by one worker at a time under a
//! lease the worker keeps renewing, a job whose lease ran out (its worker was
//! killed) is handed back to the queue exactly once, and a finished job is
//! never run again however often its id is delivered.
//!
//! Keys, under the configured prefix `P`:
//! - `P:job:ID`: a hash with the record's fields;
//! - `P:jobs` and `P:jobs:STATUS`: sorted sets of ids, all with score 0 so
//!   they sort by id, and ULIDs sort by creation time;
//! - `P:idempotency:HASH`: the job id an `Idempotency-Key` created;
//! - `P:durations`: counts for the job-duration histogram.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::progress::Phase;
use crate::spec::JobSpec;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What a job does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum JobTask {
    /// Train on the spec's dataset, sample, evaluate and write a run folder.
    Synthesize { spec: JobSpec },
    /// Sample from the trained model of job `source` without retraining.
    Sample(SampleTask),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SampleTask {
    /// The job whose model is sampled.
    pub source: String,
    /// That job's run folder, holding `model/`.
    pub model_uri: String,
    /// Where this job's folder is written.
    pub output_uri: String,
    pub rows: i64,
    pub seed: u64,
    pub formats: Vec<crate::table::Format>,
    /// The source job's output store settings (never its secret).
    #[serde(default)]
    pub storage: crate::storage::StoreOptions,
}

/// How far a running job has come.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub phase: Option<Phase>,
    pub epoch: Option<u32>,
    pub epochs: Option<u32>,
    /// The last epoch's mean losses by name.
    pub losses: BTreeMap<String, f64>,
    /// Seconds of training left, from the mean epoch time so far.
    pub eta_seconds: Option<f64>,
    /// The epoch of the checkpoint this attempt started from, if any.
    pub resumed_from_epoch: Option<u32>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The spec or the dataset is wrong; retrying cannot help.
    InvalidInput,
    /// A store or the network kept failing after every retry.
    Unavailable,
    /// Anything else: a bug or a failing device.
    Internal,
}

/// What a succeeded job wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobResult {
    /// The run folder.
    pub folder: String,
    /// Every file in it, the manifest last.
    pub files: Vec<String>,
    pub rows: usize,
    /// The overall quality score (SDMetrics' QualityReport, 0 to 1).
    pub quality: Option<f64>,
    /// Quality by property (Column Shapes, Column Pair Trends).
    pub quality_properties: BTreeMap<String, Option<f64>>,
    pub device: String,
}

/// The schedule that started a job, and for which fire time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Origin {
    pub schedule_id: String,
    pub fire_time: DateTime<Utc>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: String,
    pub task: JobTask,
    pub origin: Option<Origin>,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub progress: Progress,
    pub error: Option<JobError>,
    pub result: Option<JobResult>,
    pub cancel_requested: bool,
}

/// What a cancel request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The job was queued and is now cancelled.
    Now,
    /// The job runs; its worker stops at the end of the epoch.
    Requested,
    /// The job had already finished with this status.
    AlreadyFinished(JobStatus),
    NotFound,
}

/// What a worker's claim on a job found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The job is this worker's; this is its attempt number.
    Won {
        attempt: u32,
    },
    /// Another worker holds a live lease on it.
    Busy,
    /// It has finished (or was cancelled) and must not run again.
    Finished,
    NotFound,
}

/// The Redis side of job records.
#[derive(Clone)]
pub struct JobStore {
    redis: ConnectionManager,
    prefix: String,
    scripts: std::sync::Arc<Scripts>,
}

/// The Lua scripts, loaded once; redis-rs sends each by hash after the
/// first call.
struct Scripts {
    create: redis::Script,
    claim: redis::Script,
    renew: redis::Script,
    as_owner: redis::Script,
    finish: redis::Script,
    hand_back: redis::Script,
    cancel: redis::Script,
    reclaim: redis::Script,
    requeue: redis::Script,
}

/// How long an idempotency key keeps pointing at its job: a week, longer
/// than any schedule's gap between fires.
const IDEMPOTENCY_TTL_S: u64 = 7 * 24 * 3600;

/// Upper bounds of the job-duration histogram, in seconds.
pub const DURATION_BUCKETS: [f64; 10] =
    [10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0];

impl JobStore {
    pub fn new(redis: ConnectionManager, prefix: &str) -> JobStore {
        let scripts = Scripts {
            create: redis::Script::new(CREATE),
            claim: redis::Script::new(CLAIM),
            renew: redis::Script::new(RENEW),
            as_owner: redis::Script::new(AS_OWNER),
            finish: redis::Script::new(FINISH),
            hand_back: redis::Script::new(HAND_BACK),
            cancel: redis::Script::new(CANCEL),
            reclaim: redis::Script::new(RECLAIM),
            requeue: redis::Script::new(REQUEUE),
        };
        JobStore { redis, prefix: prefix.to_string(), scripts: std::sync::Arc::new(scripts) }
    }

    /// The Redis hash of a job's record.
    pub fn job_key(&self, id: &str) -> String {
        format!("{}:job:{id}", self.prefix)
    }

    fn index_key(&self, status: Option<JobStatus>) -> String {
        match status {
            Some(status) => format!("{}:jobs:{}", self.prefix, status.as_str()),
            None => format!("{}:jobs", self.prefix),
        }
    }

    /// Creates a queued job; with an idempotency key already used, returns
    /// the job it created instead (and `false`).
    pub async fn create(
        &self,
        task: &JobTask,
        idempotency: Option<&str>,
        origin: Option<&Origin>,
    ) -> redis::RedisResult<(String, bool)> {
        let id = ulid::Ulid::new().to_string();
        let idempotency_key = match idempotency {
            Some(key) => format!("{}:idempotency:{key}", self.prefix),
            None => String::new(),
        };
        let task = serde_json::to_string(task).expect("a job task serializes");
        let (id, created): (String, i64) = self
            .scripts
            .create
            .key(self.job_key(&id))
            .key(self.index_key(None))
            .key(self.index_key(Some(JobStatus::Queued)))
            .key(idempotency_key)
            .arg(&id)
            .arg(task)
            .arg(Utc::now().to_rfc3339())
            .arg(IDEMPOTENCY_TTL_S)
            .arg(format!("{}:job:", self.prefix))
            .arg(origin.map_or(String::new(), |o| o.schedule_id.clone()))
            .arg(origin.map_or(String::new(), |o| o.fire_time.to_rfc3339()))
            .arg(Utc::now().timestamp_millis())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok((id, created == 1))
    }

    pub async fn get(&self, id: &str) -> redis::RedisResult<Option<JobRecord>> {
        if ulid::Ulid::from_string(id).is_err() {
            return Ok(None);
        }
        let fields: BTreeMap<String, String> = self.redis.clone().hgetall(self.job_key(id)).await?;
        Ok(record(id, &fields))
    }

    /// Up to `limit` jobs, newest first, with ids below `before` if given.
    pub async fn list(
        &self,
        status: Option<JobStatus>,
        before: Option<&str>,
        limit: usize,
    ) -> redis::RedisResult<Vec<JobRecord>> {
        let max = before.map_or("+".to_string(), |id| format!("({id}"));
        let ids: Vec<String> = redis::cmd("ZREVRANGEBYLEX")
            .arg(self.index_key(status))
            .arg(max)
            .arg("-")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut self.redis.clone())
            .await?;
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(job) = self.get(&id).await? {
                jobs.push(job);
            }
        }
        Ok(jobs)
    }

    /// The number of jobs with each status.
    pub async fn counts(&self) -> redis::RedisResult<Vec<(JobStatus, u64)>> {
        let mut counts = Vec::new();
        for status in JobStatus::ALL {
            let count: u64 = self.redis.clone().zcard(self.index_key(Some(status))).await?;
            counts.push((status, count));
        }
        Ok(counts)
    }

    pub async fn cancel(&self, id: &str) -> redis::RedisResult<Cancelled> {
        if ulid::Ulid::from_string(id).is_err() {
            return Ok(Cancelled::NotFound);
        }
        let answer: String = self
            .on_job(&self.scripts.cancel, id)
            .arg(Utc::now().to_rfc3339())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(match answer.as_str() {
            "now" => Cancelled::Now,
            "requested" => Cancelled::Requested,
            "missing" => Cancelled::NotFound,
            status => {
                Cancelled::AlreadyFinished(JobStatus::parse(status).unwrap_or(JobStatus::Cancelled))
            }
        })
    }

    /// Claims a job for `owner` until `lease_ms` from now.
    pub async fn claim(&self, id: &str, owner: &str, lease_ms: u64) -> redis::RedisResult<Claim> {
        let now = Utc::now();
        let answer: i64 = self
            .on_job(&self.scripts.claim, id)
            .arg(owner)
            .arg(now.timestamp_millis())
            .arg(lease_ms)
            .arg(now.to_rfc3339())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(match answer {
            -1 => Claim::Busy,
            -2 => Claim::Finished,
            -3 => Claim::NotFound,
            attempt => Claim::Won { attempt: attempt as u32 },
        })
    }

    /// Extends `owner`'s lease; `false` when the job is no longer its own.
    pub async fn renew(&self, id: &str, owner: &str, lease_ms: u64) -> redis::RedisResult<bool> {
        let held: i64 = self
            .on_job(&self.scripts.renew, id)
            .arg(owner)
            .arg(Utc::now().timestamp_millis() + lease_ms as i64)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(held == 1)
    }

    /// Counts one more run of a job its owner retries.
    pub async fn count_attempt(&self, id: &str, owner: &str) -> redis::RedisResult<bool> {
        self.as_owner(id, owner, "HINCRBY", "attempts", "1").await
    }

    pub async fn set_progress(
        &self,
        id: &str,
        owner: &str,
        progress: &Progress,
    ) -> redis::RedisResult<bool> {
        let json = serde_json::to_string(progress).expect("progress serializes");
        self.as_owner(id, owner, "HSET", "progress", &json).await
    }

    /// Runs one hash command (`HSET`, `HINCRBY`) on `field` of a running
    /// job, provided `owner` still holds it; `false` when it does not.
    async fn as_owner(
        &self,
        id: &str,
        owner: &str,
        command: &str,
        field: &str,
        value: &str,
    ) -> redis::RedisResult<bool> {
        let held: i64 = self
            .on_job(&self.scripts.as_owner, id)
            .arg(owner)
            .arg(command)
            .arg(field)
            .arg(value)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(held == 1)
    }

    /// Ends `owner`'s run with a final status; `false` if it was not its own.
    pub async fn finish(
        &self,
        id: &str,
        owner: &str,
        status: JobStatus,
        result: Option<&JobResult>,
        error: Option<&JobError>,
    ) -> redis::RedisResult<bool> {
        let now = Utc::now();
        let json = |v: Option<String>| v.unwrap_or_default();
        let held: i64 = self
            .on_job(&self.scripts.finish, id)
            .arg(owner)
            .arg(status.as_str())
            .arg(now.to_rfc3339())
            .arg(json(result.map(|r| serde_json::to_string(r).expect("results serialize"))))
            .arg(json(error.map(|e| serde_json::to_string(e).expect("errors serialize"))))
            .arg(now.timestamp_millis())
            .arg(format!("{}:durations", self.prefix))
            .arg(DURATION_BUCKETS.map(|le| le.to_string()).join(","))
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(held == 1)
    }

    /// Puts `owner`'s running job back in the queued state (the worker is
    /// shutting down); the caller enqueues its id again.
    pub async fn hand_back(&self, id: &str, owner: &str) -> redis::RedisResult<bool> {
        let held: i64 = self
            .on_job(&self.scripts.hand_back, id)
            .arg(owner)
            .arg(Utc::now().timestamp_millis())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(held == 1)
    }

    /// Queues again every running job whose lease has run out, and returns
    /// their ids for the caller to enqueue. Atomic, so when several workers
    /// look at once each job is returned to exactly one of them.
    pub async fn reclaim_expired(&self) -> redis::RedisResult<Vec<String>> {
        self.scripts
            .reclaim
            .key(self.index_key(Some(JobStatus::Running)))
            .key(self.index_key(Some(JobStatus::Queued)))
            .arg(format!("{}:job:", self.prefix))
            .arg(Utc::now().timestamp_millis())
            .invoke_async(&mut self.redis.clone())
            .await
    }

    /// Ids of jobs queued for longer than `after` (a message lost between
    /// the record and the queue, say), marked as queued now; the caller
    /// enqueues them again. A job delivered twice runs once (see `claim`).
    pub async fn requeue_stale(
        &self,
        after: std::time::Duration,
    ) -> redis::RedisResult<Vec<String>> {
        self.scripts
            .requeue
            .key(self.index_key(Some(JobStatus::Queued)))
            .arg(format!("{}:job:", self.prefix))
            .arg(Utc::now().timestamp_millis())
            .arg(after.as_millis() as u64)
            .invoke_async(&mut self.redis.clone())
            .await
    }

    /// The job-duration histogram: bucket counts (cumulative), sum, count.
    pub async fn durations(&self) -> redis::RedisResult<(Vec<(f64, u64)>, f64, u64)> {
        let fields: BTreeMap<String, String> =
            self.redis.clone().hgetall(format!("{}:durations", self.prefix)).await?;
        let number = |name: &str| fields.get(name).and_then(|v| v.parse::<f64>().ok());
        let buckets = DURATION_BUCKETS
            .iter()
            .map(|le| (*le, number(&format!("le:{le}")).unwrap_or(0.0) as u64))
            .collect();
        Ok((buckets, number("sum").unwrap_or(0.0), number("count").unwrap_or(0.0) as u64))
    }

    /// A status script with the job's key and the prefix of the index keys
    /// it moves ids between.
    fn on_job<'a>(&self, script: &'a redis::Script, id: &str) -> redis::ScriptInvocation<'a> {
        let mut invocation = script.prepare_invoke();
        invocation.key(self.job_key(id)).key(format!("{}:jobs:", self.prefix)).arg(id);
        invocation
    }
}

/// Builds a record from its hash; `None` for a missing or unreadable one.
fn record(id: &str, fields: &BTreeMap<String, String>) -> Option<JobRecord> {
    let time = |name: &str| {
        fields
            .get(name)
            .filter(|v| !v.is_empty())
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let json = |name: &str| fields.get(name).filter(|v| !v.is_empty()).map(String::as_str);
    Some(JobRecord {
        id: id.to_string(),
        task: serde_json::from_str(fields.get("task")?).ok()?,
        origin: match (fields.get("schedule"), time("fire_time")) {
            (Some(schedule_id), Some(fire_time)) => {
                Some(Origin { schedule_id: schedule_id.clone(), fire_time })
            }
            _ => None,
        },
        status: JobStatus::parse(fields.get("status")?)?,
        created_at: time("created_at")?,
        started_at: time("started_at"),
        finished_at: time("finished_at"),
        attempts: fields.get("attempts").and_then(|v| v.parse().ok()).unwrap_or(0),
        progress: json("progress").and_then(|v| serde_json::from_str(v).ok()).unwrap_or_default(),
        error: json("error").and_then(|v| serde_json::from_str(v).ok()),
        result: json("result").and_then(|v| serde_json::from_str(v).ok()),
        cancel_requested: fields.get("cancel").is_some_and(|v| v == "1"),
    })
}

// The scripts. KEYS[1] is the job hash, KEYS[2] the prefix of the status
// indexes (`P:jobs:`), ARGV[1] the job id; an index move is ZREM from the
// old status's set and ZADD to the new one's.

const CREATE: &str = r#"
if KEYS[4] ~= '' then
  local existing = redis.call('GET', KEYS[4])
  if existing and redis.call('EXISTS', ARGV[5] .. existing) == 1 then
    return {existing, 0}
  end
end
redis.call('HSET', KEYS[1], 'task', ARGV[2], 'status', 'queued', 'created_at', ARGV[3],
  'attempts', 0, 'queued_ms', ARGV[8])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'schedule', ARGV[6], 'fire_time', ARGV[7])
end
if KEYS[4] ~= '' then
  redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[4])
end
return {ARGV[1], 1}
"#;

const CLAIM: &str = r#"
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -3 end
if status == 'running' then
  local lease = tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0')
  if lease > tonumber(ARGV[3]) then return -1 end
elseif status ~= 'queued' then
  return -2
end
if redis.call('HGET', KEYS[1], 'cancel') == '1' then
  -- Cancelled while its worker was gone: nobody else will finish it.
  redis.call('ZREM', KEYS[2] .. status, ARGV[1])
  redis.call('ZADD', KEYS[2] .. 'cancelled', 0, ARGV[1])
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished_at', ARGV[5])
  redis.call('HDEL', KEYS[1], 'owner', 'lease_until')
  return -2
end
redis.call('ZREM', KEYS[2] .. status, ARGV[1])
redis.call('ZADD', KEYS[2] .. 'running', 0, ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'running', 'owner', ARGV[2],
  'lease_until', tonumber(ARGV[3]) + tonumber(ARGV[4]))
if not redis.call('HGET', KEYS[1], 'started_at') then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[5], 'started_ms', ARGV[3])
end
return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
"#;

const RENEW: &str = r#"
if redis.call('HGET', KEYS[1], 'status') ~= 'running'
  or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'lease_until', ARGV[3])
return 1
"#;

const AS_OWNER: &str = r#"
if redis.call('HGET', KEYS[1], 'status') ~= 'running'
  or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then
  return 0
end
redis.call(ARGV[3], KEYS[1], ARGV[4], ARGV[5])
return 1
"#;

const FINISH: &str = r#"
if redis.call('HGET', KEYS[1], 'status') ~= 'running'
  or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[2] .. 'running', ARGV[1])
redis.call('ZADD', KEYS[2] .. ARGV[3], 0, ARGV[1])
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'finished_at', ARGV[4],
  'result', ARGV[5], 'error', ARGV[6])
redis.call('HDEL', KEYS[1], 'owner', 'lease_until')
local started = tonumber(redis.call('HGET', KEYS[1], 'started_ms') or '')
if started then
  local seconds = (tonumber(ARGV[7]) - started) / 1000
  redis.call('HINCRBYFLOAT', ARGV[8], 'sum', seconds)
  redis.call('HINCRBY', ARGV[8], 'count', 1)
  for le in string.gmatch(ARGV[9], '[^,]+') do
    if seconds <= tonumber(le) then redis.call('HINCRBY', ARGV[8], 'le:' .. le, 1) end
  end
end
return 1
"#;

const HAND_BACK: &str = r#"
if redis.call('HGET', KEYS[1], 'status') ~= 'running'
  or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[2] .. 'running', ARGV[1])
redis.call('ZADD', KEYS[2] .. 'queued', 0, ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'queued', 'queued_ms', ARGV[3])
redis.call('HDEL', KEYS[1], 'owner', 'lease_until')
return 1
"#;

const CANCEL: &str = r#"
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if status == 'queued' then
  redis.call('ZREM', KEYS[2] .. 'queued', ARGV[1])
  redis.call('ZADD', KEYS[2] .. 'cancelled', 0, ARGV[1])
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished_at', ARGV[2], 'cancel', '1')
  return 'now'
end
if status == 'running' then
  redis.call('HSET', KEYS[1], 'cancel', '1')
  return 'requested'
end
return status
"#;

const RECLAIM: &str = r#"
local reclaimed = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  local lease = tonumber(redis.call('HGET', key, 'lease_until') or '0')
  if lease < tonumber(ARGV[2]) then
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZADD', KEYS[2], 0, id)
    redis.call('HSET', key, 'status', 'queued', 'queued_ms', ARGV[2])
    redis.call('HDEL', key, 'owner', 'lease_until')
    table.insert(reclaimed, id)
  end
end
return reclaimed
"#;

const REQUEUE: &str = r#"
local stale = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  local queued = tonumber(redis.call('HGET', key, 'queued_ms') or '0')
  if queued < tonumber(ARGV[2]) - tonumber(ARGV[3]) then
    redis.call('HSET', key, 'queued_ms', ARGV[2])
    table.insert(stale, id)
  end
end
return stale
"#;
