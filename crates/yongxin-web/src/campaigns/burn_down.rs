//! The burn-down chart (燃尽图) of a campaign as server-rendered SVG: households left at the end
//! of each day (a solid line with square marks) against the even pace (a dashed line), readable
//! without JavaScript, printed in black and white, and by screen readers (a title, a
//! description, and the same numbers as a table beside it on the page).

use std::fmt::Write;

use yongxin_domain::campaign::BurnDay;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 36.0;

use crate::http::chart::escape;

/// The chart for `days` of a campaign of `target` households. `title` and `description` are in
/// the reader's language; every other mark is a number or a date. `id` makes the chart's
/// element ids unique on a page holding several.
pub fn svg(id: &str, days: &[BurnDay], target: i64, title: &str, description: &str) -> String {
    let n = days.len().max(1) as f64;
    let top = target.max(1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    // Day i sits at the end of its slot: the first point is after the first day's work.
    let x = |i: usize| LEFT + plot_w * (i as f64 + 1.0) / n;
    let y = |v: i64| TOP + plot_h * (1.0 - v as f64 / top);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" class="chart"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(description)
    );
    // Axes and the scale: the target at the top, none at the bottom, a middle line.
    let _ = write!(
        out,
        r##"<g stroke="#000" stroke-width="1" fill="none"><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}"/><line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}"/></g><g stroke="#999" stroke-width="0.5"><line x1="{LEFT}" y1="{mid}" x2="{r}" y2="{mid}"/></g>"##,
        b = TOP + plot_h,
        r = WIDTH - RIGHT,
        mid = y(target / 2),
    );
    let _ = write!(
        out,
        r#"<g font-size="11" fill="currentColor" text-anchor="end"><text x="{tx}" y="{t}">{target}</text><text x="{tx}" y="{m}">{half}</text><text x="{tx}" y="{b}">0</text></g>"#,
        tx = LEFT - 4.0,
        t = TOP + 4.0,
        m = y(target / 2) + 4.0,
        half = target / 2,
        b = TOP + plot_h + 4.0,
    );
    // Day labels: the first, the last, and a few between, never crowded.
    let step = (days.len() / 6).max(1);
    out.push_str(r#"<g font-size="11" fill="currentColor" text-anchor="middle">"#);
    for (i, d) in days.iter().enumerate() {
        if i % step == 0 || i + 1 == days.len() {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                x(i),
                HEIGHT - BOTTOM + 16.0,
                d.day.format("%m-%d")
            );
        }
    }
    out.push_str("</g>");
    // The even pace: from the whole target before the first day to none after the last.
    let mut pace = format!("M{LEFT:.1},{:.1}", y(target));
    for (i, d) in days.iter().enumerate() {
        let _ = write!(pace, " L{:.1},{:.1}", x(i), y(d.pace));
    }
    let _ = write!(
        out,
        r##"<path d="{pace}" fill="none" stroke="#555" stroke-width="1.5" stroke-dasharray="6 4"/>"##
    );
    // What is left, as far as the days have come.
    let mut left = format!("M{LEFT:.1},{:.1}", y(target));
    let mut marks = String::new();
    for (i, d) in days.iter().enumerate() {
        if let Some(v) = d.left {
            let _ = write!(left, " L{:.1},{:.1}", x(i), y(v));
            let _ = write!(
                marks,
                r#"<rect x="{:.1}" y="{:.1}" width="5" height="5"/>"#,
                x(i) - 2.5,
                y(v) - 2.5
            );
        }
    }
    let _ = write!(
        out,
        r##"<path d="{left}" fill="none" stroke="#000" stroke-width="2.5"/><g fill="#000">{marks}</g></svg>"##
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_chart_draws_what_is_left_and_escapes_its_words() {
        let d = |n| NaiveDate::from_ymd_opt(2027, 3, n).expect("day");
        let days = [
            BurnDay {
                day: d(1),
                left: Some(60),
                pace: 50,
            },
            BurnDay {
                day: d(2),
                left: None,
                pace: 0,
            },
        ];
        let s = svg("burn", &days, 100, "燃尽 <图>", "a & b");
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("<title id=\"burn-title\">燃尽 &lt;图&gt;</title>"));
        assert!(s.contains("a &amp; b"));
        // One mark: only the day that has come.
        assert_eq!(s.matches("<rect").count(), 1);
        assert!(s.contains("stroke-dasharray"));
        assert!(s.contains(">03-01<") && s.contains(">03-02<"));
    }
}
