//! Training state saved between epochs, so that a job interrupted on one
//! machine resumes on another instead of starting again.
//!
//! A checkpoint holds every trained part (the saved network and the parts
//! only training needs: the critic, the VAE's encoder) as named libtorch
//! tensors in one file, with the epoch it was taken after. Adam's moment
//! estimates are not kept, since tch cannot read them out; a resumed run
//! rebuilds them within a few steps.

use std::collections::HashMap;
use std::io::Cursor;

use tch::{Kind, Tensor, nn};

use super::TrainError;

/// The tensor that carries the epoch, beside the parts' variables.
const EPOCH: &str = "checkpoint.epoch";

/// Weights of every trained part after `epoch` finished epochs.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub epoch: u32,
    bytes: Vec<u8>,
}

/// A provider of the current checkpoint, handed to observers after each
/// epoch: taking one costs a copy of the weights, so only callers that keep
/// it ask.
pub type Snapshot<'a> = dyn Fn() -> Result<Checkpoint, TrainError> + 'a;

impl Checkpoint {
    /// Saves the variables of each named part.
    pub(super) fn take(epoch: u32, parts: &[(&str, &nn::VarStore)]) -> Result<Self, TrainError> {
        let mut named: Vec<(String, Tensor)> =
            vec![(EPOCH.to_string(), Tensor::from(epoch as i64))];
        for (part, vars) in parts {
            for (name, tensor) in vars.variables() {
                named.push((format!("{part}/{name}"), tensor.to_device(tch::Device::Cpu)));
            }
        }
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let mut bytes = Vec::new();
        Tensor::save_multi_to_stream(&named, &mut bytes)?;
        Ok(Checkpoint { epoch, bytes })
    }

    /// Copies the saved weights into each named part; every variable must be
    /// present with the same shape, or nothing is trusted.
    pub(super) fn restore(&self, parts: &[(&str, &nn::VarStore)]) -> Result<(), TrainError> {
        let saved: HashMap<String, Tensor> =
            Tensor::load_multi_from_stream(Cursor::new(&self.bytes))?.into_iter().collect();
        let mut copies = Vec::new();
        for (part, vars) in parts {
            for (name, variable) in vars.variables() {
                let key = format!("{part}/{name}");
                let source =
                    saved.get(&key).ok_or_else(|| mismatch(format!("`{key}` is missing")))?;
                if source.size() != variable.size() {
                    let reason = format!(
                        "`{key}` has shape {:?}, the network needs {:?}",
                        source.size(),
                        variable.size()
                    );
                    return Err(mismatch(reason));
                }
                copies.push((variable, source));
            }
        }
        tch::no_grad(|| {
            for (mut variable, source) in copies {
                variable.copy_(&source.to_device(variable.device()));
            }
        });
        Ok(())
    }

    /// The checkpoint as one file's bytes.
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Reads a checkpoint written by [`Checkpoint::to_bytes`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TrainError> {
        let tensors = Tensor::load_multi_from_stream(Cursor::new(&bytes))?;
        let epoch = tensors
            .iter()
            .find(|(name, _)| name == EPOCH)
            .filter(|(_, t)| t.kind() == Kind::Int64 && t.numel() == 1)
            .map(|(_, t)| t.int64_value(&[]))
            .ok_or_else(|| mismatch("it carries no epoch".to_string()))?;
        let epoch = u32::try_from(epoch).map_err(|_| mismatch(format!("epoch {epoch}")))?;
        Ok(Checkpoint { epoch, bytes })
    }
}

fn mismatch(reason: String) -> TrainError {
    TrainError::Checkpoint(reason)
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use tch::Device;

    use crate::encode::{Activation, Encoded, Span};
    use crate::model::{ModelKind, Network, TrainError, TrainOptions};

    /// One tanh column and a two-label column, 64 rows.
    fn data() -> (Vec<Span>, Encoded) {
        let spans = vec![
            Span { start: 0, width: 1, activation: Activation::Tanh, conditional: false },
            Span { start: 1, width: 2, activation: Activation::Softmax, conditional: true },
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut values = Vec::new();
        for _ in 0..64 {
            let label = rng.random_bool(0.3);
            values.extend([rng.random_range(-0.5..0.5), label as u8 as f32, !label as u8 as f32]);
        }
        (spans, Encoded { rows: 64, width: 3, values })
    }

    fn options(epochs: u32, resume: Option<super::Checkpoint>) -> TrainOptions {
        TrainOptions { epochs, batch_size: 20, seed: 9, device: Device::Cpu, resume }
    }

    /// Trains, keeping the checkpoint of epoch `keep` and the epochs seen.
    fn train(
        kind: ModelKind,
        options: &TrainOptions,
        keep: u32,
    ) -> (Result<Network, TrainError>, Option<super::Checkpoint>, Vec<u32>) {
        let (spans, encoded) = data();
        let (mut kept, mut seen) = (None, Vec::new());
        let mut observer = |report: &crate::model::EpochReport, snapshot: &super::Snapshot<'_>| {
            seen.push(report.epoch);
            if report.epoch == keep {
                kept = Some(snapshot().expect("a checkpoint is taken"));
            }
            ControlFlow::Continue(())
        };
        let network = Network::train(kind, spans, &encoded, options, &mut observer);
        (network, kept, seen)
    }

    #[test]
    fn a_resumed_run_starts_after_the_checkpoint_with_its_weights() {
        for kind in [ModelKind::Gan, ModelKind::Vae] {
            let (trained, checkpoint, _) = train(kind, &options(2, None), 2);
            let checkpoint = checkpoint.unwrap();
            let read = super::Checkpoint::from_bytes(checkpoint.to_bytes().to_vec()).unwrap();
            assert_eq!(read, checkpoint);
            assert_eq!(read.epoch, 2);

            // Resuming at the last epoch trains nothing more, so the
            // network's weights are exactly the checkpoint's.
            let (resumed, _, seen) = train(kind, &options(2, Some(read.clone())), 0);
            assert!(seen.is_empty(), "{kind:?} ran epochs {seen:?}");
            // (Saved weights files differ in archive ids, so compare what
            // the networks generate from one seed.)
            let generate = |network: Network| network.sample(20, 10, 1).unwrap().0;
            assert_eq!(generate(resumed.unwrap()), generate(trained.unwrap()), "{kind:?}");

            let (_, _, seen) = train(kind, &options(4, Some(read)), 0);
            assert_eq!(seen, [3, 4], "{kind:?}");
        }
    }

    #[test]
    fn a_checkpoint_of_another_network_is_refused() {
        let (_, checkpoint, _) = train(ModelKind::Vae, &options(1, None), 1);
        let (result, _, seen) = train(ModelKind::Gan, &options(3, checkpoint), 0);
        let error = result.err().expect("a vae checkpoint cannot start a gan");
        assert!(matches!(error, TrainError::Checkpoint(_)), "{error}");
        assert!(seen.is_empty());
    }

    #[test]
    fn bytes_without_an_epoch_are_not_a_checkpoint() {
        let mut bytes = Vec::new();
        tch::Tensor::save_multi_to_stream(&[("x", tch::Tensor::from(1.0))], &mut bytes).unwrap();
        assert!(super::Checkpoint::from_bytes(bytes).is_err());
        assert!(super::Checkpoint::from_bytes(b"not torch".to_vec()).is_err());
    }
}
