//! SVG figures of aggregated runs: mean curves with ±1 std bands against wall time.
//!
//! Rendered with plotters' SVG backend, which writes text as `<text>` elements for the viewer
//! to lay out, so no font files or font libraries are needed to draw.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::aggregate::Metric;
use crate::aggregate::curves::Curves;
use crate::aggregate::rows::optimizer_of;
use crate::aggregate::table::format_significant;
use crate::error::{Error, Result};

/// What the figure's title says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureTitle {
    /// The dataset's name (e.g. its file name).
    pub dataset: String,
    /// Hidden units h.
    pub hidden: usize,
    /// Random train/test splits the curves average over.
    pub n_splits: usize,
    /// Whether the runs had a test set: an empty test panel then says why it is empty.
    pub test_set: bool,
}

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 900;
/// Height of one line of the legend, and the legend's margin above and below.
const LEGEND_LINE: u32 = 28;
const LEGEND_MARGIN: u32 = 8;
const FONT: &str = "sans-serif";

/// The optimizers this program ships, each with a fixed color (the matplotlib "tab10" hues).
const KNOWN_COLORS: [(&str, RGBColor); 6] = [
    ("anmin", RGBColor(31, 119, 180)),
    ("anmin-plain", RGBColor(23, 190, 207)),
    ("adam", RGBColor(255, 127, 14)),
    ("sgd", RGBColor(44, 160, 44)),
    ("lbfgs", RGBColor(214, 39, 40)),
    ("lm", RGBColor(148, 103, 189)),
];

/// Colors for other optimizer names, chosen by a hash of the name.
const OTHER_COLORS: [RGBColor; 4] = [
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
];

/// A color for each row name (an optimizer, possibly followed by settings: see
/// [`crate::aggregate::rows`]): the known optimizers' fixed color for the first of their rows
/// in name order; for other names the palette entry their name hashes to, moved on to the
/// next free entry if another name in the same figure already has it.
pub fn optimizer_colors<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<&'a str, RGBColor> {
    let mut names: Vec<&str> = names.into_iter().collect();
    names.sort_unstable();
    names.dedup();
    let mut colors = BTreeMap::new();
    let mut unknown = Vec::new();
    for name in names {
        let base = optimizer_of(name);
        let known = KNOWN_COLORS.iter().find(|(known, _)| *known == base);
        match known {
            Some(&(_, color)) if !colors.values().any(|&c| c == color) => {
                colors.insert(name, color);
            }
            _ => unknown.push(name),
        }
    }
    let mut taken = [false; OTHER_COLORS.len()];
    for name in unknown {
        let home = (fnv1a(name.as_bytes()) % OTHER_COLORS.len() as u64) as usize;
        let slot = (0..OTHER_COLORS.len())
            .map(|i| (home + i) % OTHER_COLORS.len())
            .find(|&i| !taken[i])
            .unwrap_or(home);
        taken[slot] = true;
        colors.insert(name, OTHER_COLORS[slot]);
    }
    colors
}

/// FNV-1a: a hash that, unlike std's, is fixed across Rust versions and runs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;
type DrawResult<T> = std::result::Result<T, DrawingAreaErrorKind<std::io::Error>>;

/// The figure as SVG text: a 2×2 grid of panels (training MSE, test MSE, training R², test
/// R², each against time on a log axis), each optimizer's mean curve with a translucent
/// ±1 std band, a legend, and a title naming the dataset, h and the number of splits.
pub fn render_svg(curves: &Curves, title: &FigureTitle) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw_figure(&root, curves, title).map_err(|e| Error::Plot(e.to_string()))?;
        root.present().map_err(|e| Error::Plot(e.to_string()))?;
    }
    Ok(svg)
}

/// Renders the figure and writes it to `path` atomically.
pub fn write_svg(path: &Path, curves: &Curves, title: &FigureTitle) -> Result<()> {
    let svg = render_svg(curves, title)?;
    crate::outputs::write_atomic(path, svg.as_bytes())
}

fn draw_figure(root: &Area, curves: &Curves, title: &FigureTitle) -> DrawResult<()> {
    root.fill(&WHITE)?;
    let splits = if title.n_splits == 1 {
        "split"
    } else {
        "splits"
    };
    let heading = format!(
        "{}: h = {}, {} random {splits} (mean ± 1 std)",
        title.dataset, title.hidden, title.n_splits
    );
    let body = root.titled(&heading, (FONT, 26))?;
    let (body_width, body_height) = body.dim_in_pixel();
    let colors = optimizer_colors(curves.optimizers.keys().map(String::as_str));
    let legend_lines = legend_lines(&colors, body_width as i32);
    let legend_height = LEGEND_LINE * legend_lines.len() as u32 + 2 * LEGEND_MARGIN;
    let (panels, legend) = body.split_vertically(body_height.saturating_sub(legend_height));
    for (area, metric) in panels.split_evenly((2, 2)).iter().zip(Metric::ALL) {
        draw_panel(area, curves, metric, &colors, title.test_set)?;
    }
    draw_legend(&legend, &legend_lines)
}

/// One optimizer's curve in one panel: its stretches of grid points with a defined mean, as
/// (time, mean, std).
struct PanelSeries {
    color: RGBColor,
    stretches: Vec<Vec<(f64, f64, f64)>>,
}

fn panel_series(
    curves: &Curves,
    metric: Metric,
    colors: &BTreeMap<&str, RGBColor>,
) -> Vec<PanelSeries> {
    curves
        .optimizers
        .iter()
        .map(|(name, optimizer)| {
            let curve = optimizer.get(metric);
            let mut stretches = vec![Vec::new()];
            for (i, &t) in curves.time_s.iter().enumerate() {
                let mean = curve.mean.get(i).copied().flatten();
                let std = curve.std.get(i).copied().flatten().unwrap_or(0.0);
                // Band ends must be finite too, or the axes would have no extent.
                let band_is_finite = (mean.unwrap_or(0.0) + std).is_finite()
                    && (mean.unwrap_or(0.0) - std).is_finite();
                match mean {
                    Some(mean) if mean.is_finite() && t > 0.0 => {
                        let current = stretches.last_mut().expect("one stretch at least");
                        current.push((t, mean, if band_is_finite { std } else { 0.0 }));
                    }
                    // A gap (no run contributes) ends the stretch.
                    _ if stretches.last().is_some_and(|s| !s.is_empty()) => {
                        stretches.push(Vec::new())
                    }
                    _ => {}
                }
            }
            stretches.retain(|s| !s.is_empty());
            PanelSeries {
                color: colors[name.as_str()],
                stretches,
            }
        })
        .filter(|s| !s.stretches.is_empty())
        .collect()
}

fn draw_panel(
    area: &Area,
    curves: &Curves,
    metric: Metric,
    colors: &BTreeMap<&str, RGBColor>,
    test_set: bool,
) -> DrawResult<()> {
    let series = panel_series(curves, metric, colors);
    let points = || series.iter().flat_map(|s| s.stretches.iter().flatten());
    let Some(t_first) = points().map(|p| p.0).reduce(f64::min) else {
        return draw_empty_panel(area, metric, test_set);
    };
    let t_last = points().map(|p| p.0).fold(t_first, f64::max);
    let (time_range, time_ticks) = log_axis(t_first, t_last);
    let time_axis = time_range.log_scale().with_key_points(time_ticks);
    let means = || points().map(|p| p.1);
    let min_mean = means().fold(f64::INFINITY, f64::min);
    let max_mean = means().fold(f64::NEG_INFINITY, f64::max);
    // A log axis when the MSE spans more than a decade; band ends at or below zero are drawn
    // at a floor under the smallest mean.
    if metric.is_mse() && min_mean > 0.0 && max_mean > 10.0 * min_mean {
        let floor = min_mean / 4.0;
        let low = points()
            .map(|p| (p.1 - p.2).max(floor))
            .fold(min_mean, f64::min);
        let high = points().map(|p| p.1 + p.2).fold(max_mean, f64::max);
        let (range, ticks) = log_axis(low, high);
        let y_axis = range.clone().log_scale().with_key_points(ticks);
        draw_chart(area, metric, time_axis, y_axis, &series, &range)
    } else {
        let range = linear_range(metric, points().map(|p| (p.1 - p.2, p.1 + p.2)));
        draw_chart(area, metric, time_axis, range.clone(), &series, &range)
    }
}

/// A log axis over `low..high` (both positive), padded a little, with ticks at round values:
/// powers of ten, else 1-2-5 or 1…9 times them, else the ends and the middle of a range too
/// narrow for any of those.
fn log_axis(low: f64, high: f64) -> (Range<f64>, Vec<f64>) {
    let pad = if high > low {
        (high / low).powf(0.02).min(1e10)
    } else {
        1.25
    };
    // Clamped so that extreme values still give a finite, positive axis.
    let range = (low / pad).max(f64::MIN_POSITIVE)..(high * pad).min(f64::MAX);
    let (first, last) = (
        range.start.log10().floor() as i32,
        range.end.log10().ceil() as i32,
    );
    let candidates = |mantissas: &[f64]| -> Vec<f64> {
        (first..=last)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| range.contains(v))
            .collect()
    };
    for mantissas in [
        &[1.0][..],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ] {
        let mut ticks = candidates(mantissas);
        if ticks.len() >= 3 {
            // Many decades: every k-th power of ten keeps the labels apart.
            let keep_every = ticks.len().div_ceil(8);
            ticks = ticks.into_iter().step_by(keep_every).collect();
            return (range, ticks);
        }
    }
    let ticks = if high > low {
        vec![low, (low * high).sqrt(), high]
    } else {
        vec![low]
    };
    (range, ticks)
}

/// A tick label: three significant digits without trailing zeros ("0.01", "2.5", "1e-4").
fn tick_label(v: f64) -> String {
    let text = format_significant(v, 3);
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, format!("e{e}")),
        None => (text.as_str(), String::new()),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    format!("{mantissa}{exponent}")
}

/// A padded linear axis over the band ends. R² axes stay within [−1, 1]: R² never exceeds 1
/// (a band above it is an artifact of a symmetric band), and below −1 a model is useless, so
/// one diverging optimizer should not flatten every other curve.
fn linear_range(metric: Metric, bands: impl Iterator<Item = (f64, f64)>) -> Range<f64> {
    let (mut low, mut high) = bands.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (l, h)| {
        (lo.min(l), hi.max(h))
    });
    if !metric.is_mse() {
        high = high.min(1.0);
        if high > -1.0 {
            low = low.max(-1.0);
        }
        low = low.min(high);
    }
    if metric.is_mse() {
        low = low.max(0.0);
    }
    // plotters' tick search loops forever when ten times the span overflows; values beyond
    // this run along the edge.
    const LIMIT: f64 = 1e300;
    let (low, high) = (low.clamp(-LIMIT, LIMIT), high.clamp(-LIMIT, LIMIT));
    let pad = if high > low {
        0.05 * (high - low)
    } else {
        0.05 * high.abs().max(1e-12)
    };
    let start = if metric.is_mse() {
        (low - pad).max(0.0)
    } else {
        low - pad
    };
    start..high + pad
}

fn draw_chart<Y>(
    area: &Area,
    metric: Metric,
    time_axis: WithKeyPoints<LogCoord<f64>>,
    y_axis: Y,
    series: &[PanelSeries],
    y_range: &Range<f64>,
) -> DrawResult<()>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} vs time", metric.label()), (FONT, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(time_axis, y_axis)?;
    let format_tick = |v: &f64| tick_label(*v);
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(metric.label())
        .y_labels(8)
        .x_label_formatter(&format_tick)
        .y_label_formatter(&format_tick)
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    // Values beyond the axis (clipped R², band ends under a log floor) run along its edge.
    let clamp = |v: f64| v.clamp(y_range.start, y_range.end);
    for s in series {
        for stretch in &s.stretches {
            let upper = stretch.iter().map(|&(t, m, sd)| (t, clamp(m + sd)));
            let lower = stretch.iter().rev().map(|&(t, m, sd)| (t, clamp(m - sd)));
            chart.draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                s.color.mix(0.18).filled(),
            )))?;
        }
    }
    // Lines after every band, so that no band veils another optimizer's mean.
    for s in series {
        for stretch in &s.stretches {
            chart.draw_series(LineSeries::new(
                stretch.iter().map(|&(t, m, _)| (t, clamp(m))),
                s.color.stroke_width(2),
            ))?;
        }
    }
    Ok(())
}

fn draw_empty_panel(area: &Area, metric: Metric, test_set: bool) -> DrawResult<()> {
    let inner = area.titled(&format!("{} vs time", metric.label()), (FONT, 20))?;
    let (w, h) = inner.dim_in_pixel();
    let message = if metric.is_test() && !test_set {
        "no data: the runs have no test set"
    } else {
        // Every value is null for another reason (it overflows f64, or R² of constant targets).
        "no data: no run has a defined value"
    };
    let style = TextStyle::from((FONT, 18).into_font())
        .color(&RGBColor(110, 110, 110))
        .pos(Pos::new(HPos::Center, VPos::Center));
    inner.draw(&Text::new(message, (w as i32 / 2, h as i32 / 2), style))
}

const LEGEND_SAMPLE: i32 = 28;
const LEGEND_GAP: i32 = 8;
const LEGEND_SPACING: i32 = 32;

fn legend_font() -> FontDesc<'static> {
    (FONT, 16).into_font()
}

/// One legend entry: a line sample in the color, then the name.
struct LegendEntry<'a> {
    name: &'a str,
    color: RGBColor,
    width: i32,
}

/// The legend's entries in name order, broken into centered lines no wider than `width`
/// (long row names, such as optimizers with settings, take several lines).
fn legend_lines<'a>(colors: &BTreeMap<&'a str, RGBColor>, width: i32) -> Vec<Vec<LegendEntry<'a>>> {
    let font = legend_font();
    let mut lines: Vec<Vec<LegendEntry>> = vec![Vec::new()];
    let mut used = 0;
    for (&name, &color) in colors {
        let text = font
            .box_size(name)
            .map_or(8 * name.len() as i32, |b| b.0 as i32);
        let entry_width = LEGEND_SAMPLE + LEGEND_GAP + text;
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && used + LEGEND_SPACING + entry_width > width {
            lines.push(Vec::new());
            used = 0;
        }
        let line = lines.last_mut().expect("one line at least");
        used += if line.is_empty() { 0 } else { LEGEND_SPACING } + entry_width;
        line.push(LegendEntry {
            name,
            color,
            width: entry_width,
        });
    }
    lines
}

/// Lines of (line sample, name) pairs, each centered.
fn draw_legend(area: &Area, lines: &[Vec<LegendEntry>]) -> DrawResult<()> {
    let style = TextStyle::from(legend_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let (w, _) = area.dim_in_pixel();
    for (i, line) in lines.iter().enumerate() {
        let y = (LEGEND_MARGIN + LEGEND_LINE * i as u32 + LEGEND_LINE / 2) as i32;
        let total = line.iter().map(|e| e.width).sum::<i32>()
            + LEGEND_SPACING * (line.len() as i32 - 1).max(0);
        let mut x = (w as i32 - total).max(0) / 2;
        for entry in line {
            area.draw(&PathElement::new(
                vec![(x, y), (x + LEGEND_SAMPLE, y)],
                entry.color.stroke_width(3),
            ))?;
            area.draw(&Text::new(
                entry.name.to_string(),
                (x + LEGEND_SAMPLE + LEGEND_GAP, y),
                style.clone(),
            ))?;
            x += entry.width + LEGEND_SPACING;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::curves::{MetricCurve, OptimizerCurves};

    fn curve(values: &[Option<f64>]) -> MetricCurve {
        MetricCurve {
            mean: values.to_vec(),
            std: values.iter().map(|v| v.map(|v| 0.1 * v)).collect(),
            n: values.iter().map(|v| usize::from(v.is_some())).collect(),
        }
    }

    fn curves(names: &[&str], with_test: bool) -> Curves {
        let time_s = vec![0.01, 0.1, 1.0, 10.0];
        let optimizers = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let scale = 1.0 + i as f64;
                let mse = curve(&[
                    None,
                    Some(4.0 * scale),
                    Some(2.0 * scale),
                    Some(0.1 * scale),
                ]);
                let r2 = curve(&[None, Some(0.1), Some(0.5), Some(0.9 / scale)]);
                let none = curve(&[None; 4]);
                let test = |c: &MetricCurve| if with_test { c.clone() } else { none.clone() };
                let oc = OptimizerCurves {
                    test_mse: test(&mse),
                    test_r2: test(&r2),
                    train_mse: mse,
                    train_r2: r2,
                };
                (name.to_string(), oc)
            })
            .collect();
        Curves { time_s, optimizers }
    }

    fn title() -> FigureTitle {
        FigureTitle {
            dataset: "abalone.csv".into(),
            hidden: 64,
            n_splits: 100,
            test_set: true,
        }
    }

    fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// The text of every `<text>` element, trimmed.
    fn texts(doc: &roxmltree::Document) -> Vec<String> {
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or("").trim().to_string())
            .collect()
    }

    /// Strokes of the curves (`polyline`/`path` elements).
    fn strokes(doc: &roxmltree::Document) -> Vec<String> {
        doc.descendants()
            .filter(|n| n.has_tag_name("polyline") || n.has_tag_name("path"))
            .filter_map(|n| n.attribute("stroke").map(str::to_string))
            .collect()
    }

    #[test]
    fn figure_has_a_curve_and_a_legend_entry_per_optimizer() {
        let names = ["anmin", "anmin-plain", "adam", "my-method"];
        let svg = render_svg(&curves(&names, true), &title()).unwrap();
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        let texts = texts(&doc);
        let strokes = strokes(&doc);
        let colors = optimizer_colors(names);
        for name in names {
            assert!(texts.iter().any(|t| t == name), "no legend text {name}");
            let color = hex(colors[name]);
            // Four panels, one mean curve each, plus the legend sample.
            let count = strokes.iter().filter(|s| **s == color).count();
            assert!(count >= 5, "{name} ({color}) has {count} curves");
        }
        assert!(
            texts
                .iter()
                .any(|t| t.contains("abalone.csv") && t.contains("h = 64") && t.contains("100")),
            "title: {texts:?}"
        );
        assert!(texts.iter().any(|t| t == "time (s)"));
        assert!(texts.iter().any(|t| t == "test R²"));
        // Bands are filled polygons.
        assert!(doc.descendants().any(|n| n.has_tag_name("polygon")));
    }

    #[test]
    fn panels_without_data_say_why() {
        let no_test_set = FigureTitle {
            test_set: false,
            ..title()
        };
        let svg = render_svg(&curves(&["anmin"], false), &no_test_set).unwrap();
        let without_test = texts(&roxmltree::Document::parse(&svg).unwrap());
        let messages = without_test.iter().filter(|t| t.contains("no test set"));
        assert_eq!(messages.count(), 2, "{without_test:?}");
        // With a test set, empty test panels are values that are all undefined (overflow).
        let svg = render_svg(&curves(&["anmin"], false), &title()).unwrap();
        let with_test = texts(&roxmltree::Document::parse(&svg).unwrap());
        assert!(
            !with_test.iter().any(|t| t.contains("no test set")),
            "{with_test:?}"
        );
        let messages = with_test
            .iter()
            .filter(|t| t.contains("no run has a defined value"));
        assert_eq!(messages.count(), 2, "{with_test:?}");
        let empty = render_svg(&Curves::default(), &title()).unwrap();
        assert!(roxmltree::Document::parse(&empty).is_ok());
    }

    #[test]
    fn log_axes_have_round_ticks_inside_the_range() {
        for (low, high) in [
            (0.0017, 0.15),
            (1e-4, 1e3),
            (0.52, 0.55),
            (0.3, 0.9),
            (2.0, 2.0),
        ] {
            let (range, ticks) = log_axis(low, high);
            assert!(range.start < low && range.end > high, "{range:?}");
            let expected = if high > low { 3 } else { 1 };
            assert!(ticks.len() >= expected, "{low}..{high}: {ticks:?}");
            assert!(ticks.iter().all(|t| range.contains(t)), "{ticks:?}");
        }
        let (_, ticks) = log_axis(0.0017, 0.15);
        let labels: Vec<String> = ticks.iter().map(|&t| tick_label(t)).collect();
        assert_eq!(labels, ["0.002", "0.005", "0.01", "0.02", "0.05", "0.1"]);
        assert_eq!(tick_label(1e-4), "1e-4");
        assert_eq!(tick_label(1234.0), "1234");
    }

    #[test]
    fn r2_axes_stay_within_minus_one_and_one() {
        let range = linear_range(Metric::TestR2, [(0.5, 1.3), (-5.0, 0.9)].into_iter());
        assert!(range.start >= -1.2 && range.start < -1.0, "{range:?}");
        assert!(range.end > 1.0 && range.end <= 1.2, "{range:?}");
        // Only terrible models: the axis follows them below −1.
        let range = linear_range(Metric::TestR2, [(-9.0, -3.0)].into_iter());
        assert!(range.start < -9.0 && range.end > -3.0, "{range:?}");
        let range = linear_range(Metric::TrainMse, [(-0.5, 2.0)].into_iter());
        assert_eq!(range.start, 0.0);
    }

    #[test]
    fn extreme_values_still_draw() {
        for (mean, std) in [
            (1e300, 1e300),
            (1e-300, 1e-300),
            (f64::MAX, f64::MAX),
            (-1e300, 0.0),
        ] {
            let mut c = curves(&["anmin", "adam"], true);
            for oc in c.optimizers.values_mut() {
                for m in [&mut oc.train_mse, &mut oc.train_r2] {
                    m.mean[3] = Some(mean);
                    m.std[3] = Some(std);
                }
            }
            let svg = render_svg(&c, &title()).unwrap();
            assert!(roxmltree::Document::parse(&svg).is_ok(), "{mean} ± {std}");
        }
    }

    #[test]
    fn colors_are_fixed_for_known_optimizers_and_distinct_for_others() {
        let a = optimizer_colors(["anmin", "x", "y", "z"]);
        let b = optimizer_colors(["anmin"]);
        assert_eq!(a["anmin"], b["anmin"]);
        assert_eq!(hex(a["anmin"]), "#1F77B4");
        let mut others: Vec<String> = ["x", "y", "z"].iter().map(|n| hex(a[n])).collect();
        others.sort();
        others.dedup();
        assert_eq!(others.len(), 3);
        assert_eq!(optimizer_colors(["x"])["x"], optimizer_colors(["x"])["x"]);
    }

    #[test]
    fn rows_of_a_known_optimizer_get_its_color_first_then_distinct_ones() {
        let names = [
            "anmin ridge=0.01",
            "anmin ridge=0",
            "adam",
            "anmin ridge=0.1",
        ];
        let colors = optimizer_colors(names);
        assert_eq!(
            hex(colors["anmin ridge=0"]),
            "#1F77B4",
            "anmin's blue, first by name"
        );
        assert_eq!(hex(colors["adam"]), "#FF7F0E");
        let mut all: Vec<String> = names.iter().map(|n| hex(colors[n])).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), names.len(), "every row its own color");
    }

    #[test]
    fn a_long_legend_wraps_onto_lines_within_the_figure() {
        let names: Vec<String> = (0..8)
            .map(|i| format!("anmin ridge={i}e-3 val_frac=0.2 lr=none"))
            .collect();
        let colors = optimizer_colors(names.iter().map(String::as_str));
        let lines = legend_lines(&colors, WIDTH as i32);
        assert!(lines.len() > 1, "{} lines", lines.len());
        assert_eq!(lines.iter().map(Vec::len).sum::<usize>(), names.len());
        for line in &lines {
            let width = line.iter().map(|e| e.width).sum::<i32>()
                + LEGEND_SPACING * (line.len() as i32 - 1);
            assert!(width <= WIDTH as i32, "{width}");
        }
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let svg = render_svg(&curves(&name_refs, true), &title()).unwrap();
        let texts = texts(&roxmltree::Document::parse(&svg).unwrap());
        for name in &names {
            assert!(texts.contains(name), "legend names {name}");
        }
    }

    #[test]
    fn a_single_time_and_a_constant_curve_still_draw() {
        let mut c = curves(&["anmin"], true);
        c.time_s = vec![0.5];
        for oc in c.optimizers.values_mut() {
            for m in [
                &mut oc.train_mse,
                &mut oc.test_mse,
                &mut oc.train_r2,
                &mut oc.test_r2,
            ] {
                *m = MetricCurve {
                    mean: vec![Some(1.0)],
                    std: vec![Some(0.0)],
                    n: vec![1],
                };
            }
        }
        let svg = render_svg(&c, &title()).unwrap();
        assert!(roxmltree::Document::parse(&svg).is_ok());
    }
}
