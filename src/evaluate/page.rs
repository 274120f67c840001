//! report.html: the report as one self-contained page a person reads in a
//! minute. Plots are SVG drawn by plotters and inlined; the page loads
//! nothing from the network.

use super::Report;

/// Facts about the run shown above the scores (dataset, rows, model).
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    pub title: String,
    pub facts: Vec<(String, String)>,
}

/// Renders the whole page.
pub fn render(report: &Report, context: &PageContext) -> String {
    unimplemented!("render {report:?} {context:?}")
}
