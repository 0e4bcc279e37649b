//! Progress on stderr while logs are priced: rows, rows per second and the share of the input
//! read, shown once a run has taken a second, and only when stderr is a terminal (a piped or
//! redirected stderr gets nothing, so scripts and the closing counts stay as they are).
//!
//! The pipeline reports after each batch of rows ([`wabill::log::Sink::progress`]), never per
//! row, and the bytes read are counted per read of the log files (tens of kilobytes), so the
//! pricing loop pays one call a batch; the bar is redrawn at most ten times a second.

use std::io::{self, IsTerminal, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wabill::log::Counts;

/// After how long a run shows its progress.
const AFTER: Duration = Duration::from_secs(1);
/// How often the bar is updated.
const EVERY: Duration = Duration::from_millis(100);

/// The progress of one run.
pub(super) struct Progress {
    started: Instant,
    /// Bytes of the logs read so far (compressed bytes for a compressed log).
    read: Arc<AtomicU64>,
    /// The logs' size, when every log is a file.
    size: Option<u64>,
    bar: Option<ProgressBar>,
    /// When the bar was last updated.
    shown: Duration,
    target: fn() -> ProgressDrawTarget,
}

impl Progress {
    /// The progress of a run reading logs of `size` bytes (if known), counted by `read`; `None`
    /// when stderr is not a terminal.
    pub(super) fn on_terminal(size: Option<u64>, read: Arc<AtomicU64>) -> Option<Progress> {
        io::stderr()
            .is_terminal()
            .then(|| Progress::new(size, read, || ProgressDrawTarget::stderr_with_hz(10)))
    }

    fn new(size: Option<u64>, read: Arc<AtomicU64>, target: fn() -> ProgressDrawTarget) -> Progress {
        Progress { started: Instant::now(), read, size, bar: None, shown: Duration::ZERO, target }
    }

    /// Shows the counts so far, once the run has taken a second.
    pub(super) fn update(&mut self, counts: &Counts) {
        self.update_at(counts, self.started.elapsed());
    }

    fn update_at(&mut self, counts: &Counts, elapsed: Duration) {
        if elapsed < AFTER || elapsed < self.shown + EVERY {
            return;
        }
        self.shown = elapsed;
        let bar = self.bar.get_or_insert_with(|| {
            let (bar, template) = match self.size {
                Some(size) => (ProgressBar::new(size), "{bar:30} {percent:>3}% of the input, {msg}"),
                None => (ProgressBar::new_spinner(), "{spinner} {msg}"),
            };
            bar.set_draw_target((self.target)());
            bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
            bar
        });
        let rate = counts.rows as f64 / elapsed.as_secs_f64();
        bar.set_message(format!("{} rows, {rate:.0} rows/s", counts.rows));
        bar.set_position(self.read.load(Ordering::Relaxed));
    }

    /// Clears the bar, before the closing counts are written.
    pub(super) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A reader that adds the bytes it reads to a counter.
pub(super) struct Counting<R> {
    pub(super) inner: R,
    pub(super) read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_shows_after_a_second_the_rows_their_rate_and_the_share_read() {
        let read = Arc::new(AtomicU64::new(0));
        let mut p = Progress::new(Some(1000), read.clone(), ProgressDrawTarget::hidden);
        let counts = |rows| Counts { rows, priced: rows, ..Counts::default() };
        p.update_at(&counts(100), Duration::from_millis(900));
        assert!(p.bar.is_none(), "nothing before a second");
        read.store(250, Ordering::Relaxed);
        p.update_at(&counts(2000), Duration::from_secs(2));
        let bar = p.bar.as_ref().expect("a bar after a second");
        assert_eq!(
            (bar.position(), bar.length(), bar.message()),
            (250, Some(1000), "2000 rows, 1000 rows/s".into())
        );
        read.store(500, Ordering::Relaxed);
        p.update_at(&counts(2100), Duration::from_millis(2050));
        assert_eq!(p.bar.as_ref().unwrap().position(), 250, "not redrawn within a tenth of a second");
        p.finish();
    }

    #[test]
    fn a_counting_reader_counts_what_it_reads() {
        let read = Arc::new(AtomicU64::new(0));
        let mut r = Counting { inner: &b"timestamp,business\n"[..], read: read.clone() };
        let mut text = String::new();
        r.read_to_string(&mut text).unwrap();
        assert_eq!(read.load(Ordering::Relaxed), text.len() as u64);
    }
}
