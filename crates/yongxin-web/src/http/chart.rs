//! Line charts as server-rendered SVG, for rates over weeks: readable without JavaScript, in
//! print and in black and white (each series has its own dash and mark, not only a colour), and
//! by screen readers (a title and a description; the page puts the numbers in a table beside).

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 34.0;

/// Escapes text for an SVG element or attribute.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// How the n-th series is drawn: a dash pattern and a mark, so series differ without colour.
const STYLES: [(&str, &str); 4] = [
    ("", "circle"),
    ("7 4", "square"),
    ("2 3", "triangle"),
    ("10 3 2 3", "diamond"),
];

fn mark(shape: &str, x: f64, y: f64) -> String {
    match shape {
        "circle" => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="3"/>"#),
        "square" => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="6" height="6"/>"#,
            x - 3.0,
            y - 3.0
        ),
        "triangle" => format!(
            r#"<path d="M{x:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z"/>"#,
            y - 4.0,
            x + 4.0,
            y + 3.0,
            x - 4.0,
            y + 3.0
        ),
        _ => format!(
            r#"<path d="M{x:.1},{:.1} L{:.1},{y:.1} L{x:.1},{:.1} L{:.1},{y:.1} Z"/>"#,
            y - 4.0,
            x + 4.0,
            y + 4.0,
            x - 4.0
        ),
    }
}

/// The dash and mark of the n-th series, in words a legend can print (`—●`, `- -■`, …).
pub fn legend_symbol(n: usize) -> &'static str {
    ["—●", "– –■", "···▲", "—·—◆"][n % 4]
}

/// A chart of shares (0–1) over `labels` (dates), one line per series; a missing value breaks
/// its line. `id` makes element ids unique on the page.
pub fn shares_svg(
    id: &str,
    title: &str,
    description: &str,
    labels: &[String],
    series: &[Vec<Option<f64>>],
) -> String {
    let n = labels.len().max(1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| LEFT + plot_w * (i as f64 + 0.5) / n;
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 1.0));
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" class="chart"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(description)
    );
    let bottom = TOP + plot_h;
    let right = WIDTH - RIGHT;
    let _ = write!(
        out,
        r##"<g stroke="#000" stroke-width="1" fill="none"><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/><line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/></g><g stroke="#999" stroke-width="0.5">"##
    );
    for v in [0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" y1="{0:.1}" x2="{right}" y2="{0:.1}"/>"#,
            y(v)
        );
    }
    out.push_str(r#"</g><g font-size="11" fill="currentColor" text-anchor="end">"#);
    for v in [0.0, 0.5, 1.0] {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{}%</text>"#,
            LEFT - 4.0,
            y(v) + 4.0,
            (v * 100.0) as i64
        );
    }
    out.push_str(r#"</g><g font-size="11" fill="currentColor" text-anchor="middle">"#);
    let step = (labels.len() / 6).max(1);
    for (i, l) in labels.iter().enumerate() {
        if i % step == 0 || i + 1 == labels.len() {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                x(i),
                HEIGHT - BOTTOM + 16.0,
                escape(l)
            );
        }
    }
    out.push_str("</g>");
    for (s, values) in series.iter().enumerate() {
        let (dash, shape) = STYLES[s % STYLES.len()];
        let mut path = String::new();
        let mut marks = String::new();
        let mut pen_down = false;
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(i),
                        y(*v)
                    );
                    marks.push_str(&mark(shape, x(i), y(*v)));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = write!(
            out,
            r##"<path d="{}" fill="none" stroke="#000" stroke-width="2"{dash}/><g fill="#000">{marks}</g>"##,
            path.trim_end()
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_series_has_its_own_dash_and_marks_and_gaps_break_lines() {
        let labels: Vec<String> = ["11-02", "11-09", "11-16"].map(String::from).to_vec();
        let s = shares_svg(
            "t",
            "三率 <周>",
            "a & b",
            &labels,
            &[
                vec![Some(0.9), Some(0.8), Some(1.0)],
                vec![Some(0.5), None, Some(0.7)],
            ],
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains(r#"aria-labelledby="t-title t-desc""#));
        assert!(s.contains("三率 &lt;周&gt;") && s.contains("a &amp; b"));
        assert_eq!(s.matches("<circle").count(), 3);
        assert_eq!(
            s.matches("<rect").count(),
            2,
            "no mark for the missing week"
        );
        assert_eq!(s.matches("stroke-dasharray=\"7 4\"").count(), 1);
        // The gap starts a new line: two moves in the second series' path.
        let second = s
            .split("stroke-dasharray=\"7 4\"")
            .next()
            .expect("the second path");
        let d = second.rsplit("d=\"").next().expect("its d");
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert!(s.contains(">100%<") && s.contains(">11-16<"));
    }
}
