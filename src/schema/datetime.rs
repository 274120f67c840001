//! Datetime formats: recognising them in real cells and writing synthetic
//! instants back in the same spelling.
//!
//! Instants are modelled as seconds since the Unix epoch (UTC, offsets
//! ignored), which keeps datetimes inside the numeric machinery.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// Smallest and largest plausible Unix-seconds values (2001-09-09 and
/// 2096-10-02): integers outside this range are not taken for timestamps.
const UNIX_SECONDS_RANGE: (f64, f64) = (1.0e9, 4.0e9);

/// Patterns tried in order; unpadded ones come first so that a source
/// writing `1/5/2011 8:26` is written back that way.
const PATTERNS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%:z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%-m/%-d/%Y %-H:%M",
    "%m/%d/%Y %H:%M",
    "%-m/%-d/%Y %-H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%-m/%-d/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
];

/// How a datetime column spells its instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum DateFormat {
    UnixSeconds,
    UnixMillis,
    /// A chrono `strftime` pattern.
    Pattern(String),
}

impl From<DateFormat> for String {
    fn from(format: DateFormat) -> String {
        format.to_string()
    }
}

impl From<String> for DateFormat {
    fn from(text: String) -> DateFormat {
        match text.as_str() {
            "unix_seconds" => DateFormat::UnixSeconds,
            "unix_millis" => DateFormat::UnixMillis,
            _ => DateFormat::Pattern(text),
        }
    }
}

impl fmt::Display for DateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateFormat::UnixSeconds => f.write_str("unix_seconds"),
            DateFormat::UnixMillis => f.write_str("unix_millis"),
            DateFormat::Pattern(pattern) => f.write_str(pattern),
        }
    }
}

impl DateFormat {
    /// Seconds since the epoch, or `None` when `text` is not in this format.
    pub fn parse(&self, text: &str) -> Option<f64> {
        match self {
            DateFormat::UnixSeconds => text.parse::<f64>().ok().filter(|v| v.is_finite()),
            DateFormat::UnixMillis => text.parse::<f64>().ok().map(|v| v / 1000.0),
            DateFormat::Pattern(pattern) => parse_pattern(text, pattern),
        }
    }

    /// Writes seconds since the epoch in this format (whole seconds, or
    /// milliseconds for `unix_millis`).
    pub fn format(&self, seconds: f64) -> String {
        match self {
            DateFormat::UnixSeconds => format!("{}", seconds.round() as i64),
            DateFormat::UnixMillis => format!("{}", (seconds * 1000.0).round() as i64),
            DateFormat::Pattern(pattern) => {
                let instant =
                    DateTime::from_timestamp(seconds.round() as i64, 0).unwrap_or_default();
                // Instants are UTC, so offsets (`%z`) print as +00:00.
                format_instant(&instant, pattern)
                    .unwrap_or_else(|| instant.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            }
        }
    }

    /// Checks that a user-given pattern can format a date.
    pub fn validate(&self) -> Result<(), String> {
        if let DateFormat::Pattern(pattern) = self {
            use chrono::format::{Item, StrftimeItems};
            let invalid = StrftimeItems::new(pattern).any(|item| matches!(item, Item::Error));
            if invalid || format_instant(&DateTime::UNIX_EPOCH, pattern).is_none() {
                return Err(format!("`{pattern}` is not a valid strftime pattern"));
            }
        }
        Ok(())
    }
}

/// Formats without panicking: chrono reports a pattern it cannot render
/// only through `fmt::Error`.
fn format_instant(instant: &DateTime<chrono::Utc>, pattern: &str) -> Option<String> {
    use std::fmt::Write;
    let mut text = String::new();
    write!(text, "{}", instant.format(pattern)).ok()?;
    Some(text)
}

fn parse_pattern(text: &str, pattern: &str) -> Option<f64> {
    if let Ok(instant) = DateTime::parse_from_str(text, pattern) {
        return Some(instant.timestamp() as f64);
    }
    if let Ok(instant) = NaiveDateTime::parse_from_str(text, pattern) {
        return Some(instant.and_utc().timestamp() as f64);
    }
    let date = NaiveDate::parse_from_str(text, pattern).ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp() as f64)
}

/// Finds the format that reads every sampled text and writes most of them
/// back unchanged; `None` when no format reads them all.
pub fn detect(samples: &[&str], name_suggests_time: bool) -> Option<DateFormat> {
    if samples.is_empty() {
        return None;
    }
    if samples.iter().all(|s| is_plain_integer(s)) {
        return detect_epoch(samples, name_suggests_time);
    }
    PATTERNS
        .iter()
        .map(|p| DateFormat::Pattern(p.to_string()))
        .filter(|format| samples.iter().all(|s| format.parse(s).is_some()))
        .max_by_key(|format| {
            let same = samples.iter().filter(|s| round_trips(format, s)).count();
            // Prefer earlier patterns on ties: max_by_key keeps the last max.
            (same, usize::MAX - PATTERNS.iter().position(|p| *p == format.to_string()).unwrap_or(0))
        })
}

fn detect_epoch(samples: &[&str], name_suggests_time: bool) -> Option<DateFormat> {
    if !name_suggests_time {
        return None;
    }
    let values: Vec<f64> = samples.iter().filter_map(|s| s.parse().ok()).collect();
    let (low, high) = UNIX_SECONDS_RANGE;
    if values.iter().all(|v| (low..high).contains(v)) {
        Some(DateFormat::UnixSeconds)
    } else if values.iter().all(|v| (low * 1000.0..high * 1000.0).contains(v)) {
        Some(DateFormat::UnixMillis)
    } else {
        None
    }
}

fn round_trips(format: &DateFormat, text: &str) -> bool {
    format.parse(text).is_some_and(|seconds| format.format(seconds) == text)
}

fn is_plain_integer(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpadded_us_dates_are_written_back_unpadded() {
        let format = detect(&["12/1/2010 8:26", "6/12/2011 12:34"], false).unwrap();
        let seconds = format.parse("12/1/2010 8:26").unwrap();
        assert_eq!(format.format(seconds), "12/1/2010 8:26");
    }

    #[test]
    fn unix_seconds_need_a_time_like_name() {
        let samples = ["1511544070", "1512281917"];
        assert_eq!(detect(&samples, true), Some(DateFormat::UnixSeconds));
        assert_eq!(detect(&samples, false), None);
    }

    #[test]
    fn iso_dates_round_trip() {
        let format = detect(&["2017-11-25T10:00:00", "2017-12-03T23:59:59"], false).unwrap();
        let seconds = format.parse("2017-12-03T23:59:59").unwrap();
        assert_eq!(format.format(seconds), "2017-12-03T23:59:59");
    }

    #[test]
    fn offsets_are_read_and_written_without_panicking() {
        let samples = ["2021-03-23T23:53:36+02:00", "2021-03-24T01:00:00+02:00"];
        let format = detect(&samples, false).unwrap();
        let seconds = format.parse(samples[0]).unwrap();
        assert_eq!(format.format(seconds), "2021-03-23T21:53:36+00:00");
    }

    #[test]
    fn plain_words_are_not_dates() {
        assert_eq!(detect(&["Feb", "Nov"], false), None);
    }
}
