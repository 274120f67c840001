//! The summary table: every headline figure beside its real reference, with
//! one plain line on how to read it, since a score alone says little until
//! one knows what fresh real data scores.

use super::format::{self, ABSENT, escape};
use super::{METRICS, Read};
use crate::evaluate::Report;
use crate::evaluate::utility::ModelUtility;

/// One row; `synthetic` and `reference` are HTML, the rest plain text.
struct Row {
    figure: String,
    synthetic: String,
    reference: String,
    reading: String,
}

impl Row {
    fn new(figure: &str, synthetic: String, reference: String, reading: &str) -> Row {
        Row { figure: figure.to_string(), synthetic, reference, reading: reading.to_string() }
    }
}

/// The summary table as HTML.
pub fn summary(report: &Report) -> String {
    let mut rows = quality_rows(report);
    rows.extend(detection_rows(report));
    rows.extend(privacy_rows(report));
    rows.extend(utility_rows(report));

    let mut html = String::from(
        "<table class=\"summary\"><thead><tr><th>Figure</th><th>Synthetic</th>\
         <th>Real reference</th><th>How to read it</th></tr></thead><tbody>\n",
    );
    for row in rows {
        html.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"reading\">{}</td></tr>\n",
            escape(&row.figure),
            row.synthetic,
            row.reference,
            escape(&row.reading),
        ));
    }
    html.push_str("</tbody></table>\n");
    html
}

fn quality_rows(report: &Report) -> Vec<Row> {
    let holdout = report.holdout.as_ref().map(|h| &h.quality);
    let figures = [
        (
            "Quality score",
            report.quality.overall,
            holdout.and_then(|q| q.overall),
            "SDMetrics' quality, 0 to 1, synthetic and holdout each against training; \
             near the holdout's is as good as fresh real data.",
        ),
        (
            "Column shapes",
            report.quality.column_shapes,
            holdout.and_then(|q| q.column_shapes),
            "How well each column's distribution is kept, averaged over columns.",
        ),
        (
            "Column pair trends",
            report.quality.column_pair_trends,
            holdout.and_then(|q| q.column_pair_trends),
            "How well relationships between columns are kept, over the pairs that count; \
             — when no real pair is related strongly enough to count.",
        ),
    ];
    let like_for_like = report.holdout.as_ref().and_then(|h| h.synthetic_quality.as_ref());
    let same: [Option<f64>; 3] =
        like_for_like.map_or([None; 3], |q| [q.overall, q.column_shapes, q.column_pair_trends]);
    let without = report
        .holdout
        .as_ref()
        .map(|h| h.left_out.iter().map(|l| escape(&l.column)).collect::<Vec<_>>().join(", "));
    figures
        .into_iter()
        .zip(same)
        .map(|((figure, synthetic, reference, reading), same)| {
            let mut synthetic = format::score(synthetic);
            let mut reference = format::score(reference);
            if like_for_like.is_some() {
                let without = without.clone().unwrap_or_default();
                synthetic.push_str(&format!(
                    "<span class=\"note\">without {without}: {}</span>",
                    format::score(same)
                ));
                reference.push_str(&format!("<span class=\"note\">without {without}</span>"));
            }
            Row::new(figure, synthetic, reference, reading)
        })
        .collect()
}

fn detection_rows(report: &Report) -> Vec<Row> {
    let detection = report.detection.as_ref();
    let synthetic = detection.map(|d| d.synthetic.auc);
    let reference = detection.and_then(|d| d.holdout.as_ref()).map(|h| h.auc);
    vec![Row::new(
        "Detection AUC",
        format::score(synthetic),
        format::score(reference),
        "How well a classifier tells these rows from training rows: 0.5 means \
         indistinguishable, 1 means every row gives itself away.",
    )]
}

fn privacy_rows(report: &Report) -> Vec<Row> {
    let privacy = &report.privacy;
    let holdout = privacy.holdout.as_ref();
    let copies = &privacy.exact_copies;
    let holdout_copies = copies
        .holdout
        .zip(copies.holdout_rows)
        .map_or_else(|| ABSENT.to_string(), |(n, rows)| format::part_of(n, rows));
    let closer_reference = match privacy.closer_than_holdout_median {
        Some(_) => format!("{} by definition", format::share(Some(0.5))),
        None => ABSENT.to_string(),
    };
    let subjects = privacy.subjects.as_ref();
    let copied = subjects.map_or_else(
        || ABSENT.to_string(),
        |s| format!("{} of {} checked", format::count(s.copied), format::count(s.checked)),
    );

    vec![
        Row::new(
            "Distance to closest record, median",
            format::score(Some(privacy.synthetic.median)),
            format::score(holdout.map(|h| h.median)),
            "Median distance (0 to 1) from a row to its nearest training row; far below the \
             holdout's means rows are copied or nearly so.",
        ),
        Row::new(
            "Closer than the holdout median",
            format::share(privacy.closer_than_holdout_median)
                + if privacy.notes.is_empty() {
                    ""
                } else {
                    "<span class=\"note\">read with the note under Privacy</span>"
                },
            closer_reference,
            "Share of synthetic rows nearer to training than the typical holdout row: 50% is \
             as new as real data, 100% means copies.",
        ),
        Row::new(
            "Exact copies",
            format::part_of(copies.synthetic, copies.synthetic_rows),
            holdout_copies,
            "Rows equal to a training row on every column read; the holdout shows how often \
             real rows repeat anyway.",
        ),
        Row::new(
            "Real subject ids found",
            subjects.map_or_else(|| ABSENT.to_string(), |s| format::count(s.real_ids)),
            ABSENT.to_string(),
            "Distinct synthetic subject ids that are real ids; should be 0.",
        ),
        Row::new(
            "Copied subject sequences",
            copied,
            ABSENT.to_string(),
            "Synthetic subjects repeating a real subject's whole event sequence; should be 0.",
        ),
    ]
}

fn utility_rows(report: &Report) -> Vec<Row> {
    let Some(utility) = &report.utility else {
        return vec![Row::new(
            "Recommender utility",
            ABSENT.to_string(),
            ABSENT.to_string(),
            "Not computed; the reason is under Left out.",
        )];
    };
    let k = utility.k;
    let mut rows = Vec::new();
    for model in &utility.models {
        let recall_reading = format!(
            "Recall@{k} on real users' later items, trained on synthetic (reference: on real); \
             ratio 1 is as useful as real data, gain is what adding synthetic to real changes."
        );
        let ndcg_reading = format!("As above, with hits weighted by their place in the top {k}.");
        for ((metric, read), reading) in METRICS.into_iter().zip([recall_reading, ndcg_reading]) {
            rows.push(Row {
                figure: format!("{metric}@{k}, {}", model.model),
                synthetic: utility_cell(model, read),
                reference: format::score(Some(read(&model.real))),
                reading,
            });
        }
    }
    rows
}

/// The synthetic-trained value, with its ratio to real and the gain of
/// real plus synthetic over real.
fn utility_cell(model: &ModelUtility, read: Read) -> String {
    let ratio = model.ratio.as_ref().map(read);
    let gain = model.gain.as_ref().map(read);
    format!(
        "{}<span class=\"note\">ratio {} · real+synthetic {}</span>",
        format::score(Some(read(&model.synthetic))),
        ratio.map_or_else(|| ABSENT.to_string(), |r| format!("{r:.2}")),
        format::change(gain),
    )
}
