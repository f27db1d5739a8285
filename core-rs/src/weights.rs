//! SPEC §1: entries and the gap rule, streamed over the sample records (no per-sample allocation).

use crate::ingest::{Session, ESCAPE, IDLE_PATH};

/// Calls `f(core_path, weight)` for every entry with weight > 0, in order.
/// `end` = max(duration, last time); `gap_cap` = the longest gap credited to the sample before it.
#[inline]
pub(crate) fn for_each_entry<F: FnMut(u32, f64)>(s: &Session, end: f64, gap_cap: f64, mut f: F) {
    let emit = |path: u32, dt: f64, f: &mut F| {
        let w = if dt < gap_cap { dt } else { gap_cap };
        if w > 0.0 {
            f(path, w);
        }
        // A gap is never credited to the sample after it: what the cap leaves over is idle.
        let rest = dt - w;
        if rest > 0.0 {
            f(IDLE_PATH, rest);
        }
    };
    let mut prev: Option<u32> = None;
    let mut big: Option<f64> = None;
    for r in s.records.iter() {
        let id = r as u32;
        let d = (r >> 32) as u32;
        if id == ESCAPE {
            big = Some(s.big.get(d as usize).copied().unwrap_or(0.0));
            continue;
        }
        let dt = big.take().unwrap_or(f64::from(d));
        match prev {
            // Before the first sample: t[0] of idle.
            None => {
                if dt > 0.0 {
                    f(IDLE_PATH, dt);
                }
            }
            Some(p) => emit(p, dt, &mut f),
        }
        prev = Some(id);
    }
    if let Some(p) = prev {
        emit(p, end - s.last_time, &mut f);
    }
}
