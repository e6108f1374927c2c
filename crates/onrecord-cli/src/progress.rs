//! Progress bars on stderr for long work (bulk `append --jsonl`, `replay
//! --rebuild`, `verify`, `export`): a bar with rate and ETA that appears only
//! when stderr is a terminal, neither `--quiet` nor `--json` was given, and the
//! work has already taken [`SHOW_AFTER`].
//!
//! Only drawing lives here. It never writes to stdout, never opens a ledger and
//! never decides what work is done: commands feed it `(done, total)` counts.

use std::io::{self, IsTerminal, Read};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How long work must run before its bar appears, so quick commands print nothing.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// What a bar counts, which decides how it is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Records or events (`1234/5678 records`).
    Records,
    /// Bytes of input (`1.2 MiB/4.0 MiB`).
    Bytes,
}

/// Whether a bar may be shown at all: stderr is a terminal, and neither `--quiet` nor `--json`.
pub fn wanted(quiet: bool, json: bool, stderr_is_terminal: bool) -> bool {
    !quiet && !json && stderr_is_terminal
}

/// A progress reporter; a no-op unless [`wanted`] and the work outlasts [`SHOW_AFTER`].
pub struct Progress {
    enabled: bool,
    label: &'static str,
    unit: Unit,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A reporter for work labelled `label` (e.g. `verifying`); checks whether stderr is a terminal.
    pub fn new(label: &'static str, unit: Unit, quiet: bool, json: bool) -> Self {
        Self::with_terminal(label, unit, wanted(quiet, json, io::stderr().is_terminal()))
    }

    /// A reporter that draws (after [`SHOW_AFTER`]) only if `enabled`.
    pub fn with_terminal(label: &'static str, unit: Unit, enabled: bool) -> Self {
        Self {
            enabled,
            label,
            unit,
            started: Instant::now(),
            bar: None,
        }
    }

    /// Reports `done` of `total` (a `total` of 0 means unknown).
    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled {
            return;
        }
        if self.bar.is_none() {
            if self.started.elapsed() < SHOW_AFTER {
                return;
            }
            self.bar = Some(self.make_bar(total));
        }
        if let Some(bar) = &self.bar {
            if total > 0 && bar.length() != Some(total) {
                bar.set_length(total);
            }
            bar.set_position(done);
        }
    }

    fn make_bar(&self, total: u64) -> ProgressBar {
        let template = match (self.unit, total > 0) {
            (Unit::Records, true) => "{msg} [{bar:30}] {pos}/{len} records ({rate}, ETA {eta})",
            (Unit::Bytes, true) => {
                "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})"
            }
            (Unit::Records, false) => "{msg} {spinner} {pos} records ({rate})",
            (Unit::Bytes, false) => "{msg} {spinner} {bytes} ({bytes_per_sec})",
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", state.per_sec());
                },
            )
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(
            (total > 0).then_some(total),
            ProgressDrawTarget::stderr(),
        )
        .with_style(style)
        .with_message(self.label)
        .with_elapsed(self.started.elapsed());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }

    /// Whether a bar is on screen now.
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }

    /// Removes the bar, if one was drawn, leaving the terminal as it was.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A spinner for work that reports no counts (e.g. committing a bulk append):
/// drawn from a timer thread once the work has taken [`SHOW_AFTER`], removed by [`Busy::finish`] or on drop.
pub struct Busy {
    bar: Option<ProgressBar>,
}

impl Busy {
    /// Starts the timer for work labelled `label`, if bars are [`wanted`] on this stderr.
    pub fn start(label: String, quiet: bool, json: bool) -> Self {
        if !wanted(quiet, json, io::stderr().is_terminal()) {
            return Self { bar: None };
        }
        let style = ProgressStyle::with_template("{msg} {spinner} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
            .with_style(style)
            .with_message(label);
        let shown = bar.clone();
        std::thread::spawn(move || {
            std::thread::sleep(SHOW_AFTER);
            if !shown.is_finished() {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(200));
            }
        });
        Self { bar: Some(bar) }
    }

    /// Removes the spinner, if it was drawn.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A reader that reports how many bytes have passed through it.
pub struct CountingReader<'p, R> {
    inner: R,
    read: u64,
    total: u64,
    progress: &'p mut Progress,
}

impl<'p, R: Read> CountingReader<'p, R> {
    /// Wraps `inner`, whose size is `total` bytes (0 if unknown).
    pub fn new(inner: R, total: u64, progress: &'p mut Progress) -> Self {
        Self {
            inner,
            read: 0,
            total,
            progress,
        }
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.progress.update(self.read, self.total);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_wanted_only_on_a_terminal_without_quiet_or_json() {
        assert!(wanted(false, false, true));
        assert!(!wanted(true, false, true));
        assert!(!wanted(false, true, true));
        assert!(!wanted(false, false, false));
    }

    #[test]
    fn quick_or_disabled_work_draws_nothing() {
        let mut quick = Progress::with_terminal("x", Unit::Records, true);
        quick.update(1, 10);
        assert!(!quick.is_drawn());
        let mut off = Progress::with_terminal("x", Unit::Records, false);
        off.started -= SHOW_AFTER * 2;
        off.update(1, 10);
        assert!(!off.is_drawn());
    }

    #[test]
    fn counting_reader_passes_bytes_through() {
        let mut p = Progress::with_terminal("x", Unit::Bytes, false);
        let mut r = CountingReader::new(&b"hello"[..], 5, &mut p);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!((s.as_str(), r.read), ("hello", 5));
    }
}
