//! Server-side events and their serialization exactly as FreeSWITCH writes them:
//! `text/event-plain` (URL-encoded by `switch_url_encode`), `text/event-json`
//! (`cJSON_PrintUnformatted`) and `text/event-xml` (`switch_event_xmlize`).

use std::fmt::Write as _;

/// Prefix FreeSWITCH uses to serialize a multi-value header as one plain value.
pub const ARRAY_PREFIX: &str = "ARRAY::";
/// Separator between the values of a multi-value header.
pub const ARRAY_SEPARATOR: &str = "|:";

/// An event: ordered headers (duplicates allowed, as on the wire) and an optional body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl Event {
    /// An empty event with only `Event-Name`.
    pub fn named(name: &str) -> Self {
        let mut event = Event::default();
        event.add("Event-Name", name);
        event
    }

    /// Appends a header.
    pub fn add(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Replaces the first header of that name (case-insensitive) or appends it.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name.to_string(), value)),
        }
        self
    }

    /// The first value of a header (case-insensitive name match).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Event-Name`, or the empty string.
    pub fn name(&self) -> &str {
        self.get("Event-Name").unwrap_or("")
    }

    /// All headers in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body, if any.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    /// Sets (replaces) the body.
    pub fn set_body(&mut self, body: impl Into<String>) -> &mut Self {
        self.body = Some(body.into());
        self
    }

    /// `switch_event_serialize(event, &s, SWITCH_TRUE)`: URL-encoded `Name: value` lines, an
    /// empty encoded value as `_undef_`, and for a non-empty body an inner `Content-Length`
    /// as the last header, a blank line and the raw body; otherwise one blank line.
    pub fn to_plain(&self) -> String {
        let mut out = String::with_capacity(64 * self.headers.len());
        for (name, value) in &self.headers {
            let encoded = url_encode(value);
            let shown = if encoded.is_empty() {
                "_undef_"
            } else {
                encoded.as_str()
            };
            let _ = writeln!(out, "{name}: {shown}");
        }
        match self.body.as_deref() {
            Some(body) if !body.is_empty() => {
                let _ = write!(out, "Content-Length: {}\n\n{body}", body.len());
            }
            _ => out.push('\n'),
        }
        out
    }

    /// `cJSON_PrintUnformatted` of `switch_event_serialize_json`: raw values, multi-value
    /// headers as arrays, a body as `"Content-Length":"<n>"` plus `"_body"`.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        let mut first = true;
        let mut member = |out: &mut String, name: &str, value: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            json_string(out, name);
            out.push(':');
            match value.strip_prefix(ARRAY_PREFIX) {
                Some(items) => {
                    out.push('[');
                    for (i, item) in items.split(ARRAY_SEPARATOR).enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        json_string(out, item);
                    }
                    out.push(']');
                }
                None => json_string(out, value),
            }
        };
        for (name, value) in &self.headers {
            member(&mut out, name, value);
        }
        if let Some(body) = self.body.as_deref().filter(|b| !b.is_empty()) {
            member(&mut out, "Content-Length", &body.len().to_string());
            member(&mut out, "_body", body);
        }
        out.push('}');
        out
    }

    /// `switch_event_xmlize` printed by `switch_xml_toxml`: URL-encoded then XML-escaped
    /// header values, multi-value headers as repeated elements, then the body.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<event>\n  <headers>\n");
        for (name, value) in &self.headers {
            let values: Vec<&str> = match value.strip_prefix(ARRAY_PREFIX) {
                Some(items) => items.split(ARRAY_SEPARATOR).collect(),
                None => vec![value.as_str()],
            };
            for item in values {
                let _ = writeln!(
                    out,
                    "    <{name}>{}</{name}>",
                    xml_escape(&url_encode(item))
                );
            }
        }
        out.push_str("  </headers>\n");
        if let Some(body) = self.body.as_deref().filter(|b| !b.is_empty()) {
            let _ = write!(
                out,
                "  <Content-Length>{}</Content-Length>\n  <body>{}</body>\n",
                body.len(),
                xml_escape(body)
            );
        }
        out.push_str("</event>");
        out
    }
}

/// The characters `switch_url_encode` always escapes (SWITCH_URL_UNSAFE).
const URL_UNSAFE: &[u8] = b"\r\n #%&+:;<=>?@[\\]^`{|}\"";

/// `switch_url_encode_opt(.., double_encode = FALSE)`: `%XX` with upper-case hex for unsafe
/// characters and bytes outside 0x20..=0x7E; a `%` already followed by two upper-case hex
/// digits is passed through unchanged.
pub fn url_encode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(bytes.len() + 8);
    let is_upper_hex = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
    for (i, &b) in bytes.iter().enumerate() {
        let passthrough = b == b'%'
            && bytes.get(i + 1).copied().is_some_and(is_upper_hex)
            && bytes.get(i + 2).copied().is_some_and(is_upper_hex);
        if passthrough || (b > 0x1F && b < 0x7F && !URL_UNSAFE.contains(&b)) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A JSON string as cJSON prints it. The simulator's only JSON escaping: every JSON it writes
/// (`text/event-json`, `show ... as json`) goes through [`Event::to_json`]; the engine only
/// parses JSON, so there is no shared writer to depend on.
fn json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn xml_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Event serialization formats of `event <format> ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/event-plain`
    Plain,
    /// `text/event-json`
    Json,
    /// `text/event-xml`
    Xml,
}

impl Format {
    /// The outer `Content-Type` of an event frame in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Plain => "text/event-plain",
            Format::Json => "text/event-json",
            Format::Xml => "text/event-xml",
        }
    }

    /// The full wire frame: outer `Content-Length` first, then `Content-Type`, then the body.
    pub fn frame(self, event: &Event) -> Vec<u8> {
        let body = match self {
            Format::Plain => event.to_plain(),
            Format::Json => event.to_json(),
            Format::Xml => event.to_xml(),
        };
        let mut frame = format!(
            "Content-Length: {}\nContent-Type: {}\n\n",
            body.len(),
            self.content_type()
        )
        .into_bytes();
        frame.extend_from_slice(body.as_bytes());
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_follows_switch_url_encode() {
        assert_eq!(url_encode("fd00::2"), "fd00%3A%3A2");
        assert_eq!(
            url_encode("2026-11-28 06:27:35"),
            "2026-11-28%2006%3A27%3A35"
        );
        assert_eq!(url_encode("1.11.3-dev+git~2026"), "1.11.3-dev%2Bgit~2026");
        assert_eq!(url_encode("+OK\n"), "%2BOK%0A");
        assert_eq!(url_encode("a,b/c"), "a,b/c");
        // upper-case %XX passes through, lower-case or short ones are encoded
        assert_eq!(url_encode("x%2By"), "x%2By");
        assert_eq!(url_encode("x%2by"), "x%252by");
        assert_eq!(url_encode("100%"), "100%25");
        assert_eq!(url_encode("你"), "%E4%BD%A0");
    }

    #[test]
    fn plain_serialization_matches_the_real_server() {
        let mut event = Event::named("BACKGROUND_JOB");
        event.add("Job-Command", "status").add("Empty", "");
        assert_eq!(
            event.to_plain(),
            "Event-Name: BACKGROUND_JOB\nJob-Command: status\nEmpty: _undef_\n\n"
        );
        event.set_body("+OK a\n\nb");
        assert_eq!(
            event.to_plain(),
            "Event-Name: BACKGROUND_JOB\nJob-Command: status\nEmpty: _undef_\nContent-Length: 8\n\n+OK a\n\nb"
        );
    }

    #[test]
    fn json_serialization_escapes_and_makes_arrays() {
        let mut event = Event::named("X");
        event.add("Multi", "ARRAY::a|:b\"").add("Path", "a/b");
        event.set_body("line\n");
        assert_eq!(
            event.to_json(),
            r#"{"Event-Name":"X","Multi":["a","b\""],"Path":"a/b","Content-Length":"5","_body":"line\n"}"#
        );
    }

    #[test]
    fn xml_serialization_encodes_then_escapes() {
        let mut event = Event::named("X");
        event.add("V", "a b&").add("M", "ARRAY::1|:2");
        assert_eq!(
            event.to_xml(),
            "<event>\n  <headers>\n    <Event-Name>X</Event-Name>\n    <V>a%20b%26</V>\n    <M>1</M>\n    <M>2</M>\n  </headers>\n</event>"
        );
    }

    #[test]
    fn frames_put_content_length_first_and_count_bytes() {
        let event = Event::named("Ä");
        let frame = String::from_utf8(Format::Plain.frame(&event)).expect("utf8");
        let body = "Event-Name: %C3%84\n\n";
        assert_eq!(
            frame,
            format!(
                "Content-Length: {}\nContent-Type: text/event-plain\n\n{body}",
                body.len()
            )
        );
        let json = String::from_utf8(Format::Json.frame(&event)).expect("utf8");
        assert!(json.starts_with("Content-Length: 19\n"), "{json}");
    }
}
