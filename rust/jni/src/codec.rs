//! The compact byte layout in which frames cross to Java, many per JNI call.
//!
//! All integers are big-endian `u32` (Java's `DataInput` order); text is UTF-8 bytes, so nothing
//! goes through JNI's modified UTF-8. Each frame carries its bytes as one block plus a table of
//! (offset, length) spans into it: an engine `Event` is already one flat buffer and holds its
//! span table in this very form (the engine's reader writes it, `push_span_table`), so each is
//! copied with a single `memcpy`, straight from the event into the poll's Java array
//! ([`poll_batch_array`]). Keep in sync with `FrameCodec.java`.
//!
//! ```text
//! batch := count:u32 frame*
//! frame := kind:u8 flags:u8 headers:u32 dataLen:u32 data[dataLen] span{headers}
//!          bodyStart:u32 bodyLen:u32 hot{4}
//! kind  := what the item is: one of the `KIND_*` constants below
//! flags := FLAG_VALUES_ENCODED: header values are as received, URL-encoded (a plain event's);
//!          the reader decodes a value holding `%` when it reads it. The body never is.
//! span  := nameStart nameLen valueStart valueLen    (offsets into data; each a u16 when
//!          dataLen <= 65535, as nearly every event's is, else a u32)
//! hot   := index:i32 of the first header named Event-Name, Unique-ID, Job-UUID, Event-Subclass
//!          (ASCII case-insensitive), -1 when absent
//! ```
//!
//! The kind byte tells Java what an item is without comparing content types. The hot indices
//! let Java read the headers every event's delivery needs without scanning the ~90 header
//! names; they are found here while the spans are written anyway. Values stay encoded so that
//! neither side decodes a header nobody reads.

use std::borrow::Cow;
use std::cell::RefCell;

use esl4j_engine::proto::{
    push_span_table, span_entry_bytes, split_array, url, Event, Frame, HeaderIndex, HeaderSpan,
    Reply, ARRAY_PREFIX, INDEXED_HEADERS, NARROW_SPAN_DATA_MAX,
};
use esl4j_engine::{Incoming, Response};

use crate::contract::{
    FLAG_VALUES_ENCODED, KIND_DISCONNECTED, KIND_DISCONNECT_NOTICE, KIND_EVENT, KIND_LOG,
    KIND_OVERLOADED, KIND_RECONNECTED, KIND_REPLY, KIND_UNKNOWN,
};
use crate::error::BridgeError;
use jni::objects::{JByteArray, ReleaseMode};
use jni::JNIEnv;

/// The headers whose first index each frame carries, in layout order (the engine notes them
/// while it builds an event). Keep in sync with `FrameCodec.HOT_*`.
const HOT_HEADERS: [&[u8]; 4] = INDEXED_HEADERS;

/// Accumulates frames into one batch: the layout's own bytes (counts, lengths, hot indices,
/// small frames and rebuilt span tables) in `buf`, and each event's data block and stored span
/// table borrowed from the engine's event, so that [`write_to`](Self::write_to) copies an
/// event's bytes once, straight to their destination (the Java array of a poll), instead of
/// once into `buf` and again out of it.
#[derive(Debug, Default)]
pub(crate) struct BatchWriter<'a> {
    buf: Vec<u8>,
    /// Event data blocks and span tables, each with the position of `buf` it belongs before,
    /// in order.
    borrowed: Vec<(usize, &'a [u8])>,
    /// Total length of `borrowed`'s blocks.
    borrowed_len: usize,
    count: u32,
    /// Scratch table of the frame being written, reused across frames.
    spans: Vec<HeaderSpan>,
    /// Hot header indices of the frame being written.
    hot: HeaderIndex,
}

/// Positions of a frame's placeholders, filled in by `end_frame`.
struct FrameStart {
    /// Where the header count goes, in `buf`.
    headers_at: usize,
    /// Where the data block starts in the finished batch.
    data_start: usize,
}

/// Offsets fit: frames are capped far below 4 GiB by the engine.
fn offset(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

impl<'a> BatchWriter<'a> {
    /// An empty batch with room for about `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        BatchWriter::over(Vec::with_capacity(capacity + 4), 1)
    }

    /// An empty batch written into `buf` (cleared first, keeping its allocation), with room for
    /// `events` borrowed data blocks.
    fn over(mut buf: Vec<u8>, events: usize) -> Self {
        buf.clear();
        buf.extend_from_slice(&0u32.to_be_bytes());
        BatchWriter {
            buf,
            borrowed: Vec::with_capacity(2 * events),
            borrowed_len: 0,
            count: 0,
            spans: Vec::with_capacity(64),
            hot: HeaderIndex::NONE,
        }
    }

    fn begin_frame(&mut self, kind: u8, flags: u8) -> FrameStart {
        self.buf.extend_from_slice(&[kind, flags]);
        let headers_at = self.buf.len();
        // headers and dataLen, patched by end_frame
        self.buf.extend_from_slice(&[0u8; 8]);
        self.spans.clear();
        self.hot = HeaderIndex::NONE;
        FrameStart {
            headers_at,
            data_start: self.len(),
        }
    }

    /// Length of the finished batch.
    pub(crate) fn len(&self) -> usize {
        self.buf.len() + self.borrowed_len
    }

    /// Patches the frame's header count and data length and appends the body span and the hot
    /// indices; the span table has just been written after `data_len` bytes of data.
    fn end_frame(&mut self, start: FrameStart, data_len: usize, headers: usize, body: (u32, u32)) {
        let at = start.headers_at;
        self.buf[at..at + 4].copy_from_slice(&offset(headers).to_be_bytes());
        self.buf[at + 4..at + 8].copy_from_slice(&offset(data_len).to_be_bytes());
        self.buf.extend_from_slice(&body.0.to_be_bytes());
        self.buf.extend_from_slice(&body.1.to_be_bytes());
        for index in self.hot.0 {
            self.buf.extend_from_slice(&index.to_be_bytes());
        }
        self.count += 1;
    }

    /// Copies `bytes` into the current frame's data block; returns their offset in it.
    fn append_data(&mut self, start: &FrameStart, bytes: &[u8]) -> u32 {
        let at = offset(self.len() - start.data_start);
        self.buf.extend_from_slice(bytes);
        at
    }

    /// Appends one frame of `kind` from separate header and body slices (values as they are).
    pub(crate) fn push<'h>(
        &mut self,
        kind: u8,
        headers: impl Iterator<Item = (&'h [u8], &'h [u8])>,
        body: &[u8],
    ) {
        let start = self.begin_frame(kind, 0);
        for (name, value) in headers {
            self.hot.note(name, self.spans.len());
            let name_start = self.append_data(&start, name);
            let value_start = self.append_data(&start, value);
            self.spans.push(HeaderSpan {
                name_start,
                name_end: name_start + offset(name.len()),
                value_start,
                value_end: value_start + offset(value.len()),
            });
        }
        let body_at = self.append_data(&start, body);
        let data_len = self.len() - start.data_start;
        self.write_spans(data_len);
        let headers = self.spans.len();
        self.end_frame(start, data_len, headers, (body_at, offset(body.len())));
    }

    /// Appends an event whose flat buffer and span table are borrowed, not copied (see
    /// [`write_to`](Self::write_to)), values as the engine holds them (a plain event's still
    /// URL-encoded).
    pub(crate) fn push_event(&mut self, event: &'a Event) {
        let (data, _, body) = event.raw_parts();
        let encoded = event.values_encoded();
        let start = self.begin_frame(KIND_EVENT, if encoded { FLAG_VALUES_ENCODED } else { 0 });
        self.borrow(data);
        let (data_len, headers) = if event.may_hold_arrays() {
            self.push_expanded_spans(&start, event)
        } else {
            self.push_event_spans(event)
        };
        let body = body.map_or((0, 0), |range| (offset(range.start), offset(range.len())));
        self.end_frame(start, data_len, headers, body);
    }

    /// Places `bytes` of an event at the current end of the batch, to be copied by `write_to`.
    fn borrow(&mut self, bytes: &'a [u8]) {
        self.borrowed.push((self.buf.len(), bytes));
        self.borrowed_len += bytes.len();
    }

    /// Places the span table of an event without multi-values (one span per header), which the
    /// engine's reader stored in the layout's own form, with the hot indices it noted: the
    /// event's bytes (cold in this thread's cache) are neither read nor re-encoded here, only
    /// copied. Returns the data length and the number of spans.
    fn push_event_spans(&mut self, event: &'a Event) -> (usize, usize) {
        let (data, spans, _) = event.raw_parts();
        debug_assert_eq!(
            spans.as_bytes().len(),
            spans.len() * span_entry_bytes(data.len())
        );
        self.hot = event.header_index();
        self.borrow(spans.as_bytes());
        (data.len(), spans.len())
    }

    /// Writes the span table of an event whose values may be `ARRAY::a|:b`: such a value
    /// becomes repeated headers `a`, `b` (the Java `EslEvent` represents multi-value headers
    /// that way); for an encoded value the items are appended to the data block encoded again,
    /// so that every value of the frame reads the same way. Returns the data length and the
    /// number of spans.
    fn push_expanded_spans(&mut self, start: &FrameStart, event: &Event) -> (usize, usize) {
        let (data, spans, _) = event.raw_parts();
        let encoded = event.values_encoded();
        let base = data.as_ptr() as usize;
        for span in spans.iter() {
            self.hot.note(
                &data[span.name_start as usize..span.name_end as usize],
                self.spans.len(),
            );
            let value = &data[span.value_start as usize..span.value_end as usize];
            let with_value = |value_start: u32, len: usize| HeaderSpan {
                value_start,
                value_end: value_start + offset(len),
                ..span
            };
            match array_items(value, encoded) {
                None => self.spans.push(span),
                Some(Cow::Borrowed(items)) => {
                    for item in split_array(items) {
                        let item_at = offset(item.as_ptr() as usize - base);
                        self.spans.push(with_value(item_at, item.len()));
                    }
                }
                Some(Cow::Owned(items)) => {
                    for item in split_array(&items) {
                        let item = url::encode(item);
                        let item_at = self.append_data(start, item.as_bytes());
                        self.spans.push(with_value(item_at, item.len()));
                    }
                }
            }
        }
        let data_len = self.len() - start.data_start;
        self.write_spans(data_len);
        (data_len, self.spans.len())
    }

    /// Writes the span table collected in `self.spans` for a data block of `data_len` bytes.
    fn write_spans(&mut self, data_len: usize) {
        self.buf
            .reserve(self.spans.len() * span_entry_bytes(data_len) + 24);
        push_span_table(&mut self.buf, &self.spans, data_len);
    }

    /// Appends a frame of `kind` as received (raw header values, e.g. a `command/reply`).
    pub(crate) fn push_frame(&mut self, kind: u8, frame: &Frame, extra: &[(&[u8], &[u8])]) {
        let headers: Vec<(&[u8], &[u8])> = frame.headers().chain(extra.iter().copied()).collect();
        self.push(kind, headers.into_iter(), frame.body());
    }

    /// Appends a command reply.
    pub(crate) fn push_reply(&mut self, reply: &Reply, extra: &[(&[u8], &[u8])]) {
        self.push_frame(KIND_REPLY, reply.frame(), extra);
    }

    /// Appends a `command/reply` or an `api/response` (as `Content-Type: api/response` + body).
    pub(crate) fn push_response(&mut self, response: &Response) {
        match response {
            Response::Reply(reply) => self.push_reply(reply, &[]),
            Response::Api(api) => {
                let length = api.body().len().to_string();
                let headers: [(&[u8], &[u8]); 2] = [
                    (b"Content-Type", b"api/response"),
                    (b"Content-Length", length.as_bytes()),
                ];
                self.push(KIND_REPLY, headers.into_iter(), api.body());
            }
        }
    }

    /// Appends a queued item with its kind: an event as it is, a log line or a disconnect
    /// notice with the headers FreeSWITCH sent (`Content-Type` included, which compat code
    /// reads), an unknown frame as received, the engine's own notices (disconnected, reconnected, overloaded)
    /// with their details.
    pub(crate) fn push_incoming(&mut self, item: &'a Incoming) {
        match item {
            Incoming::Event(event) => self.push_event(event),
            Incoming::Unknown(frame) => self.push_frame(KIND_UNKNOWN, frame, &[]),
            Incoming::Log(line) => {
                let mut headers: Vec<(&[u8], String)> =
                    vec![(b"Content-Type", "log/data".to_owned())];
                let optional = [
                    (&b"Log-Level"[..], line.level.map(|v| v.to_string())),
                    (b"Log-File", line.file.clone()),
                    (b"Log-Func", line.function.clone()),
                    (b"Log-Line", line.line.map(|v| v.to_string())),
                    (b"User-Data", line.user_data.clone()),
                ];
                headers.extend(optional.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))));
                self.push_owned(KIND_LOG, &headers, &line.body);
            }
            Incoming::Disconnect(notice) => {
                let disposition = match notice.disposition {
                    esl4j_engine::proto::Disposition::Linger => "linger",
                    esl4j_engine::proto::Disposition::Disconnect => "disconnect",
                };
                let mut headers: Vec<(&[u8], String)> = vec![
                    (b"Content-Type", "text/disconnect-notice".to_owned()),
                    (b"Content-Disposition", disposition.to_owned()),
                ];
                let optional = [
                    (
                        &b"Controlled-Session-UUID"[..],
                        notice.controlled_session_uuid.clone(),
                    ),
                    (b"Channel-Name", notice.channel_name.clone()),
                    (b"Linger-Time", notice.linger_time.map(|v| v.to_string())),
                ];
                headers.extend(optional.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))));
                self.push_owned(KIND_DISCONNECT_NOTICE, &headers, &notice.body);
            }
            Incoming::Disconnected { reason } => {
                let headers: Vec<(&[u8], String)> = vec![(b"Disconnect-Reason", reason.clone())];
                self.push_owned(KIND_DISCONNECTED, &headers, b"");
            }
            Incoming::Reconnected { attempts, gap } => {
                let headers: Vec<(&[u8], String)> = vec![
                    (b"Reconnect-Attempts", attempts.to_string()),
                    (b"Reconnect-Gap-Micros", gap.as_micros().to_string()),
                ];
                self.push_owned(KIND_RECONNECTED, &headers, b"");
            }
            Incoming::Overloaded(counts) => {
                let headers: Vec<(&[u8], String)> = vec![
                    (b"Overload-Dropped", counts.dropped.to_string()),
                    (
                        b"Overload-Critical-Dropped",
                        counts.critical_dropped.to_string(),
                    ),
                    (b"Overload-Queued", counts.queued.to_string()),
                ];
                self.push_owned(KIND_OVERLOADED, &headers, b"");
            }
        }
    }

    fn push_owned(&mut self, kind: u8, headers: &[(&[u8], String)], body: &[u8]) {
        self.push(
            kind,
            headers
                .iter()
                .map(|(name, value)| (*name, value.as_bytes())),
            body,
        );
    }

    /// Writes the finished batch into `out`, which is [`len`](Self::len) bytes long: the
    /// layout's bytes and each borrowed data block in their places, each copied once.
    pub(crate) fn write_to(&mut self, out: &mut [u8]) {
        assert_eq!(
            out.len(),
            self.len(),
            "batch destination of the wrong length"
        );
        self.buf[..4].copy_from_slice(&self.count.to_be_bytes());
        let mut from = 0;
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        for &(before, data) in &self.borrowed {
            put(&self.buf[from..before]);
            put(data);
            from = before;
        }
        put(&self.buf[from..]);
    }

    /// Writes the finished batch at the start of `out` and returns its length; None, writing
    /// nothing, when `out` is shorter than the batch. The bytes after the batch stay as they were.
    pub(crate) fn write_prefix(&mut self, out: &mut [u8]) -> Option<usize> {
        let len = self.len();
        self.write_to(out.get_mut(..len)?);
        Some(len)
    }

    /// The finished batch, in a new vector.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let mut out = vec![0; self.len()];
        self.write_to(&mut out);
        out
    }
}

/// The items of an `ARRAY::` value (after the prefix), decoded first when `encoded`; None for
/// any other value. Only a value starting `ARRAY` is decoded here, and multi-values are rare.
fn array_items(value: &[u8], encoded: bool) -> Option<Cow<'_, [u8]>> {
    // `ARRAY` is never encoded; checked first, because this runs for every header of every event.
    if !value.starts_with(&ARRAY_PREFIX[..5]) {
        return None;
    }
    if !encoded || !value.contains(&b'%') {
        return value.strip_prefix(ARRAY_PREFIX).map(Cow::Borrowed);
    }
    let decoded = url::decode(value);
    decoded
        .starts_with(ARRAY_PREFIX)
        .then(|| Cow::Owned(decoded[ARRAY_PREFIX.len()..].to_vec()))
}

thread_local! {
    /// The polling thread's buffer for a batch's own bytes (everything but the events' data
    /// blocks), reused from poll to poll: a fresh buffer per poll costs an allocation and a
    /// page fault per 4 KiB each time.
    static POLL_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Largest poll buffer kept for the next poll; a larger one (a batch holding a huge log line or
/// notice) is freed, so an idle poll thread holds at most this much.
const KEPT_POLL_BUFFER: usize = 1 << 20;

/// Builds the batch of `items` over the calling thread's reused buffer and hands it to `write`,
/// which copies it to its destination; the buffer is kept for the next poll.
fn with_poll_batch<R>(items: &[Incoming], write: impl FnOnce(&mut BatchWriter<'_>) -> R) -> R {
    POLL_BUFFER.with(|cell| {
        let mut buf = cell.take();
        buf.reserve(items.iter().map(size_hint).sum::<usize>() + 4);
        let mut batch = BatchWriter::over(buf, items.len());
        for item in items {
            batch.push_incoming(item);
        }
        let written = write(&mut batch);
        let buf = batch.buf;
        if buf.capacity() <= KEPT_POLL_BUFFER {
            cell.replace(buf);
        }
        written
    })
}

/// Encodes `items` as one batch straight into a new Java array: each event's data block and
/// span table are copied once, from the engine's event into the array (the layout's other bytes,
/// ~34 per event, go through the calling thread's reused buffer).
pub(crate) fn poll_batch_array<'local>(
    env: &mut JNIEnv<'local>,
    items: &[Incoming],
) -> Result<JByteArray<'local>, BridgeError> {
    with_poll_batch(items, |batch| new_batch_array(env, batch))
}

/// Encodes `items` as one batch into the caller's Java array `into` when the batch fits in it
/// (from its first byte; the bytes after the batch are left as they were) and returns `into`;
/// otherwise returns a new array of the batch's exact length, as [`poll_batch_array`] does, so
/// that no batch is ever split or lost. The caller must not read or write `into` meanwhile.
pub(crate) fn poll_batch_into<'local>(
    env: &mut JNIEnv<'local>,
    items: &[Incoming],
    into: JByteArray<'local>,
) -> Result<JByteArray<'local>, BridgeError> {
    if into.is_null() {
        return Err(BridgeError::InvalidArgument("poll array is null".into()));
    }
    with_poll_batch(items, |batch| {
        if write_into_array(env, &into, batch)? {
            Ok(into)
        } else {
            new_batch_array(env, batch)
        }
    })
}

/// A new Java array holding exactly `batch`.
fn new_batch_array<'local>(
    env: &mut JNIEnv<'local>,
    batch: &mut BatchWriter<'_>,
) -> Result<JByteArray<'local>, BridgeError> {
    let len = i32::try_from(batch.len())
        .map_err(|_| BridgeError::InvalidArgument("poll batch over 2 GiB".into()))?;
    let array = env.new_byte_array(len)?;
    let written = write_into_array(env, &array, batch)?;
    debug_assert!(written, "an array of the batch's length holds it");
    Ok(array)
}

/// Writes `batch` at the start of the Java `array`; false, writing nothing, when the array is
/// shorter than the batch.
fn write_into_array(
    env: &mut JNIEnv<'_>,
    array: &JByteArray<'_>,
    batch: &mut BatchWriter<'_>,
) -> Result<bool, BridgeError> {
    // SAFETY: `array` is a live byte array that no other thread reads or writes during this
    // call (a new one nothing else can reach yet, or the poll thread's own pooled array, which
    // that thread does not touch while it polls); no JNI call is made while the critical region
    // is open (only `write_prefix`'s copies), and the guard ends the region when dropped.
    let mut elements = unsafe { env.get_array_elements_critical(array, ReleaseMode::CopyBack)? };
    // SAFETY: i8 and u8 have the same size and alignment; the slice covers exactly the array's
    // elements, borrowed mutably through the guard for this function only.
    let out = unsafe {
        std::slice::from_raw_parts_mut(elements.as_mut_ptr().cast::<u8>(), elements.len())
    };
    Ok(batch.write_prefix(out).is_some())
}

/// About how many bytes `push_incoming` writes into a batch's own buffer for `item` (an
/// event's data block is borrowed, not written there), so that buffer is allocated once.
pub(crate) fn size_hint(item: &Incoming) -> usize {
    match item {
        // The span table is borrowed unless multi-values are expanded.
        Incoming::Event(event) if event.may_hold_arrays() => {
            let (data, spans, _) = event.raw_parts();
            spans.len() * span_entry_bytes(data.len()) + 34
        }
        Incoming::Event(_) => 34,
        Incoming::Unknown(frame) => frame.header_block().len() + frame.body().len() + 256,
        Incoming::Log(line) => line.body.len() + 256,
        Incoming::Disconnect(notice) => notice.body.len() + 256,
        Incoming::Disconnected { reason } => reason.len() + 64,
        Incoming::Reconnected { .. } => 96,
        Incoming::Overloaded(_) => 128,
    }
}

/// One frame that Java encoded in the same layout (headers and body of a `sendevent` or
/// `sendmsg`), decoded into UTF-8 strings.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct OwnedFrame {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl OwnedFrame {
    /// The first value of `name` (ASCII case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes a batch that holds exactly one frame.
pub(crate) fn decode_single(bytes: &[u8]) -> Result<OwnedFrame, BridgeError> {
    let mut reader = Reader { bytes, pos: 0 };
    if reader.u32()? != 1 {
        return Err(BridgeError::InvalidArgument("expected one frame".into()));
    }
    // Java sends events with literal values: the kind does not matter, encoded ones are refused.
    let flags = reader.take(2)?[1];
    if flags & FLAG_VALUES_ENCODED != 0 {
        return Err(BridgeError::InvalidArgument("encoded values".into()));
    }
    let count = reader.u32()? as usize;
    let data_len = reader.u32()? as usize;
    let data = reader.take(data_len)?;
    let narrow = data_len <= NARROW_SPAN_DATA_MAX;
    let slice = |at: u32, len: u32| -> Result<&[u8], BridgeError> {
        let start = at as usize;
        data.get(start..start.saturating_add(len as usize))
            .ok_or_else(|| BridgeError::InvalidArgument("span outside the frame".into()))
    };
    let text = |bytes: &[u8]| {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| BridgeError::InvalidArgument("header is not UTF-8".into()))
    };
    let mut frame = OwnedFrame::default();
    for _ in 0..count {
        let (name_at, name_len) = (reader.offset(narrow)?, reader.offset(narrow)?);
        let (value_at, value_len) = (reader.offset(narrow)?, reader.offset(narrow)?);
        frame.headers.push((
            text(slice(name_at, name_len)?)?,
            text(slice(value_at, value_len)?)?,
        ));
    }
    let (body_at, body_len) = (reader.u32()?, reader.u32()?);
    frame.body = slice(body_at, body_len)?.to_vec();
    // The hot indices only speed up Java's reads; Rust looks headers up by name.
    reader.take(HOT_HEADERS.len() * 4)?;
    if reader.pos != bytes.len() {
        return Err(BridgeError::InvalidArgument(
            "trailing bytes after frame".into(),
        ));
    }
    Ok(frame)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], BridgeError> {
        let end = self.pos.saturating_add(len);
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| BridgeError::InvalidArgument("truncated frame".into()))?;
        self.pos = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, BridgeError> {
        let mut word = [0u8; 4];
        word.copy_from_slice(self.take(4)?);
        Ok(u32::from_be_bytes(word))
    }

    /// A span entry: a u16 in a narrow span table, else a u32.
    fn offset(&mut self, narrow: bool) -> Result<u32, BridgeError> {
        if narrow {
            let mut half = [0u8; 2];
            half.copy_from_slice(self.take(2)?);
            Ok(u32::from(u16::from_be_bytes(half)))
        } else {
            self.u32()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esl4j_engine::proto::{
        DisconnectNotice, Disposition, EventFormat, FrameParser, LogLine, ServerMessage,
    };

    fn words(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    #[test]
    fn layout_is_count_then_kind_flags_data_block_then_spans() {
        let mut batch = BatchWriter::with_capacity(64);
        let headers: [(&[u8], &[u8]); 1] = [(b"A", b"bc")];
        batch.push(KIND_LOG, headers.into_iter(), b"xy");
        batch.push(KIND_UNKNOWN, std::iter::empty(), b"");
        let bytes = batch.finish();
        let halves =
            |values: &[u16]| -> Vec<u8> { values.iter().flat_map(|v| v.to_be_bytes()).collect() };
        let absent = u32::MAX; // -1: no hot header
        let expected: Vec<u8> = [
            words(&[2]),
            vec![KIND_LOG, 0],
            words(&[1, 5]),
            b"Abcxy".to_vec(),
            halves(&[0, 1, 1, 2]),
            words(&[3, 2]),
            words(&[absent; 4]),
            vec![KIND_UNKNOWN, 0],
            words(&[0, 0, 0, 0]),
            words(&[absent; 4]),
        ]
        .concat();
        assert_eq!(bytes, expected);
    }

    /// The event of a `text/event-plain` frame with `body`, as the engine's reader makes it.
    fn plain_event(body: &[u8]) -> Event {
        let mut wire = format!(
            "Content-Length: {}\nContent-Type: text/event-plain\n\n",
            body.len()
        )
        .into_bytes();
        wire.extend_from_slice(body);
        let mut parser = FrameParser::default();
        parser.feed(&wire);
        let frame = parser.next_frame().expect("valid").expect("one frame");
        match ServerMessage::from_frame(frame).expect("event") {
            ServerMessage::Event(event) => event,
            other => panic!("not an event: {other:?}"),
        }
    }

    /// The four hot indices of the only frame of a one-frame batch.
    fn hot_of_single(bytes: &[u8]) -> [i32; 4] {
        let tail = &bytes[bytes.len() - 16..];
        let mut hot = [0i32; 4];
        for (slot, word) in hot.iter_mut().zip(tail.chunks_exact(4)) {
            *slot = i32::from_be_bytes(word.try_into().expect("4 bytes"));
        }
        hot
    }

    #[test]
    fn hot_indices_point_at_the_first_header_of_each_name_after_array_expansion() {
        let event = Event::from_pairs(
            [
                ("Multi", "ARRAY::a|:b"),
                ("unique-id", "u-1"),
                ("Event-Name", "CUSTOM"),
                ("Unique-ID", "u-2"),
                ("Event-Subclass", "sofia::register"),
            ],
            None,
            EventFormat::Plain,
        );
        let mut batch = BatchWriter::with_capacity(64);
        batch.push_event(&event);
        // Multi expands to headers 0 and 1; no Job-UUID.
        assert_eq!(hot_of_single(&batch.finish()), [3, 2, -1, 5]);

        // Without multi-values (the span table written from the spans) the same indices.
        let single = Event::from_pairs(
            [
                ("unique-id", "u-1"),
                ("Event-Name", "CUSTOM"),
                ("Unique-ID", "u-2"),
                ("JOB-uuid", "j-1"),
            ],
            None,
            EventFormat::Plain,
        );
        assert!(!single.may_hold_arrays());
        let mut batch = BatchWriter::with_capacity(64);
        batch.push_event(&single);
        assert_eq!(hot_of_single(&batch.finish()), [1, 0, 3, -1]);

        // A plain event from the wire: the indices the engine noted while it split the lines,
        // counted from the event's first header, not the envelope's.
        let plain =
            plain_event(b"unique-id: u-1\nEvent-Name: CUSTOM\nUnique-ID: u-2\nJOB-uuid: j-1\n\n");
        let mut batch = BatchWriter::with_capacity(64);
        batch.push_event(&plain);
        assert_eq!(hot_of_single(&batch.finish()), [1, 0, 3, -1]);

        let mut reply = BatchWriter::with_capacity(64);
        let headers: [(&[u8], &[u8]); 2] = [(b"Reply-Text", b"+OK"), (b"JOB-UUID", b"j-1")];
        reply.push(KIND_REPLY, headers.into_iter(), b"");
        assert_eq!(hot_of_single(&reply.finish()), [-1, -1, 1, -1]);
    }

    #[test]
    fn array_values_become_repeated_headers() {
        let event = Event::from_pairs(
            [("Event-Name", "CUSTOM"), ("Multi", "ARRAY::a|:b|:c")],
            Some(b"body"),
            EventFormat::Plain,
        );
        let mut batch = BatchWriter::with_capacity(64);
        batch.push_event(&event);
        let bytes = batch.finish();
        // Decode with the same reader used for Java's frames: four headers, body kept.
        let frame = decode_single(&bytes).expect("one frame");
        let names: Vec<&str> = frame.headers.iter().map(|(n, _)| n.as_str()).collect();
        let values: Vec<&str> = frame.headers.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(names, ["Event-Name", "Multi", "Multi", "Multi"]);
        assert_eq!(values, ["CUSTOM", "a", "b", "c"]);
        assert_eq!(frame.body, b"body");
    }

    /// One frame as written: kind, flags, (name, value) pairs.
    type WrittenFrame = (u8, u8, Vec<(Vec<u8>, Vec<u8>)>);

    /// Every frame of a batch, as written.
    fn frames_of(bytes: &[u8]) -> Vec<WrittenFrame> {
        let mut reader = Reader { bytes, pos: 0 };
        let count = reader.u32().expect("count");
        (0..count)
            .map(|_| {
                let head = reader.take(2).expect("kind and flags");
                let headers = reader.u32().expect("headers") as usize;
                let data_len = reader.u32().expect("data length") as usize;
                let data = reader.take(data_len).expect("data");
                let narrow = data_len <= NARROW_SPAN_DATA_MAX;
                let mut pairs = Vec::new();
                for _ in 0..headers {
                    let mut span = [0usize; 4];
                    for part in &mut span {
                        *part = reader.offset(narrow).expect("span") as usize;
                    }
                    pairs.push((
                        data[span[0]..span[0] + span[1]].to_vec(),
                        data[span[2]..span[2] + span[3]].to_vec(),
                    ));
                }
                reader.take(8 + HOT_HEADERS.len() * 4).expect("tail");
                (head[0], head[1], pairs)
            })
            .collect()
    }

    /// A plain event's values cross as received, flagged; an encoded array's items are
    /// encoded again, so decoding each gives the item.
    #[test]
    fn plain_events_cross_with_encoded_values() {
        let event = plain_event(
            b"Event-Name: CUSTOM\nCaller: a%20b%FF\nMulti: ARRAY%3A%3Ax%20y%7C%3Az%25\n\
            Plain: ARRAY\n\n",
        );
        let mut batch = BatchWriter::with_capacity(64);
        batch.push_event(&event);
        let frames = frames_of(&batch.finish());
        let (kind, flags, headers) = &frames[0];
        assert_eq!((*kind, *flags), (KIND_EVENT, FLAG_VALUES_ENCODED));
        let decoded: Vec<(&[u8], Vec<u8>)> = headers
            .iter()
            .map(|(name, value)| (&name[..], url::decode(value)))
            .collect();
        let expected: Vec<(&[u8], Vec<u8>)> = vec![
            (b"Event-Name", b"CUSTOM".to_vec()),
            (b"Caller", b"a b\xFF".to_vec()),
            (b"Multi", b"x y".to_vec()),
            (b"Multi", b"z%".to_vec()),
            (b"Plain", b"ARRAY".to_vec()),
        ];
        assert_eq!(decoded, expected);
        assert_eq!(headers[1].1, b"a%20b%FF", "sent as received");
    }

    #[test]
    fn every_queued_item_carries_its_kind() {
        let mut parser = FrameParser::default();
        parser.feed(b"Content-Type: text/x-custom\nX: y\n\n");
        let unknown = parser.next_frame().expect("valid").expect("frame");
        let items = [
            Incoming::Event(Event::from_pairs(
                [("Event-Name", "HEARTBEAT")],
                None,
                EventFormat::Json,
            )),
            Incoming::Log(LogLine {
                level: Some(7),
                file: None,
                function: None,
                line: None,
                user_data: None,
                body: b"text".to_vec(),
            }),
            Incoming::Disconnect(DisconnectNotice {
                disposition: Disposition::Linger,
                linger_time: None,
                controlled_session_uuid: None,
                channel_name: None,
                body: Vec::new(),
            }),
            Incoming::Disconnected {
                reason: "reset".into(),
            },
            Incoming::Reconnected {
                attempts: 2,
                gap: std::time::Duration::from_micros(5),
            },
            Incoming::Unknown(unknown),
        ];
        let mut batch = BatchWriter::with_capacity(items.iter().map(size_hint).sum());
        for item in &items {
            batch.push_incoming(item);
        }
        let frames = frames_of(&batch.finish());
        let kinds: Vec<(u8, u8)> = frames
            .iter()
            .map(|(kind, flags, _)| (*kind, *flags))
            .collect();
        assert_eq!(
            kinds,
            [
                (KIND_EVENT, 0),
                (KIND_LOG, 0),
                (KIND_DISCONNECT_NOTICE, 0),
                (KIND_DISCONNECTED, 0),
                (KIND_RECONNECTED, 0),
                (KIND_UNKNOWN, 0),
            ]
        );
        let first_headers: Vec<(&[u8], &[u8])> = frames[1..]
            .iter()
            .map(|(_, _, headers)| (&headers[0].0[..], &headers[0].1[..]))
            .collect();
        let expected: [(&[u8], &[u8]); 5] = [
            (b"Content-Type", b"log/data"),
            (b"Content-Type", b"text/disconnect-notice"),
            (b"Disconnect-Reason", b"reset"),
            (b"Reconnect-Attempts", b"2"),
            (b"Content-Type", b"text/x-custom"),
        ];
        assert_eq!(first_headers, expected);
    }

    /// Events' data blocks are borrowed and placed between the batch's own bytes when it is
    /// written: several events with other items between them land each in its own frame.
    #[test]
    fn borrowed_event_blocks_land_between_the_batch_own_bytes() {
        let event = |name: &str, id: &str| {
            Incoming::Event(Event::from_pairs(
                [("Event-Name", name), ("Unique-ID", id)],
                Some(id.as_bytes()),
                EventFormat::Plain,
            ))
        };
        let items = [
            event("FIRST", "u-1"),
            Incoming::Disconnected {
                reason: "between".into(),
            },
            event("SECOND", "u-2"),
            event("THIRD", "u-3"),
        ];
        let mut batch = BatchWriter::with_capacity(0);
        for item in &items {
            batch.push_incoming(item);
        }
        let mut out = vec![0xAA; batch.len()];
        batch.write_to(&mut out);
        let frames = frames_of(&out);
        let pairs: Vec<Vec<(&[u8], &[u8])>> = frames
            .iter()
            .map(|(_, _, headers)| {
                headers
                    .iter()
                    .map(|(name, value)| (&name[..], &value[..]))
                    .collect()
            })
            .collect();
        let expected: Vec<Vec<(&[u8], &[u8])>> = vec![
            vec![(b"Event-Name", b"FIRST"), (b"Unique-ID", b"u-1")],
            vec![(b"Disconnect-Reason", b"between")],
            vec![(b"Event-Name", b"SECOND"), (b"Unique-ID", b"u-2")],
            vec![(b"Event-Name", b"THIRD"), (b"Unique-ID", b"u-3")],
        ];
        assert_eq!(pairs, expected);
        assert_eq!(out, batch.finish(), "write_to and finish agree");
    }

    /// A batch of two events, as a poll writes it.
    fn two_event_batch(items: &[Incoming]) -> BatchWriter<'_> {
        let mut batch = BatchWriter::with_capacity(0);
        for item in items {
            batch.push_incoming(item);
        }
        batch
    }

    fn two_events() -> [Incoming; 2] {
        let event = |id: &str| {
            Incoming::Event(Event::from_pairs(
                [("Event-Name", "CHANNEL_ANSWER"), ("Unique-ID", id)],
                Some(id.as_bytes()),
                EventFormat::Plain,
            ))
        };
        [event("u-1"), event("u-2")]
    }

    /// A caller's array one byte too short for the batch gets nothing written into it (the poll
    /// then hands the batch over in an array of its own).
    #[test]
    fn a_batch_is_not_written_into_an_array_too_small_for_it() {
        let items = two_events();
        let mut batch = two_event_batch(&items);
        let mut out = vec![0xAA; batch.len() - 1];
        assert_eq!(batch.write_prefix(&mut out), None);
        assert!(out.iter().all(|&byte| byte == 0xAA), "nothing written");
        assert_eq!(batch.write_prefix(&mut []), None);
    }

    /// An array of exactly the batch's length gets the whole batch, as a new array would.
    #[test]
    fn a_batch_fills_an_array_of_its_exact_length() {
        let items = two_events();
        let mut batch = two_event_batch(&items);
        let len = batch.len();
        let mut out = vec![0xAA; len];
        assert_eq!(batch.write_prefix(&mut out), Some(len));
        assert_eq!(out, two_event_batch(&items).finish());
    }

    /// In a longer array the batch starts at its first byte and the bytes after it (a previous
    /// batch's, in a reused array) are left alone: the reader stops at the batch's last frame.
    #[test]
    fn a_batch_is_written_at_the_start_of_a_longer_array() {
        let items = two_events();
        let mut batch = two_event_batch(&items);
        let len = batch.len();
        let mut out = vec![0xAA; len + 100];
        assert_eq!(batch.write_prefix(&mut out), Some(len));
        assert_eq!(out[..len], two_event_batch(&items).finish()[..]);
        assert!(out[len..].iter().all(|&byte| byte == 0xAA));
        assert_eq!(frames_of(&out[..len]).len(), 2);
    }

    /// A plain event from the wire whose frame's data block is `len` bytes long, with a last
    /// header after a padding value (so past offset 65,535 once `len` is) and an encoded value.
    fn plain_event_of_len(len: usize) -> Event {
        let head = b"Event-Name: CUSTOM\nCaller: a%20b%25\nPad: ".as_slice();
        let tail = b"\nUnique-ID: u-1\n\n".as_slice();
        // The envelope around a body of about the same length (as many Content-Length digits).
        let envelope = plain_event(&vec![b'x'; len - 200]).raw_parts().0.len() - (len - 200);
        let mut text = head.to_vec();
        text.resize(len - envelope - tail.len(), b'x');
        text.extend_from_slice(tail);
        let event = plain_event(&text);
        assert_eq!(event.raw_parts().0.len(), len, "the frame's data block");
        event
    }

    /// An event's span table, stored by the engine and copied as it is, reads back through the
    /// layout's rule (u16 spans up to a 65,535-byte data block, u32 above) on both sides of the
    /// boundary, offsets past 65,535 included, with the hot indices and the values encoded.
    #[test]
    fn event_span_tables_cross_as_stored_on_both_sides_of_the_narrow_limit() {
        for len in [65_534, 65_535, 65_536, 65_537, 1 << 20] {
            let event = plain_event_of_len(len);
            assert!(!event.may_hold_arrays(), "the table is copied, not rebuilt");
            let mut batch = BatchWriter::with_capacity(0);
            batch.push_event(&event);
            let bytes = batch.finish();
            let frames = frames_of(&bytes);
            let (kind, flags, headers) = &frames[0];
            assert_eq!((*kind, *flags), (KIND_EVENT, FLAG_VALUES_ENCODED));
            let names: Vec<&[u8]> = headers.iter().map(|(name, _)| &name[..]).collect();
            assert_eq!(names, [&b"Event-Name"[..], b"Caller", b"Pad", b"Unique-ID"]);
            assert_eq!(headers[1].1, b"a%20b%25", "len {len}");
            assert_eq!(url::decode(&headers[1].1), b"a b%");
            assert_eq!(headers[3].1, b"u-1", "len {len}");
            assert_eq!(hot_of_single(&bytes), [0, 3, -1, -1]);
            let entry = if len <= 65_535 { 8 } else { 16 };
            assert_eq!(bytes.len(), 4 + 10 + len + 4 * entry + 8 + 16, "len {len}");
        }
    }

    /// Events without headers cross with an empty table, their body kept.
    #[test]
    fn events_without_headers_cross_with_an_empty_table() {
        let items = [
            Incoming::Event(plain_event(b"\n")),
            Incoming::Event(Event::from_pairs(
                std::iter::empty::<(&str, &str)>(),
                Some(b"body"),
                EventFormat::Json,
            )),
        ];
        let mut batch = two_event_batch(&items);
        let mut out = vec![0; batch.len()];
        batch.write_to(&mut out);
        let frames = frames_of(&out);
        assert_eq!(frames.len(), 2);
        assert!(frames.iter().all(|(_, _, headers)| headers.is_empty()));
        let tail = &out[out.len() - 24..out.len() - 16];
        assert_eq!(tail, words(&[0, 4]), "the second frame's body span");
        assert_eq!(&out[out.len() - 28..out.len() - 24], b"body");
    }

    #[test]
    fn frames_over_64_kib_use_wide_spans_and_round_trip() {
        let body = vec![b'x'; 70_000];
        let headers: [(&[u8], &[u8]); 2] = [(b"Event-Name", b"CUSTOM"), (b"Big", b"v")];
        let mut batch = BatchWriter::with_capacity(64);
        batch.push(KIND_EVENT, headers.into_iter(), &body);
        let bytes = batch.finish();
        let data_len = 10 + 6 + 3 + 1 + body.len();
        // count, kind, flags, headers, dataLen, data, two u32 spans, body span, hot indices
        assert_eq!(bytes.len(), 14 + data_len + 2 * 16 + 8 + 16);
        let frame = decode_single(&bytes).expect("one frame");
        assert_eq!(frame.header("big"), Some("v"));
        assert_eq!(frame.header("event-name"), Some("CUSTOM"));
        assert_eq!(frame.body, body);
    }

    #[test]
    fn truncated_and_encoded_frames_are_rejected() {
        let mut batch = BatchWriter::with_capacity(64);
        let headers: [(&[u8], &[u8]); 1] = [(b"A", b"b")];
        batch.push(KIND_EVENT, headers.into_iter(), b"xyz");
        let mut bytes = batch.finish();
        for cut in 0..bytes.len() {
            assert!(decode_single(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode_single(&bytes).is_ok());
        bytes[5] = FLAG_VALUES_ENCODED;
        assert!(decode_single(&bytes).is_err());
    }
}
