//! A conditional tabular GAN in the manner of CTGAN (Xu et al., 2019).
//!
//! The pieces that make CTGAN work are all here: a residual generator fed
//! noise plus a conditional vector, Gumbel-softmax outputs for discrete
//! spans, a PacGAN critic that judges `pac` rows at once, the Wasserstein
//! loss with gradient penalty, and training by sampling.

use std::ops::ControlFlow;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use super::condition::{ConditionSampler, RowIndex};
use super::layout::Layout;
use super::{Checkpoint, EpochReport, Observer, TrainError, TrainOptions, seeded, starting_point};
use crate::encode::{Encoded, Span};

/// Hyper-parameters; the defaults are CTGAN's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GanConfig {
    pub noise_dim: i64,
    pub generator_dims: Vec<i64>,
    pub critic_dims: Vec<i64>,
    pub pac: i64,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub gradient_penalty: f64,
    pub gumbel_tau: f64,
}

impl Default for GanConfig {
    fn default() -> Self {
        GanConfig {
            noise_dim: 128,
            generator_dims: vec![256, 256],
            critic_dims: vec![256, 256],
            pac: 10,
            learning_rate: 2e-4,
            weight_decay: 1e-6,
            gradient_penalty: 10.0,
            gumbel_tau: 0.2,
        }
    }
}

/// A fully connected layer whose output is concatenated to its input.
#[derive(Debug)]
struct Residual {
    linear: nn::Linear,
    norm: nn::BatchNorm,
}

impl Residual {
    fn new(path: nn::Path, input: i64, output: i64) -> Residual {
        Residual {
            linear: nn::linear(&path / "linear", input, output, Default::default()),
            norm: nn::batch_norm1d(&path / "norm", output, Default::default()),
        }
    }

    /// `[batch, input]` -> `[batch, output + input]`.
    fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let out = self.linear.forward(xs).apply_t(&self.norm, train).relu();
        Tensor::cat(&[out, xs.shallow_clone()], 1)
    }
}

/// Maps noise and a condition vector to raw (unactivated) data rows.
#[derive(Debug)]
struct Generator {
    blocks: Vec<Residual>,
    output: nn::Linear,
}

impl Generator {
    fn new(path: nn::Path, config: &GanConfig, cond_width: i64, data_width: i64) -> Generator {
        let mut input = config.noise_dim + cond_width;
        let mut blocks = Vec::new();
        for (i, &dim) in config.generator_dims.iter().enumerate() {
            blocks.push(Residual::new(&path / format!("residual{i}"), input, dim));
            input += dim;
        }
        let output = nn::linear(&path / "output", input, data_width, Default::default());
        Generator { blocks, output }
    }

    /// `[batch, noise + cond]` -> `[batch, data_width]`.
    fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        let hidden = self.blocks.iter().fold(xs.shallow_clone(), |h, b| b.forward(&h, train));
        self.output.forward(&hidden)
    }
}

/// Scores packs of `pac` rows; higher means "looks real".
#[derive(Debug)]
struct Critic {
    net: nn::SequentialT,
    pac: i64,
    pack_width: i64,
}

impl Critic {
    fn new(path: nn::Path, config: &GanConfig, row_width: i64) -> Critic {
        let pack_width = row_width * config.pac;
        let mut net = nn::seq_t();
        let mut input = pack_width;
        for (i, &dim) in config.critic_dims.iter().enumerate() {
            net = net
                .add(nn::linear(&path / format!("layer{i}"), input, dim, Default::default()))
                .add_fn(|xs| xs.maximum(&(xs * 0.2)))
                .add_fn_t(|xs, train| xs.dropout(0.5, train));
            input = dim;
        }
        net = net.add(nn::linear(&path / "score", input, 1, Default::default()));
        Critic { net, pac: config.pac, pack_width }
    }

    /// `[batch, row_width]` -> `[batch / pac, 1]`.
    fn forward(&self, rows: &Tensor) -> Tensor {
        rows.view([-1, self.pack_width]).apply_t(&self.net, true)
    }

    /// WGAN-GP penalty (Gulrajani et al., 2017): `λ · E[(‖∇D(x̂)‖₂ − 1)²]`
    /// on points x̂ between real and fake packs.
    fn gradient_penalty(&self, real: &Tensor, fake: &Tensor, weight: f64) -> Tensor {
        let (batch, width) = real.size2().expect("rows are two-dimensional");
        let packs = batch / self.pac;
        let mix = Tensor::rand([packs, 1, 1], (Kind::Float, real.device()))
            .repeat([1, self.pac, width])
            .view([-1, width]);
        let between = (fake + (real - fake) * &mix).set_requires_grad(true);
        let scores = self.forward(&between).sum(Kind::Float);
        let gradients = Tensor::run_backward(&[&scores], &[&between], true, true);
        let norms = gradients[0].view([-1, self.pack_width]).norm_scalaropt_dim(2, [1], false);
        (norms - 1.0).square().mean(Kind::Float) * weight
    }
}

/// A trained generator with what sampling needs.
pub struct Gan {
    vars: nn::VarStore,
    generator: Generator,
    pub config: GanConfig,
    pub conditions: ConditionSampler,
    layout: Layout,
    data_width: usize,
}

impl Gan {
    /// Builds an untrained generator, for training or for loading weights.
    pub fn new(
        config: GanConfig,
        conditions: ConditionSampler,
        spans: Vec<Span>,
        device: Device,
    ) -> Gan {
        let vars = nn::VarStore::new(device);
        let data_width = spans.iter().map(|s| s.width).sum::<usize>() as i64;
        let cond_width = conditions.width() as i64;
        let generator = Generator::new(vars.root() / "generator", &config, cond_width, data_width);
        let layout = Layout::new(&spans, device);
        Gan { vars, generator, config, conditions, layout, data_width: data_width as usize }
    }

    pub fn vars(&self) -> &nn::VarStore {
        &self.vars
    }

    pub fn vars_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vars
    }

    /// Trains on `data`, reporting each epoch to `observer`.
    pub fn train(
        config: GanConfig,
        spans: Vec<Span>,
        data: &Encoded,
        options: &TrainOptions,
        observer: &mut Observer<'_>,
    ) -> Result<Gan, TrainError> {
        seeded(options.seed);
        let device = options.device;
        let conditions = ConditionSampler::fit(&spans, data);
        let rows = RowIndex::build(&conditions, data);
        let gan = Gan::new(config, conditions, spans, device);
        let config = &gan.config;

        let critic_vars = nn::VarStore::new(device);
        let row_width = (data.width + gan.conditions.width()) as i64;
        let critic = Critic::new(critic_vars.root() / "critic", config, row_width);
        let adam =
            nn::Adam { beta1: 0.5, beta2: 0.9, wd: config.weight_decay, ..Default::default() };
        let mut generator_opt = adam.build(&gan.vars, config.learning_rate)?;
        let mut critic_opt = adam.build(&critic_vars, config.learning_rate)?;
        if let Some(checkpoint) = &options.resume {
            checkpoint.restore(&[("generator", &gan.vars), ("critic", &critic_vars)])?;
        }
        let (first_epoch, seed) = starting_point(options);
        if first_epoch > 1 {
            seeded(seed);
        }

        let real_data = Tensor::from_slice(&data.values)
            .view([data.rows as i64, data.width as i64])
            .to_device(device);
        let batch = round_to_pac(options.batch_size, config.pac);
        let steps = (data.rows / batch).max(1);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);

        for epoch in first_epoch..=options.epochs {
            let started = std::time::Instant::now();
            let (mut critic_loss, mut generator_loss) = (0.0, 0.0);
            for _ in 0..steps {
                let step = Step { gan: &gan, critic: &critic, batch, device };
                let real = step.real_rows(&real_data, &rows, &mut rng);
                let loss = step.critic_loss(&real.0, &real.1, &mut rng);
                critic_opt.zero_grad();
                loss.backward();
                critic_opt.step();
                critic_loss += f64::try_from(&loss)?;

                let loss = step.generator_loss(&mut rng);
                generator_opt.zero_grad();
                loss.backward();
                generator_opt.step();
                generator_loss += f64::try_from(&loss)?;
            }
            let report = EpochReport {
                epoch,
                epochs: options.epochs,
                losses: vec![
                    ("critic", critic_loss / steps as f64),
                    ("generator", generator_loss / steps as f64),
                ],
                seconds: started.elapsed().as_secs_f64(),
            };
            let snapshot =
                || Checkpoint::take(epoch, &[("generator", &gan.vars), ("critic", &critic_vars)]);
            if let ControlFlow::Break(()) = observer(&report, &snapshot) {
                return Err(TrainError::Cancelled);
            }
        }
        Ok(gan)
    }

    /// Generates `rows` activated rows (`rows x data_width`, row-major).
    pub fn sample(
        &self,
        rows: usize,
        batch_size: usize,
        seed: u64,
    ) -> Result<Vec<f32>, TrainError> {
        seeded(seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let device = self.vars.device();
        let batch = batch_size.max(1);
        let mut out = Vec::with_capacity(rows * self.data_width());
        let _guard = tch::no_grad_guard();
        while out.len() < rows * self.data_width() {
            let noise = self.noise_with_conditions(batch, false, device, &mut rng).0;
            // CTGAN samples with batch statistics, as in training.
            let raw = self.generator.forward(&noise, true);
            let fake = self.layout.activate(&raw, self.config.gumbel_tau);
            let fake = fake.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
            let values = Vec::<f32>::try_from(fake.view([-1]))?;
            out.extend_from_slice(&values);
        }
        out.truncate(rows * self.data_width());
        Ok(out)
    }

    fn data_width(&self) -> usize {
        self.data_width
    }

    /// Noise with condition vectors appended, plus the conditions drawn.
    fn noise_with_conditions(
        &self,
        batch: usize,
        training: bool,
        device: Device,
        rng: &mut ChaCha8Rng,
    ) -> (Tensor, Option<super::condition::Conditions>) {
        let noise = Tensor::randn([batch as i64, self.config.noise_dim], (Kind::Float, device));
        if self.conditions.columns() == 0 {
            return (noise, None);
        }
        let conditions = self.conditions.draw(batch, training, rng);
        let vectors = Tensor::from_slice(&conditions.vectors)
            .view([batch as i64, self.conditions.width() as i64])
            .to_device(device);
        (Tensor::cat(&[noise, vectors], 1), Some(conditions))
    }
}

/// One training step's shared state.
struct Step<'a> {
    gan: &'a Gan,
    critic: &'a Critic,
    batch: usize,
    device: Device,
}

impl Step<'_> {
    /// Real rows matching freshly drawn conditions, with those conditions.
    fn real_rows(&self, data: &Tensor, rows: &RowIndex, rng: &mut ChaCha8Rng) -> (Tensor, Tensor) {
        let sampler = &self.gan.conditions;
        if sampler.columns() == 0 {
            let index =
                Tensor::randint(data.size()[0], [self.batch as i64], (Kind::Int64, self.device));
            return (
                data.index_select(0, &index),
                Tensor::zeros([self.batch as i64, 0], (Kind::Float, self.device)),
            );
        }
        let conditions = sampler.draw(self.batch, true, rng);
        let picks: Vec<i64> = conditions
            .chosen
            .iter()
            .map(|&(column, label)| rows.draw(column, label, rng))
            .collect();
        let index = Tensor::from_slice(&picks).to_device(self.device);
        let vectors = Tensor::from_slice(&conditions.vectors)
            .view([self.batch as i64, sampler.width() as i64])
            .to_device(self.device);
        (data.index_select(0, &index), vectors)
    }

    /// Critic loss: `−(E[D(real)] − E[D(fake)])` plus the gradient penalty.
    fn critic_loss(&self, real: &Tensor, real_conditions: &Tensor, rng: &mut ChaCha8Rng) -> Tensor {
        let gan = self.gan;
        let (noise, _) = gan.noise_with_conditions(self.batch, true, self.device, rng);
        // The critic's step does not train the generator: no graph for it.
        let fake = tch::no_grad(|| {
            let raw = gan.generator.forward(&noise, true);
            gan.layout.activate(&raw, gan.config.gumbel_tau)
        });
        let fake_conditions = condition_columns(&noise, gan.config.noise_dim);
        let fake = Tensor::cat(&[fake, fake_conditions], 1);
        let real = Tensor::cat(&[real.shallow_clone(), real_conditions.shallow_clone()], 1);

        let wasserstein = self.critic.forward(&fake).mean(Kind::Float)
            - self.critic.forward(&real).mean(Kind::Float);
        wasserstein + self.critic.gradient_penalty(&real, &fake, gan.config.gradient_penalty)
    }

    /// Generator loss: `−E[D(G(z, c))]` plus the cross-entropy that makes
    /// generated rows hold the label their condition asked for.
    fn generator_loss(&self, rng: &mut ChaCha8Rng) -> Tensor {
        let gan = self.gan;
        let (noise, conditions) = gan.noise_with_conditions(self.batch, true, self.device, rng);
        let raw = gan.generator.forward(&noise, true);
        let fake = gan.layout.activate(&raw, gan.config.gumbel_tau);
        let fake_conditions = condition_columns(&noise, gan.config.noise_dim);
        let scores = self.critic.forward(&Tensor::cat(&[fake, fake_conditions], 1));
        let adversarial = -scores.mean(Kind::Float);
        match conditions {
            Some(conditions) => adversarial + condition_loss(&raw, &conditions, gan, self.device),
            None => adversarial,
        }
    }
}

/// The condition vectors appended after the noise.
fn condition_columns(noise: &Tensor, noise_dim: i64) -> Tensor {
    let width = noise.size()[1];
    noise.narrow(1, noise_dim, width - noise_dim)
}

/// Mean cross-entropy between each row's raw logits for its conditioned
/// column and the label asked for (CTGAN's `cond_loss`).
fn condition_loss(
    raw: &Tensor,
    conditions: &super::condition::Conditions,
    gan: &Gan,
    device: Device,
) -> Tensor {
    let positions: Vec<i64> = conditions
        .chosen
        .iter()
        .map(|&(column, label)| {
            let (data_start, _) = gan.conditions.offsets(column);
            gan.layout.softmax_position(data_start + label)
        })
        .collect();
    let positions = Tensor::from_slice(&positions).to_device(device).unsqueeze(1);
    let log_probs = gan.layout.log_softmax(&gan.layout.softmax_columns(raw));
    -log_probs.gather(1, &positions, false).mean(Kind::Float)
}

/// Rounds a batch size down to a multiple of `pac` (at least one pack).
fn round_to_pac(batch: usize, pac: i64) -> usize {
    let pac = pac as usize;
    (batch / pac).max(1) * pac
}
