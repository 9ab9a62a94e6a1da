//! A counting allocator for the tests that bound what decoding may allocate per byte
//! received (issue 14, defect 4). Built only with the `test-util` feature; a test
//! binary installs it with `#[global_allocator]` and measures with `allocated_by`.
//!
//! It counts every byte the calling thread asks for, so a reservation made from a
//! claimed count shows up even when decoding then fails, and tests running on other
//! threads do not disturb the measure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting what each thread holds.
pub struct CountingAllocator;

thread_local! {
    /// Bytes this thread holds now, and the most it held since the last reset. A
    /// const Cell needs no allocation to set up, so the allocator may touch it.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grew(by: isize) {
    let live = LIVE.with(|l| {
        l.set(l.get() + by);
        l.get()
    });
    PEAK.with(|p| p.set(p.get().max(live)));
}

// SAFETY: every call is passed to the system allocator unchanged; counting touches
// only thread-local Cells, which neither allocate nor re-enter the allocator.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grew(-(layout.size() as isize));
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a move: for a moment both the old block and the new one exist.
        grew(new_size as isize);
        grew(-(layout.size() as isize));
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The most memory this thread held at once, beyond what it held before, while `f`
/// ran, including what `f` returned. Zero unless `CountingAllocator` is the global
/// allocator.
pub fn allocated_by<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(before));
    let out = f();
    let peak = PEAK.with(|p| p.get());
    ((peak - before).max(0) as usize, out)
}
