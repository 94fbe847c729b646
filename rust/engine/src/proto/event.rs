//! [`Event`]: decoded event headers and body in one flat buffer.
//!
//! Layout: one byte buffer holds every name, every decoded value and the body; `headers` holds
//! one [`HeaderSpan`] per header, in wire order. A plain event reuses its frame's buffer and
//! decodes values in place, so the buffer also holds bytes no span covers (the envelope, the
//! leftover tail of a shortened value). Handing an event across JNI is one byte array plus an
//! array of offsets.

use std::borrow::Cow;
use std::ops::Range;

use super::frame::HeaderSpan;
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
const ARRAY_PREFIX: &[u8] = b"ARRAY::";
const ARRAY_SEPARATOR: &[u8] = b"|:";

/// A FreeSWITCH event: ordered headers with case-insensitive lookup, and an optional body.
///
/// Values are kept as the decoded bytes; text accessors decode UTF-8 and replace invalid
/// sequences, while the `*_bytes` accessors return the exact bytes.
#[derive(Clone)]
pub struct Event {
    data: Vec<u8>,
    headers: Vec<HeaderSpan>,
    body: Option<Range<u32>>,
    format: EventFormat,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name())
            .field("headers", &self.headers.len())
            .field("body_len", &self.body().map_or(0, <[u8]>::len))
            .finish()
    }
}

/// Equal when format, headers (in order) and body are equal, whatever the buffer layout.
impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.format == other.format
            && self.headers.len() == other.headers.len()
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
}

impl EventBuilder {
    fn with_capacity(bytes: usize, headers: usize) -> EventBuilder {
        EventBuilder {
            data: Vec::with_capacity(bytes),
            headers: Vec::with_capacity(headers),
        }
    }

    fn offset(&self) -> u32 {
        // Frames are capped far below 4 GiB, so offsets fit.
        self.data.len() as u32
    }

    /// Adds a header whose value is written by `write_value`.
    fn push_with(&mut self, name: &[u8], write_value: impl FnOnce(&mut Vec<u8>)) {
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

    fn finish(mut self, body: Option<&[u8]>, format: EventFormat) -> Event {
        let body = body.map(|body| {
            let start = self.offset();
            self.data.extend_from_slice(body);
            start..self.offset()
        });
        Event {
            data: self.data,
            headers: self.headers,
            body,
            format,
        }
    }
}

impl Event {
    /// Decodes the body of a `text/event-plain` frame: URL-encoded header lines, a blank line,
    /// and, when the inner headers carry a `Content-Length`, the raw event body. The inner
    /// length is redundant and not trusted: the body is everything after the blank line.
    pub fn from_plain(text: &[u8]) -> Event {
        Event::from_plain_buffer(text.to_vec(), 0)
    }

    /// Like [`from_plain`](Self::from_plain) for the text at `data[start..]`, taking over the
    /// buffer: values are URL-decoded in place (decoding never lengthens), names are not
    /// moved at all, so an event costs no copy beyond the frame's own buffer.
    pub(crate) fn from_plain_buffer(mut data: Vec<u8>, start: usize) -> Event {
        let len = data.len();
        let mut lines = PlainLines {
            headers: Vec::with_capacity((len - start) / 24 + 8),
            escaped: Vec::new(),
            has_length: false,
        };
        let mut body_start = None;
        // One SIMD scan finds every line end, name separator and escape; the state below
        // turns them into spans without looking at the other bytes.
        let mut line_start = start;
        let mut colon = None;
        let mut first_escape = None;
        for at in memchr::memchr3_iter(b'\n', b':', b'%', &data[start..]) {
            let at = start + at;
            match data[at] {
                b':' => {
                    colon = colon.or(Some(at));
                }
                b'%' => {
                    if colon.is_some() && first_escape.is_none() {
                        first_escape = Some(at);
                    }
                }
                _ => {
                    let content_end = trim_cr(&data, line_start, at);
                    if content_end == line_start {
                        body_start = Some(at + 1);
                        break;
                    }
                    lines.push(&data, line_start, content_end, colon, first_escape);
                    line_start = at + 1;
                    colon = None;
                    first_escape = None;
                }
            }
        }
        if body_start.is_none() && line_start < len {
            let content_end = trim_cr(&data, line_start, len);
            lines.push(&data, line_start, content_end, colon, first_escape);
        }
        let PlainLines {
            mut headers,
            escaped,
            has_length,
        } = lines;
        for (index, escape) in escaped {
            let span = &mut headers[index];
            let value = span.value_start as usize..span.value_end as usize;
            let first = escape as usize - value.start;
            let decoded = url::decode_in_place_from(&mut data[value.clone()], first);
            span.value_end = (value.start + decoded) as u32;
        }
        let body = body_start
            .filter(|_| has_length)
            .map(|start| start as u32..len as u32);
        Event {
            data,
            headers,
            body,
            format: EventFormat::Plain,
        }
    }

    /// Decodes URL-encoded header lines that are not in a body: the outbound `connect` reply,
    /// whose whole header block is the channel's `CHANNEL_DATA` event.
    pub(crate) fn from_encoded_spans(data: &[u8], spans: &[HeaderSpan]) -> Event {
        let mut builder = EventBuilder::with_capacity(data.len(), spans.len());
        for span in spans {
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

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// `true` when the event has no headers.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Headers in wire order as `(name, value)` bytes.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.headers
            .iter()
            .map(|span| (span.name(&self.data), span.value(&self.data)))
    }

    /// Exact bytes of the first header called `name` (ASCII case-insensitive).
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|span| span.name(&self.data).eq_ignore_ascii_case(name.as_bytes()))
            .map(|span| span.value(&self.data))
    }

    /// Text of the first header called `name` (invalid UTF-8 replaced). A multi-value header
    /// is returned raw (`ARRAY::a|:b`), as libesl's `getHeader(name, -1)` does.
    pub fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        self.header_bytes(name).map(String::from_utf8_lossy)
    }

    /// Every value of `name`: the parts of an `ARRAY::a|:b` value and repeated headers.
    pub fn header_values(&self, name: &str) -> Vec<Cow<'_, str>> {
        let mut values = Vec::new();
        for span in &self.headers {
            if !span.name(&self.data).eq_ignore_ascii_case(name.as_bytes()) {
                continue;
            }
            let value = span.value(&self.data);
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
            .map(|range| &self.data[range.start as usize..range.end as usize])
    }

    /// The event body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> Option<Cow<'_, str>> {
        self.body().map(String::from_utf8_lossy)
    }

    /// The flat layout: the byte buffer, one span per header, and the body range inside the
    /// buffer. Cheap to copy across JNI in one piece; bytes outside the spans carry nothing.
    pub fn raw_parts(&self) -> (&[u8], &[HeaderSpan], Option<Range<usize>>) {
        let body = self
            .body
            .as_ref()
            .map(|range| range.start as usize..range.end as usize);
        (&self.data, &self.headers, body)
    }

    /// Serializes as a `text/event-plain` body (URL-encoded values), the inverse of
    /// [`from_plain`](Event::from_plain) for well-formed events.
    pub fn to_plain(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() * 2);
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

/// End of a line's content: `end` (the `\n` or the end of text) minus a trailing `\r`.
fn trim_cr(data: &[u8], start: usize, end: usize) -> usize {
    if end > start && data[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// Spans collected while scanning a plain event, before values are decoded.
struct PlainLines {
    headers: Vec<HeaderSpan>,
    /// Headers whose value holds a `%`: (header index, offset of the first `%`).
    escaped: Vec<(usize, u32)>,
    has_length: bool,
}

impl PlainLines {
    /// Records the line `start..end` split at `colon`; a line without `:` is no header.
    fn push(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        colon: Option<usize>,
        first_escape: Option<usize>,
    ) {
        let Some(colon) = colon.filter(|&colon| colon < end) else {
            return;
        };
        let mut name_end = colon;
        while name_end > start && data[name_end - 1] == b' ' {
            name_end -= 1;
        }
        let mut value_start = colon + 1;
        while value_start < end && data[value_start] == b' ' {
            value_start += 1;
        }
        self.has_length |= data[start..name_end].eq_ignore_ascii_case(b"content-length");
        if let Some(escape) = first_escape {
            self.escaped.push((self.headers.len(), escape as u32));
        }
        // Frames are capped far below 4 GiB, so offsets fit in u32.
        self.headers.push(HeaderSpan {
            name_start: start as u32,
            name_end: name_end as u32,
            value_start: value_start as u32,
            value_end: end as u32,
        });
    }
}

/// Splits the part after `ARRAY::` on `|:`.
fn split_array(items: &[u8]) -> impl Iterator<Item = &[u8]> {
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
