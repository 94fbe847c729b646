//! Small helpers: UUIDs, dates, and whole-second deadlines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static UUID_STATE: AtomicU64 = AtomicU64::new(0);

/// A random-looking version 4 UUID (splitmix64 over a time-seeded counter; unique per process).
pub fn new_uuid() -> String {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let _ = UUID_STATE.compare_exchange(0, seed | 1, Ordering::Relaxed, Ordering::Relaxed);
    let hi = splitmix(UUID_STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed));
    let lo = splitmix(UUID_STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed));
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Milliseconds since the Unix epoch from the system clock.
pub fn system_epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `Event-Date-Local` (the simulator runs in UTC) and `Event-Date-GMT` of an epoch time.
pub fn event_dates(epoch_ms: u64) -> (String, String) {
    let secs = (epoch_ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, (rem / 60) % 60, rem % 60);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = DAYS[days.rem_euclid(7) as usize];
    let month_name = MONTHS[(m - 1) as usize];
    (
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}"),
        format!("{weekday}, {d:02} {month_name} {y:04} {hh:02}:{mm:02}:{ss:02} GMT"),
    )
}

/// FreeSWITCH compares whole epoch seconds: the first instant (epoch ms) at which
/// `now_s - start_s >= n` (`inclusive`, originate_timeout / call_timeout) or `> n`
/// (leg_timeout, linger) holds.
pub fn whole_second_deadline(start_epoch_ms: u64, n: u64, inclusive: bool) -> u64 {
    let start_s = start_epoch_ms / 1000;
    (start_s + n + u64::from(!inclusive)) * 1000
}

/// C's `atoi`: leading blanks, an optional sign, then digits; anything else gives 0.
pub fn atoi(text: &str) -> i64 {
    let text = text.trim_start();
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    sign * digits[..end].parse::<i64>().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_v4_shaped_and_distinct() {
        let a = new_uuid();
        let b = new_uuid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }

    #[test]
    fn dates_match_the_transcript_format() {
        // 1795847255 = Sat, 28 Nov 2026 06:27:35 GMT (02_events_plain.txt)
        let (local, gmt) = event_dates(1_795_847_255_470);
        assert_eq!(local, "2026-11-28 06:27:35");
        assert_eq!(gmt, "Sat, 28 Nov 2026 06:27:35 GMT");
    }

    #[test]
    fn whole_second_counting() {
        // start at x.700 s: ">= 3" fires at (x+3).000, i.e. after 2.3 s; "> 3" after 3.3 s
        assert_eq!(whole_second_deadline(10_700, 3, true), 13_000);
        assert_eq!(whole_second_deadline(10_700, 3, false), 14_000);
        assert_eq!(whole_second_deadline(10_000, 3, true), 13_000);
    }
}
