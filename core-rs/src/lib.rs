//! tsprofile's core: the semantics of SPEC.md over typed arrays.
//!
//! Rust API: [`Session`] ingests stacks and samples in chunks, [`Session::process`] turns them into a
//! [`ProcessedTree`]; [`diff`] aligns two of them (SPEC, diff). The only `extern "C"` surface is in `ffi.rs` (used by wasm/core.ts).
//! Nothing here recurses over tree depth: a 10,000-deep stack is just a long loop.

mod diff;
mod flat;
mod group;
mod hash;
mod ingest;
mod output;
mod paths;
mod processors;
mod stitch;
mod tree;
mod weights;

pub mod ffi;

#[cfg(test)]
mod tests;

pub use diff::{diff, DiffOptions, DiffTree, SIDE_BASE, SIDE_NEW};
pub use ingest::Session;
pub use output::{Entries, ProcessedTree};

/// Synthetic frame ids (session/types.ts SyntheticFrame); real frame ids are always below SYNTHETIC_BASE.
pub const SYNTHETIC_BASE: u32 = 0xffff_ff00;
pub const SYNTH_ROOT: u32 = 0xffff_ff00;
pub const SYNTH_SELF: u32 = 0xffff_ff01;
pub const SYNTH_IDLE: u32 = 0xffff_ff02;
pub const SYNTH_GC: u32 = 0xffff_ff03;
pub const SYNTH_NATIVE: u32 = 0xffff_ff04;
pub const SYNTH_AWAIT: u32 = 0xffff_ff05;
/// Number of synthetic frame ids in use (root .. outOfContext).
pub const SYNTH_COUNT: u32 = 7;
pub const NO_LIBRARY: u32 = 0xffff_ffff;

pub const FLAG_INTERNAL: u8 = 1;
pub const FLAG_HIDDEN: u8 = 2;
pub const FLAG_LIBRARY: u8 = 4;
pub const FLAG_BUILTIN: u8 = 8;

pub const NODE_VISIBLE: u8 = 1;
pub const NODE_GROUP_ROOT: u8 = 2;

/// The highest SampleState value (outOfContext).
pub const MAX_STATE: u8 = 5;

/// Which time orders the flat view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlatTime {
    SelfTime,
    Total,
}

/// How waits are charged (SPEC, await attribution). Strict behaves as Enabled until contexts are tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncMode {
    Disabled,
    Enabled,
    Strict,
}

/// CoreProcessOptions (session/types.ts), borrowed.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    pub duration: f64,
    pub gap_cap: f64,
    /// meta.idleSampled: the sampler records idle as samples, so a gap between two running samples is running
    /// time (SPEC §1, running gap).
    pub idle_sampled: bool,
    /// meta.runningGap == "previous": a running gap is wholly the sample's before it (SPEC §1).
    pub gap_to_previous: bool,
    /// meta.interval, us; 0 = rules 1 and 2 of await attribution do not apply (SPEC).
    pub interval: f64,
    pub async_mode: AsyncMode,
    pub timeline: bool,
    pub show_all: bool,
    pub filter_threshold: f64,
    pub flat_time: FlatTime,
    /// Frame ids as numbers (JS hands us doubles; validated to be integers below the frame count).
    pub start_stack: &'a [f64],
    pub frame_flags: &'a [u8],
    pub frame_library: &'a [u32],
}

/// A validation error: one line, without the "tsprofile core: " prefix (the TS glue adds it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn err<T>(msg: String) -> Result<T, Error> {
    Err(Error(msg))
}

#[inline]
pub(crate) fn is_real(frame: u32) -> bool {
    frame < SYNTHETIC_BASE
}

/// Round half away from zero (SPEC: times are rounded to the nearest integer).
#[inline]
pub(crate) fn round_time(t: f64) -> f64 {
    t.round()
}
