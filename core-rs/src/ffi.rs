//! The only `extern "C"` surface (wasm exports used by wasm/core.ts).
//!
//! Memory: the host allocates input buffers with `tsp_alloc(bytes)` (8-byte aligned), writes them, calls,
//! and frees them with `tsp_free(ptr, bytes)`. Sessions are handles (index + 1 into a registry), so a stale
//! or wrong handle is an error, never undefined behaviour. Calls return 0 on success, 1 on error; the
//! message is at `tsp_error_ptr()`, `tsp_error_len()` bytes of UTF-8. After `tsp_process` the result's
//! fields (ProcessedTree order, see `field`) are read with `tsp_result_ptr/len(h, field)` (len in elements);
//! they stay valid until the next call on that session. Field 15, cpuTime, has length 0 when CPU time is
//! unknown (the tree always has its root, so a known column is never empty).

use crate::{diff, AsyncMode, DiffOptions, DiffTree, Entries, Error, FlatTime, Options, ProcessedTree, Session};
use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

struct Slot {
    session: Session,
    result: Option<ProcessedTree>,
    /// The last `tsp_diff` with this session as NEW.
    diff: Option<DiffTree>,
    /// The last `tsp_entries`.
    entries: Option<Entries>,
}

thread_local! {
    static SESSIONS: RefCell<Vec<Option<Box<Slot>>>> = const { RefCell::new(Vec::new()) };
    static ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

impl Slot {
    fn clear_results(&mut self) {
        self.result = None;
        self.diff = None;
        self.entries = None;
    }
}

fn set_error(e: Error) -> u32 {
    ERROR.with(|m| *m.borrow_mut() = e.0);
    1
}

fn with_slot<R>(h: u32, f: impl FnOnce(&mut Slot) -> Result<R, Error>) -> Result<R, Error> {
    SESSIONS.with(|s| {
        let mut s = s.borrow_mut();
        match (h as usize).checked_sub(1).and_then(|i| s.get_mut(i)).and_then(|x| x.as_mut()) {
            Some(slot) => f(slot),
            None => Err(Error(format!("invalid session handle {h}"))),
        }
    })
}

fn layout(size: u32) -> Option<Layout> {
    Layout::from_size_align((size as usize).max(1), 8).ok()
}

/// Allocates `size` bytes, 8-byte aligned; 0 when out of memory.
#[no_mangle]
pub extern "C" fn tsp_alloc(size: u32) -> *mut u8 {
    match layout(size) {
        // SAFETY: the layout has a non-zero size.
        Some(l) => unsafe { alloc(l) },
        None => core::ptr::null_mut(),
    }
}

/// Frees a block from `tsp_alloc` with the same size.
///
/// # Safety
/// `ptr` must come from `tsp_alloc(size)` and not be freed twice.
#[no_mangle]
pub unsafe extern "C" fn tsp_free(ptr: *mut u8, size: u32) {
    if let (false, Some(l)) = (ptr.is_null(), layout(size)) {
        dealloc(ptr, l);
    }
}

#[no_mangle]
pub extern "C" fn tsp_error_ptr() -> *const u8 {
    ERROR.with(|m| m.borrow().as_ptr())
}

#[no_mangle]
pub extern "C" fn tsp_error_len() -> u32 {
    ERROR.with(|m| m.borrow().len() as u32)
}

/// A new session handle (> 0).
#[no_mangle]
pub extern "C" fn tsp_new() -> u32 {
    SESSIONS.with(|s| {
        let mut s = s.borrow_mut();
        let slot = Some(Box::new(Slot { session: Session::new(), result: None, diff: None, entries: None }));
        // Reuse a freed slot so handles stay small in long-lived hosts.
        if let Some(i) = s.iter().position(|x| x.is_none()) {
            s[i] = slot;
            i as u32 + 1
        } else {
            s.push(slot);
            s.len() as u32
        }
    })
}

#[no_mangle]
pub extern "C" fn tsp_drop(h: u32) {
    SESSIONS.with(|s| {
        let mut s = s.borrow_mut();
        if let Some(x) = (h as usize).checked_sub(1).and_then(|i| s.get_mut(i)) {
            *x = None;
        }
    })
}

/// A slice over host-written memory; an empty slice when n == 0 (whatever the pointer).
unsafe fn slice<'a, T>(ptr: *const T, n: u32) -> Result<&'a [T], Error> {
    if n == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() || !(ptr as usize).is_multiple_of(core::mem::align_of::<T>()) {
        return Err(Error("misaligned or null buffer".into()));
    }
    Ok(core::slice::from_raw_parts(ptr, n as usize))
}

/// # Safety
/// The pointers must address `n` elements each (from `tsp_alloc`).
#[no_mangle]
pub unsafe extern "C" fn tsp_add_stacks(h: u32, parent: *const i32, frame: *const u32, n: u32) -> u32 {
    let r = with_slot(h, |slot| {
        slot.clear_results();
        slot.session.add_stacks(slice(parent, n)?, slice(frame, n)?)
    });
    r.map_or_else(set_error, |_| 0)
}

/// # Safety
/// The pointers must address `n` elements each (from `tsp_alloc`); `cpu` may be null: the chunk has no CPU
/// column (SampleTable.cpu absent).
#[no_mangle]
pub unsafe extern "C" fn tsp_add_samples(
    h: u32,
    stack: *const i32,
    time: *const f64,
    state: *const u8,
    cpu: *const f64,
    n: u32,
) -> u32 {
    let r = with_slot(h, |slot| {
        slot.clear_results();
        let cpu = if cpu.is_null() { None } else { Some(slice(cpu, n)?) };
        slot.session.add_samples(slice(stack, n)?, slice(time, n)?, slice(state, n)?, cpu)
    });
    r.map_or_else(set_error, |_| 0)
}

/// # Safety
/// The pointers must address `n` elements each (from `tsp_alloc`).
#[no_mangle]
pub unsafe extern "C" fn tsp_add_waits(h: u32, start: *const f64, end: *const f64, stack: *const i32, n: u32) -> u32 {
    let r = with_slot(h, |slot| {
        slot.clear_results();
        slot.session.add_waits(slice(start, n)?, slice(end, n)?, slice(stack, n)?)
    });
    r.map_or_else(set_error, |_| 0)
}

/// # Safety
/// Each pointer must address its length in elements (from `tsp_alloc`).
/// `idle_sampled`: 0, 1 (meta.idleSampled), or 2 (and meta.runningGap "previous"). `async_mode`: 0 disabled,
/// 1 enabled, 2 strict.
#[no_mangle]
// The extern "C" ABI that wasm/core.ts calls: scalars and (pointer, length) pairs, no structs.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tsp_process(
    h: u32,
    duration: f64,
    gap_cap: f64,
    idle_sampled: u32,
    interval: f64,
    async_mode: u32,
    timeline: u32,
    show_all: u32,
    filter_threshold: f64,
    flat_total: u32,
    start: *const f64,
    start_len: u32,
    flags: *const u8,
    flags_len: u32,
    library: *const u32,
    library_len: u32,
) -> u32 {
    let r = with_slot(h, |slot| {
        slot.clear_results();
        let o = options(
            duration,
            gap_cap,
            idle_sampled,
            interval,
            async_mode,
            timeline,
            show_all,
            filter_threshold,
            flat_total,
            slice(start, start_len)?,
            slice(flags, flags_len)?,
            slice(library, library_len)?,
        )?;
        slot.result = Some(slot.session.process(&o)?);
        Ok(())
    });
    r.map_or_else(set_error, |_| 0)
}

/// As `tsp_process` (timeline, filter_threshold and flat_total play no part), but the session's entries in time
/// order (SPEC, entries), read as fields 64..
///
/// # Safety
/// As `tsp_process`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tsp_entries(
    h: u32,
    duration: f64,
    gap_cap: f64,
    idle_sampled: u32,
    interval: f64,
    async_mode: u32,
    timeline: u32,
    show_all: u32,
    filter_threshold: f64,
    flat_total: u32,
    start: *const f64,
    start_len: u32,
    flags: *const u8,
    flags_len: u32,
    library: *const u32,
    library_len: u32,
) -> u32 {
    let r = with_slot(h, |slot| {
        slot.clear_results();
        let o = options(
            duration,
            gap_cap,
            idle_sampled,
            interval,
            async_mode,
            timeline,
            show_all,
            filter_threshold,
            flat_total,
            slice(start, start_len)?,
            slice(flags, flags_len)?,
            slice(library, library_len)?,
        )?;
        slot.entries = Some(slot.session.entries(&o)?);
        Ok(())
    });
    r.map_or_else(set_error, |_| 0)
}

#[allow(clippy::too_many_arguments)]
fn options<'a>(
    duration: f64,
    gap_cap: f64,
    idle_sampled: u32,
    interval: f64,
    async_mode: u32,
    timeline: u32,
    show_all: u32,
    filter_threshold: f64,
    flat_total: u32,
    start_stack: &'a [f64],
    frame_flags: &'a [u8],
    frame_library: &'a [u32],
) -> Result<Options<'a>, Error> {
    let async_mode = match async_mode {
        0 => AsyncMode::Disabled,
        1 => AsyncMode::Enabled,
        2 => AsyncMode::Strict,
        m => return Err(Error(format!("asyncMode {m} is not 0, 1 or 2"))),
    };
    if idle_sampled > 2 {
        return Err(Error(format!("idleSampled {idle_sampled} is not 0, 1 or 2")));
    }
    Ok(Options {
        duration,
        gap_cap,
        idle_sampled: idle_sampled != 0,
        gap_to_previous: idle_sampled == 2,
        interval,
        async_mode,
        timeline: timeline != 0,
        show_all: show_all != 0,
        filter_threshold,
        flat_time: if flat_total != 0 { FlatTime::Total } else { FlatTime::SelfTime },
        start_stack,
        frame_flags,
        frame_library,
    })
}

/// Aligns the last results of `base` and `next` (SPEC, diff; both processed in aggregated mode with
/// filterThreshold 0 over one frame table); the result is read as fields 32.. of `next`.
///
/// # Safety
/// Each pointer must address its length in elements (from `tsp_alloc`).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tsp_diff(
    base: u32,
    next: u32,
    show_all: u32,
    filter_threshold: f64,
    flat_total: u32,
    normalize: u32,
    flags: *const u8,
    flags_len: u32,
    library: *const u32,
    library_len: u32,
) -> u32 {
    let r = (|| {
        let o = DiffOptions {
            show_all: show_all != 0,
            filter_threshold,
            flat_time: if flat_total != 0 { FlatTime::Total } else { FlatTime::SelfTime },
            normalize: normalize != 0,
            frame_flags: slice(flags, flags_len)?,
            frame_library: slice(library, library_len)?,
        };
        let processed = |h: u32, name: &str| {
            with_slot(h, |slot| slot.result.clone().ok_or_else(|| Error(format!("{name} has not been processed"))))
        };
        let (a, b) = (processed(base, "base")?, processed(next, "new")?);
        let d = diff(&a, &b, &o)?;
        with_slot(next, |slot| {
            slot.diff = Some(d);
            Ok(())
        })
    })();
    r.map_or_else(set_error, |_| 0)
}

fn field<R>(h: u32, f: u32, get: impl Fn(*const u8, usize) -> R, none: R) -> R {
    let r = with_slot(h, |slot| {
        fn p<T>(v: &[T]) -> (*const u8, usize) {
            (v.as_ptr() as *const u8, v.len())
        }
        if f >= 64 {
            let Some(e) = slot.entries.as_ref() else {
                return Ok(None);
            };
            let (ptr, len) = match f - 64 {
                0 => p(&e.path_parent),
                1 => p(&e.path_frame),
                2 => p(&e.entry_path),
                3 => p(&e.entry_weight),
                _ => return Ok(None),
            };
            return Ok(Some(get(ptr, len)));
        }
        if f >= 32 {
            let Some(d) = slot.diff.as_ref() else {
                return Ok(None);
            };
            let (ptr, len) = match f - 32 {
                0 => p(&d.frame),
                1 => p(&d.parent),
                2 => p(&d.depth),
                3 => p(&d.time),
                4 => p(&d.self_time),
                5 => p(&d.await_time),
                6 => p(&d.group),
                7 => p(&d.flags),
                8 => p(&d.group_root),
                9 => p(&d.group_hidden),
                10 => p(&d.group_lib_offsets),
                11 => p(&d.group_libs),
                12 => p(&d.flat_frame),
                13 => p(&d.flat_self),
                14 => p(&d.flat_total),
                15 => p(&d.base_time),
                16 => p(&d.base_self_time),
                17 => p(&d.base_await_time),
                18 => p(&d.side),
                19 => p(&d.flat_base_self),
                20 => p(&d.flat_base_total),
                _ => return Ok(None),
            };
            return Ok(Some(get(ptr, len)));
        }
        let Some(t) = slot.result.as_ref() else {
            return Ok(None);
        };
        let (ptr, len) = match f {
            0 => p(&t.frame),
            1 => p(&t.parent),
            2 => p(&t.depth),
            3 => p(&t.time),
            4 => p(&t.self_time),
            5 => p(&t.await_time),
            6 => p(&t.group),
            7 => p(&t.flags),
            8 => p(&t.group_root),
            9 => p(&t.group_hidden),
            10 => p(&t.group_lib_offsets),
            11 => p(&t.group_libs),
            12 => p(&t.flat_frame),
            13 => p(&t.flat_self),
            14 => p(&t.flat_total),
            15 => t.cpu_time.as_deref().map_or((core::ptr::null(), 0), p),
            _ => return Ok(None),
        };
        Ok(Some(get(ptr, len)))
    });
    r.ok().flatten().unwrap_or(none)
}

/// Address of result field `f` (0 frame .. 14 flatTotal, 15 cpuTime; 32.. the diff's, wasm/core.ts DIFF_FIELDS; 64..
/// the entries');
/// 0 when there is no result.
#[no_mangle]
pub extern "C" fn tsp_result_ptr(h: u32, f: u32) -> *const u8 {
    field(h, f, |p, _| p, core::ptr::null())
}

/// Element count of result field `f`.
#[no_mangle]
pub extern "C" fn tsp_result_len(h: u32, f: u32) -> u32 {
    field(h, f, |_, n| n as u32, 0)
}
