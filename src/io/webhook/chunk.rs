//! NDJSON read a chunk of whole lines at a time, and parsed on a second thread while the
//! reducer folds the chunk before: the documents of a log are independent lines, so parsing
//! them needs nothing of the reduction, which takes their items in document order.
//!
//! A log of one chunk (the tests' logs, a day's small dump) is parsed where it is read,
//! without a thread.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::json::{Fields, Item, Place};
use crate::domain::error::Problem;

/// How many bytes of whole lines a chunk holds (a line longer than that is one chunk): some
/// 600 documents of Meta's, few enough to stay in cache between the two threads, many enough
/// that handing them over costs nothing next to their parse.
pub(super) const CHUNK: usize = 256 * 1024;

/// How many chunks may be sent to the parsing thread ahead of the reduction, and how many the
/// reading thread may parse ahead itself: the memory of the parse is bounded by twice this many
/// chunks of text and their items.
const AHEAD: usize = 4;

/// Lines of NDJSON and, once parsed, the items of their documents.
///
/// The items borrow the text, or a copy of a string the document owned (one with escapes):
/// both are replaced only by [`Chunk::parse`], which drops the items first. Each document is
/// dropped once its items are made, on the thread that parses.
#[derive(Default)]
pub(super) struct Chunk {
    /// The items of the documents not yet taken, in document order.
    items: VecDeque<Item<'static>>,
    /// Each document not yet taken (its line, counted from the chunk's first, and its number
    /// of items) or its line's problem.
    docs: VecDeque<(u64, Result<usize, Problem>)>,
    /// How many lines the chunk holds.
    lines: u64,
    /// The strings of the items that their documents owned.
    owned: Vec<String>,
    /// A document's fields while its items are made (empty between parses): kept for their
    /// vectors.
    fields: Fields<'static>,
    text: Text,
}

/// A document's items, as [`Chunk::next`] gives them: they borrow the chunk.
pub(super) struct Items<'c>(std::collections::vec_deque::Drain<'c, Item<'static>>);

impl<'c> Iterator for Items<'c> {
    type Item = Item<'c>;

    fn next(&mut self) -> Option<Item<'c>> {
        self.0.next()
    }
}

/// Whole lines of NDJSON, in `bytes[..len]`, in a buffer kept from chunk to chunk. The bytes
/// past `len` are room that was written once (zeroed when the buffer grew): the input is read
/// straight into it, neither copied from another buffer nor zeroed again.
#[derive(Default)]
pub(super) struct Text {
    bytes: Vec<u8>,
    len: usize,
}

impl Text {
    fn lines(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Room for `more` bytes past `len`.
    fn room(&mut self, more: usize) -> &mut [u8] {
        if self.bytes.len() < self.len + more {
            self.bytes.resize(self.len + more, 0);
        }
        &mut self.bytes[self.len..self.len + more]
    }
}

/// Empties `text` and reads into it, after `carry` (the start of a line the chunk before cut),
/// whole lines of `input`: about `size` bytes of them (more when a line is longer), or what is
/// left. The start of the line it cuts goes to `carry`. `true` once the input has ended.
/// Lines read before an error of the input are kept, a line cut by it is not.
fn fill(text: &mut Text, carry: &mut Vec<u8>, input: &mut impl Read, size: usize) -> std::io::Result<bool> {
    text.len = 0;
    text.room(carry.len()).copy_from_slice(carry);
    text.len = carry.len();
    carry.clear();
    // The text before this has no line break past the last chunk's: each byte is searched
    // once, however long a line.
    let mut searched = text.len;
    loop {
        let want = if text.len < size { size - text.len } else { size.max(4096) };
        match input.read(text.room(want)) {
            Ok(0) => return Ok(true),
            Ok(n) => text.len += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                text.len = memchr::memrchr(b'\n', text.lines()).map_or(0, |end| end + 1);
                return Err(e);
            }
        }
        if text.len < size {
            continue;
        }
        if let Some(end) = memchr::memrchr(b'\n', &text.bytes[searched..text.len]).map(|at| searched + at + 1)
        {
            carry.extend_from_slice(&text.bytes[end..text.len]);
            text.len = end;
            return Ok(false);
        }
        searched = text.len;
    }
}

impl Chunk {
    /// Drops what the chunk held and parses the lines of `text`, counted from 1; gives back
    /// the chunk's text before, to be filled again.
    pub(super) fn parse(&mut self, text: Text) -> Text {
        let mut line = 0;
        self.items.clear();
        self.docs.clear();
        self.owned.clear();
        let old = std::mem::replace(&mut self.text, text);
        let mut items = Vec::from(std::mem::take(&mut self.items));
        let mut fields = std::mem::take(&mut self.fields);
        // SAFETY: the text is neither changed nor dropped while the items that borrow it are
        // kept: `parse` drops them before it replaces the text, and the fields are dropped in
        // order, the text last. Moving the chunk does not move its bytes. The document's
        // fields are emptied before the text is given back.
        let text: &'static [u8] = unsafe { &*std::ptr::from_ref::<[u8]>(self.text.lines()) };
        // Each line ends after its line break; the last may have none.
        let ends = memchr::memchr_iter(b'\n', text).map(|end| end + 1);
        let last = text.last().is_some_and(|&b| b != b'\n').then_some(text.len());
        let mut start = 0;
        for end in ends.chain(last) {
            let bytes = &text[start..end];
            start = end;
            line += 1;
            // Nearly every line is ASCII, which is UTF-8 (a faster check than UTF-8's).
            let line_text = if bytes.is_ascii() {
                // SAFETY: ASCII is UTF-8.
                Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
            } else {
                std::str::from_utf8(bytes)
            };
            let Ok(line_text) = line_text else {
                let problem = Problem::path(Place::DOCUMENT.path(format_args!("")), "not UTF-8", "");
                self.docs.push_back((line, Err(problem)));
                continue;
            };
            if line_text.trim().is_empty() {
                continue;
            }
            if let Err(problem) = fields.read(line_text.trim_end()) {
                self.docs.push_back((line, Err(problem)));
                continue;
            }
            let owned = &mut self.owned;
            // What the line holds is borrowed from it; what the document owned, copied.
            let mut keep = |s: &str| -> &'static str {
                let at = (s.as_ptr() as usize).wrapping_sub(line_text.as_ptr() as usize);
                if at <= line_text.len() && s.len() <= line_text.len() - at {
                    // SAFETY: `s` lies within the line, which lives as long as the chunk's
                    // text (see above): the same bytes, with the line's lifetime.
                    return unsafe { &*std::ptr::from_ref::<str>(s) };
                }
                if s.is_empty() {
                    return "";
                }
                owned.push(s.to_string());
                let copy = owned.last().expect("just pushed").as_str();
                // SAFETY: the copy's bytes stay where they are until `parse` drops them,
                // after the items that borrow them: moving a `String` does not move its
                // bytes, and it is never changed.
                unsafe { &*std::ptr::from_ref::<str>(copy) }
            };
            let before = items.len();
            match fields.items(None, &mut keep, &mut items) {
                Ok(()) => self.docs.push_back((line, Ok(items.len() - before))),
                Err(problem) => {
                    items.truncate(before);
                    self.docs.push_back((line, Err(problem)));
                }
            }
        }
        fields.clear();
        self.fields = fields;
        self.items = VecDeque::from(items);
        self.lines = line;
        old
    }

    /// The next document parsed: its line, and its items or its problem.
    pub(super) fn next(&mut self) -> Option<(u64, Result<Items<'_>, Problem>)> {
        let (line, doc) = self.docs.pop_front()?;
        Some((line, doc.map(|n| Items(self.items.drain(..n)))))
    }
}

/// NDJSON read a chunk at a time, parsed on a second thread once the log is longer than a
/// chunk: the thread parses the texts sent to it, in order, and this one parses the next text
/// itself whenever the chunk it needs is not parsed yet, rather than wait. The parse goes to
/// whichever thread has time.
pub(super) struct Lines {
    /// How many bytes a chunk holds.
    pub(super) size: usize,
    /// The chunk whose documents are being taken.
    current: Chunk,
    /// The line before the current chunk's first.
    base: u64,
    /// The lines of the chunks before the current one and the current one.
    lines: u64,
    /// Chunks parsed on this thread, not yet taken, by number (in order).
    own: VecDeque<(u64, Chunk)>,
    /// Chunks whose documents are all taken, to be dropped and filled again.
    used: Vec<Chunk>,
    /// Texts to fill.
    texts: Vec<Text>,
    /// The start of the line the last text read cut.
    carry: Vec<u8>,
    parsing: Option<Parsing>,
    /// Texts sent to the parsing thread whose chunks are not yet taken back.
    in_flight: usize,
    /// The number of the next text read, and of the next chunk to take.
    filled: u64,
    taken: u64,
    /// The input has ended (or failed: `error`).
    end: bool,
    /// An error of the input, given once every line before it is taken.
    error: Option<std::io::Error>,
    /// Parse on this thread (no thread could be started).
    alone: bool,
}

impl Default for Lines {
    fn default() -> Lines {
        Lines {
            size: CHUNK,
            current: Chunk::default(),
            base: 0,
            lines: 0,
            own: VecDeque::new(),
            used: Vec::new(),
            texts: Vec::new(),
            carry: Vec::new(),
            parsing: None,
            in_flight: 0,
            filled: 0,
            taken: 0,
            end: false,
            error: None,
            alone: false,
        }
    }
}

impl Lines {
    /// The next text of whole lines of `input`, keeping the end of the input and its error.
    fn fill(&mut self, input: &mut impl Read) -> Text {
        let mut text = self.texts.pop().unwrap_or_default();
        match fill(&mut text, &mut self.carry, input, self.size) {
            Ok(end) => self.end = end,
            Err(e) => (self.end, self.error) = (true, Some(e)),
        }
        self.filled += 1;
        text
    }

    /// Parses `text` on this thread.
    fn parse_here(&mut self, text: Text) -> Chunk {
        let mut chunk = self.used.pop().unwrap_or_default();
        let old = chunk.parse(text);
        self.texts.push(old);
        chunk
    }

    /// Makes `chunk` the current one.
    fn take(&mut self, chunk: Chunk) {
        self.taken += 1;
        self.base = self.lines;
        self.lines += chunk.lines;
        self.used.push(std::mem::replace(&mut self.current, chunk));
    }

    /// The next document of `input`: its line, and its items or its problem; `None` at the
    /// end of the input; the input's error once the lines before it are taken.
    #[allow(clippy::type_complexity)]
    pub(super) fn next(
        &mut self,
        input: &mut impl Read,
    ) -> std::io::Result<Option<(u64, Result<Items<'_>, Problem>)>> {
        while self.current.docs.is_empty() {
            if self.parsing.is_some() {
                if self.own.front().is_some_and(|(n, _)| *n == self.taken) {
                    let (_, chunk) = self.own.pop_front().expect("a chunk");
                    self.take(chunk);
                    continue;
                }
                while self.in_flight < AHEAD && !self.end {
                    let text = self.fill(input);
                    let used = self.used.pop();
                    self.parsing.as_ref().expect("parsing").send(text, used);
                    self.in_flight += 1;
                }
                if self.in_flight == 0 {
                    return self.error.take().map_or(Ok(None), Err);
                }
                // The chunk needed is the next the thread gives: the texts it parses come
                // back in the order sent, and none before it is left.
                let parsing = self.parsing.as_mut().expect("parsing");
                let (parsed, text) = match parsing.try_recv() {
                    Some(parsed) => parsed,
                    None if !self.end && self.own.len() < AHEAD => {
                        // Not parsed yet: parse the next text here meanwhile.
                        let text = self.fill(input);
                        let chunk = self.parse_here(text);
                        self.own.push_back((self.filled - 1, chunk));
                        continue;
                    }
                    None => parsing.recv(),
                };
                self.in_flight -= 1;
                self.texts.push(text);
                self.take(parsed);
                continue;
            }
            if self.end {
                return self.error.take().map_or(Ok(None), Err);
            }
            let text = self.fill(input);
            if !self.end && !self.alone {
                // More than a chunk: the rest is parsed on a second thread too.
                match Parsing::start() {
                    Ok(parsing) => {
                        parsing.send(text, None);
                        self.in_flight = 1;
                        self.parsing = Some(parsing);
                        continue;
                    }
                    Err(_) => self.alone = true,
                }
            }
            let chunk = self.parse_here(text);
            self.take(chunk);
        }
        Ok(self.current.next().map(|(line, doc)| (self.base + line, doc)))
    }
}

/// A text to parse, and a chunk to parse it into (else a new one).
type Work = (Text, Option<Chunk>);

/// The thread that parses texts into chunks, in the order sent, and gives back with each
/// chunk the text it held before.
struct Parsing {
    texts: Option<SyncSender<Work>>,
    parsed: Receiver<(Chunk, Text)>,
    thread: Option<JoinHandle<()>>,
}

impl Parsing {
    /// Starts the thread.
    fn start() -> std::io::Result<Parsing> {
        // Never more than `AHEAD` texts in flight: neither side waits for room.
        let (texts, to_parse) = sync_channel::<Work>(AHEAD);
        let (done, parsed) = sync_channel(AHEAD);
        let thread = std::thread::Builder::new().name("wabill json".into()).spawn(move || {
            for (text, chunk) in to_parse {
                let mut chunk = chunk.unwrap_or_default();
                let old = chunk.parse(text);
                if done.send((chunk, old)).is_err() {
                    return;
                }
            }
        })?;
        Ok(Parsing { texts: Some(texts), parsed, thread: Some(thread) })
    }

    fn send(&self, text: Text, chunk: Option<Chunk>) {
        // A thread gone has panicked: `recv` says so.
        let _ = self.texts.as_ref().expect("sending until dropped").send((text, chunk));
    }

    /// The next chunk parsed, if there is one yet.
    fn try_recv(&mut self) -> Option<(Chunk, Text)> {
        self.parsed.try_recv().ok()
    }

    fn recv(&mut self) -> (Chunk, Text) {
        match self.parsed.recv() {
            Ok(parsed) => parsed,
            Err(_) => {
                let thread = self.thread.take().expect("the thread is joined once");
                match thread.join() {
                    Err(panic) => std::panic::resume_unwind(panic),
                    Ok(()) => unreachable!("the parsing thread ends only when no text can come"),
                }
            }
        }
    }
}

impl Drop for Parsing {
    fn drop(&mut self) {
        // The thread ends once no text can come; it never waits for room to send a chunk.
        self.texts = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
