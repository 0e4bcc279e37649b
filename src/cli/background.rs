//! A writer whose `write` calls happen on a thread of its own: the caller fills a buffer and
//! hands it over when full, so that pricing does not wait on the system's write calls
//! (copying gigabytes of lines into the page cache takes seconds).

use std::io::{self, Write};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// How many bytes are handed over at a time.
const CHUNK: usize = 1 << 18;

/// Writes to `W` on a background thread. Everything written reaches `W` in order; the first
/// error of `W` is returned by a later `write` or by [`Background::into_inner`].
pub struct Background<W: Write + Send + 'static> {
    buf: Vec<u8>,
    full: Option<SyncSender<Vec<u8>>>,
    /// Buffers written out, to fill again.
    empty: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Write + Send + 'static> Background<W> {
    pub fn new(mut inner: W) -> Background<W> {
        let (full, filled) = sync_channel::<Vec<u8>>(4);
        let (written, empty) = channel();
        let thread = std::thread::spawn(move || {
            for mut buf in filled {
                inner.write_all(&buf)?;
                buf.clear();
                let _ = written.send(buf);
            }
            inner.flush()?;
            Ok(inner)
        });
        Background { buf: Vec::with_capacity(CHUNK), full: Some(full), empty, thread: Some(thread) }
    }

    /// Hands the buffer over; on failure, the writer's error.
    fn hand_over(&mut self) -> io::Result<()> {
        let next = self.empty.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let buf = std::mem::replace(&mut self.buf, next);
        let sent = self.full.as_ref().map(|full| full.send(buf));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped: it met an error.
            _ => self.join().map(|_| ()),
        }
    }

    fn join(&mut self) -> io::Result<W> {
        self.full = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Err(io::Error::other("the output was already closed after an error")),
        }
    }

    /// Writes what is left, waits for the thread and gives the writer back, flushed.
    pub fn into_inner(mut self) -> io::Result<W> {
        if !self.buf.is_empty() {
            self.hand_over()?;
        }
        self.join()
    }
}

impl<W: Write + Send + 'static> Write for Background<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.hand_over()?;
        }
        Ok(data.len())
    }

    /// Hands over what is buffered; it reaches `W` soon after (and surely by `into_inner`).
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.hand_over()
    }
}

impl<W: Write + Send + 'static> Drop for Background<W> {
    fn drop(&mut self) {
        self.full = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_written_arrives_in_order() {
        let mut w = Background::new(Vec::new());
        let mut expected = Vec::new();
        for i in 0..100_000u32 {
            let line = format!("line {i}\n");
            w.write_all(line.as_bytes()).unwrap();
            expected.extend_from_slice(line.as_bytes());
        }
        assert_eq!(w.into_inner().unwrap(), expected);
    }

    /// Fails once it has taken `room` bytes.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if data.len() > self.room {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            self.room -= data.len();
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_writers_error_comes_back() {
        let mut w = Background::new(Full { room: 3 * CHUNK });
        let chunk = vec![b'x'; 1000];
        let failed = (0..10 * CHUNK / 1000).map(|_| w.write_all(&chunk)).find_map(Result::err);
        let error = match failed {
            Some(e) => e,
            None => w.into_inner().err().expect("the disk is full"),
        };
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
    }
}
