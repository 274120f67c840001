//! The generative networks, their training loops and their saved form.
//!
//! Both models learn the encoded matrix from [`crate::encode`]; both report
//! each finished epoch to an observer that may stop training (the API uses
//! this for cancellation), and both sample exactly the rows asked for.

pub mod checkpoint;
pub mod condition;
pub mod gan;
pub mod layout;
pub mod vae;

use std::io::Cursor;
use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};
use tch::Device;

use crate::encode::{Encoded, Span};
pub use checkpoint::{Checkpoint, Snapshot};

/// Which network learns the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    #[default]
    Gan,
    Vae,
}

/// What training needs besides the data.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub epochs: u32,
    pub batch_size: usize,
    pub seed: u64,
    pub device: Device,
    /// Weights to start from, after the epochs they were taken at.
    pub resume: Option<Checkpoint>,
}

/// What an observer hears after each epoch.
#[derive(Debug, Clone)]
pub struct EpochReport {
    pub epoch: u32,
    pub epochs: u32,
    pub losses: Vec<(&'static str, f64)>,
    pub seconds: f64,
}

/// Called after each epoch with a way to take a checkpoint; `Break` stops
/// training with [`TrainError::Cancelled`].
pub type Observer<'a> = dyn FnMut(&EpochReport, &Snapshot<'_>) -> ControlFlow<()> + 'a;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("training was cancelled")]
    Cancelled,
    #[error("the checkpoint does not fit this network: {0}")]
    Checkpoint(String),
    #[error("libtorch failed: {0}")]
    Torch(#[from] tch::TchError),
}

/// A trained network of either kind.
pub enum Network {
    Gan(gan::Gan),
    Vae(vae::Vae),
}

/// The parts of a network saved as JSON beside its weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NetworkConfig {
    Gan { config: gan::GanConfig, conditions: condition::ConditionSampler },
    Vae { config: vae::VaeConfig },
}

impl Network {
    /// Trains a network of `kind` on `data`.
    pub fn train(
        kind: ModelKind,
        spans: Vec<Span>,
        data: &Encoded,
        options: &TrainOptions,
        observer: &mut Observer<'_>,
    ) -> Result<Network, TrainError> {
        Ok(match kind {
            ModelKind::Gan => {
                Network::Gan(gan::Gan::train(Default::default(), spans, data, options, observer)?)
            }
            ModelKind::Vae => {
                Network::Vae(vae::Vae::train(Default::default(), spans, data, options, observer)?)
            }
        })
    }

    /// Samples `rows` activated rows, and the VAE's output noise if any.
    pub fn sample(
        &self,
        rows: usize,
        batch_size: usize,
        seed: u64,
    ) -> Result<(Vec<f32>, Option<Vec<f32>>), TrainError> {
        match self {
            Network::Gan(gan) => Ok((gan.sample(rows, batch_size, seed)?, None)),
            Network::Vae(vae) => {
                let (values, sigmas) = vae.sample(rows, batch_size, seed)?;
                Ok((values, Some(sigmas)))
            }
        }
    }

    pub fn config(&self) -> NetworkConfig {
        match self {
            Network::Gan(gan) => NetworkConfig::Gan {
                config: gan.config.clone(),
                conditions: gan.conditions.clone(),
            },
            Network::Vae(vae) => NetworkConfig::Vae { config: vae.config.clone() },
        }
    }

    /// The weights in libtorch's own serialisation.
    pub fn weights(&self) -> Result<Vec<u8>, TrainError> {
        let mut bytes = Vec::new();
        match self {
            Network::Gan(gan) => gan.vars().save_to_stream(&mut bytes)?,
            Network::Vae(vae) => vae.vars().save_to_stream(&mut bytes)?,
        }
        Ok(bytes)
    }

    /// Rebuilds a saved network on `device`.
    pub fn load(
        config: NetworkConfig,
        spans: Vec<Span>,
        weights: &[u8],
        device: Device,
    ) -> Result<Network, TrainError> {
        let mut network = match config {
            NetworkConfig::Gan { config, conditions } => {
                Network::Gan(gan::Gan::new(config, conditions, spans, device))
            }
            NetworkConfig::Vae { config } => Network::Vae(vae::Vae::new(config, spans, device)),
        };
        let vars = match &mut network {
            Network::Gan(gan) => gan.vars_mut(),
            Network::Vae(vae) => vae.vars_mut(),
        };
        vars.load_from_stream(Cursor::new(weights))?;
        Ok(network)
    }
}

/// The first epoch to run and the seed for it: a resumed run reseeds from
/// the epoch, so it is repeatable too, though not bit-identical to a run
/// that was never interrupted.
fn starting_point(options: &TrainOptions) -> (u32, u64) {
    match &options.resume {
        Some(checkpoint) => {
            let epoch = checkpoint.epoch + 1;
            (epoch, options.seed ^ u64::from(epoch).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        }
        None => (1, options.seed),
    }
}

/// Seeds libtorch's generators so a run can be repeated exactly.
fn seeded(seed: u64) {
    tch::manual_seed(seed as i64);
    if tch::Cuda::is_available() {
        tch::Cuda::manual_seed_all(seed);
    }
}

/// Picks the device a spec asks for; `auto` means CUDA when present.
pub fn device(choice: DeviceChoice) -> Result<Device, String> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Auto => Ok(Device::cuda_if_available()),
        DeviceChoice::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        DeviceChoice::Cuda => Err("model.device is `cuda` but no CUDA device is available; \
                                  use `auto` or `cpu`"
            .to_string()),
    }
}

/// Where a spec asks training to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Cuda,
}
