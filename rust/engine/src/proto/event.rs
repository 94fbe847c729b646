//! [`Event`]: event headers and body in one flat buffer, decoded lazily.
//!
//! Layout: one byte buffer holds every name, every value and the body, with a table of one
//! [`HeaderSpan`] per header, in wire order, in the same allocation (see `HeaderBlock`; the table
//! is stored in the compact form JNI hands to Java, see `push_span_table`). A plain event is its
//! frame as received: the reader splits the lines straight from its read buffer and copies the
//! frame and the spans into that allocation, so the buffer also holds bytes no span covers (the
//! envelope, separators), and its values stay URL-encoded: a value is decoded when it is read,
//! and only if it holds a `%` (the headers the engine routes on, such as `Event-Name`,
//! `Unique-ID` and `Job-UUID`, never do). Parsing therefore only finds line ends and colons, and
//! notes where the [`INDEXED_HEADERS`] are. Handing an event across JNI is two copies, its bytes
//! and its span table, still encoded, so Java decodes only what it reads.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use super::frame::{Frame, HeaderBlock, HeaderSpan, SpanTable};
use super::url;
use crate::error::ProtocolError;

/// The serialization an event arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventFormat {
    /// `text/event-plain`: URL-encoded `Name: value` lines.
    Plain,
    /// `text/event-json`.
    Json,
    /// `text/event-xml`.
    Xml,
}

impl EventFormat {
    /// The word used in `event <format> ...` and `myevents <format>`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventFormat::Plain => "plain",
            EventFormat::Json => "json",
            EventFormat::Xml => "xml",
        }
    }
}

/// Prefix of a multi-value header value in plain events (`ARRAY::a|:b`).
pub const ARRAY_PREFIX: &[u8] = b"ARRAY::";
const ARRAY_SEPARATOR: &[u8] = b"|:";

/// Whether a stored value starts with `ARRAY`, so may be a multi-value: `ARRAY` itself is never
/// encoded, so this also finds an encoded `ARRAY%3A%3A`.
fn may_be_array(value: &[u8]) -> bool {
    value.starts_with(&ARRAY_PREFIX[..5])
}

/// Headers whose first position every event notes while it is built, in this order: the JNI
/// layer hands them to Java with every event, which reads them for every delivery.
pub const INDEXED_HEADERS: [&[u8]; 4] =
    [b"Event-Name", b"Unique-ID", b"Job-UUID", b"Event-Subclass"];

/// Index of the first header of each [`INDEXED_HEADERS`] name in one event, -1 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderIndex(pub [i32; 4]);

impl Default for HeaderIndex {
    fn default() -> Self {
        HeaderIndex::NONE
    }
}

impl HeaderIndex {
    /// No indexed header seen.
    pub const NONE: HeaderIndex = HeaderIndex([-1; 4]);

    /// Records header `index` if it is the first of an indexed name.
    #[inline]
    pub fn note(&mut self, name: &[u8], index: usize) {
        if let Some(slot) = indexed_slot(name) {
            if self.0[slot] < 0 {
                self.0[slot] = i32::try_from(index).unwrap_or(i32::MAX);
            }
        }
    }

    /// Where the first header called `name` is, when `name` is an indexed header: `Some(None)`
    /// when the event has none; `None` when `name` is not indexed.
    fn find(&self, name: &[u8]) -> Option<Option<usize>> {
        let slot = indexed_slot(name)?;
        Some(usize::try_from(self.0[slot]).ok())
    }
}

/// Which of the [`INDEXED_HEADERS`] `name` is (ASCII case-insensitive).
#[inline]
fn indexed_slot(name: &[u8]) -> Option<usize> {
    // The indexed names differ in length, so the length picks the one name to compare.
    let slot = match name.len() {
        10 => 0,
        9 => 1,
        8 => 2,
        14 => 3,
        _ => return None,
    };
    name.eq_ignore_ascii_case(INDEXED_HEADERS[slot])
        .then_some(slot)
}

/// A FreeSWITCH event: ordered headers with case-insensitive lookup, and an optional body.
///
/// Accessors return decoded values; text accessors decode UTF-8 and replace invalid
/// sequences, while the `*_bytes` accessors return the exact bytes.
#[derive(Clone)]
pub struct Event {
    /// Names and stored values; a body, if any, sits in the same buffer.
    block: HeaderBlock,
    body: Option<Range<u32>>,
    format: EventFormat,
    /// Whether the stored values are still URL-encoded (plain events).
    encoded: bool,
    /// The decoded values of an encoded event, made the first time a value holding a `%` is
    /// read (boxed: most events never need them, and an event is moved through the queue).
    decoded: OnceLock<Box<DecodedValues>>,
    /// Whether some value may be a multi-value, found while the event is built (its bytes are
    /// in the cache then; the JNI poll, on another core, then needs not read every value).
    may_hold_arrays: bool,
    /// Where the [`INDEXED_HEADERS`] are, found while the event is built, for the same reason.
    index: HeaderIndex,
}

/// Every value of an encoded event, decoded: `ranges[i]` is header `i`'s value in `bytes`.
#[derive(Debug, Clone, Default)]
struct DecodedValues {
    bytes: Vec<u8>,
    ranges: Vec<Range<u32>>,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name())
            .field("headers", &self.block.spans().len())
            .field("body_len", &self.body().map_or(0, <[u8]>::len))
            .finish()
    }
}

/// Equal when format, headers (in order) and body are equal, whatever the buffer layout.
impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.format == other.format
            && self.block.spans().len() == other.block.spans().len()
            && self.headers().eq(other.headers())
            && self.body() == other.body()
    }
}

impl Eq for Event {}

/// Builds an [`Event`] header by header.
#[derive(Debug)]
struct EventBuilder {
    data: Vec<u8>,
    headers: Vec<HeaderSpan>,
    index: HeaderIndex,
}

impl EventBuilder {
    fn with_capacity(bytes: usize, headers: usize) -> EventBuilder {
        EventBuilder {
            data: Vec::with_capacity(bytes),
            headers: Vec::with_capacity(headers),
            index: HeaderIndex::NONE,
        }
    }

    fn offset(&self) -> u32 {
        // Frames are capped far below 4 GiB, so offsets fit.
        self.data.len() as u32
    }

    /// Adds a header whose value is written by `write_value`.
    fn push_with(&mut self, name: &[u8], write_value: impl FnOnce(&mut Vec<u8>)) {
        self.index.note(name, self.headers.len());
        let name_start = self.offset();
        self.data.extend_from_slice(name);
        let value_start = self.offset();
        write_value(&mut self.data);
        self.headers.push(HeaderSpan {
            name_start,
            name_end: value_start,
            value_start,
            value_end: self.offset(),
        });
    }

    fn finish(self, body: Option<&[u8]>, format: EventFormat) -> Event {
        let body_bytes = body.unwrap_or_default();
        let block = HeaderBlock::new(&[&self.data, body_bytes], &self.headers);
        let body = body.map(|body| self.offset()..self.offset() + body.len() as u32);
        Event {
            may_hold_arrays: self
                .headers
                .iter()
                .any(|span| may_be_array(span.value(&self.data))),
            index: self.index,
            block,
            body,
            format,
            encoded: false,
            decoded: OnceLock::new(),
        }
    }
}

impl Event {
    /// Decodes the body of a `text/event-plain` frame: URL-encoded header lines, a blank line,
    /// and, when the inner headers carry a `Content-Length`, the raw event body. The inner
    /// length is redundant and not trusted: the body is everything after the blank line.
    pub fn from_plain(text: &[u8]) -> Event {
        let mut spans = Vec::with_capacity(text.len() / 24 + 8);
        let scan = scan_plain(text, 0, &mut spans);
        Event::from_scanned(HeaderBlock::new(&[text], &spans), scan)
    }

    /// The event of a `text/event-plain` frame, whose lines the parser already split (see
    /// [`scan_plain`]): it takes over the frame's allocation, names and values where they are,
    /// values URL-encoded until read. Any other frame comes back as it was.
    pub(crate) fn from_plain_frame(frame: Frame) -> Result<Event, Frame> {
        frame
            .into_plain_event()
            .map(|(block, scan)| Event::from_scanned(block, scan))
    }

    fn from_scanned(block: HeaderBlock, scan: PlainScan) -> Event {
        let data_len = block.data().len() as u32;
        Event {
            may_hold_arrays: scan.may_hold_arrays,
            index: scan.index,
            body: scan.body_start.map(|start| start..data_len),
            block,
            format: EventFormat::Plain,
            encoded: true,
            decoded: OnceLock::new(),
        }
    }

    /// Decodes URL-encoded header lines that are not in a body: the outbound `connect` reply,
    /// whose whole header block is the channel's `CHANNEL_DATA` event.
    pub(crate) fn from_encoded_spans(data: &[u8], spans: SpanTable<'_>) -> Event {
        let mut builder = EventBuilder::with_capacity(data.len(), spans.len());
        for span in spans.iter() {
            builder.push_with(span.name(data), |out| {
                url::decode_into(span.value(data), out)
            });
        }
        builder.finish(None, EventFormat::Plain)
    }

    /// Decodes the body of a `text/event-json` frame (`cJSON_PrintUnformatted` of the event).
    /// Array values become `ARRAY::a|:b` like plain multi-value headers; `_body` is the body.
    pub fn from_json(text: &[u8]) -> Result<Event, ProtocolError> {
        let mut builder = EventBuilder::with_capacity(text.len(), 64);
        let mut body = None;
        super::json::parse_object(text, |name, value| {
            if name == b"_body" {
                body = Some(value.to_vec());
            } else {
                builder.push_with(name, |out| out.extend_from_slice(value));
            }
        })?;
        Ok(builder.finish(body.as_deref(), EventFormat::Json))
    }

    /// Decodes the body of a `text/event-xml` frame. Values are XML-unescaped, then
    /// URL-decoded; a multi-value header appears as repeated elements.
    pub fn from_xml(text: &[u8]) -> Result<Event, ProtocolError> {
        let mut builder = EventBuilder::with_capacity(text.len(), 64);
        let body = super::xml::parse_event(text, |name, value| {
            builder.push_with(name, |out| url::decode_into(value, out));
        })?;
        Ok(builder.finish(body.as_deref(), EventFormat::Xml))
    }

    /// Builds an event from already decoded name/value pairs (tests, simulators, `sendevent`).
    pub fn from_pairs<N, V>(
        pairs: impl IntoIterator<Item = (N, V)>,
        body: Option<&[u8]>,
        format: EventFormat,
    ) -> Event
    where
        N: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let mut builder = EventBuilder::with_capacity(256, 16);
        for (name, value) in pairs {
            builder.push_with(name.as_ref(), |out| out.extend_from_slice(value.as_ref()));
        }
        builder.finish(body, format)
    }

    /// The serialization this event arrived in.
    pub fn format(&self) -> EventFormat {
        self.format
    }

    /// `Event-Name`, e.g. `CHANNEL_ANSWER`.
    pub fn name(&self) -> Option<Cow<'_, str>> {
        self.header("Event-Name")
    }

    /// `Event-Subclass` of `CUSTOM` events.
    pub fn subclass(&self) -> Option<Cow<'_, str>> {
        self.header("Event-Subclass")
    }

    /// False when no value is an `ARRAY::` multi-value, so every span is exactly one value
    /// (true may be a value that merely starts with `ARRAY`).
    pub fn may_hold_arrays(&self) -> bool {
        self.may_hold_arrays
    }

    /// Where the first header of each [`INDEXED_HEADERS`] name is.
    pub fn header_index(&self) -> HeaderIndex {
        self.index
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.block.spans().len()
    }

    /// `true` when the event has no headers.
    pub fn is_empty(&self) -> bool {
        self.block.spans().is_empty()
    }

    /// Headers in wire order as `(name, value)` bytes.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        (0..self.block.spans().len()).map(|index| (self.block.name(index), self.value(index)))
    }

    /// The decoded value of header `index`: the bytes as stored unless they hold an escape.
    fn value(&self, index: usize) -> &[u8] {
        let stored = self.block.raw_value(index);
        if !self.encoded || memchr::memchr(b'%', stored).is_none() {
            return stored;
        }
        let decoded = self.decoded.get_or_init(|| Box::new(self.decode_values()));
        let range = &decoded.ranges[index];
        &decoded.bytes[range.start as usize..range.end as usize]
    }

    fn decode_values(&self) -> DecodedValues {
        let mut decoded = DecodedValues {
            bytes: Vec::with_capacity(self.block.data().len()),
            ranges: Vec::with_capacity(self.block.spans().len()),
        };
        for span in self.block.spans().iter() {
            let start = decoded.bytes.len() as u32;
            url::decode_into(span.value(self.block.data()), &mut decoded.bytes);
            decoded.ranges.push(start..decoded.bytes.len() as u32);
        }
        decoded
    }

    /// Exact bytes of the first header called `name` (ASCII case-insensitive).
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        let index = match self.index.find(name.as_bytes()) {
            Some(known) => known,
            None => self.block.position(name),
        };
        index.map(|index| self.value(index))
    }

    /// Text of the first header called `name` (invalid UTF-8 replaced). A multi-value header
    /// is returned raw (`ARRAY::a|:b`), as libesl's `getHeader(name, -1)` does.
    pub fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        self.header_bytes(name).map(String::from_utf8_lossy)
    }

    /// Every value of `name`: the parts of an `ARRAY::a|:b` value and repeated headers.
    pub fn header_values(&self, name: &str) -> Vec<Cow<'_, str>> {
        let mut values = Vec::new();
        for index in self.block.positions(name) {
            let value = self.value(index);
            match value.strip_prefix(ARRAY_PREFIX) {
                Some(items) => values.extend(split_array(items).map(String::from_utf8_lossy)),
                None => values.push(String::from_utf8_lossy(value)),
            }
        }
        values
    }

    /// The event body (e.g. a `BACKGROUND_JOB`'s API output), exact bytes.
    pub fn body(&self) -> Option<&[u8]> {
        self.body
            .as_ref()
            .map(|range| &self.block.data()[range.start as usize..range.end as usize])
    }

    /// The event body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> Option<Cow<'_, str>> {
        self.body().map(String::from_utf8_lossy)
    }

    /// Whether the values of [`raw_parts`](Self::raw_parts) are still URL-encoded (a plain
    /// event's are; the body never is).
    pub fn values_encoded(&self) -> bool {
        self.encoded
    }

    /// The flat layout: the byte buffer, one span per header (in the table's stored form, which
    /// JNI copies as it is), and the body range inside the buffer. Cheap to copy across JNI in
    /// one piece; bytes outside the spans carry nothing. The values are as stored: URL-encoded
    /// when [`values_encoded`](Self::values_encoded).
    pub fn raw_parts(&self) -> (&[u8], SpanTable<'_>, Option<Range<usize>>) {
        let body = self
            .body
            .as_ref()
            .map(|range| range.start as usize..range.end as usize);
        (self.block.data(), self.block.spans(), body)
    }

    /// Serializes as a `text/event-plain` body (URL-encoded values), the inverse of
    /// [`from_plain`](Event::from_plain) for well-formed events.
    pub fn to_plain(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.block.data().len() * 2);
        for (name, value) in self.headers() {
            if self.body.is_some() && name.eq_ignore_ascii_case(b"content-length") {
                continue;
            }
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(url::encode(value).as_bytes());
            out.push(b'\n');
        }
        if let Some(body) = self.body() {
            out.extend_from_slice(format!("Content-Length: {}\n\n", body.len()).as_bytes());
            out.extend_from_slice(body);
        } else {
            out.push(b'\n');
        }
        out
    }
}

/// Bytes a plain event's text is scanned by at a time.
const BLOCK: usize = 64;

/// Which bytes of `block` are `\n` and which are `:`, as bit masks (bit `i` for byte `i`). In a
/// header block these bytes come every dozen bytes, too often for a search that starts over
/// after each hit; masks of a whole block let the scan jump from one to the next.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
fn separator_masks(block: &[u8; BLOCK]) -> (u64, u64) {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let mut masks = (0, 0);
    for (index, sixteen) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is enabled for this build (the cfg above; it is part of x86_64), and the
        // unaligned load reads the 16 bytes of `sixteen`.
        let (newlines, colons) = unsafe {
            let bytes = _mm_loadu_si128(sixteen.as_ptr().cast());
            (
                _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\n' as i8))),
                _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(b':' as i8))),
            )
        };
        // A mask of 16 bytes fills the low 16 bits.
        masks.0 |= u64::from(newlines as u16) << (16 * index);
        masks.1 |= u64::from(colons as u16) << (16 * index);
    }
    masks
}

/// [`separator_masks`] eight bytes at a time in plain integers (SWAR), for other targets.
#[cfg(any(not(all(target_arch = "x86_64", target_feature = "sse2")), test))]
fn separator_masks_swar(block: &[u8; BLOCK]) -> (u64, u64) {
    const NEWLINES: u64 = u64::from_le_bytes([b'\n'; 8]);
    const COLONS: u64 = u64::from_le_bytes([b':'; 8]);
    const LOW_SEVEN_BITS: u64 = u64::from_le_bytes([0x7f; 8]);
    // 0x80 in each byte of `word` that is zero, 0 in the others (exact: no carry crosses bytes).
    let zero_bytes =
        |word: u64| !(((word & LOW_SEVEN_BITS) + LOW_SEVEN_BITS) | word | LOW_SEVEN_BITS);
    // Gathers the top bit of each byte into the low eight bits, byte `i` to bit `i`.
    let gather = |high_bits: u64| (high_bits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    let mut masks = (0, 0);
    for (index, eight) in block.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(eight.try_into().expect("8 bytes"));
        masks.0 |= gather(zero_bytes(word ^ NEWLINES)) << (8 * index);
        masks.1 |= gather(zero_bytes(word ^ COLONS)) << (8 * index);
    }
    masks
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
use separator_masks_swar as separator_masks;

/// End of a line's content: `end` (the `\n` or the end of text) minus a trailing `\r`.
fn trim_cr(data: &[u8], start: usize, end: usize) -> usize {
    if end > start && data[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// What [`scan_plain`] found besides the spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlainScan {
    /// Where the event's body starts (it runs to the end of the data): after the blank line,
    /// when the headers carry a `Content-Length`.
    body_start: Option<u32>,
    /// Whether a value may be a multi-value, noted line by line while each line is in the cache.
    may_hold_arrays: bool,
    /// Where the indexed headers are, noted likewise.
    index: HeaderIndex,
}

/// Splits the text of a plain event (`Name: value` lines, a blank line, a body) into the spans
/// of its headers, appended to `spans` with `offset` added: the text will sit at `offset` in
/// its event's data. One scan finds every line end and name separator; the state below turns
/// them into spans without looking at the other bytes.
pub(crate) fn scan_plain(text: &[u8], offset: usize, spans: &mut Vec<HeaderSpan>) -> PlainScan {
    spans.reserve(text.len() / 24 + 8);
    let mut lines = PlainLines {
        text,
        offset,
        first_span: spans.len(),
        spans,
        has_length: false,
        may_hold_arrays: false,
        index: HeaderIndex::NONE,
    };
    let mut body_start = None;
    let mut line_start = 0;
    // The first `:` of the current line, once seen.
    let mut colon = None;
    let mut base = 0;
    'blocks: while base < text.len() {
        let (mut newlines, mut colons) = match text.get(base..base + BLOCK) {
            Some(block) => separator_masks(block.try_into().expect("a block")),
            None => {
                // The last block is padded with zero bytes, which are no separators.
                let mut block = [0u8; BLOCK];
                block[..text.len() - base].copy_from_slice(&text[base..]);
                separator_masks(&block)
            }
        };
        while newlines != 0 {
            let bit = newlines.trailing_zeros();
            newlines &= newlines - 1;
            let before = (1u64 << bit) - 1;
            if colon.is_none() && colons & before != 0 {
                colon = Some(base + (colons & before).trailing_zeros() as usize);
            }
            // What is left are the colons of the lines after this one.
            colons &= !before;
            let at = base + bit as usize;
            let content_end = trim_cr(text, line_start, at);
            if content_end == line_start {
                body_start = Some(at + 1);
                break 'blocks;
            }
            lines.push(line_start, content_end, colon);
            line_start = at + 1;
            colon = None;
        }
        if colon.is_none() && colons != 0 {
            colon = Some(base + colons.trailing_zeros() as usize);
        }
        base += BLOCK;
    }
    if body_start.is_none() && line_start < text.len() {
        let content_end = trim_cr(text, line_start, text.len());
        lines.push(line_start, content_end, colon);
    }
    PlainScan {
        body_start: body_start
            .filter(|_| lines.has_length)
            .map(|start| (offset + start) as u32),
        may_hold_arrays: lines.may_hold_arrays,
        index: lines.index,
    }
}

/// Spans collected while scanning a plain event.
struct PlainLines<'a> {
    text: &'a [u8],
    /// Where `text` sits in the event's data.
    offset: usize,
    /// Where this event's spans start in `spans`.
    first_span: usize,
    spans: &'a mut Vec<HeaderSpan>,
    has_length: bool,
    may_hold_arrays: bool,
    index: HeaderIndex,
}

impl PlainLines<'_> {
    /// Records the line `start..end` split at `colon`; a line without `:` is no header.
    #[inline(always)]
    fn push(&mut self, start: usize, end: usize, colon: Option<usize>) {
        let Some(colon) = colon.filter(|&colon| colon < end) else {
            return;
        };
        let data = self.text;
        let mut name_end = colon;
        while name_end > start && data[name_end - 1] == b' ' {
            name_end -= 1;
        }
        let mut value_start = colon + 1;
        while value_start < end && data[value_start] == b' ' {
            value_start += 1;
        }
        let name = &data[start..name_end];
        self.has_length |= name.eq_ignore_ascii_case(b"content-length");
        self.index.note(name, self.spans.len() - self.first_span);
        self.may_hold_arrays |= may_be_array(&data[value_start..end]);
        // Frames are capped far below 4 GiB, so offsets fit in u32.
        let at = |position: usize| (self.offset + position) as u32;
        self.spans.push(HeaderSpan {
            name_start: at(start),
            name_end: at(name_end),
            value_start: at(value_start),
            value_end: at(end),
        });
    }
}

/// Splits the part after `ARRAY::` (see [`ARRAY_PREFIX`]) on `|:` into its items.
pub fn split_array(items: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(items);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memmem::find(current, ARRAY_SEPARATOR) {
            Some(at) => {
                rest = Some(&current[at + ARRAY_SEPARATOR.len()..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of a plain event exactly `len` bytes long whose last header comes after a
    /// padding value, so that its offsets exceed 65,535 once `len` does.
    fn plain_text_of_len(len: usize) -> Vec<u8> {
        let head = b"Event-Name: CUSTOM\nCaller: a%20b%25\nPad: ".as_slice();
        let tail = b"\nAfter: v%41\n\n".as_slice();
        let mut text = head.to_vec();
        text.resize(len - tail.len(), b'x');
        text.extend_from_slice(tail);
        text
    }

    /// The span table as the JNI layout spells it, written here independently of the engine.
    fn layout_table(spans: &[HeaderSpan], data_len: usize) -> Vec<u8> {
        let mut table = Vec::new();
        for span in spans {
            let parts = [
                span.name_start,
                span.name_end - span.name_start,
                span.value_start,
                span.value_end - span.value_start,
            ];
            for part in parts {
                if data_len <= 65_535 {
                    table.extend_from_slice(&u16::try_from(part).expect("u16").to_be_bytes());
                } else {
                    table.extend_from_slice(&part.to_be_bytes());
                }
            }
        }
        table
    }

    /// An event holds its span table in the JNI layout's form (u16 quads up to a 65,535-byte
    /// block, u32 quads from 65,536 on) and reads its headers back through it on both sides of
    /// that boundary, offsets past 65,535 included.
    #[test]
    fn span_table_is_stored_in_layout_form_across_the_narrow_wide_boundary() {
        for len in [65_534, 65_535, 65_536, 65_537, 1 << 20] {
            let text = plain_text_of_len(len);
            let event = Event::from_plain(&text);
            let mut scanned = Vec::new();
            scan_plain(&text, 0, &mut scanned);
            let (data, spans, body) = event.raw_parts();
            assert_eq!((data.len(), body), (len, None));
            assert_eq!(spans.as_bytes(), layout_table(&scanned, len), "len {len}");
            assert_eq!(spans.iter().collect::<Vec<_>>(), scanned, "len {len}");
            let names: Vec<&[u8]> = event.headers().map(|(name, _)| name).collect();
            assert_eq!(names, [&b"Event-Name"[..], b"Caller", b"Pad", b"After"]);
            assert_eq!(event.header_bytes("after"), Some(&b"vA"[..]), "len {len}");
            assert_eq!(event.header("caller").as_deref(), Some("a b%"));
            assert_eq!(event.header_bytes("pad").map(<[u8]>::len), Some(len - 55));
            assert_eq!(event.name().as_deref(), Some("CUSTOM"));
        }
    }

    /// Events without headers have an empty table, with or without a body.
    #[test]
    fn events_without_headers_have_an_empty_span_table() {
        let bare = Event::from_plain(b"\n");
        let with_body = Event::from_pairs(
            std::iter::empty::<(&[u8], &[u8])>(),
            Some(b"body"),
            EventFormat::Json,
        );
        for event in [&bare, &with_body] {
            let (_, spans, _) = event.raw_parts();
            assert!(spans.is_empty() && spans.as_bytes().is_empty());
            assert_eq!((event.len(), event.headers().count()), (0, 0));
            assert_eq!(event.name(), None);
        }
        assert_eq!(with_body.body(), Some(&b"body"[..]));
    }

    /// A body past 64 KiB makes the table wide; the body and the headers before it read back.
    #[test]
    fn a_huge_body_makes_the_table_wide() {
        let body = vec![b'b'; 100_000];
        let event = Event::from_pairs(
            [("Event-Name", "CUSTOM"), ("Percent", "100%")],
            Some(&body),
            EventFormat::Json,
        );
        let (data, spans, _) = event.raw_parts();
        assert_eq!(spans.as_bytes().len(), 2 * 16);
        assert_eq!(
            spans.get(1),
            HeaderSpan {
                name_start: 16,
                name_end: 23,
                value_start: 23,
                value_end: 27
            }
        );
        assert_eq!(data.len(), 27 + body.len());
        assert_eq!(event.header("percent").as_deref(), Some("100%"));
        assert_eq!(event.body(), Some(&body[..]));
    }

    #[test]
    fn plain_event_with_nested_body_and_array() {
        let text = b"Event-Name: BACKGROUND_JOB\nJob-Command-Arg: %7Ba%3Db%7D+x\n\
            Multi: ARRAY::one|:two%20words|:three\nContent-Length: 8\n\n+OK a\n\nb";
        let event = Event::from_plain(text);
        assert_eq!(event.name().as_deref(), Some("BACKGROUND_JOB"));
        assert_eq!(event.header("job-command-arg").as_deref(), Some("{a=b}+x"));
        assert_eq!(
            event.header_values("MULTI"),
            vec!["one", "two words", "three"]
        );
        assert_eq!(event.body(), Some(&b"+OK a\n\nb"[..]));
        assert_eq!(Event::from_plain(&event.to_plain()), event);
    }

    #[test]
    fn separator_masks_mark_every_newline_and_colon() {
        let mut text: Vec<u8> = (0..=255u8).collect();
        text.extend_from_slice(b"A: b\n::\n\nx:");
        text.extend_from_slice(&[b'\n'; BLOCK]);
        text.extend_from_slice(&[b':'; BLOCK]);
        for start in 0..text.len() - BLOCK {
            let block: &[u8; BLOCK] = text[start..start + BLOCK].try_into().expect("a block");
            let mask_of = |target: u8| {
                (0..BLOCK)
                    .filter(|&at| block[at] == target)
                    .fold(0u64, |mask, at| mask | 1 << at)
            };
            let expected = (mask_of(b'\n'), mask_of(b':'));
            assert_eq!(separator_masks(block), expected, "from {start}");
            assert_eq!(separator_masks_swar(block), expected, "from {start}");
        }
    }

    /// Values stay as received until read; reading a header without an escape decodes nothing.
    #[test]
    fn plain_values_are_decoded_when_read() {
        let event =
            Event::from_plain(b"Event-Name: CUSTOM\nCaller: a%20b\nMulti: ARRAY%3A%3Ax%7C%3Ay\n\n");
        let (data, spans, _) = event.raw_parts();
        assert!(event.values_encoded());
        assert_eq!(spans.get(1).value(data), b"a%20b");
        assert_eq!(event.header_bytes("event-name"), Some(&b"CUSTOM"[..]));
        assert!(event.decoded.get().is_none(), "no escape read yet");
        assert_eq!(event.header("caller").as_deref(), Some("a b"));
        assert_eq!(event.header_values("multi"), vec!["x", "y"]);
        assert!(!Event::from_pairs([("A", "%41")], None, EventFormat::Plain).values_encoded());
    }

    #[test]
    fn plain_event_edge_lines() {
        let text = b"Na%20me:  v:x%41\r\nno colon here\nEmpty:\nLast: 100%";
        let event = Event::from_plain(text);
        let pairs: Vec<(&[u8], &[u8])> = event.headers().collect();
        assert_eq!(
            pairs,
            vec![
                (&b"Na%20me"[..], &b"v:xA"[..]),
                (&b"Empty"[..], &b""[..]),
                (&b"Last"[..], &b"100%"[..]),
            ]
        );
        assert_eq!(event.body(), None);
    }

    /// esl-protocol.md §1.5 / §5.6: an event that already had a Content-Length gets a second
    /// one from the serializer (sofia::notify_refer, FreeSWITCH#505); the body is everything
    /// after the first blank line, blank lines inside it included. §1.4: `_undef_` and `+` are
    /// data, a `%` without two hex digits stays as it is.
    #[test]
    fn duplicate_inner_content_length_undef_and_plus() {
        let text = b"Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Anotify_refer\n\
            Content-Length: 11\nEmpty: _undef_\nPlus: a+b%2Bc\nPercent: 100%25%\n\
            Content-Length: 11\n\nSIP/2.0\n\n20";
        let event = Event::from_plain(text);
        assert_eq!(event.subclass().as_deref(), Some("sofia::notify_refer"));
        assert_eq!(event.body(), Some(&b"SIP/2.0\n\n20"[..]));
        assert_eq!(event.header_values("content-length"), vec!["11", "11"]);
        assert_eq!(event.header("Empty").as_deref(), Some("_undef_"));
        assert_eq!(event.header("Plus").as_deref(), Some("a+b+c"));
        assert_eq!(event.header("Percent").as_deref(), Some("100%%"));
    }

    #[test]
    fn invalid_utf8_is_kept_as_bytes() {
        let event = Event::from_plain(b"Name: %FF%E4%BD%A0\n\n");
        assert_eq!(
            event.header_bytes("name"),
            Some(&[0xFF, 0xE4, 0xBD, 0xA0][..])
        );
        assert_eq!(event.header("name").as_deref(), Some("\u{FFFD}你"));
        assert_eq!(event.body(), None);
    }

    #[test]
    fn events_say_whether_a_value_may_be_a_multi_value() {
        assert!(!Event::from_plain(b"Event-Name: A\nCaller: ARRAx\n\n").may_hold_arrays());
        let arrays = Event::from_plain(b"Event-Name: A\nMulti: ARRAY%3A%3Aa%7C%3Ab\n\n");
        assert!(arrays.may_hold_arrays(), "an encoded multi-value counts");
        let json = Event::from_json(br#"{"Event-Name":"A","Multi":["a","b"]}"#).expect("json");
        assert!(json.may_hold_arrays());
        let plain_json = Event::from_json(br#"{"Event-Name":"A"}"#).expect("json");
        assert!(!plain_json.may_hold_arrays());
    }

    #[test]
    fn json_event_with_array_and_body() {
        let text = br#"{"Event-Name":"CUSTOM","V":"a\"b\u00e9\ud83d\ude00","L":["x","y"],"Content-Length":"3","_body":"hi\n"}"#;
        let event = Event::from_json(text).expect("valid json");
        assert_eq!(event.header("v").as_deref(), Some("a\"bé😀"));
        assert_eq!(event.header_values("L"), vec!["x", "y"]);
        assert_eq!(event.body_text().as_deref(), Some("hi\n"));
        assert!(Event::from_json(b"{\"a\":").is_err());
    }

    #[test]
    fn xml_event_with_repeated_header_and_body() {
        let text = b"<event>\n  <headers>\n    <Event-Name>CUSTOM</Event-Name>\n    \
            <M>a%20b</M>\n    <M>c&amp;d</M>\n  </headers>\n  <Content-Length>5</Content-Length>\n  \
            <body>x&lt;y\n</body>\n</event>";
        let event = Event::from_xml(text).expect("valid xml");
        assert_eq!(event.name().as_deref(), Some("CUSTOM"));
        assert_eq!(event.header_values("m"), vec!["a b", "c&d"]);
        assert_eq!(event.body_text().as_deref(), Some("x<y\n"));
        assert!(Event::from_xml(b"<event><headers><A>x</B>").is_err());
    }
}
