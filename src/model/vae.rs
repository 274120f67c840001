//! A tabular variational autoencoder in the manner of TVAE (Xu et al., 2019).
//!
//! The decoder outputs one learnt noise scale per data column besides the
//! values; reconstruction is a Gaussian likelihood for in-mode values and a
//! cross-entropy for one-hot spans, and sampling adds the learnt noise back.

use std::ops::ControlFlow;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use super::layout::Layout;
use super::{Checkpoint, EpochReport, Observer, TrainError, TrainOptions, seeded, starting_point};
use crate::encode::{Encoded, Span};

/// Hyper-parameters; the defaults are TVAE's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VaeConfig {
    pub embedding_dim: i64,
    pub encoder_dims: Vec<i64>,
    pub decoder_dims: Vec<i64>,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Weight of the reconstruction term against the KL term.
    pub loss_factor: f64,
}

impl Default for VaeConfig {
    fn default() -> Self {
        VaeConfig {
            embedding_dim: 128,
            encoder_dims: vec![128, 128],
            decoder_dims: vec![128, 128],
            learning_rate: 1e-3,
            weight_decay: 1e-5,
            loss_factor: 2.0,
        }
    }
}

/// A stack of linear + ReLU layers.
fn mlp(path: nn::Path, input: i64, dims: &[i64]) -> (nn::Sequential, i64) {
    let mut net = nn::seq();
    let mut width = input;
    for (i, &dim) in dims.iter().enumerate() {
        net = net.add(nn::linear(&path / format!("layer{i}"), width, dim, Default::default()));
        net = net.add_fn(|xs| xs.relu());
        width = dim;
    }
    (net, width)
}

/// Maps rows to the mean and log-variance of their latent code.
struct Encoder {
    body: nn::Sequential,
    mean: nn::Linear,
    log_var: nn::Linear,
}

impl Encoder {
    fn new(path: nn::Path, config: &VaeConfig, data_width: i64) -> Encoder {
        let (body, width) = mlp(&path / "body", data_width, &config.encoder_dims);
        Encoder {
            body,
            mean: nn::linear(&path / "mean", width, config.embedding_dim, Default::default()),
            log_var: nn::linear(&path / "log_var", width, config.embedding_dim, Default::default()),
        }
    }

    /// `[batch, data]` -> (`[batch, embedding]`, `[batch, embedding]`).
    fn forward(&self, xs: &Tensor) -> (Tensor, Tensor) {
        let hidden = self.body.forward(xs);
        (self.mean.forward(&hidden), self.log_var.forward(&hidden))
    }
}

/// A trained decoder with its learnt output noise.
pub struct Vae {
    vars: nn::VarStore,
    decoder: nn::Sequential,
    sigma: Tensor,
    pub config: VaeConfig,
    layout: Layout,
}

impl Vae {
    /// Builds an untrained decoder, for training or for loading weights.
    pub fn new(config: VaeConfig, spans: Vec<Span>, device: Device) -> Vae {
        let vars = nn::VarStore::new(device);
        let data_width = spans.iter().map(|s| s.width).sum::<usize>() as i64;
        let root = vars.root() / "decoder";
        let (body, width) = mlp(&root / "body", config.embedding_dim, &config.decoder_dims);
        let decoder = body.add(nn::linear(&root / "output", width, data_width, Default::default()));
        let sigma = root.var("sigma", &[data_width], nn::Init::Const(0.1));
        let layout = Layout::new(&spans, device);
        Vae { vars, decoder, sigma, config, layout }
    }

    pub fn vars(&self) -> &nn::VarStore {
        &self.vars
    }

    pub fn vars_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vars
    }

    /// Trains on `data`, reporting each epoch to `observer`.
    pub fn train(
        config: VaeConfig,
        spans: Vec<Span>,
        data: &Encoded,
        options: &TrainOptions,
        observer: &mut Observer<'_>,
    ) -> Result<Vae, TrainError> {
        seeded(options.seed);
        let device = options.device;
        let vae = Vae::new(config, spans, device);
        // The encoder is only needed for training, so it is kept apart from
        // the saved decoder; Adam is per-parameter, so two optimizers with
        // the same settings behave as one.
        let encoder_vars = nn::VarStore::new(device);
        let encoder = Encoder::new(encoder_vars.root() / "encoder", &vae.config, data.width as i64);
        let adam = nn::Adam { wd: vae.config.weight_decay, ..Default::default() };
        let mut optimizer = adam.build(&vae.vars, vae.config.learning_rate)?;
        let mut encoder_optimizer = adam.build(&encoder_vars, vae.config.learning_rate)?;
        if let Some(checkpoint) = &options.resume {
            checkpoint.restore(&[("decoder", &vae.vars), ("encoder", &encoder_vars)])?;
        }
        let (first_epoch, seed) = starting_point(options);
        if first_epoch > 1 {
            seeded(seed);
        }

        let real = Tensor::from_slice(&data.values)
            .view([data.rows as i64, data.width as i64])
            .to_device(device);
        let mut order: Vec<i64> = (0..data.rows as i64).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let batch = options.batch_size.max(1);

        for epoch in first_epoch..=options.epochs {
            let started = std::time::Instant::now();
            order.shuffle(&mut rng);
            let mut total = 0.0;
            let mut batches = 0;
            for chunk in order.chunks(batch) {
                let index = Tensor::from_slice(chunk).to_device(device);
                let rows = real.index_select(0, &index);
                let loss = vae.loss(&encoder, &rows);
                optimizer.zero_grad();
                encoder_optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                encoder_optimizer.step();
                tch::no_grad(|| {
                    let _ = vae.sigma.shallow_clone().clamp_(0.01, 1.0);
                });
                total += f64::try_from(&loss)?;
                batches += 1;
            }
            let report = EpochReport {
                epoch,
                epochs: options.epochs,
                losses: vec![("loss", total / batches.max(1) as f64)],
                seconds: started.elapsed().as_secs_f64(),
            };
            let snapshot =
                || Checkpoint::take(epoch, &[("decoder", &vae.vars), ("encoder", &encoder_vars)]);
            if let ControlFlow::Break(()) = observer(&report, &snapshot) {
                return Err(TrainError::Cancelled);
            }
        }
        Ok(vae)
    }

    /// ELBO loss of one batch: `factor · reconstruction + KL`, both per row.
    fn loss(&self, encoder: &Encoder, rows: &Tensor) -> Tensor {
        let batch = rows.size()[0] as f64;
        let (mean, log_var) = encoder.forward(rows);
        let noise = Tensor::randn_like(&mean);
        let latent = &noise * (&log_var * 0.5).exp() + &mean;
        let reconstructed = self.decoder.forward(&latent);

        let reconstruction = self.reconstruction_loss(rows, &reconstructed);
        let kl = (&log_var - mean.square() - log_var.exp() + 1.0).sum(Kind::Float) * -0.5;
        reconstruction * self.config.loss_factor / batch + kl / batch
    }

    /// Gaussian negative log-likelihood for tanh spans, cross-entropy for
    /// one-hot spans, summed over the batch (TVAE's `_loss_function`).
    fn reconstruction_loss(&self, real: &Tensor, reconstructed: &Tensor) -> Tensor {
        let layout = &self.layout;
        let batch = real.size()[0] as f64;
        let sigma = layout.tanh_columns(&self.sigma.unsqueeze(0)).squeeze_dim(0);
        let error = layout.tanh_columns(real) - layout.tanh_columns(reconstructed).tanh();
        let gaussian = (error.square() / (sigma.square() * 2.0)).sum(Kind::Float)
            + sigma.log().sum(Kind::Float) * batch;

        let log_probs = layout.log_softmax(&layout.softmax_columns(reconstructed));
        let cross_entropy = -(layout.softmax_columns(real) * log_probs).sum(Kind::Float);
        gaussian + cross_entropy
    }

    /// Generates `rows` rows of tanh-activated outputs and the noise scales.
    pub fn sample(
        &self,
        rows: usize,
        batch_size: usize,
        seed: u64,
    ) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
        seeded(seed);
        let device = self.vars.device();
        let width = self.sigma.size()[0];
        let batch = batch_size.max(1) as i64;
        let _guard = tch::no_grad_guard();
        let mut out = Vec::with_capacity(rows * width as usize);
        while out.len() < rows * width as usize {
            let noise = Tensor::randn([batch, self.config.embedding_dim], (Kind::Float, device));
            let fake = self.decoder.forward(&noise).tanh().to_device(Device::Cpu).contiguous();
            out.extend_from_slice(&Vec::<f32>::try_from(fake.view([-1]))?);
        }
        out.truncate(rows * width as usize);
        let sigmas = Vec::<f32>::try_from(self.sigma.to_device(Device::Cpu))?;
        Ok((out, sigmas))
    }
}
