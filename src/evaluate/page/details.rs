//! The sections under the plots: the numbers behind the summary, for a
//! reader who wants to check how a figure was reached.

use std::collections::BTreeMap;

use super::METRICS;
use super::format::{self, ABSENT, escape};
use crate::evaluate::detection::{Detection, DetectionScore};
use crate::evaluate::privacy::{DistanceSummary, Privacy};
use crate::evaluate::utility::Utility;
use crate::evaluate::{Behaviour, EventsSummary, LeftOut, Omitted, PopularityCurve};

/// A table from a header and rows of cells that are already HTML.
fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut html = String::from("<table><thead><tr>");
    for cell in head {
        html.push_str(&format!("<th>{}</th>", escape(cell)));
    }
    html.push_str("</tr></thead><tbody>\n");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            html.push_str(&format!("<td>{cell}</td>"));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table>\n");
    html
}

/// Name-value lines; values are HTML.
fn facts(lines: &[(&str, String)]) -> String {
    let mut html = String::from("<dl class=\"facts\">");
    for (name, value) in lines {
        html.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", escape(name)));
    }
    html.push_str("</dl>\n");
    html
}

/// Names joined by commas, escaped.
fn names(list: &[String]) -> String {
    if list.is_empty() {
        return ABSENT.to_string();
    }
    escape(&list.join(", "))
}

/// The reason an omitted section gives, or a plain note.
fn not_computed(section: &str, omitted: &[Omitted]) -> String {
    let reason = omitted.iter().find(|o| o.section == section).map(|o| o.reason.as_str());
    match reason {
        Some(reason) => format!("<p class=\"note\">Not computed: {}.</p>\n", escape(reason)),
        None => "<p class=\"note\">Not computed.</p>\n".to_string(),
    }
}

pub fn privacy(privacy: &Privacy) -> String {
    let mut html =
        facts(&[("Method", escape(&privacy.method)), ("Columns read", names(&privacy.columns))]);

    let distances = |side: &str, d: &DistanceSummary| {
        vec![
            escape(side),
            format::count(d.rows),
            format::score(Some(d.median)),
            format::score(Some(d.p05)),
            format::score(Some(d.mean)),
            format::share(Some(d.zero_share)),
        ]
    };
    let mut rows = vec![distances("Synthetic", &privacy.synthetic)];
    rows.extend(privacy.holdout.as_ref().map(|h| distances("Holdout (real)", h)));
    let head = ["Distance to closest training row", "Rows", "Median", "5th pct", "Mean", "At 0"];
    html.push_str(&table(&head, &rows));

    let copies = &privacy.exact_copies;
    let mut lines =
        vec![("Exact copies, synthetic", format::part_of(copies.synthetic, copies.synthetic_rows))];
    if let (Some(n), Some(rows)) = (copies.holdout, copies.holdout_rows) {
        lines.push(("Exact copies, holdout", format::part_of(n, rows)));
    }
    if let Some(subjects) = &privacy.subjects {
        lines.push(("Subject column", escape(&subjects.column)));
        lines.push(("Real ids in synthetic", format::count(subjects.real_ids)));
        lines.push(("Sequence columns", names(&subjects.sequence_columns)));
        let checked = format!(
            "{} copied of {} synthetic subjects with at least {} events",
            format::count(subjects.copied),
            format::count(subjects.checked),
            format::count(subjects.min_length),
        );
        lines.push(("Sequences", checked));
    }
    html.push_str(&facts(&lines));
    for note in &privacy.notes {
        html.push_str(&format!("<p class=\"note\">{}</p>\n", escape(note)));
    }
    html
}

pub fn detection(detection: Option<&Detection>, omitted: &[Omitted]) -> String {
    let Some(detection) = detection else {
        return not_computed("detection", omitted);
    };
    let features = format!(
        "<details><summary>{} features</summary>{}</details>",
        format::count(detection.features.len()),
        names(&detection.features),
    );
    let mut html = facts(&[
        ("Classifier", escape(&detection.classifier)),
        ("Folds", format::count(detection.folds)),
        ("Features", features),
    ]);

    let side = |name: &str, score: &DetectionScore| {
        let folds: Vec<String> = score.fold_aucs.iter().map(|a| format!("{a:.3}")).collect();
        vec![
            escape(name),
            format::count(score.rows_per_side),
            format::score(Some(score.auc)),
            folds.join(", "),
        ]
    };
    let mut rows = vec![side("Synthetic vs training", &detection.synthetic)];
    rows.extend(detection.holdout.as_ref().map(|h| side("Holdout vs training", h)));
    html.push_str(&table(&["Separation", "Rows per side", "AUC", "Fold AUCs"], &rows));
    let scores = std::iter::once(&detection.synthetic).chain(&detection.holdout);
    for left in scores.flat_map(|score| &score.left_out) {
        let line = format!("Without {}: {}.", left.column, left.reason);
        html.push_str(&format!("<p class=\"note\">{}</p>\n", escape(&line)));
    }
    html
}

pub fn utility(utility: Option<&Utility>, omitted: &[Omitted]) -> String {
    let Some(utility) = utility else {
        return not_computed("utility", omitted);
    };
    let mut html = facts(&[
        ("Protocol", escape(&utility.protocol)),
        ("Test users", format::count(utility.test_users)),
    ]);
    let k = utility.k;
    let mut rows = Vec::new();
    for model in &utility.models {
        for (metric, read) in METRICS {
            rows.push(vec![
                escape(&model.model),
                format!("{metric}@{k}"),
                format::score(Some(read(&model.real))),
                format::score(Some(read(&model.synthetic))),
                format::score(Some(read(&model.combined))),
                model
                    .ratio
                    .as_ref()
                    .map_or_else(|| ABSENT.to_string(), |r| format!("{:.2}", read(r))),
                format::change(model.gain.as_ref().map(read)),
            ]);
        }
    }
    let head = ["Model", "Metric", "Real", "Synthetic", "Real+synthetic", "Ratio", "Gain"];
    html.push_str(&table(&head, &rows));
    html
}

pub fn behaviour(behaviour: &Behaviour) -> String {
    let events = &behaviour.events_per_subject;
    let summary = |side: &str, s: &EventsSummary| {
        let mut row = vec![escape(side), format::count(s.subjects), format!("{:.1}", s.mean)];
        row.extend([s.p10, s.p25, s.p50, s.p75, s.p90, s.p99, s.max].map(|v| format!("{v:.0}")));
        row
    };
    let head = ["Side", "Subjects", "Mean", "p10", "p25", "Median", "p75", "p90", "p99", "Max"];
    let mut html = format!("<h3>Events per subject ({})</h3>\n", escape(&events.subject));
    html.push_str(&table(
        &head,
        &[summary("Real", &events.real), summary("Synthetic", &events.synthetic)],
    ));

    if let Some(popularity) = &behaviour.popularity {
        html.push_str(&format!("<h3>Popularity of {}</h3>\n", escape(&popularity.key)));
        let ranks: Vec<usize> = popularity.real.ranks.iter().map(|r| r.rank).collect();
        let mut head = ["Side", "Top 1% of keys", "Top 10% of keys", "Top 50% of keys"]
            .map(String::from)
            .to_vec();
        head.extend(ranks.iter().map(|r| format!("Rank {r}")));
        let curve = |side: &str, c: &PopularityCurve| {
            let mut row = vec![escape(side)];
            row.extend(
                [c.top_1_percent, c.top_10_percent, c.top_50_percent]
                    .map(|v| format::share(Some(v))),
            );
            row.extend(c.ranks.iter().map(|r| format::share(r.share)));
            row
        };
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        html.push_str(&table(
            &head,
            &[curve("Real", &popularity.real), curve("Synthetic", &popularity.synthetic)],
        ));
    }

    if let Some(mix) = &behaviour.behaviour_mix {
        html.push_str(&format!("<h3>Behaviour mix ({})</h3>\n", escape(&mix.column)));
        let rows: Vec<Vec<String>> = mix
            .shares
            .iter()
            .map(|s| {
                vec![
                    escape(&s.label),
                    format::share(Some(s.real)),
                    format::share(Some(s.synthetic)),
                ]
            })
            .collect();
        html.push_str(&table(&["Label", "Real", "Synthetic"], &rows));
    }
    html
}

pub fn left_out(left_out: &[LeftOut], omitted: &[Omitted]) -> String {
    if left_out.is_empty() && omitted.is_empty() {
        return "<p>Every real column and every section was scored.</p>\n".to_string();
    }
    let mut rows: Vec<Vec<String>> = left_out
        .iter()
        .map(|l| vec!["Column".to_string(), escape(&l.column), escape(&l.reason)])
        .collect();
    rows.extend(
        omitted.iter().map(|o| vec!["Section".to_string(), escape(&o.section), escape(&o.reason)]),
    );
    table(&["What", "Name", "Why"], &rows)
}

pub fn timings(timings: &BTreeMap<String, f64>) -> String {
    if timings.is_empty() {
        return "<p class=\"note\">No timings were recorded.</p>\n".to_string();
    }
    let mut rows: Vec<Vec<String>> =
        timings.iter().map(|(part, s)| vec![escape(part), format::seconds(*s)]).collect();
    rows.push(vec!["<b>total</b>".to_string(), format::seconds(timings.values().sum())]);
    table(&["Part", "Time"], &rows)
}
