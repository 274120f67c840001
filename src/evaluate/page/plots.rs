//! The page's plots, drawn by plotters into SVG text that is inlined.
//!
//! No font is loaded: plotters' SVG backend writes text as `<text>` and
//! leaves glyphs to the browser, so a plot reads the same on any machine.
//! Titles and legends are placed by hand above the plot area, where they
//! can never hide a bar; real and synthetic keep one colour each everywhere.

use std::error::Error;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format;
use crate::evaluate::PairTrend;
use crate::evaluate::distributions::{Axis, ColumnDistribution, Plot};

/// The real side's colour (blue).
pub const REAL: RGBColor = RGBColor(31, 119, 180);
/// The synthetic side's colour (orange), told apart from blue by people
/// with the common colour blindnesses.
pub const SYNTHETIC: RGBColor = RGBColor(230, 115, 0);
/// Heat-map cells without a score, or whose pair does not count.
const NO_SCORE: RGBColor = RGBColor(205, 205, 205);
const INK: RGBColor = RGBColor(40, 40, 40);
const FAINT: RGBColor = RGBColor(120, 120, 120);

/// Size of a column plot; bar plots grow with their labels.
const WIDTH: u32 = 400;
const HEIGHT: u32 = 260;
/// Height of the band above the plot that holds the title and legend.
const HEADER: u32 = 30;
/// Characters of a title or label shown before it is cut with an ellipsis.
const TITLE_CHARS: usize = 40;
const LABEL_CHARS: usize = 16;
/// plotters writes a font size of `size / 1.24` into SVG; these are the
/// sizes passed to it.
const TITLE_SIZE: f64 = 16.0;
const LABEL_SIZE: f64 = 13.0;
/// Viridis at 0, 1/4, 1/2, 3/4 and 1: ordered in lightness, so the scale
/// reads in grey and to colour-blind eyes.
const RAMP: [(u8, u8, u8); 5] =
    [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)];

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn Error>>;
type Chart<'a, X, Y> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>;

/// One column's plot as an `<svg>` element.
pub fn column_plot(distribution: &ColumnDistribution) -> String {
    let title = distribution.column.as_str();
    match &distribution.plot {
        Plot::Histogram { edges, real, synthetic, axis } => {
            let series = Series { real, synthetic: synthetic.as_deref() };
            svg((WIDTH, HEIGHT), |area| histogram(area, title, edges, &series, *axis))
        }
        Plot::Bars { labels, real, synthetic } => {
            let series = Series { real, synthetic: synthetic.as_deref() };
            let height = HEIGHT.max(HEADER + 50 + 14 * labels.len() as u32);
            svg((WIDTH, height), |area| bars(area, title, labels, &series))
        }
        Plot::Ranks { ranks, real, synthetic } => {
            let series = Series { real, synthetic: synthetic.as_deref() };
            svg((WIDTH, HEIGHT), |area| popularity(area, title, ranks, &series))
        }
    }
}

/// Both sides' shares; `synthetic` is `None` for a real-only column.
struct Series<'a> {
    real: &'a [f64],
    synthetic: Option<&'a [f64]>,
}

impl Series<'_> {
    fn largest(&self) -> f64 {
        self.real.iter().chain(self.synthetic.into_iter().flatten()).copied().fold(0.0, f64::max)
    }
}

/// Draws into a fresh SVG; a drawing error becomes a plot that says so,
/// since one broken plot must not cost the reader the rest of the page.
fn svg(size: (u32, u32), draw: impl FnOnce(&Area) -> Drawn) -> String {
    let mut text = String::new();
    let outcome = {
        let area = SVGBackend::with_string(&mut text, size).into_drawing_area();
        let drawn = area.fill(&WHITE).map_err(Into::into).and_then(|()| draw(&area));
        drawn.and_then(|()| area.present().map_err(Into::into))
    };
    match outcome {
        Ok(()) => text,
        Err(error) => failed(size, &error.to_string()),
    }
}

/// A plain SVG carrying the reason a plot could not be drawn.
fn failed(size: (u32, u32), reason: &str) -> String {
    format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"20\" font-size=\"12\">\
         The plot could not be drawn: {}</text></svg>",
        format::escape(reason),
        w = size.0,
        h = size.1,
    )
}

/// The title at the top left and the legend at the top right.
fn header(area: &Area, title: &str, synthetic: bool) -> Drawn {
    let style = ("sans-serif", TITLE_SIZE, FontStyle::Bold).into_font().color(&INK);
    area.draw(&Text::new(cut(title, TITLE_CHARS), (10, 8), style))?;

    let width = area.dim_in_pixel().0 as i32;
    let label = font(LABEL_SIZE).color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
    let y = 15;
    let mut x = width - if synthetic { 150 } else { 60 };
    area.draw(&Rectangle::new([(x, y - 5), (x + 14, y + 5)], REAL.mix(0.55).filled()))?;
    area.draw(&Text::new("real", (x + 19, y), label.clone()))?;
    if synthetic {
        x += 58;
        area.draw(&PathElement::new([(x, y), (x + 14, y)], SYNTHETIC.stroke_width(3)))?;
        area.draw(&Text::new("synthetic", (x + 19, y), label))?;
    }
    Ok(())
}

/// Room for the y labels, and at most how many labels each axis gets (0
/// for an axis whose values are words written by hand).
struct Labels {
    left: u32,
    x: usize,
    y: usize,
}

/// The plot area under the header, with axes and a light grid.
fn frame<'a, X, Y>(
    area: &Area<'a>,
    x: X,
    y: Y,
    x_label: &dyn Fn(&f64) -> String,
    y_label: &dyn Fn(&f64) -> String,
    labels: Labels,
) -> Result<Chart<'a, X::CoordDescType, Y::CoordDescType>, Box<dyn Error>>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(HEADER)
        .margin_right(26)
        .margin_bottom(6)
        .x_label_area_size(26)
        .y_label_area_size(labels.left)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        .bold_line_style(BLACK.mix(0.08))
        .axis_style(FAINT)
        .label_style(font(LABEL_SIZE).color(&INK))
        .x_labels(labels.x)
        .y_labels(labels.y)
        .x_label_formatter(x_label)
        .y_label_formatter(y_label)
        .draw()?;
    Ok(chart)
}

/// A note in the middle of a plot that has nothing to draw.
fn empty(area: &Area, title: &str, note: &str) -> Drawn {
    header(area, title, false)?;
    let (width, height) = area.dim_in_pixel();
    let style = font(LABEL_SIZE).color(&FAINT).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(note.to_string(), (width as i32 / 2, height as i32 / 2), style))?;
    Ok(())
}

/// Real shares as filled bins, synthetic as a step line over them.
fn histogram(area: &Area, title: &str, edges: &[f64], series: &Series, axis: Axis) -> Drawn {
    let (Some(&low), Some(&high)) = (edges.first(), edges.last()) else {
        return empty(area, title, "no readable values");
    };
    if !(low.is_finite() && high.is_finite() && low < high) {
        return empty(area, title, "no range to draw");
    }
    // A log axis cannot start at 0 or below; such edges are drawn linear.
    let axis = if axis == Axis::Log && low <= 0.0 { Axis::Linear } else { axis };
    header(area, title, series.synthetic.is_some())?;
    let top = (series.largest() * 1.1).max(0.01);
    let y_label = |share: &f64| format::percent_label(*share);

    match axis {
        Axis::Log => {
            let x_label = |value: &f64| format::number_label(*value);
            let x = (low..high).log_scale().with_key_points(log_ticks(low, high));
            let chart =
                frame(area, x, 0.0..top, &x_label, &y_label, Labels { left: 46, x: 10, y: 5 })?;
            bins(chart, edges, series)
        }
        Axis::Linear | Axis::Time => {
            let span = high - low;
            let x_label = |value: &f64| match axis {
                Axis::Time => format::date_label(*value, span),
                _ => format::number_label(*value),
            };
            let x_labels = if axis == Axis::Time { 4 } else { 6 };
            let chart = frame(
                area,
                low..high,
                0.0..top,
                &x_label,
                &y_label,
                Labels { left: 46, x: x_labels, y: 5 },
            )?;
            bins(chart, edges, series)
        }
    }
}

fn bins<X>(mut chart: Chart<X, RangedCoordf64>, edges: &[f64], series: &Series) -> Drawn
where
    X: Ranged<ValueType = f64>,
{
    let pairs = edges.windows(2).zip(series.real);
    chart.draw_series(pairs.map(|(edge, &share)| {
        Rectangle::new([(edge[0], 0.0), (edge[1], share)], REAL.mix(0.55).filled())
    }))?;
    if let Some(synthetic) = series.synthetic {
        let mut steps = vec![(edges[0], 0.0)];
        for (edge, &share) in edges.windows(2).zip(synthetic) {
            steps.push((edge[0], share));
            steps.push((edge[1], share));
        }
        steps.push((edges[edges.len() - 1], 0.0));
        chart.draw_series(std::iter::once(PathElement::new(steps, SYNTHETIC.stroke_width(2))))?;
    }
    Ok(())
}

/// Horizontal bars, one row per label, real above synthetic; labels are
/// written by hand at the left since they are words, not axis values.
fn bars(area: &Area, title: &str, labels: &[String], series: &Series) -> Drawn {
    if labels.is_empty() {
        return empty(area, title, "no values");
    }
    header(area, title, series.synthetic.is_some())?;
    let rows = labels.len() as f64;
    let right = (series.largest() * 1.1).max(0.01);
    let x_label = |share: &f64| format::percent_label(*share);
    let no_label = |_: &f64| String::new();
    let y = -0.5..rows - 0.5;
    let mut chart =
        frame(area, 0.0..right, y, &x_label, &no_label, Labels { left: 112, x: 6, y: 0 })?;

    // Row k is drawn at height rows - 1 - k, so the first label is on top.
    let centre = |k: usize| rows - 1.0 - k as f64;
    let half = if series.synthetic.is_some() { 0.4 } else { 0.35 };
    chart.draw_series(series.real.iter().enumerate().map(|(k, &share)| {
        let (low, high) = match series.synthetic {
            Some(_) => (centre(k), centre(k) + half),
            None => (centre(k) - half, centre(k) + half),
        };
        Rectangle::new([(0.0, low), (share, high)], REAL.mix(0.55).filled())
    }))?;
    if let Some(synthetic) = series.synthetic {
        chart.draw_series(synthetic.iter().enumerate().map(|(k, &share)| {
            Rectangle::new([(0.0, centre(k) - half), (share, centre(k))], SYNTHETIC.filled())
        }))?;
    }

    let style = font(LABEL_SIZE).color(&INK).pos(Pos::new(HPos::Right, VPos::Center));
    for (k, label) in labels.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, centre(k)));
        area.draw(&Text::new(cut(label, LABEL_CHARS), (x - 6, y), style.clone()))?;
    }
    Ok(())
}

/// Share of keyed rows by popularity rank, log-log, one line per side;
/// ranks a side lacks (share 0) cannot sit on a log axis and are left out.
fn popularity(area: &Area, title: &str, ranks: &[usize], series: &Series) -> Drawn {
    let positive = |shares: &[f64]| -> Vec<(f64, f64)> {
        ranks.iter().zip(shares).filter(|(_, s)| **s > 0.0).map(|(&r, &s)| (r as f64, s)).collect()
    };
    let real = positive(series.real);
    let synthetic = series.synthetic.map(positive);
    let smallest = real
        .iter()
        .chain(synthetic.iter().flatten())
        .map(|(_, share)| *share)
        .fold(f64::INFINITY, f64::min);
    if !smallest.is_finite() {
        return empty(area, title, "no keys");
    }
    header(area, title, synthetic.is_some())?;

    let last = ranks.last().map_or(1.0, |&r| r as f64).max(2.0);
    let top = (series.largest() * 1.5).min(1.0).max(smallest * 2.0);
    let x_label = |rank: &f64| format::number_label(*rank);
    let y_label = |share: &f64| format::percent_label(*share);
    let x = (1.0..last).log_scale().with_key_points(log_ticks(1.0, last));
    let bottom = smallest / 1.5;
    let y = (bottom..top).log_scale().with_key_points(log_ticks(bottom, top));
    let mut chart = frame(area, x, y, &x_label, &y_label, Labels { left: 52, x: 10, y: 5 })?;

    for (points, colour) in [(Some(real), REAL), (synthetic, SYNTHETIC)] {
        let Some(points) = points else { continue };
        chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?;
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
    }
    Ok(())
}

/// Tick values for a log axis over `low..high`: decades when it spans
/// many, finer steps when it spans few, so labels neither crowd nor vanish
/// (plotters' own log ticks do both).
fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    const STEPS: [&[f64]; 4] =
        [&[1.0], &[1.0, 3.0], &[1.0, 2.0, 5.0], &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0]];
    let decades = (high / low).log10();
    let coarsest = match decades {
        d if d > 3.0 => 0,
        d if d > 1.2 => 1,
        d if d > 0.5 => 2,
        _ => 3,
    };
    let inside = |tick: &f64| *tick >= low * (1.0 - 1e-9) && *tick <= high * (1.0 + 1e-9);
    let powers = low.log10().floor() as i32..=high.log10().ceil() as i32;
    let mut ticks = Vec::new();
    for steps in &STEPS[coarsest..] {
        ticks = powers
            .clone()
            .flat_map(|power| steps.iter().map(move |step| step * 10f64.powi(power)))
            .filter(inside)
            .collect();
        if ticks.len() >= 2 {
            break;
        }
    }
    ticks
}

/// A heat map of pair trend scores over `columns`: the lower triangle of
/// the matrix, cells coloured by score, grey where a pair has no score or
/// does not count; a counted cell also prints its score when it fits.
pub fn heat_map(title: &str, columns: &[String], pairs: &[PairTrend]) -> String {
    let grid = columns.len().saturating_sub(1).max(1) as i32;
    let cell = (320 / grid).clamp(16, 40);
    let (left, top, bottom, legend) = (120, HEADER as i32 + 4, 100, 70);
    let size = ((left + grid * cell + legend) as u32, (top + grid * cell + bottom) as u32);
    svg(size, |area| {
        let style = ("sans-serif", TITLE_SIZE, FontStyle::Bold).into_font().color(&INK);
        area.draw(&Text::new(cut(title, TITLE_CHARS), (10, 8), style))?;

        let index = |name: &str| columns.iter().position(|c| c == name);
        let position = |pair: &PairTrend| {
            let (a, b) = (index(&pair.column_1)?, index(&pair.column_2)?);
            Some((a.max(b) as i32 - 1, a.min(b) as i32))
        };
        let text_size = (cell as f64 * 0.45).min(LABEL_SIZE);
        let square = |row: i32, column: i32| {
            let (x, y) = (left + column * cell, top + row * cell);
            [(x, y), (x + cell - 1, y + cell - 1)]
        };
        for row in 0..grid {
            for column in 0..=row {
                area.draw(&Rectangle::new(square(row, column), NO_SCORE.filled()))?;
            }
        }
        for pair in pairs {
            let Some((row, column)) = position(pair) else { continue };
            let counted = pair.score.filter(|_| pair.counted);
            let fill = counted.map_or(NO_SCORE, ramp);
            area.draw(&Rectangle::new(square(row, column), fill.filled()))?;
            // A pair that does not count has a score SDMetrics itself would
            // not report; printing it would invite reading it.
            if let Some(score) = counted.filter(|_| cell >= 20) {
                let ink = if score < 0.6 { WHITE } else { BLACK };
                let style = font(text_size).color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                let at = (left + column * cell + cell / 2, top + row * cell + cell / 2);
                area.draw(&Text::new(format!("{score:.2}"), at, style))?;
            }
        }

        let label = font(LABEL_SIZE).color(&INK);
        for (k, name) in columns.iter().enumerate().skip(1) {
            let y = top + (k as i32 - 1) * cell + cell / 2;
            let style = label.pos(Pos::new(HPos::Right, VPos::Center));
            area.draw(&Text::new(cut(name, LABEL_CHARS), (left - 6, y), style))?;
        }
        for (k, name) in columns.iter().enumerate().take(columns.len().saturating_sub(1)) {
            let at = (left + k as i32 * cell + cell / 2, top + grid * cell + 6);
            let style =
                label.pos(Pos::new(HPos::Right, VPos::Center)).transform(FontTransform::Rotate270);
            area.draw(&Text::new(cut(name, LABEL_CHARS), at, style))?;
        }

        scale(area, (left + grid * cell + 20, top))
    })
}

/// The colour scale beside a heat map, from 0 at the bottom to 1 on top,
/// and the grey swatch.
fn scale(area: &Area, (x, y): (i32, i32)) -> Drawn {
    let steps = 20;
    let height = 6;
    for step in 0..steps {
        let score = 1.0 - step as f64 / (steps - 1) as f64;
        let top = y + step * height;
        area.draw(&Rectangle::new([(x, top), (x + 14, top + height)], ramp(score).filled()))?;
    }
    let label = font(LABEL_SIZE).color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
    let bottom = y + steps * height;
    for (text, at) in [("1", y + 3), ("0.5", (y + bottom) / 2), ("0", bottom - 3)] {
        area.draw(&Text::new(text, (x + 18, at), label.clone()))?;
    }
    let grey = bottom + 14;
    area.draw(&Rectangle::new([(x, grey), (x + 14, grey + 10)], NO_SCORE.filled()))?;
    area.draw(&Text::new("n/a", (x + 18, grey + 5), label))?;
    Ok(())
}

/// The colour of a score in 0..1 on [`RAMP`].
fn ramp(score: f64) -> RGBColor {
    let position = score.clamp(0.0, 1.0) * (RAMP.len() - 1) as f64;
    let below = (position.floor() as usize).min(RAMP.len() - 2);
    let fraction = position - below as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * fraction).round() as u8;
    let (a, b) = (RAMP[below], RAMP[below + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn font(size: f64) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// `text` cut to `chars` characters, an ellipsis marking the cut.
fn cut(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_string();
    }
    let mut kept: String = text.chars().take(chars - 1).collect();
    kept.push('…');
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_neither_crowd_nor_vanish() {
        assert_eq!(log_ticks(1.0, 100_000.0), [1.0, 10.0, 100.0, 1000.0, 10_000.0, 100_000.0]);
        assert_eq!(log_ticks(2000.0, 90_000.0), [3000.0, 10_000.0, 30_000.0]);
        assert_eq!(log_ticks(1.0, 4.0), [1.0, 2.0]);
        assert_eq!(log_ticks(1.0, 2.0), [1.0, 1.5, 2.0]);
        assert!(log_ticks(0.0004, 0.3).len() >= 2);
    }

    #[test]
    fn the_ramp_runs_from_dark_to_light() {
        assert_eq!(ramp(0.0), RGBColor(68, 1, 84));
        assert_eq!(ramp(1.0), RGBColor(253, 231, 37));
        assert_eq!(ramp(0.5), RGBColor(33, 145, 140));
    }
}
