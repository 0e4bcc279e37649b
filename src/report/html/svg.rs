//! The charts of the HTML report, drawn as inline SVG: stacked columns, horizontal bars and
//! lines on logarithmic axes. Pure functions from figures to markup.
//!
//! Money never passes through a float to be shown: every label (an amount, an axis tick) comes
//! in as text made from its `Decimal`; the floats here are pixel coordinates only. Charts scale
//! with their container (`viewBox`, no fixed size), and each mark carries a `<title>` that a
//! browser shows on hover, so no script is needed.

use std::fmt::Write;

use super::esc;

/// One segment of a column or a bar: its size (for geometry only), its colour and its tooltip.
pub(crate) struct Segment {
    pub(crate) value: f64,
    pub(crate) colour: &'static str,
    pub(crate) title: String,
}

/// A column of stacked segments, labelled below and with its total (as text) above.
pub(crate) struct Column {
    pub(crate) label: String,
    pub(crate) total: String,
    pub(crate) segments: Vec<Segment>,
}

/// A tick of an axis: where it is (in the axis's units) and what it says.
pub(crate) struct Tick {
    pub(crate) at: f64,
    pub(crate) label: String,
}

const WIDTH: f64 = 600.0;
const FONT: &str = "font-size=\"14\"";

fn f(x: f64) -> String {
    format!("{x:.1}")
}

fn open(out: &mut String, id: &str, height: f64, label: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart\" id=\"{id}\" viewBox=\"0 0 {WIDTH} {h}\" role=\"img\" aria-label=\"{label}\" \
         preserveAspectRatio=\"xMidYMid meet\" xmlns=\"http://www.w3.org/2000/svg\">",
        h = f(height),
        label = esc(label),
    );
}

/// Stacked columns on a linear axis from 0 to the last tick.
pub(crate) fn columns(id: &str, label: &str, columns: &[Column], ticks: &[Tick]) -> String {
    let (left, right, top) = (64.0, 16.0, 24.0);
    // Labels turn when the columns are too narrow for them side by side.
    let slot = (WIDTH - left - right) / columns.len().max(1) as f64;
    let turned = slot < 64.0;
    let bottom = if turned { 64.0 } else { 32.0 };
    let height = 268.0 + bottom;
    let max = ticks.last().map_or(1.0, |t| t.at).max(f64::MIN_POSITIVE);
    let plot_h = height - top - bottom;
    let y = |v: f64| top + plot_h * (1.0 - v / max);
    let mut out = String::new();
    open(&mut out, id, height, label);
    y_grid(&mut out, ticks, (left, right), y);
    let bar = (slot * 0.6).min(72.0);
    for (i, c) in columns.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut base = 0.0;
        for s in c.segments.iter().filter(|s| s.value > 0.0) {
            let (y0, y1) = (y(base), y(base + s.value));
            let _ = write!(
                out,
                "<rect class=\"mark\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{c}\"><title>{t}</title></rect>",
                x = f(x),
                y = f(y1),
                w = f(bar),
                h = f((y0 - y1).max(0.5)),
                c = s.colour,
                t = esc(&s.title),
            );
            base += s.value;
        }
        let cx = x + bar / 2.0;
        let _ = write!(
            out,
            "<text class=\"value\" x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\" {FONT}>{total}</text>\
             <text class=\"label\" x=\"{cx}\" y=\"{ly}\" {anchor} {FONT}>{label}</text>",
            cx = f(cx),
            ty = f(y(base) - 6.0),
            total = if turned { String::new() } else { esc(&c.total) },
            ly = f(height - bottom + 18.0),
            anchor = if turned {
                format!(
                    "text-anchor=\"end\" transform=\"rotate(-45 {} {})\"",
                    f(cx),
                    f(height - bottom + 18.0)
                )
            } else {
                "text-anchor=\"middle\"".to_string()
            },
            label = esc(&c.label),
        );
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{left}\" x2=\"{x2}\" y1=\"{y0}\" y2=\"{y0}\"/></svg>",
        x2 = f(WIDTH - right),
        y0 = f(y(0.0))
    );
    out
}

/// A bar of a bar chart: its label, its segments (left to right) and the text at its end.
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) segments: Vec<Segment>,
    pub(crate) value: String,
}

/// Horizontal bars, the longest filling the width; labels on the left, values at the ends.
pub(crate) fn bars(id: &str, label: &str, bars: &[Bar]) -> String {
    let (row, left, right, top) = (30.0, 170.0, 110.0, 6.0);
    let height = top * 2.0 + row * bars.len().max(1) as f64;
    let max = bars
        .iter()
        .map(|b| b.segments.iter().map(|s| s.value).sum::<f64>())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let span = WIDTH - left - right;
    let mut out = String::new();
    open(&mut out, id, height, label);
    for (i, b) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let mut x = left;
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" {FONT}>{label}</text>",
            lx = f(left - 8.0),
            ty = f(y + row / 2.0 + 4.0),
            label = esc(&clip(&b.label, 24)),
        );
        for s in b.segments.iter().filter(|s| s.value > 0.0) {
            let w = (span * s.value / max).max(1.0);
            let _ = write!(
                out,
                "<rect class=\"mark\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"2\" fill=\"{c}\"><title>{t}</title></rect>",
                x = f(x),
                y = f(y + 5.0),
                w = f(w),
                h = f(row - 10.0),
                c = s.colour,
                t = esc(&s.title),
            );
            x += w;
        }
        let _ = write!(
            out,
            "<text class=\"value\" x=\"{vx}\" y=\"{ty}\" {FONT}>{value}</text>",
            vx = f(x + 6.0),
            ty = f(y + row / 2.0 + 4.0),
            value = esc(&b.value),
        );
    }
    out.push_str("</svg>");
    out
}

/// A line of a line chart: its points (x, y, both > 0), colour and name.
pub(crate) struct Line {
    pub(crate) name: String,
    pub(crate) colour: &'static str,
    pub(crate) points: Vec<(f64, f64)>,
}

/// A point marked on a line chart, with its tooltip.
pub(crate) struct Marker {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) title: String,
    pub(crate) label: String,
}

/// Lines on logarithmic axes (x and y from their first tick to their last), a dashed rule at
/// `today` on the x axis, and markers.
#[allow(clippy::too_many_arguments)] // a chart's parts, each named at the one call
pub(crate) fn lines(
    id: &str,
    label: &str,
    lines: &[Line],
    x_ticks: &[Tick],
    y_ticks: &[Tick],
    today: Option<(f64, &str)>,
    markers: &[Marker],
    x_axis: &str,
) -> String {
    let (height, left, right, top, bottom) = (340.0, 64.0, 16.0, 16.0, 40.0);
    let range = |t: &[Tick]| {
        let lo = t.first().map_or(1.0, |t| t.at).max(f64::MIN_POSITIVE);
        let hi = t.last().map_or(10.0, |t| t.at).max(lo * 1.0001);
        (lo.ln(), hi.ln())
    };
    let ((x0, x1), (y0, y1)) = (range(x_ticks), range(y_ticks));
    let x = |v: f64| left + (WIDTH - left - right) * (v.max(f64::MIN_POSITIVE).ln() - x0) / (x1 - x0);
    let y = |v: f64| top + (height - top - bottom) * (1.0 - (v.max(f64::MIN_POSITIVE).ln() - y0) / (y1 - y0));
    let mut out = String::new();
    open(&mut out, id, height, label);
    let _ = write!(out, "<defs><clipPath id=\"{id}-plot\"><rect x=\"{left}\" y=\"{top}\" width=\"{w}\" height=\"{h}\"/></clipPath></defs>",
        w = f(WIDTH - left - right), h = f(height - top - bottom));
    y_grid(&mut out, y_ticks, (left, right), y);
    for t in x_ticks {
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{x}\" x2=\"{x}\" y1=\"{top}\" y2=\"{y2}\"/>\
             <text class=\"tick\" x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\" {FONT}>{label}</text>",
            x = f(x(t.at)),
            y2 = f(height - bottom),
            ty = f(height - bottom + 16.0),
            label = esc(&t.label),
        );
    }
    let _ = write!(
        out,
        "<text class=\"tick\" x=\"{x}\" y=\"{y}\" text-anchor=\"end\" {FONT}>{axis}</text>",
        x = f(WIDTH - right),
        y = f(height - 4.0),
        axis = esc(x_axis),
    );
    if let Some((at, text)) = today {
        let _ = write!(
            out,
            "<line class=\"today\" x1=\"{x}\" x2=\"{x}\" y1=\"{top}\" y2=\"{y2}\"/>\
             <text class=\"today-label\" x=\"{tx}\" y=\"{ty}\" {FONT}>{text}</text>",
            x = f(x(at)),
            tx = f(x(at) + 4.0),
            ty = f(top + 12.0),
            y2 = f(height - bottom),
            text = esc(text),
        );
    }
    for l in lines {
        let mut d = String::new();
        for (i, (px, py)) in l.points.iter().enumerate() {
            let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { " L" }, f(x(*px)), f(y(*py)));
        }
        let _ = write!(
            out,
            "<path class=\"mark curve\" d=\"{d}\" stroke=\"{c}\" clip-path=\"url(#{id}-plot)\"><title>{t}</title></path>",
            c = l.colour,
            t = esc(&l.name),
        );
    }
    for m in markers {
        let _ = write!(
            out,
            "<g class=\"break-even\"><circle class=\"mark\" cx=\"{cx}\" cy=\"{cy}\" r=\"5\"><title>{t}</title></circle>\
             <text class=\"marker-label\" x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\" {FONT}>{label}</text></g>",
            cx = f(x(m.x)),
            cy = f(y(m.y)),
            ty = f(y(m.y) - 10.0),
            t = esc(&m.title),
            label = esc(&m.label),
        );
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{left}\" x2=\"{x2}\" y1=\"{y0}\" y2=\"{y0}\"/></svg>",
        x2 = f(WIDTH - right),
        y0 = f(height - bottom)
    );
    out
}

/// The horizontal grid lines of `ticks` across the plot, each labelled at its left, `y` placing
/// a value.
fn y_grid(out: &mut String, ticks: &[Tick], (left, right): (f64, f64), y: impl Fn(f64) -> f64) {
    for t in ticks {
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{x2}\" y1=\"{y}\" y2=\"{y}\"/>\
             <text class=\"tick\" x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" {FONT}>{label}</text>",
            x2 = f(WIDTH - right),
            y = f(y(t.at)),
            lx = f(left - 6.0),
            ty = f(y(t.at) + 4.0),
            label = esc(&t.label),
        );
    }
}

/// `text` cut to `n` characters, with an ellipsis when cut.
fn clip(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
