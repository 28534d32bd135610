//! The report's charts, drawn with plotters' SVG backend. Text is measured with the bundled
//! DejaVu Sans (registered from bytes, never looked up on the machine), the page embeds the
//! same font, and every number is formatted with a fixed precision: the same data give the
//! same SVG bytes on every machine.
//!
//! Charts never contain free text from the inputs (site and analyzer names are page
//! headings, escaped by the template): only codes, numbers and the ruleset's populations.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::aggregate::PChart;
use super::collect::LabelPoints;
use crate::vocab::Label;

/// DejaVu Sans, subset to Latin-1, Greek and common symbols (assets/fonts/README.md).
pub const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// The family name charts and the page's `@font-face` use.
pub const FONT_FAMILY: &str = "DejaVu Sans";

const WIDTH: u32 = 760;

/// The Okabe–Ito palette (colour-blind safe), yellow last: it is the hardest to see on white.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xF0, 0xE4, 0x42),
];

const GREY: RGBColor = RGBColor(0x66, 0x66, 0x66);

/// Marker shapes; with 8 colours and 3 shapes every label has its own pair (lcm 24 > 14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Circle,
    Triangle,
    Cross,
}

/// The colour and shape of a label, fixed by its place in the vocabulary.
pub fn label_style(label: Label) -> (RGBColor, Shape) {
    let i = label as usize;
    let shape = match i % 3 {
        0 => Shape::Circle,
        1 => Shape::Triangle,
        _ => Shape::Cross,
    };
    (PALETTE[i % PALETTE.len()], shape)
}

/// `#rrggbb` of a label's colour (the page's tables show the same swatch).
pub fn label_hex(label: Label) -> String {
    let (RGBColor(r, g, b), _) = label_style(label);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A 12×12 inline SVG of a label's marker (colour and shape), for the page's tables.
pub fn label_swatch(label: Label) -> String {
    let color = label_hex(label);
    let body = match label_style(label).1 {
        Shape::Circle => format!("<circle cx=\"6\" cy=\"6\" r=\"4.5\" fill=\"{color}\"/>"),
        Shape::Triangle => format!("<polygon points=\"6,1 11,11 1,11\" fill=\"{color}\"/>"),
        Shape::Cross => {
            format!("<path d=\"M2 2L10 10M10 2L2 10\" stroke=\"{color}\" stroke-width=\"2.5\"/>")
        }
    };
    format!("<svg class=\"swatch\" width=\"12\" height=\"12\" viewBox=\"0 0 12 12\" aria-hidden=\"true\">{body}</svg>")
}

/// A drawing failed (plotters' error, as text).
#[derive(Debug, thiserror::Error)]
#[error("drawing the {chart} chart: {message}")]
pub struct ChartError {
    chart: &'static str,
    message: String,
}

fn fail<E: std::fmt::Debug>(chart: &'static str) -> impl Fn(E) -> ChartError {
    move |e| ChartError {
        chart,
        message: format!("{e:?}"),
    }
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font (a test renders every chart); if they were not,
        // drawing text would fail with a ChartError naming the chart.
        let _ = plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES);
    });
}

fn font(size: f64) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&BLACK)
}

/// The SVG as the page embeds it: no `xmlns` (an HTML parser puts inline SVG in its
/// namespace), so the page holds no URL at all.
fn finish(svg: String) -> String {
    svg.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw_marker<'a>(
    area: &Area<'a>,
    shape: Shape,
    at: (i32, i32),
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    match shape {
        Shape::Circle => area.draw(&Circle::new(at, 4, color.mix(0.75).filled())),
        Shape::Triangle => area.draw(&TriangleMarker::new(at, 5, color.mix(0.75).filled())),
        Shape::Cross => area.draw(&Cross::new(at, 4, color.stroke_width(2))),
    }
}

/// A horizontal bar chart of counts with `count (percent %)` at each bar; `total` is the
/// denominator of the percentages.
pub fn bars(
    chart: &'static str,
    rows: &[(String, u64)],
    total: u64,
    color: RGBColor,
) -> Result<String, ChartError> {
    register_font();
    let e = fail(chart);
    let n = rows.len().max(1);
    let height = 40 + 24 * u32::try_from(n).unwrap_or(u32::MAX / 48).min(40);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        if rows.is_empty() {
            root.draw(&Text::new(
                "none",
                (20, 20),
                font(14.0).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(&e)?;
        } else {
            let max = rows.iter().map(|(_, c)| *c).max().unwrap_or(1).max(1) as f64;
            let names: Vec<String> = rows.iter().map(|(name, _)| name.clone()).collect();
            let n_i = i32::try_from(n).unwrap_or(i32::MAX);
            let mut ctx = ChartBuilder::on(&root)
                .margin(6)
                .margin_right(16)
                .x_label_area_size(28)
                .y_label_area_size(270)
                .build_cartesian_2d(0.0..max * 1.3, (0..n_i).into_segmented())
                .map_err(&e)?;
            ctx.configure_mesh()
                .disable_y_mesh()
                .x_labels(6)
                .x_label_formatter(&|v| {
                    // Counts are whole numbers: no tick between two of them.
                    if (v - v.round()).abs() < 1e-9 {
                        format!("{v:.0}")
                    } else {
                        String::new()
                    }
                })
                .y_labels(n)
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => usize::try_from(n_i - 1 - *i)
                        .ok()
                        .and_then(|i| names.get(i))
                        .cloned()
                        .unwrap_or_default(),
                    _ => String::new(),
                })
                .label_style(font(12.0))
                .draw()
                .map_err(&e)?;
            let slot = |i: usize| n_i - 1 - i32::try_from(i).unwrap_or(0);
            ctx.draw_series(rows.iter().enumerate().map(|(i, (_, c))| {
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(slot(i))),
                        (*c as f64, SegmentValue::Exact(slot(i) + 1)),
                    ],
                    color.filled(),
                );
                bar.set_margin(4, 4, 0, 0);
                bar
            }))
            .map_err(&e)?;
            ctx.draw_series(rows.iter().enumerate().map(|(i, (_, c))| {
                Text::new(
                    format!("{c} ({} %)", super::percent(*c, total)),
                    (*c as f64 + max * 0.01, SegmentValue::CenterOf(slot(i))),
                    font(12.0).pos(Pos::new(HPos::Left, VPos::Center)),
                )
            }))
            .map_err(&e)?;
        }
        root.present().map_err(&e)?;
    }
    Ok(finish(svg))
}

/// An axis tick: whole numbers from 10, one decimal below (a log axis reaches 0.5).
fn axis_number(v: f64) -> String {
    if v.abs() >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A reference line of a scatter plot, from the ruleset.
#[derive(Clone, Debug, PartialEq)]
pub struct Cutoff {
    pub value: f64,
    /// Short text drawn at the line (a number and its population).
    pub text: String,
}

/// Axes and reference lines of a scatter plot.
pub struct ScatterSpec<'a> {
    pub chart: &'static str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub log_x: bool,
    pub vertical: &'a [Cutoff],
    pub horizontal: &'a [Cutoff],
}

fn padded(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if log { (1.0, 1000.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.5, hi * 1.5)
    } else {
        let pad = ((hi - lo) * 0.08).max(0.5);
        (lo - pad, hi + pad)
    }
}

/// A scatter plot of `[x, y, _]` points by label, with the ruleset's reference lines and
/// a legend of the labels drawn (colour and shape).
pub fn scatter(spec: &ScatterSpec<'_>, sample: &[LabelPoints]) -> Result<String, ChartError> {
    register_font();
    let e = fail(spec.chart);
    let all = || sample.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = padded(
        all()
            .map(|p| p[0])
            .chain(spec.vertical.iter().map(|c| c.value)),
        spec.log_x,
    );
    let (y0, y1) = padded(
        all()
            .map(|p| p[1])
            .chain(spec.horizontal.iter().map(|c| c.value)),
        false,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let (plot, legend) = root.split_horizontally(WIDTH - 250);
        let line_style = GREY.stroke_width(1);
        let label_font = font(11.0).color(&GREY);
        macro_rules! draw_body {
            ($ctx:ident) => {{
                $ctx.configure_mesh()
                    .light_line_style(TRANSPARENT)
                    .x_desc(spec.x_desc)
                    .y_desc(spec.y_desc)
                    .x_label_formatter(&|v| axis_number(*v))
                    .y_label_formatter(&|v| axis_number(*v))
                    .label_style(font(12.0))
                    .axis_desc_style(font(13.0))
                    .draw()
                    .map_err(&e)?;
                for (i, c) in spec.vertical.iter().enumerate() {
                    // Staggered, so that the texts of close lines do not overlap.
                    let text_y = y1 - (y1 - y0) * 0.045 * i as f64;
                    $ctx.draw_series(DashedLineSeries::new(
                        vec![(c.value, y0), (c.value, y1)],
                        12,
                        6,
                        line_style.into(),
                    ))
                    .map_err(&e)?;
                    $ctx.draw_series(std::iter::once(Text::new(
                        c.text.clone(),
                        (c.value, text_y),
                        label_font.clone().pos(Pos::new(HPos::Left, VPos::Top)),
                    )))
                    .map_err(&e)?;
                }
                for c in spec.horizontal {
                    $ctx.draw_series(DashedLineSeries::new(
                        vec![(x0, c.value), (x1, c.value)],
                        12,
                        6,
                        line_style.into(),
                    ))
                    .map_err(&e)?;
                    $ctx.draw_series(std::iter::once(Text::new(
                        c.text.clone(),
                        (x0, c.value),
                        label_font.clone().pos(Pos::new(HPos::Left, VPos::Bottom)),
                    )))
                    .map_err(&e)?;
                }
                for s in sample {
                    let (color, shape) = label_style(s.label);
                    let points = s.points.iter().map(|p| (p[0], p[1]));
                    match shape {
                        Shape::Circle => $ctx
                            .draw_series(
                                points.map(|p| Circle::new(p, 3, color.mix(0.75).filled())),
                            )
                            .map(|_| ()),
                        Shape::Triangle => $ctx
                            .draw_series(
                                points.map(|p| TriangleMarker::new(p, 4, color.mix(0.75).filled())),
                            )
                            .map(|_| ()),
                        Shape::Cross => $ctx
                            .draw_series(points.map(|p| Cross::new(p, 3, color.stroke_width(2))))
                            .map(|_| ()),
                    }
                    .map_err(&e)?;
                }
            }};
        }
        let mut builder = ChartBuilder::on(&plot);
        builder
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(52);
        if spec.log_x {
            let mut ctx = builder
                .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
                .map_err(&e)?;
            draw_body!(ctx);
        } else {
            let mut ctx = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(&e)?;
            draw_body!(ctx);
        }
        let mut y = 24;
        for s in sample {
            let (color, shape) = label_style(s.label);
            draw_marker(&legend, shape, (12, y), color).map_err(&e)?;
            legend
                .draw(&Text::new(
                    format!("{} ({})", s.label.code(), s.points.len()),
                    (24, y),
                    font(11.0).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(&e)?;
            y += 18;
        }
        if sample.is_empty() {
            legend
                .draw(&Text::new(
                    "no panel has these values",
                    (12, 24),
                    font(12.0).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(&e)?;
        }
        root.present().map_err(&e)?;
    }
    Ok(finish(svg))
}

/// `YYYY-MM-DD` of a day count.
pub fn date(day: i64) -> String {
    let s = crate::isotime::render_micros(day.saturating_mul(86_400_000_000));
    s.get(..10).unwrap_or(&s).to_string()
}

/// A p-chart: the daily proportion (black), the centre line p̄ (blue) and the 3σ limits of
/// each day (a vermillion step); days outside their limits are drawn as vermillion triangles.
pub fn p_chart(chart: &'static str, p: &PChart) -> Result<String, ChartError> {
    register_font();
    let e = fail(chart);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        if p.days.is_empty() {
            root.draw(&Text::new(
                "no dated panels",
                (20, 20),
                font(14.0).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(&e)?;
        } else {
            let first = p.days.first().map_or(0, |d| d.day);
            let last = p.days.last().map_or(0, |d| d.day);
            let top = p
                .days
                .iter()
                .map(|d| d.ucl.max(d.p))
                .fold(p.p_bar, f64::max);
            let y1 = (top * 1.15).clamp(0.01, 1.0);
            let mut ctx = ChartBuilder::on(&root)
                .margin(10)
                .margin_right(24)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(f64::from(first) - 0.6..f64::from(last) + 0.6, 0.0..y1)
                .map_err(&e)?;
            let labels = usize::try_from(last - first + 1).unwrap_or(1).clamp(1, 8);
            ctx.configure_mesh()
                .light_line_style(TRANSPARENT)
                .x_labels(labels)
                .x_label_formatter(&|v| {
                    if (v - v.round()).abs() < 1e-6 {
                        date(v.round() as i64)
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|v| format!("{:.0} %", v * 100.0))
                .y_desc("share of panels")
                .label_style(font(11.0))
                .axis_desc_style(font(12.0))
                .draw()
                .map_err(&e)?;
            let step = |limit: fn(&super::aggregate::DayPoint) -> f64| {
                p.days
                    .iter()
                    .flat_map(move |d| {
                        let x = f64::from(d.day);
                        [(x - 0.5, limit(d)), (x + 0.5, limit(d))]
                    })
                    .collect::<Vec<_>>()
            };
            // Limits as plain steps: a dashed step would be one path per dash.
            let limit_style: ShapeStyle = PALETTE[3].mix(0.8).stroke_width(1);
            ctx.draw_series(LineSeries::new(step(|d| d.ucl), limit_style))
                .map_err(&e)?;
            ctx.draw_series(LineSeries::new(step(|d| d.lcl), limit_style))
                .map_err(&e)?;
            ctx.draw_series(LineSeries::new(
                [
                    (f64::from(first) - 0.5, p.p_bar),
                    (f64::from(last) + 0.5, p.p_bar),
                ],
                PALETTE[0].stroke_width(1),
            ))
            .map_err(&e)?;
            ctx.draw_series(LineSeries::new(
                p.days.iter().map(|d| (f64::from(d.day), d.p)),
                BLACK.stroke_width(1),
            ))
            .map_err(&e)?;
            ctx.draw_series(
                p.days
                    .iter()
                    .filter(|d| !d.signal())
                    .map(|d| Circle::new((f64::from(d.day), d.p), 3, BLACK.filled())),
            )
            .map_err(&e)?;
            ctx.draw_series(
                p.days
                    .iter()
                    .filter(|d| d.signal())
                    .map(|d| TriangleMarker::new((f64::from(d.day), d.p), 5, PALETTE[3].filled())),
            )
            .map_err(&e)?;
            root.draw(&Text::new(
                format!("p̄ = {:.1} %", p.p_bar * 100.0),
                (i32::try_from(WIDTH).unwrap_or(760) - 30, 16),
                font(11.0).pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(&e)?;
        }
        root.present().map_err(&e)?;
    }
    Ok(finish(svg))
}
