//! Incremental framing: a header block ended by a blank line, then `Content-Length` bytes.

use std::borrow::Cow;

use super::event::{scan_plain, PlainScan};
use crate::error::ProtocolError;

/// Size caps that protect against a peer that never ends a frame or announces a huge body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest header block accepted, in bytes (FreeSWITCH's own cap is 10 MiB).
    pub max_header_bytes: usize,
    /// Largest `Content-Length` accepted, in bytes (FreeSWITCH's own cap is 16 MiB).
    pub max_body_bytes: usize,
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits {
            max_header_bytes: 10 * 1024 * 1024,
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Byte offsets of one header inside a buffer: the name is `name_start..name_end`, the value
/// `value_start..value_end` (the two need not be adjacent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderSpan {
    /// Offset of the first byte of the name.
    pub name_start: u32,
    /// Offset one past the last byte of the name.
    pub name_end: u32,
    /// Offset of the first byte of the value.
    pub value_start: u32,
    /// Offset one past the last byte of the value.
    pub value_end: u32,
}

impl HeaderSpan {
    pub(crate) fn name<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[self.name_start as usize..self.name_end as usize]
    }

    pub(crate) fn value<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[self.value_start as usize..self.value_end as usize]
    }
}

/// Largest data block whose span table holds `u16`s (nearly every event's: ~3 KB); a larger
/// block's holds `u32`s.
pub const NARROW_SPAN_DATA_MAX: usize = u16::MAX as usize;

/// Bytes of one span table entry for a data block of `data_len` bytes.
pub fn span_entry_bytes(data_len: usize) -> usize {
    if data_len <= NARROW_SPAN_DATA_MAX {
        8
    } else {
        16
    }
}

/// Appends the span table of `spans` (offsets into a data block of `data_len` bytes) to `out`
/// in its stored form, which is also the form esl4j's JNI batch layout carries (so a poll copies
/// an event's table with one `memcpy`): per header big-endian `nameStart nameLen valueStart
/// valueLen`, each a `u16` when `data_len <=` [`NARROW_SPAN_DATA_MAX`], else a `u32`. Half the
/// bytes of [`HeaderSpan`]s for nearly every event.
pub fn push_span_table(out: &mut Vec<u8>, spans: &[HeaderSpan], data_len: usize) {
    let table_start = out.len();
    out.resize(table_start + spans.len() * span_entry_bytes(data_len), 0);
    let table = &mut out[table_start..];
    if data_len <= NARROW_SPAN_DATA_MAX {
        write_span_entries::<2>(table, spans);
    } else {
        write_span_entries::<4>(table, spans);
    }
}

/// Writes one entry per span, each of four big-endian fields of `FIELD` bytes (2 or 4, a
/// constant so that each field is one byte swap and one store).
fn write_span_entries<const FIELD: usize>(table: &mut [u8], spans: &[HeaderSpan]) {
    for (entry, span) in table.chunks_exact_mut(4 * FIELD).zip(spans) {
        let parts = [
            span.name_start,
            span.name_end - span.name_start,
            span.value_start,
            span.value_end - span.value_start,
        ];
        for (field, part) in entry.chunks_exact_mut(FIELD).zip(parts) {
            // The low FIELD bytes: every offset and length is at most the data length, which
            // fits in FIELD bytes.
            field.copy_from_slice(&part.to_be_bytes()[4 - FIELD..]);
        }
    }
}

/// A span table in its stored form (see [`push_span_table`]): the spans of an event's or a
/// frame's headers, in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanTable<'a> {
    table: &'a [u8],
    entry: usize,
}

impl<'a> SpanTable<'a> {
    /// Number of spans.
    pub fn len(&self) -> usize {
        self.table.len() / self.entry
    }

    /// `true` when there is no span.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Span `index`.
    ///
    /// # Panics
    /// When `index` is not below [`len`](Self::len).
    pub fn get(&self, index: usize) -> HeaderSpan {
        let at = index * self.entry;
        let entry = &self.table[at..at + self.entry];
        let (name_start, name_len, value_start, value_len) = if self.entry == 8 {
            let word = u64::from_be_bytes(entry.try_into().expect("8 bytes"));
            let part = |shift: u32| (word >> shift) as u16 as u32;
            (part(48), part(32), part(16), part(0))
        } else {
            let word = u128::from_be_bytes(entry.try_into().expect("16 bytes"));
            let part = |shift: u32| (word >> shift) as u32;
            (part(96), part(64), part(32), part(0))
        };
        HeaderSpan {
            name_start,
            name_end: name_start + name_len,
            value_start,
            value_end: value_start + value_len,
        }
    }

    /// Every span, in wire order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = HeaderSpan> + 'a {
        let table = *self;
        (0..table.len()).map(move |index| table.get(index))
    }

    /// The table's bytes as stored: what esl4j's JNI layout carries after a frame's data block.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.table
    }
}

/// Bytes and the spans of the headers in them: the lookup by name that frames and events
/// share. Bytes outside the spans (a frame's body, an event's body) are the owner's business.
///
/// The span table (in the stored form of [`push_span_table`]) and the bytes share one
/// allocation: an event then costs one `malloc` and one `free` instead of two, and both sit
/// above glibc's per-thread cache, where each takes the arena's lock (its `free` on the JNI poll
/// thread, contending with the reader that allocates). The reader writes the table while the
/// spans are in its cache; the JNI poll, on another core, copies it as it is.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HeaderBlock {
    /// The span table, then the bytes.
    storage: Vec<u8>,
    /// How many bytes of `storage` are the span table.
    table_len: u32,
    /// The spans this block's owner reads (a frame the envelope's, its event the event's).
    shown_start: u32,
    shown_end: u32,
}

impl HeaderBlock {
    /// Copies `pieces`, one after the other, and `spans` (offsets into the joined pieces) into
    /// one allocation. Frames are capped far below 4 GiB, so lengths fit in u32.
    pub(crate) fn new(pieces: &[&[u8]], spans: &[HeaderSpan]) -> HeaderBlock {
        let data_len: usize = pieces.iter().map(|piece| piece.len()).sum();
        let table_len = spans.len() * span_entry_bytes(data_len);
        let mut storage = Vec::with_capacity(table_len + data_len);
        push_span_table(&mut storage, spans, data_len);
        for piece in pieces {
            storage.extend_from_slice(piece);
        }
        HeaderBlock {
            storage,
            table_len: table_len as u32,
            shown_start: 0,
            shown_end: spans.len() as u32,
        }
    }

    /// The same block, its owner reading only the spans `shown` (indexes among all spans).
    pub(crate) fn showing(mut self, shown: std::ops::Range<usize>) -> HeaderBlock {
        debug_assert!(shown.end * self.entry_bytes() <= self.table_len as usize);
        self.shown_start = shown.start as u32;
        self.shown_end = shown.end as u32;
        self
    }

    /// Number of spans, shown or not.
    fn span_count(&self) -> usize {
        self.table_len as usize / self.entry_bytes()
    }

    fn entry_bytes(&self) -> usize {
        span_entry_bytes(self.storage.len() - self.table_len as usize)
    }

    /// Every byte of the block.
    pub(crate) fn data(&self) -> &[u8] {
        &self.storage[self.table_len as usize..]
    }

    /// The spans the owner reads, in wire order.
    pub(crate) fn spans(&self) -> SpanTable<'_> {
        let entry = self.entry_bytes();
        SpanTable {
            table: &self.storage
                [self.shown_start as usize * entry..self.shown_end as usize * entry],
            entry,
        }
    }

    /// Name of header `index`, exact bytes.
    pub(crate) fn name(&self, index: usize) -> &[u8] {
        self.spans().get(index).name(self.data())
    }

    /// Value of header `index` as stored (an event's may still be URL-encoded).
    pub(crate) fn raw_value(&self, index: usize) -> &[u8] {
        self.spans().get(index).value(self.data())
    }

    /// Every `(name, stored value)` in wire order.
    pub(crate) fn raw_headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let data = self.data();
        self.spans()
            .iter()
            .map(move |span| (span.name(data), span.value(data)))
    }

    /// Indexes of the headers called `name` (ASCII case-insensitive), in wire order.
    pub(crate) fn positions<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        let data = self.data();
        self.spans()
            .iter()
            .enumerate()
            .filter(move |(_, span)| span.name(data).eq_ignore_ascii_case(name.as_bytes()))
            .map(|(index, _)| index)
    }

    /// Index of the first header called `name` (ASCII case-insensitive).
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.positions(name).next()
    }
}

/// Splits one line (without its `\n`) at the first `:` and skips spaces after it, as
/// mod_event_socket does. A trailing `\r` is dropped. Returns `None` for a line without `:`.
pub(crate) fn split_header_line(line: &[u8], offset: usize) -> Option<HeaderSpan> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let colon = memchr::memchr(b':', line)?;
    let mut value_start = colon + 1;
    while line.get(value_start) == Some(&b' ') {
        value_start += 1;
    }
    let mut name_end = colon;
    while name_end > 0 && line[name_end - 1] == b' ' {
        name_end -= 1;
    }
    let at = |n: usize| (offset + n) as u32;
    Some(HeaderSpan {
        name_start: at(0),
        name_end: at(name_end),
        value_start: at(value_start),
        value_end: at(line.len()),
    })
}

/// One complete frame: its header block and its body, in a single allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// The header block, then the body, with the spans of the envelope's headers (and, for a
    /// plain event, the event's after them).
    block: HeaderBlock,
    /// Length of the header block, including the `\n` of its last line but not the blank line;
    /// the body starts there.
    head_len: usize,
    first_line_end: usize,
    /// What the parser found in the body of a `text/event-plain` frame, whose lines it split
    /// while they were in the cache.
    plain: Option<PlainScan>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("content_type", &self.header("Content-Type"))
            .field("headers", &self.block.spans().len())
            .field("body_len", &self.body().len())
            .finish()
    }
}

/// Appends the span of every `Name: value` line of a header block to `spans`.
fn split_lines(head: &[u8], spans: &mut Vec<HeaderSpan>) {
    let mut line_start = 0;
    for line_end in memchr::memchr_iter(b'\n', head) {
        spans.extend(split_header_line(&head[line_start..line_end], line_start));
        line_start = line_end + 1;
    }
    if line_start < head.len() {
        spans.extend(split_header_line(&head[line_start..], line_start));
    }
}

impl Frame {
    /// Parses one whole frame from `bytes`; `None` when it is incomplete. Convenience for tests
    /// and tools: streams should use [`FrameParser`].
    pub fn parse_one(bytes: &[u8]) -> Result<Option<Frame>, ProtocolError> {
        let mut parser = FrameParser::new(FrameLimits::default());
        parser.feed(bytes);
        parser.next_frame()
    }

    /// The first line of the header block, without line ending. For a client-to-server message
    /// this is the command (`api status`); for a server frame it is simply the first header.
    pub fn first_line(&self) -> &[u8] {
        let line = &self.block.data()[..self.first_line_end];
        line.strip_suffix(b"\r").unwrap_or(line)
    }

    /// The raw header block (every line, with its line endings, without the blank line).
    pub fn header_block(&self) -> &[u8] {
        &self.block.data()[..self.head_len]
    }

    /// All `Name: value` headers in wire order, as raw (not URL-decoded) bytes.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.block.raw_headers()
    }

    /// The headers after the first line: what follows the command of a client message.
    pub fn command_headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let first_line_end = self.first_line_end as u32;
        let data = self.block.data();
        self.block
            .spans()
            .iter()
            .filter(move |span| span.name_start > first_line_end)
            .map(move |span| (span.name(data), span.value(data)))
    }

    /// Raw value of the first header called `name` (ASCII case-insensitive).
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.block
            .position(name)
            .map(|index| self.block.raw_value(index))
    }

    /// Value of the first header called `name`, as text (invalid UTF-8 replaced).
    pub fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        self.header_bytes(name).map(String::from_utf8_lossy)
    }

    /// The `Content-Type` header, if any.
    pub fn content_type(&self) -> Option<Cow<'_, str>> {
        self.header("Content-Type")
    }

    /// The body (`Content-Length` bytes after the blank line); empty when there is none.
    pub fn body(&self) -> &[u8] {
        &self.block.data()[self.head_len..]
    }

    /// A copy of the body.
    pub fn into_body(self) -> Vec<u8> {
        self.body().to_vec()
    }

    /// The block of a `text/event-plain` frame, showing the event's spans, with what the
    /// parser found in the body; any other frame back as it was.
    pub(crate) fn into_plain_event(self) -> Result<(HeaderBlock, PlainScan), Frame> {
        match self.plain {
            Some(scan) => {
                let envelope = self.block.spans().len();
                let all = self.block.span_count();
                Ok((self.block.showing(envelope..all), scan))
            }
            None => Err(self),
        }
    }

    pub(crate) fn spans(&self) -> SpanTable<'_> {
        self.block.spans()
    }

    pub(crate) fn data(&self) -> &[u8] {
        self.block.data()
    }
}

/// Buffer capacity kept between frames; more is released once the buffer is empty.
const RETAINED_CAPACITY: usize = 1024 * 1024;

/// Spans the parser keeps room for between frames (an event has about a hundred).
const RETAINED_SPANS: usize = 4096;

/// Where the parser is inside the current frame.
#[derive(Debug, Clone)]
enum State {
    /// Looking for the blank line; `scanned` bytes after `start` hold no terminator.
    Head { scanned: usize },
    /// Header block parsed; waiting for `body_len` bytes starting at `body_start`.
    Body {
        head_len: usize,
        body_start: usize,
        body_len: usize,
        /// Whether the frame is a `text/event-plain` event, whose body's lines are split too.
        plain: bool,
    },
    /// A previous error made the stream unusable.
    Failed(ProtocolError),
}

/// Sans-IO incremental parser: [`feed`](FrameParser::feed) bytes split anywhere, then call
/// [`next_frame`](FrameParser::next_frame) until it returns `Ok(None)`.
#[derive(Debug)]
pub struct FrameParser {
    buf: Vec<u8>,
    /// Offset in `buf` where the current, unfinished frame begins.
    start: usize,
    state: State,
    limits: FrameLimits,
    /// The spans of the frame being completed, before they move into its allocation.
    spans: Vec<HeaderSpan>,
}

impl Default for FrameParser {
    fn default() -> Self {
        FrameParser::new(FrameLimits::default())
    }
}

impl FrameParser {
    /// Creates a parser with the given caps.
    pub fn new(limits: FrameLimits) -> FrameParser {
        FrameParser {
            buf: Vec::new(),
            start: 0,
            state: State::Head { scanned: 0 },
            limits,
            spans: Vec::new(),
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// The buffer to append received bytes to (e.g. with `AsyncReadExt::read_buf`), which
    /// saves copying through an intermediate buffer. Existing contents must not be changed.
    pub(crate) fn read_buffer(&mut self, reserve: usize) -> &mut Vec<u8> {
        self.compact();
        self.buf.reserve(reserve);
        &mut self.buf
    }

    /// Frees the buffer when it holds no unread bytes, so an idle connection keeps none
    /// (a buffer's pages stay resident once written).
    pub(crate) fn release_idle_buffer(&mut self) {
        if self.buffered_len() == 0 && self.buf.capacity() > 0 {
            self.buf = Vec::new();
            self.start = 0;
            // No frame is under way, so no envelope's spans wait here.
            self.spans = Vec::new();
        }
    }

    fn compact(&mut self) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            // Drop consumed bytes before growing, so the buffer stays about one frame large.
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.is_empty() && self.buf.capacity() > RETAINED_CAPACITY {
            // Give back the memory of an exceptionally large frame.
            self.buf.shrink_to(RETAINED_CAPACITY);
        }
    }

    /// Number of received bytes not yet returned as frames.
    pub fn buffered_len(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Returns the next complete frame, `Ok(None)` if more bytes are needed, or an error when
    /// the stream broke a limit or is malformed; after an error the parser stays failed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ProtocolError> {
        loop {
            match self.state.clone() {
                State::Failed(error) => return Err(error),
                State::Head { scanned } => match self.find_head_end(scanned) {
                    Err(error) => return Err(self.fail(error)),
                    Ok(None) => return Ok(None),
                    Ok(Some((head_len, body_start))) => {
                        // The envelope's spans wait in `spans` until the frame completes.
                        let head = &self.buf[self.start..self.start + head_len];
                        self.spans.clear();
                        split_lines(head, &mut self.spans);
                        let (body_len, plain) = match envelope(head, &self.spans) {
                            Ok(facts) => facts,
                            Err(error) => return Err(self.fail(error)),
                        };
                        if body_len > self.limits.max_body_bytes {
                            let limit = self.limits.max_body_bytes;
                            return Err(self.fail(ProtocolError::BodyTooLarge {
                                length: body_len,
                                limit,
                            }));
                        }
                        self.state = State::Body {
                            head_len,
                            body_start,
                            body_len,
                            plain,
                        };
                    }
                },
                State::Body {
                    head_len,
                    body_start,
                    body_len,
                    plain,
                } => {
                    let end = self.start + body_start + body_len;
                    if self.buf.len() < end {
                        self.buf.reserve(end - self.buf.len());
                        return Ok(None);
                    }
                    let frame = self.complete(head_len, self.start + body_start..end, plain);
                    self.start = end;
                    self.state = State::Head { scanned: 0 };
                    if self.start == self.buf.len() {
                        self.buf.clear();
                        self.start = 0;
                    }
                    return Ok(Some(frame));
                }
            }
        }
    }

    /// Builds the frame whose header block is `head_len` bytes from `self.start` and whose body
    /// is `body`: a plain event's lines are split straight from the read buffer, then bytes and
    /// spans are copied into one allocation.
    fn complete(&mut self, head_len: usize, body: std::ops::Range<usize>, plain: bool) -> Frame {
        let head = &self.buf[self.start..self.start + head_len];
        let body = &self.buf[body];
        // `spans` holds the envelope's since the header block ended.
        let envelope = self.spans.len();
        let plain = plain.then(|| scan_plain(body, head_len, &mut self.spans));
        let block = HeaderBlock::new(&[head, body], &self.spans).showing(0..envelope);
        if self.spans.capacity() > RETAINED_SPANS {
            self.spans = Vec::new();
        }
        Frame {
            block,
            head_len,
            first_line_end: memchr::memchr(b'\n', head).unwrap_or(head_len),
            plain,
        }
    }

    fn fail(&mut self, error: ProtocolError) -> ProtocolError {
        self.state = State::Failed(error.clone());
        error
    }

    /// Finds the blank line ending the header block. Returns (header block length including
    /// the last line's `\n`, offset of the body), both relative to `self.start`.
    fn find_head_end(&mut self, scanned: usize) -> Result<Option<(usize, usize)>, ProtocolError> {
        // Blank lines before a frame carry nothing (the server skips them too).
        if scanned == 0 {
            loop {
                let rest = &self.buf[self.start..];
                if rest.starts_with(b"\n") {
                    self.start += 1;
                } else if rest.starts_with(b"\r\n") {
                    self.start += 2;
                } else if rest == b"\r" {
                    return Ok(None);
                } else {
                    break;
                }
            }
        }
        let window = &self.buf[self.start..];
        let mut from = scanned;
        loop {
            let Some(found) = memchr::memchr(b'\n', &window[from..]) else {
                from = window.len();
                break;
            };
            let newline = from + found;
            match &window[newline + 1..] {
                // The byte after this line end has not arrived: look at it again next time.
                [] | [b'\r'] => {
                    from = newline;
                    break;
                }
                [b'\n', ..] => return Ok(Some((newline + 1, newline + 2))),
                [b'\r', b'\n', ..] => return Ok(Some((newline + 1, newline + 3))),
                _ => from = newline + 1,
            }
        }
        if window.len() > self.limits.max_header_bytes {
            return Err(ProtocolError::HeaderTooLarge {
                limit: self.limits.max_header_bytes,
            });
        }
        self.state = State::Head { scanned: from };
        Ok(None)
    }
}

/// The envelope's `Content-Length`, and whether its first `Content-Type` is `text/event-plain`
/// (as [`ServerMessage::from_frame`](super::ServerMessage::from_frame) classifies it). Several
/// equal lengths are accepted; different ones make the frame length ambiguous and are an error.
fn envelope(head: &[u8], spans: &[HeaderSpan]) -> Result<(usize, bool), ProtocolError> {
    let mut length = None;
    let mut content_type = None;
    for span in spans {
        let name = span.name(head);
        if name.eq_ignore_ascii_case(b"content-type") {
            content_type = content_type.or(Some(span.value(head)));
            continue;
        }
        if !name.eq_ignore_ascii_case(b"content-length") {
            continue;
        }
        let value = span.value(head);
        let value = value.strip_suffix(b" ").unwrap_or(value);
        let parsed = std::str::from_utf8(value)
            .ok()
            .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|text| text.parse::<usize>().ok())
            .ok_or(ProtocolError::InvalidContentLength)?;
        match length {
            Some(previous) if previous != parsed => {
                return Err(ProtocolError::ConflictingContentLength)
            }
            _ => length = Some(parsed),
        }
    }
    let plain = content_type == Some(b"text/event-plain");
    Ok((length.unwrap_or(0), plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_parser_gives_its_buffer_back_but_keeps_a_partial_frame() {
        let mut parser = FrameParser::default();
        parser.feed(b"Content-Type: command/reply\nReply-Text: +OK\n\nContent-Type: comm");
        assert!(parser.next_frame().expect("valid").is_some());
        parser.release_idle_buffer();
        assert!(parser.buf.capacity() > 0, "a partial frame must stay");
        parser.feed(b"and/reply\nReply-Text: +OK\n\n");
        assert!(parser.next_frame().expect("valid").is_some());
        parser.release_idle_buffer();
        assert_eq!(parser.buf.capacity(), 0);
        assert_eq!(
            parser.spans.capacity(),
            0,
            "nor the room for a frame's spans"
        );
        parser.feed(b"Content-Type: command/reply\nReply-Text: +OK\n\n");
        assert!(parser.next_frame().expect("valid").is_some());
    }

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut parser = FrameParser::default();
        parser.feed(input);
        let mut out = Vec::new();
        while let Some(frame) = parser.next_frame().expect("valid input") {
            out.push(frame);
        }
        out
    }

    #[test]
    fn parses_header_only_and_body_frames() {
        let got = frames(
            b"Content-Type: command/reply\nReply-Text: +OK\n\n\
              Content-Type: api/response\nContent-Length: 5\n\nab\n\ncX",
        );
        assert_eq!(got.len(), 1 + 1);
        assert_eq!(got[0].header("reply-text").as_deref(), Some("+OK"));
        assert_eq!(got[1].body(), b"ab\n\nc");
        assert_eq!(got[1].first_line(), b"Content-Type: api/response");
    }

    #[test]
    fn tolerates_crlf_and_leading_blank_lines() {
        let got = frames(b"\r\n\napi status\r\nX-Y:  z\r\n\r\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].first_line(), b"api status");
        let headers: Vec<_> = got[0].command_headers().collect();
        assert_eq!(headers, vec![(&b"X-Y"[..], &b"z"[..])]);
    }

    #[test]
    fn waits_for_terminator_split_inside_crlf() {
        let mut parser = FrameParser::default();
        parser.feed(b"A: b\r\n\r");
        assert_eq!(parser.next_frame(), Ok(None));
        parser.feed(b"\n");
        let frame = parser.next_frame().expect("ok").expect("frame");
        assert_eq!(frame.header("a").as_deref(), Some("b"));
    }

    #[test]
    fn rejects_oversized_frames() {
        let limits = FrameLimits {
            max_header_bytes: 16,
            max_body_bytes: 4,
        };
        let mut parser = FrameParser::new(limits);
        parser.feed(b"Content-Length: 5\n\n");
        assert_eq!(
            parser.next_frame(),
            Err(ProtocolError::BodyTooLarge {
                length: 5,
                limit: 4
            })
        );
        let mut parser = FrameParser::new(limits);
        parser.feed(b"Content-Type: something-long-without-end");
        assert_eq!(
            parser.next_frame(),
            Err(ProtocolError::HeaderTooLarge { limit: 16 })
        );
    }

    #[test]
    fn header_blocks_beyond_64_kib_arrive_in_pieces() {
        let mut bytes = Vec::new();
        for index in 0..20_000 {
            bytes.extend_from_slice(format!("variable_v{index}: value {index}\n").as_bytes());
        }
        bytes.extend_from_slice(b"Content-Length: 3\n\nend");
        assert!(bytes.len() > 400 * 1024);
        let mut parser = FrameParser::default();
        let mut frames = Vec::new();
        for chunk in bytes.chunks(4096) {
            parser.feed(chunk);
            while let Some(frame) = parser.next_frame().expect("valid") {
                frames.push(frame);
            }
        }
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].headers().count(), 20_001);
        assert_eq!(
            frames[0].header("variable_v19999").as_deref(),
            Some("value 19999")
        );
        assert_eq!(frames[0].body(), b"end");
    }

    #[test]
    fn multi_mebibyte_bodies_arrive_in_pieces() {
        let body: Vec<u8> = (0..5 * 1024 * 1024).map(|i| b"ab\n\n"[i % 4]).collect();
        let mut bytes = format!(
            "Content-Type: api/response\nContent-Length: {}\n\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(b"Content-Type: command/reply\nReply-Text: +OK\n\n");
        let mut parser = FrameParser::default();
        let mut frames = Vec::new();
        for chunk in bytes.chunks(65_536) {
            parser.feed(chunk);
            while let Some(frame) = parser.next_frame().expect("valid") {
                frames.push(frame);
            }
        }
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].body(), &body[..]);
        assert_eq!(frames[1].header("Reply-Text").as_deref(), Some("+OK"));
    }

    #[test]
    fn content_length_duplicates() {
        assert_eq!(
            frames(b"Content-Length: 1\ncontent-length: 1\n\nx")[0].body(),
            b"x"
        );
        let mut parser = FrameParser::default();
        parser.feed(b"Content-Length: 1\nContent-Length: 2\n\nxy");
        assert_eq!(
            parser.next_frame(),
            Err(ProtocolError::ConflictingContentLength)
        );
        let mut parser = FrameParser::default();
        parser.feed(b"Content-Length: -1\n\n");
        assert_eq!(
            parser.next_frame(),
            Err(ProtocolError::InvalidContentLength)
        );
    }
}
