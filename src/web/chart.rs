//! Charts drawn on the server as SVG (nothing loaded from other hosts), readable at a
//! glance and when printed in black and white: bars carry their figure as text, the two
//! lines of a line chart differ by dash and marker as well as by shade.

use std::fmt::Write;

/// One bar: its label, its length, and the figure written at its end.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub figure: String,
}

/// One line of a line chart.
pub struct Series {
    pub name: &'static str,
    pub values: Vec<f64>,
    pub dashed: bool,
}

const WIDTH: f64 = 640.0;
const LABEL: f64 = 120.0;
const ROW: f64 = 30.0;

/// Horizontal bars, one row each; `max` is the full length (1.0 for shares).
pub fn bars(title: &str, bars: &[Bar], max: f64) -> String {
    let height = ROW * bars.len().max(1) as f64 + 10.0;
    let mut svg = open(title, height);
    let room = WIDTH - LABEL - 90.0;
    for (i, bar) in bars.iter().enumerate() {
        let y = 5.0 + ROW * i as f64;
        let length = if max > 0.0 {
            (bar.value / max).clamp(0.0, 1.0) * room
        } else {
            0.0
        };
        let _ = write!(
            svg,
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{LABEL}" y="{by}" width="{length:.1}" height="18" fill="#555"/><text x="{fx:.1}" y="{ty}">{figure}</text>"##,
            lx = LABEL - 8.0,
            ty = y + 15.0,
            by = y + 2.0,
            fx = LABEL + length + 6.0,
            label = escape(&bar.label),
            figure = escape(&bar.figure),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Lines over labelled points (months), with a zero-based scale and a legend.
pub fn lines(title: &str, labels: &[String], series: &[Series]) -> String {
    let (height, top, bottom, left, right) = (260.0, 30.0, 220.0, 60.0, WIDTH - 20.0);
    let mut svg = open(title, height);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0_f64, f64::max);
    let scale = nice_ceiling(max);
    let x = |i: usize| {
        if labels.len() <= 1 {
            left
        } else {
            left + (right - left) * i as f64 / (labels.len() - 1) as f64
        }
    };
    let y = |v: f64| bottom - (bottom - top) * v / scale;
    for step in 0..=4 {
        let value = scale * step as f64 / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{right}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ccc"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{value}</text>"##,
            yy = y(value),
            tx = left - 6.0,
            ty = y(value) + 5.0,
            value = value.round(),
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            x(i),
            bottom + 22.0,
            escape(label)
        );
    }
    for (n, s) in series.iter().enumerate() {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let (shade, dash) = if s.dashed {
            ("#777", r#" stroke-dasharray="6 4""#)
        } else {
            ("#000", "")
        };
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{shade}" stroke-width="2.5"{dash} points="{}"/>"#,
            points.join(" ")
        );
        for (i, v) in s.values.iter().enumerate() {
            svg.push_str(&marker(s.dashed, x(i), y(*v), shade));
        }
        let lx = left + 10.0 + 150.0 * n as f64;
        let _ = write!(
            svg,
            r#"<line x1="{lx}" x2="{:.1}" y1="14" y2="14" stroke="{shade}" stroke-width="2.5"{dash}/>{}<text x="{:.1}" y="19">{}</text>"#,
            lx + 30.0,
            marker(s.dashed, lx + 15.0, 14.0, shade),
            lx + 38.0,
            escape(s.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A circle for a solid line, a square for a dashed one.
fn marker(square: bool, x: f64, y: f64, shade: &str) -> String {
    if square {
        format!(
            r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="{shade}"/>"#,
            x - 4.0,
            y - 4.0
        )
    } else {
        format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{shade}"/>"#)
    }
}

fn open(title: &str, height: f64) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{t}" class="chart" font-size="14"><title>{t}</title>"#,
        t = escape(title)
    )
}

/// The next round figure at or above `max` (1, 2 or 5 times a power of ten), so the
/// scale reads in round steps.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 4.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 4.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|c| *c >= max)
        .unwrap_or(10.0 * power)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_write_their_figures_and_escape_names() {
        let svg = bars(
            "参与率",
            &[
                Bar {
                    label: "庆乐村".into(),
                    value: 0.5,
                    figure: "50%".into(),
                },
                Bar {
                    label: "<b>村".into(),
                    value: 2.0,
                    figure: "100%".into(),
                },
            ],
            1.0,
        );
        assert!(svg.contains(">庆乐村</text>") && svg.contains(">50%</text>"));
        assert!(svg.contains("&lt;b&gt;村") && !svg.contains("<b>"));
        // A value past the maximum is drawn full length, not past the chart.
        assert!(svg.contains(r#"width="430.0""#), "{svg}");
    }

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_ceiling(0.0), 4.0);
        assert_eq!(nice_ceiling(173.0), 200.0);
        assert_eq!(nice_ceiling(350.0), 400.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
    }

    #[test]
    fn lines_tell_their_series_apart_without_colour() {
        let svg = lines(
            "积分",
            &["1月".into(), "2月".into()],
            &[
                Series {
                    name: "发放",
                    values: vec![10.0, 20.0],
                    dashed: false,
                },
                Series {
                    name: "兑换",
                    values: vec![5.0, 0.0],
                    dashed: true,
                },
            ],
        );
        assert!(
            svg.contains("stroke-dasharray") && svg.contains("<circle") && svg.contains("<rect")
        );
        assert!(svg.contains(">发放</text>") && svg.contains(">兑换</text>"));
    }
}
