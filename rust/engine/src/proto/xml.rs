//! The XML FreeSWITCH emits for events (`switch_event_xmlize`):
//! `<event><headers><Name>value</Name>...</headers><Content-Length>n</Content-Length>
//! <body>...</body></event>`, values URL-encoded then XML-escaped.

use crate::error::ProtocolError;

fn malformed(reason: &'static str) -> ProtocolError {
    ProtocolError::MalformedEvent {
        format: "xml",
        reason,
    }
}

/// Appends `text` with the five XML entities and numeric references resolved.
fn unescape_into(text: &[u8], out: &mut Vec<u8>) {
    let mut rest = text;
    while let Some(at) = memchr::memchr(b'&', rest) {
        out.extend_from_slice(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = memchr::memchr(b';', rest).filter(|&end| end <= 10) else {
            out.push(b'&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let resolved = match entity {
            b"amp" => Some('&'),
            b"lt" => Some('<'),
            b"gt" => Some('>'),
            b"quot" => Some('"'),
            b"apos" => Some('\''),
            [b'#', b'x' | b'X', hex @ ..] => std::str::from_utf8(hex)
                .ok()
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32),
            [b'#', decimal @ ..] => std::str::from_utf8(decimal)
                .ok()
                .and_then(|decimal| decimal.parse().ok())
                .and_then(char::from_u32),
            _ => None,
        };
        match resolved {
            Some(ch) => {
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                rest = &rest[end + 1..];
            }
            None => {
                out.push(b'&');
                rest = &rest[1..];
            }
        }
    }
    out.extend_from_slice(rest);
}

struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn skip_whitespace(&mut self) {
        while matches!(self.text.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Reads `<name>` (or `</name>` when `closing`) and returns the name.
    fn tag(&mut self, closing: bool) -> Result<&'a [u8], ProtocolError> {
        self.skip_whitespace();
        let open: &[u8] = if closing { b"</" } else { b"<" };
        if !self.text[self.at..].starts_with(open) {
            return Err(malformed("expected a tag"));
        }
        self.at += open.len();
        let end = memchr::memchr(b'>', &self.text[self.at..]).ok_or(malformed("unclosed tag"))?;
        let name = &self.text[self.at..self.at + end];
        self.at += end + 1;
        Ok(name)
    }

    fn expect_tag(&mut self, name: &[u8], closing: bool) -> Result<(), ProtocolError> {
        if self.tag(closing)? == name {
            Ok(())
        } else {
            Err(malformed("unexpected tag"))
        }
    }

    /// Reads text up to `</name>` and consumes that closing tag.
    fn text_until_close(&mut self, name: &[u8]) -> Result<&'a [u8], ProtocolError> {
        let start = self.at;
        let end = memchr::memchr(b'<', &self.text[start..]).ok_or(malformed("unclosed element"))?;
        self.at = start + end;
        self.expect_tag(name, true)?;
        Ok(&self.text[start..start + end])
    }

    fn next_is_closing(&mut self) -> bool {
        self.skip_whitespace();
        self.text[self.at..].starts_with(b"</")
    }
}

/// Parses an XML event, calling `header(name, value)` with the XML-unescaped (still
/// URL-encoded) value of each header; returns the unescaped body, if any.
pub(crate) fn parse_event(
    text: &[u8],
    mut header: impl FnMut(&[u8], &[u8]),
) -> Result<Option<Vec<u8>>, ProtocolError> {
    let mut cursor = Cursor { text, at: 0 };
    cursor.skip_whitespace();
    if cursor.text[cursor.at..].starts_with(b"<?") {
        let end = memchr::memmem::find(&cursor.text[cursor.at..], b"?>")
            .ok_or(malformed("unclosed declaration"))?;
        cursor.at += end + 2;
    }
    cursor.expect_tag(b"event", false)?;
    cursor.expect_tag(b"headers", false)?;
    let mut value = Vec::with_capacity(256);
    while !cursor.next_is_closing() {
        let name = cursor.tag(false)?;
        let raw = cursor.text_until_close(name)?;
        value.clear();
        unescape_into(raw, &mut value);
        header(name, &value);
    }
    cursor.expect_tag(b"headers", true)?;
    let mut body = None;
    while !cursor.next_is_closing() {
        let name = cursor.tag(false)?;
        let raw = cursor.text_until_close(name)?;
        if name == b"body" {
            let mut decoded = Vec::with_capacity(raw.len());
            unescape_into(raw, &mut decoded);
            body = Some(decoded);
        }
    }
    cursor.expect_tag(b"event", true)?;
    Ok(body)
}
