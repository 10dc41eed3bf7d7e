//! Times are stored in UTC and shown in Asia/Shanghai.
//!
//! Shanghai has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for every
//! time this software records and spares us a time-zone database.

use chrono::{DateTime, FixedOffset, Utc};

/// The offset of Asia/Shanghai.
pub fn shanghai() -> FixedOffset {
    // Invariant: 8 hours is within the ±24 h range FixedOffset accepts.
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Formats a UTC instant as local Shanghai time, to the minute.
pub fn display_local(at: DateTime<Utc>) -> String {
    at.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn shows_utc_midnight_as_eight_in_the_morning() {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("time");
        assert_eq!(display_local(at), "2026-01-01 08:00");
    }
}
