//! One process-wide setting of glibc's allocator for processes that run sled.
//!
//! sled 0.34 allocates a fresh buffer of a segment's size (512 KiB) for
//! every log buffer it seals and frees it once written. glibc serves
//! allocations of 128 KiB and more with `mmap`, but raises that threshold to
//! the size of any mmapped block that is freed (its "dynamic mmap
//! threshold"), so after sled's first buffer is written every later one
//! comes from the main heap, between the small long-lived allocations of
//! sled's page cache, and the heap cannot shrink back: a 200,000-line import
//! peaked at 163 MiB with the default and at 101 MiB with the threshold
//! pinned at 128 KiB (`MALLOC_MMAP_THRESHOLD_=131072`), in about the same
//! time (docs/benchmarks.md, "Where layout 3 misses at 1 M").

/// The threshold pinned, in bytes: glibc's own default, which setting it
/// explicitly keeps from moving.
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Pins glibc's mmap threshold at 128 KiB so that sled's segment-sized log
/// buffers are mapped and unmapped instead of fragmenting the heap. Call it
/// once, early in `main`, before other threads allocate. Does nothing where
/// the C library is not glibc, or when `MALLOC_MMAP_THRESHOLD_` is set in
/// the environment (the user's own choice wins).
pub fn pin_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: mallopt only changes allocator parameters; it is
            // called before this process starts other threads.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            }
        }
    }
}
