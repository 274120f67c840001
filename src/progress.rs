//! What a running job tells the outside: phases and finished epochs.
//!
//! The pipeline emits [`Event`]s to whoever drives it. The CLI's
//! [`Console`] redraws one status line on a terminal and writes plain log
//! lines otherwise (CI logs, pipes); the API worker records them instead.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::time::Instant;

use crate::model::{EpochReport, Snapshot};

/// A step of a job, in the order they happen.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Reading,
    Planning,
    Training,
    Sampling,
    Evaluating,
    Writing,
}

/// Something that happened in a running job.
pub enum Event<'a> {
    Phase(Phase),
    /// An epoch finished; `snapshot` takes a checkpoint of it if wanted.
    Epoch {
        report: &'a EpochReport,
        snapshot: &'a Snapshot<'a>,
    },
}

/// Receives events; `Break` asks the job to stop at the next epoch.
pub type Listener<'a> = dyn FnMut(&Event<'_>) -> ControlFlow<()> + 'a;

/// Seconds left, from the mean epoch time so far.
pub fn eta_seconds(report: &EpochReport, elapsed: f64) -> f64 {
    let per_epoch = elapsed / report.epoch.max(1) as f64;
    per_epoch * report.epochs.saturating_sub(report.epoch) as f64
}

/// Shows progress on the terminal, or as log lines when not on one.
pub struct Console {
    terminal: bool,
    training_started: Option<Instant>,
    line_open: bool,
}

impl Default for Console {
    fn default() -> Self {
        Console {
            terminal: std::io::stderr().is_terminal(),
            training_started: None,
            line_open: false,
        }
    }
}

impl Console {
    pub fn on_event(&mut self, event: &Event) -> ControlFlow<()> {
        match event {
            Event::Phase(phase) => {
                self.close_line();
                if *phase == Phase::Training {
                    self.training_started = Some(Instant::now());
                }
                tracing::info!(phase = ?phase, "phase started");
            }
            Event::Epoch { report, .. } => self.on_epoch(report),
        }
        ControlFlow::Continue(())
    }

    fn on_epoch(&mut self, report: &EpochReport) {
        let elapsed = self.training_started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        let eta = eta_seconds(report, elapsed);
        let losses: Vec<String> =
            report.losses.iter().map(|(name, value)| format!("{name} {value:.4}")).collect();
        if self.terminal {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2Ktraining: epoch {}/{}  {}  {:.2}s/epoch  eta {}",
                report.epoch,
                report.epochs,
                losses.join("  "),
                report.seconds,
                clock(eta)
            );
            let _ = err.flush();
            self.line_open = true;
        } else {
            tracing::info!(
                epoch = report.epoch,
                epochs = report.epochs,
                losses = %losses.join(", "),
                seconds = format_args!("{:.3}", report.seconds),
                eta_s = eta.round() as u64,
                "epoch finished"
            );
        }
    }

    /// Ends the redrawn status line so log lines start on their own.
    pub fn close_line(&mut self) {
        if self.line_open {
            let _ = writeln!(std::io::stderr());
            self.line_open = false;
        }
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
