//! The job queue: apalis over Redis, carrying job ids only.
//!
//! The job record (see [`super::jobs`]) says whether an id still needs
//! running, so a delivery twice (a worker's heartbeat missed, a job handed
//! back) costs one look-up and never a second run.

use std::time::Duration;

use apalis::prelude::TaskSink;
use apalis_redis::RedisStorage;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use super::config::ServiceConfig;

/// What the queue carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobMessage {
    pub job_id: String,
}

/// Connects to Redis, failing with the URL's host in the message (never
/// its password).
pub async fn connect(url: &str) -> anyhow::Result<ConnectionManager> {
    let shown = url::Url::parse(url)
        .map(|u| {
            format!("{}://{}:{}", u.scheme(), u.host_str().unwrap_or(""), u.port().unwrap_or(6379))
        })
        .unwrap_or_else(|_| "the configured Redis URL".to_string());
    let client = redis::Client::open(url)
        .map_err(|e| anyhow::anyhow!("redis_url is not a Redis URL ({shown}): {e}"))?;
    let connect = client.get_connection_manager();
    match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => anyhow::bail!("cannot connect to Redis at {shown}: {e}"),
        Err(_) => anyhow::bail!("Redis at {shown} did not answer within 10 s"),
    }
}

/// The apalis storage for job messages, set up the same way by the API
/// and the workers.
pub fn storage(redis: ConnectionManager, config: &ServiceConfig) -> RedisStorage<JobMessage> {
    // Workers fetch one message at a time, so an idle worker never waits
    // behind jobs another worker holds but has not started.
    let heartbeat = Duration::from_secs((config.worker.lease_seconds / 3).max(1));
    let queue = apalis_redis::Config::default()
        .queue(format!("{}:queue", config.key_prefix))
        .batch_size(1)
        .heartbeat_interval(heartbeat)
        .missed_heartbeats(3);
    RedisStorage::new(redis).with_config(queue)
}

/// Puts job ids on the queue.
#[derive(Clone)]
pub struct Queue {
    storage: RedisStorage<JobMessage>,
}

impl Queue {
    pub fn new(redis: ConnectionManager, config: &ServiceConfig) -> Queue {
        Queue { storage: storage(redis, config) }
    }

    pub async fn push(&self, job_id: &str) -> anyhow::Result<()> {
        let mut storage = self.storage.clone();
        storage
            .push(JobMessage { job_id: job_id.to_string() })
            .await
            .map_err(|e| anyhow::anyhow!("cannot enqueue job {job_id}: {e}"))?;
        Ok(())
    }
}
