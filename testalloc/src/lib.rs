//! Counting global allocators for the workspace's tests and benches (dev only). Both forward
//! every call unchanged to [`System`]; a test binary installs one with
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: imapwire_testalloc::Peak = imapwire_testalloc::Peak;
//! ```
//!
//! - [`Peak`]: the bytes live, and the most live since [`Peak::reset`] (a `realloc` counts as
//!   the change of size), for bounded-memory tests and peak-memory figures, and the bytes
//!   live by the calling thread's own calls ([`Peak::live_here`]), for tests that expect
//!   nothing left allocated;
//! - [`Count`]: the allocations (`alloc`, `alloc_zeroed` and `realloc` one each) and the
//!   bytes requested (a `realloc`: its growth), for allocations-per-message figures.
//!
//! The counts are per process: tests that measure must not run in parallel.
#![deny(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// `System`, keeping the bytes live and the most live since the last [`reset`](Peak::reset).
#[derive(Debug, Clone, Copy, Default)]
pub struct Peak;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The bytes this thread allocated minus those it freed (a `const` cell without drop
    /// glue: reading or writing it never allocates, so the allocator may use it).
    static HERE: Cell<isize> = const { Cell::new(0) };
}

/// `d` bytes more (or fewer) on this thread's count; nothing once the thread's storage is
/// gone (while it exits).
fn here(d: isize) {
    let _ = HERE.try_with(|c| c.set(c.get().wrapping_add(d)));
}

fn grew(n: usize) {
    here(n as isize);
    let now = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
}

fn shrank(n: usize) {
    here((n as isize).wrapping_neg());
    LIVE.fetch_sub(n, Relaxed);
}

impl Peak {
    /// The bytes live now.
    pub fn live() -> usize {
        LIVE.load(Relaxed)
    }

    /// The bytes the calling thread has allocated minus those it has freed (a `realloc`
    /// counts as the change of size). Unlike [`live`](Self::live), another thread's
    /// allocations (the test harness's own, for example) do not move it, so a test can
    /// compare it before and after work done on its thread and expect the same count when
    /// that work left nothing allocated.
    pub fn live_here() -> isize {
        HERE.with(Cell::get)
    }

    /// The most bytes live since the last [`reset`](Self::reset).
    pub fn peak() -> usize {
        PEAK.load(Relaxed)
    }

    /// Starts a new peak at what is live now; returns that.
    pub fn reset() -> usize {
        let now = LIVE.load(Relaxed);
        PEAK.store(now, Relaxed);
        now
    }

    /// The result of `f` and the most bytes live during it above what was live before it.
    pub fn during<R>(f: impl FnOnce() -> R) -> (R, usize) {
        let base = Self::reset();
        let r = f();
        (r, Self::peak().saturating_sub(base))
    }
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            grew(new_size - layout.size());
        } else {
            shrank(layout.size() - new_size);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// `System`, counting the allocations and the bytes requested.
#[derive(Debug, Clone, Copy, Default)]
pub struct Count;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

impl Count {
    /// The result of `f`, the allocations it made and the bytes it requested.
    pub fn during<R>(f: impl FnOnce() -> R) -> (R, u64, u64) {
        let (a, b) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
        let r = f();
        (r, ALLOCS.load(Relaxed) - a, BYTES.load(Relaxed) - b)
    }
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Count {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size.saturating_sub(layout.size()) as u64, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    // The library's own test binary does not install the allocators: their bookkeeping is
    // driven by calling them directly.
    use super::*;

    #[test]
    fn peak_follows_live_bytes_and_resets() {
        let base = Peak::reset();
        let here = Peak::live_here();
        let l = Layout::from_size_align(4096, 8).unwrap();
        // SAFETY: a valid layout; the block is freed with the layout it had.
        unsafe {
            let p = Peak.alloc(l);
            assert!(!p.is_null());
            assert_eq!(Peak::live(), base + 4096);
            assert_eq!(Peak::live_here(), here + 4096);
            let q = Peak.realloc(p, l, 1024);
            assert_eq!(Peak::live(), base + 1024);
            assert_eq!(Peak::live_here(), here + 1024);
            Peak.dealloc(q, Layout::from_size_align(1024, 8).unwrap());
        }
        assert_eq!(Peak::live(), base);
        assert_eq!(Peak::live_here(), here);
        assert_eq!(Peak::peak(), base + 4096);
        assert_eq!(Peak::reset(), base);
        assert_eq!(Peak::peak(), base);
    }

    #[test]
    fn count_counts_calls_and_requested_bytes() {
        let l = Layout::from_size_align(100, 8).unwrap();
        let ((), n, bytes) = Count::during(|| {
            // SAFETY: a valid layout; the block is freed with the layout it had.
            unsafe {
                let p = Count.alloc(l);
                let q = Count.realloc(p, l, 300);
                Count.dealloc(q, Layout::from_size_align(300, 8).unwrap());
            }
        });
        assert_eq!((n, bytes), (2, 300));
    }
}
