//! Where a table's bytes come from: a file, standard input, or text embedded in the binary.
//! Gzip-compressed input (`data.csv.gz`, or a compressed stream on stdin) is recognized by its
//! magic bytes and decompressed as it is read; a UTF-8 byte-order mark is dropped.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, Write};
use std::path::PathBuf;
use std::rc::Rc;

use flate2::read::MultiGzDecoder;

/// Where a table comes from.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    /// Standard input (`--data -`).
    Stdin,
    Embedded {
        name: &'static str,
        text: &'static str,
    },
}

impl Source {
    /// `--data FILE`, where `-` means standard input.
    pub fn from_arg(path: PathBuf) -> Source {
        if path.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::File(path)
        }
    }

    /// The name used in messages and in the run JSON.
    pub fn display_name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".into(),
            Source::Embedded { name, .. } => format!("<embedded>/{name}"),
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Reads up to `n` bytes from the start of `reader`, fewer only at its end.
fn head(reader: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    reader.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The text of `raw`: decompressed if `gzip` allows it and it is gzip, without a byte-order
/// mark.
pub(crate) fn text_stream<'a>(raw: impl Read + 'a, gzip: bool) -> io::Result<Box<dyn Read + 'a>> {
    let mut raw = raw;
    let magic = head(&mut raw, GZIP_MAGIC.len())?;
    let decoded: Box<dyn Read + 'a> = if gzip && magic == GZIP_MAGIC {
        let compressed = Rc::new(Cell::new(0));
        let counted = Counted {
            inner: Cursor::new(magic).chain(raw),
            count: Rc::clone(&compressed),
        };
        Box::new(Bounded {
            inner: MultiGzDecoder::new(counted),
            compressed,
            decompressed: 0,
        })
    } else {
        Box::new(Cursor::new(magic).chain(raw))
    };
    let mut decoded = decoded;
    let mut start = head(&mut decoded, BOM.len())?;
    if start == BOM {
        start.clear();
    }
    Ok(Box::new(Cursor::new(start).chain(decoded)))
}

/// A gzip stream may decompress to at most this many times its compressed size (past
/// [`RATIO_FREE_BYTES`]): CSV text compresses some 3 to 30 times, very repetitive tables a
/// few hundred; deflate's limit is about 1032 (a "decompression bomb").
pub const MAX_GZIP_RATIO: u64 = 500;
/// Decompressed bytes allowed whatever the ratio.
const RATIO_FREE_BYTES: u64 = 16 << 20;

/// A reader that counts the bytes read through it.
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Decompressed bytes, failing once they exceed [`MAX_GZIP_RATIO`] times the compressed
/// bytes read so far.
struct Bounded<R> {
    inner: R,
    compressed: Rc<Cell<u64>>,
    decompressed: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.decompressed += n as u64;
        let allowed = self
            .compressed
            .get()
            .saturating_mul(MAX_GZIP_RATIO)
            .saturating_add(RATIO_FREE_BYTES);
        if self.decompressed > allowed {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "gzip data decompresses to more than {MAX_GZIP_RATIO} times its size \
                     (a decompression bomb?); decompress it yourself if it is a real table"
                ),
            ));
        }
        Ok(n)
    }
}

/// The bytes of a file, as many times as a parse needs them.
pub(crate) fn open_file(path: &std::path::Path) -> io::Result<Box<dyn Read>> {
    text_stream(BufReader::with_capacity(1 << 16, File::open(path)?), true)
}

/// Standard input, copied as it is read into an unnamed temporary file so that a second pass
/// can read it again (see [`Spool::reread`]) without keeping it in memory.
pub(crate) struct Spool {
    file: File,
}

impl Spool {
    pub(crate) fn new() -> io::Result<Spool> {
        Ok(Spool {
            file: tempfile::tempfile()?,
        })
    }

    /// Standard input, passing through the spool.
    pub(crate) fn tee_stdin(&self) -> Tee<'_, io::StdinLock<'static>> {
        Tee {
            inner: io::stdin().lock(),
            copy: &self.file,
        }
    }

    /// Everything that went through [`Spool::tee_stdin`], from the start.
    pub(crate) fn reread(&self) -> io::Result<Box<dyn Read + '_>> {
        let mut file = &self.file;
        file.rewind()?;
        text_stream(BufReader::with_capacity(1 << 16, file), true)
    }
}

/// A reader that writes a copy of everything it reads.
pub(crate) struct Tee<'a, R> {
    inner: R,
    copy: &'a File,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.copy.write_all(&out[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;

    fn text_of(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        text_stream(raw, true)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn gzip_and_byte_order_marks() {
        let plain = b"\xEF\xBB\xBFa,b\n1,2\n";
        assert_eq!(text_of(plain), b"a,b\n1,2\n");
        assert_eq!(text_of(b"a"), b"a");
        assert_eq!(text_of(b""), b"");
        // Two gzip members (as `cat a.gz b.gz` makes) decode to both texts.
        let mut gz = Vec::new();
        for part in [&plain[..], b"3,4\n"] {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            encoder.write_all(part).unwrap();
            gz.extend(encoder.finish().unwrap());
        }
        assert_eq!(text_of(&gz), b"a,b\n1,2\n3,4\n");
    }
}
