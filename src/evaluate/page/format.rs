//! How the page writes values: escaped text, and numbers in one spelling
//! everywhere, with a dash where a value is absent rather than a guess.

use chrono::DateTime;

/// Written where a figure was not computed.
pub const ABSENT: &str = "—";

const DAY: f64 = 86_400.0;

/// Text made safe for HTML content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A score in 0..1 with three decimals, or two significant digits below
/// 0.01, so that small figures such as Recall@20 on a sparse log do not
/// all read 0.000.
pub fn score(value: Option<f64>) -> String {
    value.map_or_else(
        || ABSENT.to_string(),
        |v| {
            // -0.0 from a sum of zeros is still nothing.
            let v = if v == 0.0 { 0.0 } else { v };
            if v != 0.0 && v.abs() < 0.01 {
                let decimals = (1.0 - v.abs().log10().floor()) as usize;
                format!("{v:.decimals$}")
            } else {
                format!("{v:.3}")
            }
        },
    )
}

/// A share as a percentage with one decimal.
pub fn share(value: Option<f64>) -> String {
    value.map_or_else(|| ABSENT.to_string(), |v| format!("{:.1}%", 100.0 * v))
}

/// A relative change with its sign, as a percentage.
pub fn change(value: Option<f64>) -> String {
    value.map_or_else(|| ABSENT.to_string(), |v| format!("{:+.1}%", 100.0 * v))
}

/// A count with thousands separated by commas.
pub fn count(n: usize) -> String {
    crate::evaluate::thousands(n)
}

/// `part` of `whole` rows and the share it is.
pub fn part_of(part: usize, whole: usize) -> String {
    let share = (whole > 0).then(|| part as f64 / whole as f64);
    format!("{} of {} ({})", count(part), count(whole), self::share(share))
}

/// An axis value: short, with k/M/G for large magnitudes.
pub fn number_label(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e9 {
        (value / 1e9, "G")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e4 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    format!("{}{suffix}", trimmed(scaled, 3))
}

/// An axis share as a percentage, with as many decimals as small shares
/// need to be told apart.
pub fn percent_label(share: f64) -> String {
    let percent = 100.0 * share;
    let decimals = match percent.abs() {
        p if p >= 10.0 || p == 0.0 => 0,
        p if p >= 1.0 => 1,
        p if p >= 0.1 => 2,
        _ => 3,
    };
    format!("{}%", trimmed(percent, decimals))
}

/// An axis instant (seconds since the epoch), precise enough for `span`
/// seconds of axis.
pub fn date_label(seconds: f64, span: f64) -> String {
    let pattern = if span > 730.0 * DAY {
        "%Y-%m"
    } else if span > 3.0 * DAY {
        "%Y-%m-%d"
    } else if span > DAY / 2.0 {
        "%m-%d %H:%M"
    } else {
        "%H:%M:%S"
    };
    DateTime::from_timestamp(seconds.round() as i64, 0)
        .map_or_else(|| number_label(seconds), |instant| instant.format(pattern).to_string())
}

/// A number with at most `decimals` decimals and no trailing zeros.
fn trimmed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

/// Seconds as the timings table writes them.
pub fn seconds(value: f64) -> String {
    if value < 10.0 { format!("{value:.2} s") } else { format!("{value:.1} s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(escape(r#"<b>&"x'"#), "&lt;b&gt;&amp;&quot;x&#39;");
    }

    #[test]
    fn numbers_read_short() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(number_label(25_000.0), "25k");
        assert_eq!(number_label(2.5), "2.5");
        assert_eq!(percent_label(0.25), "25%");
        assert_eq!(percent_label(0.0005), "0.05%");
        assert_eq!(share(None), ABSENT);
        assert_eq!(change(Some(0.031)), "+3.1%");
        assert_eq!(part_of(1, 4), "1 of 4 (25.0%)");
        assert_eq!(date_label(1.7e9, 10.0 * DAY), "2023-11-14");
        assert_eq!(score(Some(0.9415)), "0.942");
        assert_eq!(score(Some(0.0021)), "0.0021");
        assert_eq!(score(Some(0.000036)), "0.000036");
        assert_eq!(score(Some(0.0)), "0.000");
        assert_eq!(score(Some(-0.0)), "0.000");
    }
}
