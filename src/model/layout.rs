//! Span-wise activations and losses over the whole row at once.
//!
//! A row holds tens of spans (Adult: 21). Applying softmax span by span
//! costs a handful of small tensor operations per span, forward and
//! backward, which on a CPU costs more than the network itself. Here every
//! softmax span is handled in one pass: columns are gathered by kind, and
//! per-span maxima and sums are scattered into one slot per span.

use tch::{Device, Tensor};

use crate::encode::{Activation, Span};

/// Column indices of a row layout, ready on the training device.
#[derive(Debug)]
pub struct Layout {
    /// Columns of tanh spans.
    tanh: Tensor,
    /// Columns of softmax spans, in row order.
    softmax: Tensor,
    /// For each softmax column, the number of its span among softmax spans.
    segment: Tensor,
    segments: i64,
    /// Puts `cat[tanh columns, softmax columns]` back into row order.
    restore: Tensor,
    /// For each row column, its place among the softmax columns, or -1.
    softmax_position: Vec<i64>,
}

impl Layout {
    pub fn new(spans: &[Span], device: Device) -> Layout {
        let mut tanh = Vec::new();
        let mut softmax = Vec::new();
        let mut segment = Vec::new();
        let mut segments = 0;
        for span in spans {
            let columns = (span.start..span.start + span.width).map(|c| c as i64);
            match span.activation {
                Activation::Tanh => tanh.extend(columns),
                Activation::Softmax => {
                    softmax.extend(columns);
                    segment.extend(std::iter::repeat_n(segments, span.width));
                    segments += 1;
                }
            }
        }
        let width = tanh.len() + softmax.len();
        let mut restore = vec![0i64; width];
        let mut softmax_position = vec![-1i64; width];
        for (place, &column) in tanh.iter().chain(&softmax).enumerate() {
            restore[column as usize] = place as i64;
        }
        for (place, &column) in softmax.iter().enumerate() {
            softmax_position[column as usize] = place as i64;
        }
        let tensor = |values: &[i64]| Tensor::from_slice(values).to_device(device);
        Layout {
            tanh: tensor(&tanh),
            softmax: tensor(&softmax),
            segment: tensor(&segment),
            segments,
            restore: tensor(&restore),
            softmax_position,
        }
    }

    /// `[batch, width]` -> its tanh columns `[batch, tanh]`.
    pub fn tanh_columns(&self, rows: &Tensor) -> Tensor {
        rows.index_select(1, &self.tanh)
    }

    /// `[batch, width]` -> its softmax columns `[batch, softmax]`.
    pub fn softmax_columns(&self, rows: &Tensor) -> Tensor {
        rows.index_select(1, &self.softmax)
    }

    /// Where row column `column` sits among the softmax columns.
    pub fn softmax_position(&self, column: usize) -> i64 {
        self.softmax_position[column]
    }

    /// tanh on tanh spans and Gumbel-softmax with temperature `tau` on
    /// softmax spans (CTGAN's `_apply_activate`).
    pub fn activate(&self, raw: &Tensor, tau: f64) -> Tensor {
        let logits = self.softmax_columns(raw);
        let uniform = Tensor::rand_like(&logits).clamp(1e-10, 1.0 - 1e-10);
        let gumbel = -(-uniform.log()).log();
        let soft = self.log_softmax(&((logits + gumbel) / tau)).exp();
        Tensor::cat(&[self.tanh_columns(raw).tanh(), soft], 1).index_select(1, &self.restore)
    }

    /// Log-softmax within each span of softmax columns `[batch, softmax]`.
    pub fn log_softmax(&self, logits: &Tensor) -> Tensor {
        let batch = logits.size()[0];
        let segment = self.segment.unsqueeze(0).expand([batch, -1], false);
        let base = Tensor::zeros([batch, self.segments], (logits.kind(), logits.device()));
        // The shift only guards exp against overflow; log-softmax does not
        // depend on it, so no gradient needs to flow through it.
        let max = base.internal_scatter_reduce(1, &segment, &logits.detach(), "amax", false);
        let shifted = logits - max.gather(1, &segment, false);
        let sums = base.scatter_add(1, &segment, &shifted.exp());
        &shifted - sums.log().gather(1, &segment, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    fn spans() -> Vec<Span> {
        let span =
            |start, width, activation, conditional| Span { start, width, activation, conditional };
        vec![
            span(0, 1, Activation::Tanh, false),
            span(1, 3, Activation::Softmax, false),
            span(4, 2, Activation::Softmax, true),
            span(6, 1, Activation::Tanh, false),
        ]
    }

    #[test]
    fn log_softmax_matches_span_by_span() {
        let layout = Layout::new(&spans(), Device::Cpu);
        let raw = Tensor::randn([4, 7], (Kind::Float, Device::Cpu));
        let ours = layout.log_softmax(&layout.softmax_columns(&raw));
        let first = raw.narrow(1, 1, 3).log_softmax(1, Kind::Float);
        let second = raw.narrow(1, 4, 2).log_softmax(1, Kind::Float);
        let expected = Tensor::cat(&[first, second], 1);
        assert!(ours.allclose(&expected, 1e-5, 1e-6, false));
    }

    #[test]
    fn activation_keeps_row_order_and_sums_spans_to_one() {
        let layout = Layout::new(&spans(), Device::Cpu);
        let raw = Tensor::randn([5, 7], (Kind::Float, Device::Cpu));
        let out = layout.activate(&raw, 0.2);
        assert!(out.narrow(1, 0, 1).allclose(&raw.narrow(1, 0, 1).tanh(), 1e-6, 1e-6, false));
        assert!(out.narrow(1, 6, 1).allclose(&raw.narrow(1, 6, 1).tanh(), 1e-6, 1e-6, false));
        let sums = out.narrow(1, 1, 3).sum_dim_intlist(1, false, Kind::Float);
        assert!(sums.allclose(&Tensor::ones([5], (Kind::Float, Device::Cpu)), 1e-5, 1e-5, false));
    }
}
