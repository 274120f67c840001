//! Adam that moves only the rows a batch touched.
//!
//! A BPR batch touches a few thousand of the tens of thousands of item rows;
//! a dense Adam step would read and write every row of every table each
//! time and dominate training. Rows a batch leaves alone keep their weights
//! and moments until a batch touches them, as TensorFlow's LazyAdam does.

use tch::Tensor;

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

/// Adam moments for a list of row-indexed tables.
pub(super) struct RowAdam {
    learning_rate: f64,
    /// First and second moments, shaped like each table.
    moments: Vec<(Tensor, Tensor)>,
    steps: i32,
}

impl RowAdam {
    pub(super) fn new(tables: &[Tensor], learning_rate: f64) -> RowAdam {
        let moments = tables.iter().map(|t| (t.zeros_like(), t.zeros_like())).collect();
        RowAdam { learning_rate, moments, steps: 0 }
    }

    /// Moves `rows` of each table against its gradient; `gradients[i]`
    /// holds table `i`'s gradient for those rows, in `rows` order.
    pub(super) fn step(&mut self, tables: &mut [Tensor], rows: &Tensor, gradients: &[Tensor]) {
        self.steps += 1;
        let correction1 = 1.0 - BETA1.powi(self.steps);
        let correction2 = 1.0 - BETA2.powi(self.steps);
        let size = self.learning_rate * correction2.sqrt() / correction1;

        let _guard = tch::no_grad_guard();
        for ((table, (first, second)), gradient) in
            tables.iter_mut().zip(&mut self.moments).zip(gradients)
        {
            let first_rows = first.index_select(0, rows) * BETA1 + gradient * (1.0 - BETA1);
            let second_rows =
                second.index_select(0, rows) * BETA2 + gradient.square() * (1.0 - BETA2);
            let moved =
                table.index_select(0, rows) - &first_rows / (second_rows.sqrt() + EPSILON) * size;
            let _ = table.index_copy_(0, rows, &moved);
            let _ = first.index_copy_(0, rows, &first_rows);
            let _ = second.index_copy_(0, rows, &second_rows);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn only_touched_rows_move_and_the_first_step_is_the_learning_rate() {
        let mut tables = [Tensor::zeros([3, 2], (Kind::Float, Device::Cpu))];
        let mut adam = RowAdam::new(&tables, 0.1);
        let rows = Tensor::from_slice(&[1i64]);
        let gradient = Tensor::from_slice(&[2.0f32, -3.0]).view([1, 2]);
        adam.step(&mut tables, &rows, &[gradient]);
        let values = Vec::<f32>::try_from(tables[0].view([-1])).unwrap();
        let expected = [0.0, 0.0, -0.1, 0.1, 0.0, 0.0];
        for (value, expected) in values.iter().zip(expected) {
            assert!((value - expected).abs() < 1e-5, "{values:?}");
        }
    }
}
