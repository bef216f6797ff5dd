//! A reader that inspects a CSV byte stream as it passes through, so that a table can be
//! parsed in one streaming pass with the checks that used to need the whole file in memory:
//!
//! - the first byte that is not UTF-8, and the first NUL byte (binary content), each with its
//!   line and column;
//! - whether anything but ASCII white space occurs (an "empty" file);
//! - where lines end, so that a record's byte position (from the csv crate) becomes the line a
//!   user sees in an editor.
//!
//! Lines end as the csv crate ends records: at `\n`, `\r\n`, or a lone `\r` (old Mac files).
//! Columns count characters.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::rc::Rc;

/// The longest line (a header or a row), or record (a quoted field may span lines), a table
/// may have: 16 MiB, far beyond any real
/// table's (10,000 columns of 20 characters are 200 kB), small enough that an endless line
/// (`/dev/zero`, a binary file) fails before it fills the memory.
pub const MAX_LINE_BYTES: u64 = 16 << 20;

/// What the stream has shown so far. Shared between the reader and the parser that asks it
/// for line numbers.
#[derive(Debug)]
pub(crate) struct ScanState {
    /// Bytes seen.
    offset: u64,
    /// 1-based line of the next byte (a pending `\r` not yet counted).
    line: u64,
    /// Characters before the next byte on its line.
    column: u64,
    /// The last byte was `\r`: a line end by itself unless `\n` follows.
    pending_cr: bool,
    /// An incomplete UTF-8 sequence at the end of the last chunk, and its position.
    carry: Vec<u8>,
    carry_at: (u64, u64),
    /// Line ends not yet passed by the parser, as [start, end) byte ranges.
    line_ends: VecDeque<(u64, u64)>,
    /// Line ends dropped from the front of `line_ends`.
    passed: u64,
    /// (line, column) of the first byte that is not UTF-8.
    pub not_utf8: Option<(u64, u64)>,
    /// (line, column) of the first NUL byte.
    pub first_nul: Option<(u64, u64)>,
    /// Whether any byte other than ASCII white space occurred.
    pub non_blank: bool,
    /// Bytes on the current line so far.
    line_bytes: u64,
    /// The first line, or record (a quoted field may hold line ends), longer than
    /// [`MAX_LINE_BYTES`].
    pub too_long: Option<u64>,
    /// Where the record being parsed starts, once the parser has read one (see
    /// [`ScanState::record_ends`]).
    record_start: Option<u64>,
    finished: bool,
}

impl ScanState {
    pub(crate) fn new() -> Rc<RefCell<ScanState>> {
        Rc::new(RefCell::new(ScanState {
            offset: 0,
            line: 1,
            column: 0,
            pending_cr: false,
            carry: Vec::new(),
            carry_at: (0, 0),
            line_ends: VecDeque::new(),
            passed: 0,
            not_utf8: None,
            first_nul: None,
            non_blank: false,
            line_bytes: 0,
            too_long: None,
            record_start: None,
            finished: false,
        }))
    }

    /// The (line, column) of the next byte, which is not `\n`.
    fn here(&self) -> (u64, u64) {
        if self.pending_cr {
            (self.line + 1, 1)
        } else {
            (self.line, self.column + 1)
        }
    }

    fn end_line(&mut self, start: u64, end: u64) {
        self.line_ends.push_back((start, end));
        self.line += 1;
        self.column = 0;
        self.line_bytes = 0;
    }

    /// The parser has read a record up to byte `offset`: the next one starts there.
    pub(crate) fn record_ends(&mut self, offset: u64) {
        self.record_start = Some(offset);
    }

    /// Whether reading must stop: a NUL byte (binary content) or a line beyond the limit,
    /// found before the rest of the stream is buffered.
    pub(crate) fn stopped(&self) -> bool {
        self.first_nul.is_some() || self.too_long.is_some()
    }

    /// Counts lines, columns, NUL bytes and non-blank bytes.
    fn track(&mut self, bytes: &[u8]) {
        if let Some(start) = self.record_start {
            let end = self.offset + bytes.len() as u64;
            if end.saturating_sub(start) > MAX_LINE_BYTES && self.too_long.is_none() {
                self.too_long = Some(self.line_of(start));
            }
        }
        for &b in bytes {
            let at = self.offset;
            self.offset += 1;
            if self.pending_cr {
                self.pending_cr = false;
                if b == b'\n' {
                    self.end_line(at - 1, at + 1);
                    continue;
                }
                self.end_line(at - 1, at);
            }
            match b {
                b'\n' => self.end_line(at, at + 1),
                b'\r' => self.pending_cr = true,
                _ => {
                    self.line_bytes += 1;
                    if self.line_bytes > MAX_LINE_BYTES && self.too_long.is_none() {
                        self.too_long = Some(self.line);
                    }
                    // Characters are counted at their first byte.
                    self.column += u64::from(b & 0xC0 != 0x80);
                    if b == 0 && self.first_nul.is_none() {
                        self.first_nul = Some((self.line, self.column));
                    }
                    self.non_blank |= !b.is_ascii_whitespace();
                }
            }
        }
    }

    /// Inspects the next chunk; Err at the first byte that is not UTF-8.
    fn inspect(&mut self, chunk: &[u8]) -> Result<(), ()> {
        let mut start = 0;
        if !self.carry.is_empty() {
            let full = utf8_width(self.carry[0]);
            let take = (full - self.carry.len()).min(chunk.len());
            self.carry.extend_from_slice(&chunk[..take]);
            match std::str::from_utf8(&self.carry) {
                Ok(_) => self.carry.clear(),
                Err(e) if e.error_len().is_none() && take == chunk.len() => {
                    // Still incomplete: the chunk was shorter than the character.
                    self.track(chunk);
                    return Ok(());
                }
                Err(_) => {
                    self.not_utf8 = Some(self.carry_at);
                    return Err(());
                }
            }
            start = take;
        }
        let rest = &chunk[start..];
        match std::str::from_utf8(rest) {
            Ok(_) => self.track(chunk),
            Err(e) => {
                let bad = start + e.valid_up_to();
                self.track(&chunk[..bad]);
                if e.error_len().is_some() {
                    self.not_utf8 = Some(self.here());
                    return Err(());
                }
                self.carry_at = self.here();
                self.carry = chunk[bad..].to_vec();
                self.track(&chunk[bad..]);
            }
        }
        Ok(())
    }

    /// The end of the stream: a trailing `\r` ends its line, and an unfinished character is
    /// not UTF-8.
    fn finish(&mut self) -> Result<(), ()> {
        if !self.finished {
            self.finished = true;
            if self.pending_cr {
                self.pending_cr = false;
                self.end_line(self.offset - 1, self.offset);
            }
            if !self.carry.is_empty() {
                self.not_utf8 = Some(self.carry_at);
            }
        }
        if self.not_utf8.is_some() {
            Err(())
        } else {
            Ok(())
        }
    }

    /// The 1-based line of the record whose csv position is `offset`: the line of the first
    /// byte at or after it that is not a line end. Other white space belongs to the record (a
    /// TSV row of empty fields is a tab). Positions must not decrease between calls: line ends
    /// before `offset` are forgotten.
    pub(crate) fn line_of(&mut self, offset: u64) -> u64 {
        while self
            .line_ends
            .front()
            .is_some_and(|&(_, end)| end <= offset)
        {
            self.line_ends.pop_front();
            self.passed += 1;
        }
        let mut at = offset;
        let mut skipped = 0;
        for &(start, end) in &self.line_ends {
            if start > at {
                break;
            }
            at = end;
            skipped += 1;
        }
        self.passed + skipped + 1
    }
}

/// Bytes in the UTF-8 character that starts with `lead` (1 for a byte that cannot start
/// one: from_utf8 then reports it).
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Passes bytes through while recording them in a [`ScanState`]. Reading fails (with
/// InvalidData) at the first byte that is not UTF-8; the state then says where.
pub(crate) struct ScanReader<R> {
    inner: R,
    state: Rc<RefCell<ScanState>>,
}

impl<R: Read> ScanReader<R> {
    pub(crate) fn new(inner: R, state: Rc<RefCell<ScanState>>) -> Self {
        ScanReader { inner, state }
    }
}

fn not_utf8() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text")
}

fn stopped() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "binary content or an endless line",
    )
}

impl<R: Read> Read for ScanReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        {
            let state = self.state.borrow();
            if state.not_utf8.is_some() {
                return Err(not_utf8());
            }
            if state.stopped() {
                return Err(stopped());
            }
        }
        let n = self.inner.read(out)?;
        let mut state = self.state.borrow_mut();
        let checked = if n == 0 {
            state.finish()
        } else {
            state.inspect(&out[..n])
        };
        checked.map_err(|_| not_utf8())?;
        if state.stopped() {
            return Err(stopped());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scans `bytes` in chunks of `chunk` bytes.
    fn scan(bytes: &[u8], chunk: usize) -> Rc<RefCell<ScanState>> {
        let state = ScanState::new();
        let mut reader = ScanReader::new(bytes, state.clone());
        let mut buf = vec![0; chunk];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        state
    }

    #[test]
    fn positions_do_not_depend_on_chunking() {
        type Position = Option<(u64, u64)>;
        let cases: [(&[u8], Position, Position); 5] = [
            (b"a,b\n1,2\n3,\xff\n", Some((3, 3)), None),
            (b"a,b\r1,2\rx,\xff\r", Some((3, 3)), None),
            (b"a,\xc3\xa9\n\xe2\x82", Some((2, 1)), None),
            (b"\xc3\xa9\xe2\x82\xac,\0\r\n\0", None, Some((1, 4))),
            (b"a\r\0", None, Some((2, 1))),
        ];
        for (bytes, not_utf8, nul) in cases {
            for chunk in 1..=bytes.len() {
                let state = scan(bytes, chunk);
                let state = state.borrow();
                assert_eq!(state.not_utf8, not_utf8, "{bytes:?} in chunks of {chunk}");
                if not_utf8.is_none() {
                    assert_eq!(state.first_nul, nul, "{bytes:?} in chunks of {chunk}");
                }
            }
        }
    }

    #[test]
    fn record_lines_skip_line_ends() {
        let bytes = b"a\r\n\r\n\rb\n\nc";
        let state = scan(bytes, 3);
        let mut state = state.borrow_mut();
        assert_eq!(state.line_of(0), 1);
        // Just past "a\r\n": the blank lines are skipped to "b" on line 4.
        assert_eq!(state.line_of(3), 4);
        assert_eq!(state.line_of(8), 6);
        assert!(state.non_blank);
        assert!(!scan(b" \t\r\n\x0c", 2).borrow().non_blank);
    }
}
