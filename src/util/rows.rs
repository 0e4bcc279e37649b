//! Rows of a CSV file read into a reused buffer: checked like the csv crate's reader (field
//! counts, UTF-8), a plain line split at its commas a block at a time, any other row read by
//! csv_core.

use std::io::Read;

use csv_core::ReadRecordResult;

use super::cpu::{self, BLOCK};

/// How much of a file each read takes: 64 KiB, so that a large log is read in a fraction of
/// the system calls the csv crate's default (8 KiB) makes, in a buffer that stays in cache.
/// The throughput benchmark's floor reads with it too.
pub(crate) const READ_BUFFER: usize = 64 * 1024;

/// The longest field wabill accepts: a longer one is an error, not a memory hog.
pub(crate) const MAX_FIELD: usize = 64 * 1024;

/// One row as read: its fields one after the other, checked UTF-8, and where each ends. Reused
/// from row to row, so that reading allocates only while rows grow.
#[derive(Debug, Default, Clone)]
pub(crate) struct RowBuf {
    /// The fields' bytes in `bytes[..used]`; the rest is room for csv_core to write into.
    bytes: Vec<u8>,
    used: usize,
    /// Each field's end in `ends[..fields]`; the rest is room.
    ends: Vec<usize>,
    fields: usize,
    /// 1 when the bytes are the row's line as is, a comma between two fields (a plain line,
    /// see [`Rows::plain`]); 0 when they are the fields one after the other.
    sep: usize,
    /// Known to be ASCII (a plain line found so).
    ascii: bool,
    /// Known to need no trimming: ASCII without a space or a control character.
    clean: bool,
    line: u64,
}

impl RowBuf {
    pub(crate) fn len(&self) -> usize {
        self.fields
    }

    /// The line the row starts on (as the csv crate counts: the line after the row before).
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Every field, one after the other, with a comma between two when [`RowBuf::sep`] is 1.
    #[inline]
    pub(crate) fn text(&self) -> &str {
        debug_assert!(self.used <= self.bytes.len());
        // SAFETY: `used` never exceeds `bytes.len()`: only `Rows` sets it, to what it wrote
        // into `bytes` (unchecked, as every field's read goes through here: DESIGN.md, "Where
        // is `unsafe`"). `Rows::check` found these bytes UTF-8, and each field's end a
        // character boundary, before handing the row out (it empties a row that fails, or
        // whose reading failed).
        unsafe { std::str::from_utf8_unchecked(self.bytes.get_unchecked(..self.used)) }
    }

    /// Where each field ends in [`RowBuf::text`].
    #[inline]
    pub(crate) fn ends(&self) -> &[usize] {
        &self.ends[..self.fields]
    }

    /// 1 when [`RowBuf::text`] has a comma between two fields (and no field holds a comma, a
    /// quote or a line break), else 0.
    #[inline]
    pub(crate) fn sep(&self) -> usize {
        self.sep
    }

    /// Whether the row is known to need no trimming: ASCII without a space or a control
    /// character.
    #[inline]
    pub(crate) fn is_clean(&self) -> bool {
        self.clean
    }

    /// Field `i` trimmed, "" when absent (or `None`).
    #[inline]
    pub(crate) fn field(&self, i: Option<usize>) -> &str {
        trimmed(i.and_then(|i| self.get(i)), self.clean)
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        let span = self.span(i)?;
        // SAFETY: `Rows::check` found every field's end a character boundary of the text, and
        // csv_core writes them in order, each at most the text's length.
        Some(unsafe { self.text().get_unchecked(span) })
    }

    /// Where field `i` lies in the row's bytes.
    #[inline]
    fn span(&self, i: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.ends().get(i)?;
        Some(if i == 0 { 0 } else { self.ends[i - 1] + self.sep }..end)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.fields).filter_map(|i| self.get(i))
    }

    /// Makes the row's fields valid UTF-8, each invalid sequence replaced by U+FFFD (as
    /// `String::from_utf8_lossy` does), one after the other. Only for a row that failed its
    /// check: it allocates.
    #[cold]
    fn make_lossy(&mut self) {
        let mut text = String::with_capacity(self.used);
        let mut ends = Vec::with_capacity(self.fields);
        for i in 0..self.fields {
            let span = self.span(i).expect("a field of the row");
            text.push_str(&String::from_utf8_lossy(&self.bytes[span]));
            ends.push(text.len());
        }
        self.bytes.clear();
        self.bytes.extend_from_slice(text.as_bytes());
        self.used = self.bytes.len();
        self.ends.clear();
        self.ends.extend_from_slice(&ends);
        (self.sep, self.ascii, self.clean) = (0, false, false);
    }

    /// Empties the row, in the memory it has, for fields of line `line` to be pushed
    /// ([`RowBuf::push`]).
    pub(crate) fn clear(&mut self, line: u64) {
        self.bytes.clear();
        self.ends.clear();
        (self.used, self.fields, self.sep, self.line) = (0, 0, 0, line);
        (self.clean, self.ascii) = (true, true);
    }

    /// Empties the row, in the memory it has, for fields of line `line` to be pushed as one
    /// plain line ([`RowBuf::push_plain`]).
    pub(crate) fn clear_plain(&mut self, line: u64) {
        self.clear(line);
        self.sep = 1;
    }

    /// Appends a field to a row being made as a plain line ([`RowBuf::clear_plain`]), a comma
    /// before it unless it is the first. [`RowBuf::finish_plain`] then says whether it is one.
    #[inline]
    pub(crate) fn push_plain(&mut self, field: &str) {
        debug_assert_eq!(self.sep, 1);
        if self.fields > 0 {
            self.bytes.push(b',');
        }
        // Many fields are empty: no copy called for them.
        if !field.is_empty() {
            self.bytes.extend_from_slice(field.as_bytes());
        }
        self.ends.push(self.bytes.len());
        (self.used, self.fields) = (self.bytes.len(), self.fields + 1);
    }

    /// Whether the fields pushed make a plain line: none holds a comma, a quote or a line
    /// break (the line holds one comma fewer than fields, and neither of the others); one pass
    /// over the line, which also tells whether it is clean and ASCII. When it is not, the row
    /// must be made again with [`RowBuf::push`].
    pub(crate) fn finish_plain(&mut self) -> bool {
        let line = &self.bytes[..self.used];
        // One pass, a block at a time with a byte for each count, which vectorises.
        let (mut commas, mut special, mut unclean, mut high) = (0, 0u8, 0u8, 0u8);
        for block in line.chunks(32) {
            let mut c = 0u8;
            for &b in block {
                c += u8::from(b == b',');
                special |= u8::from(b == b'"') | u8::from(b == b'\n') | u8::from(b == b'\r');
                // The commas between fields are clean; the fields' blanks are not, as in `push`.
                unclean |= u8::from(!(b'!'..=b'~').contains(&b));
                high |= b;
            }
            commas += usize::from(c);
        }
        self.clean = unclean == 0;
        self.ascii = high < 0x80;
        special == 0 && commas + 1 == self.fields.max(1)
    }

    /// Appends a field to a row being made ([`RowBuf::clear`]).
    pub(crate) fn push(&mut self, field: &str) {
        // Every byte looked at, without a branch: the loop vectorises.
        self.clean &= field.bytes().fold(true, |clean, b| clean & (b'!'..=b'~').contains(&b));
        self.ascii &= field.is_ascii();
        self.bytes.extend_from_slice(field.as_bytes());
        self.ends.push(self.bytes.len());
        (self.used, self.fields) = (self.bytes.len(), self.fields + 1);
    }

    /// A row of these fields.
    #[cfg(test)]
    pub(crate) fn of(fields: &[impl AsRef<str>]) -> RowBuf {
        let mut row = RowBuf::default();
        for f in fields {
            row.bytes.extend_from_slice(f.as_ref().as_bytes());
            row.ends.push(row.bytes.len());
        }
        (row.used, row.fields, row.sep) = (row.bytes.len(), fields.len(), 0);
        row
    }
}

/// A field as the log's columns are read: trimmed (unless its row is known `clean`, see
/// [`RowBuf`]), "" when absent.
#[inline]
pub(crate) fn trimmed(field: Option<&str>, clean: bool) -> &str {
    match field {
        Some(f) if clean => f,
        f => crate::domain::user::trim(f.unwrap_or("")),
    }
}

/// Rows of CSV (RFC 4180: commas, double quotes, any line break), read into a [`RowBuf`]: no
/// intermediate record, one read call per [`READ_BUFFER`]. A plain line (see
/// [`Rows::plain`]) is split at its commas; any other row is read by csv_core. Every row must
/// have as many fields as the first; blank lines are skipped.
pub(crate) struct Rows<R> {
    core: csv_core::Reader,
    /// The lines read as plain lines, which csv_core does not count.
    plain_lines: u64,
    input: R,
    buf: Box<[u8]>,
    /// The bytes read but not yet parsed: `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// The first row's number of fields.
    width: Option<usize>,
    /// Whether plain lines are searched with AVX2: the CPU has it (tests turn it off).
    pub(crate) avx2: bool,
}

/// Why a row could not be read.
pub(crate) enum RowError {
    Io(std::io::Error),
    /// The field (from 0) holding bytes that are not UTF-8.
    Utf8 {
        field: usize,
    },
    Width {
        expected: usize,
        found: usize,
    },
}

impl<R: Read> Rows<R> {
    pub(crate) fn new(input: R) -> Rows<R> {
        Rows::with_buffer(input, READ_BUFFER)
    }

    /// Rows read `size` bytes at a time (tests make it small, so that lines cross its end).
    pub(crate) fn with_buffer(input: R, size: usize) -> Rows<R> {
        Rows {
            core: csv_core::Reader::new(),
            plain_lines: 0,
            input,
            buf: vec![0; size].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            width: None,
            avx2: cpu::has_avx2(),
        }
    }

    /// Reads the next row into `row`; `false` at the end. After an error the next row can be
    /// read (except after an I/O error).
    pub(crate) fn next(&mut self, row: &mut RowBuf) -> Result<bool, RowError> {
        row.used = 0;
        row.fields = 0;
        row.line = self.core.line() + self.plain_lines;
        if self.plain(row)? {
            return self.check(row).map(|()| true);
        }
        (row.sep, row.ascii, row.clean) = (0, false, false);
        loop {
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = 0;
                self.read(row)?;
            }
            if row.used == row.bytes.len() {
                row.bytes.resize((2 * row.bytes.len()).max(256), 0);
            }
            if row.fields == row.ends.len() {
                row.ends.resize((2 * row.ends.len()).max(16), 0);
            }
            let (result, read, written, ended) = self.core.read_record(
                &self.buf[self.start..self.end],
                &mut row.bytes[row.used..],
                &mut row.ends[row.fields..],
            );
            self.start += read;
            row.used += written;
            row.fields += ended;
            match result {
                // Room is made above.
                ReadRecordResult::InputEmpty
                | ReadRecordResult::OutputFull
                | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::Record => return self.check(row).map(|()| true),
                ReadRecordResult::End => return Ok(false),
            }
        }
    }

    /// Reads the next row when it is a plain line, as nearly every row of a log is: ended by
    /// `\n`, not empty, without a quote or a `\r`. Its fields are then what lies between its
    /// commas, and the row keeps the line as is ([`RowBuf::sep`]), and whether it is ASCII
    /// and clean (see [`RowBuf`]). `false` (nothing read) leaves any other row to csv_core,
    /// which then starts a row as this would have.
    ///
    /// One pass over the line, 32 bytes at a time ([`Special`]), finds its end and its
    /// commas, and gives up at the first quote or `\r`. With AVX2 when the CPU has it.
    fn plain(&mut self, row: &mut RowBuf) -> Result<bool, RowError> {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU has AVX2.
            return unsafe { self.plain_avx2(row) };
        }
        self.plain_with::<false>(row)
    }

    /// [`Rows::plain`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn plain_avx2(&mut self, row: &mut RowBuf) -> Result<bool, RowError> {
        self.plain_with::<true>(row)
    }

    /// [`Rows::plain`], its blocks searched with AVX2 when `AVX2` (which the caller has
    /// checked the CPU has).
    #[inline(always)]
    fn plain_with<const AVX2: bool>(&mut self, row: &mut RowBuf) -> Result<bool, RowError> {
        // Where the scan is, kept while more is read: a line that arrives in pieces is
        // scanned once.
        let (mut at, mut fields, mut wide, mut blank) = (0, 0, 0, 0);
        let length = 'scan: loop {
            let text = &self.buf[self.start..self.end];
            while at < text.len() {
                if row.ends.len() < fields + BLOCK + 1 {
                    row.ends.resize((2 * row.ends.len()).max(2 * BLOCK), 0);
                }
                let whole = text.get(at..at + BLOCK);
                let special = match whole {
                    Some(block) => Special::of::<AVX2>(block.try_into().expect("a whole block")),
                    None => {
                        let mut block = [0; BLOCK];
                        block[..text.len() - at].copy_from_slice(&text[at..]);
                        Special::of::<AVX2>(&block)
                    }
                };
                if special.odd != 0 {
                    return Ok(false);
                }
                if whole.is_none() && special.end == 0 {
                    // The last bytes read, short of a block and of the line's end: scanned
                    // again once more are read.
                    break;
                }
                wide |= special.wide;
                blank |= special.blank;
                let mut commas = special.commas;
                while commas != 0 {
                    row.ends[fields] = at + commas.trailing_zeros() as usize;
                    fields += 1;
                    commas &= commas - 1;
                }
                if special.end != 0 {
                    break 'scan at + special.end.trailing_zeros() as usize;
                }
                at += BLOCK;
            }
            if self.eof || text.len() == self.buf.len() {
                return Ok(false);
            }
            // The line runs past the bytes read: they move to the front, and more are read.
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
            self.read(row)?;
        };
        let ascii = wide == 0;
        if length == 0 {
            return Ok(false);
        }
        if row.bytes.len() < length {
            row.bytes.resize(length.next_power_of_two(), 0);
        }
        row.bytes[..length].copy_from_slice(&self.buf[self.start..self.start + length]);
        row.ends[fields] = length;
        (row.used, row.fields, row.sep) = (length, fields + 1, 1);
        (row.ascii, row.clean) = (ascii, ascii && blank == 0);
        self.start += length + 1;
        self.plain_lines += 1;
        Ok(true)
    }

    /// Reads more input after `buf[..end]`; at its end, sets `eof`.
    fn read(&mut self, row: &mut RowBuf) -> Result<(), RowError> {
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    self.eof = n == 0;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Nothing unchecked is left to read as text.
                    (row.used, row.fields) = (0, 0);
                    return Err(RowError::Io(e));
                }
            }
        }
    }

    /// Checks a row just read, as the csv crate does: as many fields as the first row, then
    /// UTF-8 in every field (known when the row is known ASCII). A row that fails keeps its
    /// fields as lossy text ([`RowBuf::make_lossy`]), so that nothing reads its bytes as text
    /// unchecked and a log can report the row as it was (e.g. in a rejects file).
    fn check(&mut self, row: &mut RowBuf) -> Result<(), RowError> {
        debug_assert!(row.ends().windows(2).all(|w| w[0] <= w[1]), "csv_core writes ends in order");
        debug_assert!(row.ends().last().is_none_or(|&end| end <= row.used), "within the text");
        let expected = *self.width.get_or_insert(row.fields);
        let valid = || {
            let bytes = &row.bytes[..row.used];
            // ASCII (nearly every row) is UTF-8 however it is cut.
            row.ascii
                || bytes.is_ascii()
                || std::str::from_utf8(bytes)
                    // A character split across two fields is valid in the whole but not in
                    // either.
                    .is_ok_and(|text| row.ends().iter().all(|&end| text.is_char_boundary(end)))
        };
        let error = if expected != row.fields {
            RowError::Width { expected, found: row.fields }
        } else if !valid() {
            let field = (0..row.fields)
                .position(|i| row.span(i).is_some_and(|span| std::str::from_utf8(&row.bytes[span]).is_err()));
            RowError::Utf8 { field: field.unwrap_or(0) }
        } else {
            return Ok(());
        };
        row.make_lossy();
        Err(error)
    }
}

/// The bytes of a block that matter to a plain line, one bit each (the first byte lowest), up
/// to the block's first `\n`: that `\n`, the commas before it, any quote or `\r` before it,
/// any byte outside ASCII before it, and any space or control character before it.
#[derive(Debug, PartialEq, Eq)]
struct Special {
    end: u32,
    commas: u32,
    odd: u32,
    wide: u32,
    blank: u32,
}

impl Special {
    /// The block's special bytes; with AVX2 when `AVX2` (which the caller must have checked the
    /// CPU has).
    #[inline(always)]
    fn of<const AVX2: bool>(block: &[u8; BLOCK]) -> Special {
        let bytes = [b'\n', b',', b'"', b'\r'];
        let ([newlines, commas, quotes, returns], wide, low) = match AVX2 {
            // SAFETY: the caller checked that the CPU has AVX2.
            #[cfg(target_arch = "x86_64")]
            true => unsafe { cpu::find_avx2(block, bytes) },
            _ => cpu::find(block, bytes),
        };
        let end = newlines & newlines.wrapping_neg();
        // The bits below the first newline's (all of them without one).
        let before = end.wrapping_sub(1);
        let (odd, blank) = ((quotes | returns) & before, low & !wide & before);
        Special { end, commas: commas & before, odd, wide: wide & before, blank }
    }
}
