//! Figures as pages print them.

/// A share as a percentage with one decimal; a dash when there is nothing to share.
pub(crate) fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}
