//! shopsynth: synthetic e-commerce tables learnt from real ones.
//!
//! A job reads a real table ([`table`], [`storage`]), infers its
//! [`schema`], plans how each column is synthesised ([`plan`]), trains a GAN
//! or VAE on the modelled columns ([`encode`], [`model`]), samples the rows
//! asked for, scores them against the real table ([`evaluate`]) and writes
//! data, report, model and manifest ([`output`]). [`pipeline`] ties the
//! steps together; the CLI in `main.rs` is a thin shell around it.

pub mod encode;
pub mod evaluate;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod schema;
pub mod service;
pub mod spec;
pub mod storage;
pub mod table;
