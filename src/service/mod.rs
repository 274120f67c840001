//! The batch service: an HTTP API that queues jobs in Redis and worker
//! processes that run them, sharing one configuration.
//!
//! The API ([`api`]) checks each spec against the configuration
//! ([`policy`]), records the job ([`jobs`]) and puts its id on the apalis
//! queue ([`queue`]); workers ([`worker`]) claim ids from the queue, run the
//! same pipeline as `shopsynth run`, checkpoint training to the job's output
//! store and write progress where the API reads it. Schedules
//! ([`schedules`]) start jobs at cron fire times through the scheduler
//! process ([`scheduler`]), which also prunes their old outputs.

pub mod api;
pub mod config;
pub mod jobs;
pub mod policy;
pub mod queue;
pub mod scheduler;
pub mod schedules;
pub mod worker;
