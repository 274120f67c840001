//! report.html: the report as one self-contained page a person reads in a
//! minute. Plots are SVG drawn by plotters and inlined; the page loads
//! nothing from the network and runs no script, so it can be mailed,
//! archived and opened offline and always shows the same thing.
//!
//! The page reads top-down from the verdict to the evidence: the summary of
//! headline figures beside their real references, then a plot per column,
//! the pair-trend heat maps, and the details behind each figure.

mod details;
mod format;
mod plots;
mod summary;
#[cfg(test)]
mod tests;

use super::holdout::SplitMethod;
use super::utility::Ranking;
use super::{PairTrend, Report};
use format::escape;

/// Reads one metric from a recommender's ranking scores.
type Read = fn(&Ranking) -> f64;

/// The ranking metrics every utility figure is shown for, by name.
const METRICS: [(&str, Read); 2] = [("Recall", |r| r.recall), ("NDCG", |r| r.ndcg)];

/// Facts about the run shown above the scores (dataset, rows, model).
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    pub title: String,
    pub facts: Vec<(String, String)>,
}

/// The page's whole style: small, and no web fonts.
const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;\
color:#222;margin:24px auto;max-width:1340px;padding:0 16px}\
h1{font-size:24px;margin:0 0 8px}h2{font-size:19px;margin:32px 0 8px;\
border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}\
table{border-collapse:collapse;margin:8px 0}th,td{padding:4px 10px;text-align:left;\
vertical-align:top;border-bottom:1px solid #eee}thead th{background:#f4f4f4}\
td.num{white-space:nowrap;font-variant-numeric:tabular-nums}\
td.reading{color:#555;max-width:560px}.note{color:#666;font-size:12px}\
td .note{display:block}dl.facts{display:grid;grid-template-columns:max-content auto;\
gap:2px 16px;margin:8px 0}dl.facts dt{color:#666}dl.facts dd{margin:0}\
.plots{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;width:400px}\
figure.wide{width:auto}figcaption{font-size:12px;color:#555;margin-top:2px}\
figcaption b{color:#222}.key{display:inline-block;width:12px;height:12px;\
vertical-align:-1px;margin:0 4px 0 10px}svg{display:block}";

/// Renders the whole page.
pub fn render(report: &Report, context: &PageContext) -> String {
    let title = if context.title.is_empty() { "Synthetic data report" } else { &context.title };
    let mut page = String::with_capacity(256 * 1024);
    page.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    ));

    page.push_str(&format!("<h1>{}</h1>\n", escape(title)));
    page.push_str(&context_facts(context));

    page.push_str("<h2>Summary</h2>\n");
    page.push_str(&reference_line(report));
    page.push_str(&summary::summary(report));

    page.push_str("<h2>Columns</h2>\n");
    page.push_str(&columns(report));

    page.push_str("<h2>Column pair trends</h2>\n");
    page.push_str(&pair_trends(report));

    page.push_str("<h2>Privacy</h2>\n");
    page.push_str(&details::privacy(&report.privacy));

    page.push_str("<h2>Detection</h2>\n");
    page.push_str(&details::detection(report.detection.as_ref(), &report.omitted));

    page.push_str("<h2>Recommender utility</h2>\n");
    page.push_str(&details::utility(report.utility.as_ref(), &report.omitted));

    if let Some(behaviour) = &report.behaviour {
        page.push_str("<h2>Behaviour</h2>\n");
        page.push_str(&details::behaviour(behaviour));
    }

    page.push_str("<h2>Left out</h2>\n");
    page.push_str(&details::left_out(&report.left_out, &report.omitted));

    page.push_str("<h2>Timings</h2>\n");
    page.push_str(&details::timings(&report.timings_s));

    page.push_str("</body></html>\n");
    page
}

fn context_facts(context: &PageContext) -> String {
    if context.facts.is_empty() {
        return String::new();
    }
    let mut html = String::from("<dl class=\"facts\">");
    for (name, value) in &context.facts {
        html.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape(name), escape(value)));
    }
    html.push_str("</dl>\n");
    html
}

/// What the real reference is: how the holdout was kept, or that none was.
fn reference_line(report: &Report) -> String {
    let Some(holdout) = &report.holdout else {
        return "<p class=\"note\">No real rows were kept out of training, so the figures \
                have no real reference.</p>\n"
            .to_string();
    };
    let split = &holdout.split;
    let how = match (split.method, &split.column) {
        (SplitMethod::Time, Some(column)) => {
            let cutoff =
                split.cutoff.as_deref().map(|c| format!(", after {c}")).unwrap_or_default();
            format!("the latest events by {column}{cutoff}")
        }
        (SplitMethod::Time, None) => "the latest events".to_string(),
        (SplitMethod::Random, _) => "rows drawn at random".to_string(),
        (SplitMethod::Given, _) => "a file given beside the real one".to_string(),
    };
    let mut text = format!(
        "Real reference: {} real rows kept out of training ({} of the table, {how}), scored \
         against the {} training rows exactly as the synthetic rows are.",
        format::count(split.holdout_rows),
        format::share(Some(split.share)),
        format::count(split.training_rows),
    );
    if let Some(note) = &split.note {
        text.push_str(&format!(" Note: {note}."));
    }
    for left in &holdout.left_out {
        text.push_str(&format!(" The reference leaves out {}: {}.", left.column, left.reason));
    }
    format!("<p class=\"note\">{}</p>\n", escape(&text))
}

/// A plot per column, with its caption and shape scores.
fn columns(report: &Report) -> String {
    let mut html = format!(
        "<p class=\"note\"><span class=\"key\" style=\"background:{}\"></span>real\
         <span class=\"key\" style=\"background:{}\"></span>synthetic; plots show shares, \
         so tables of different sizes compare.</p>\n\
         <div class=\"plots\">\n",
        css(plots::REAL),
        css(plots::SYNTHETIC),
    );
    let shape = |quality: &super::Quality, column: &str| {
        quality.columns.iter().find(|c| c.column == column).and_then(|c| c.score)
    };
    for distribution in &report.distributions {
        let name = &distribution.column;
        let mut scores = String::new();
        if let Some(score) = shape(&report.quality, name) {
            scores.push_str(&format!(" · shape score {score:.3}"));
            let holdout = report.holdout.as_ref().and_then(|h| shape(&h.quality, name));
            if let Some(reference) = holdout {
                scores.push_str(&format!(" (holdout {reference:.3})"));
            }
        }
        html.push_str(&format!(
            "<figure>{}<figcaption><b>{}</b> · {}{scores}<br>{}</figcaption></figure>\n",
            plots::column_plot(distribution),
            escape(name),
            escape(&distribution.kind),
            escape(&distribution.caption),
        ));
    }
    html.push_str("</div>\n");
    html
}

/// The pair-trend heat maps, synthetic and (when kept) holdout side by side
/// over the same columns.
fn pair_trends(report: &Report) -> String {
    let holdout = report.holdout.as_ref().map(|h| h.quality.pairs.as_slice());
    let columns = pair_columns(report.quality.pairs.iter().chain(holdout.into_iter().flatten()));
    if columns.len() < 2 {
        return "<p class=\"note\">No column pairs were scored.</p>\n".to_string();
    }
    let mut html = String::from(
        "<p class=\"note\">Each cell scores how well a pair of columns keeps its real \
         relationship, 0 to 1. Grey cells have no score, or their real pair shows no \
         relationship strong enough to count (SDMetrics' rule), so no score is shown.</p>\n\
         <div class=\"plots\">\n",
    );
    let mut maps = vec![("Synthetic vs training", report.quality.pairs.as_slice())];
    maps.extend(holdout.map(|pairs| ("Holdout vs training", pairs)));
    for (title, pairs) in maps {
        html.push_str(&format!(
            "<figure class=\"wide\">{}</figure>\n",
            plots::heat_map(title, &columns, pairs)
        ));
    }
    html.push_str("</div>\n");
    html
}

/// The columns named by pairs, in order of first appearance (which is the
/// table's column order, as pairs are scored in that order).
fn pair_columns<'a>(pairs: impl Iterator<Item = &'a PairTrend>) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for pair in pairs {
        for name in [&pair.column_1, &pair.column_2] {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    columns
}

fn css(colour: plotters::style::RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2)
}
