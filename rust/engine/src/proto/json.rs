//! The small JSON subset FreeSWITCH emits for events: one flat object whose members are
//! strings, numbers, literals or arrays of those. Nested objects are rejected.

use crate::error::ProtocolError;

fn malformed(reason: &'static str) -> ProtocolError {
    ProtocolError::MalformedEvent {
        format: "json",
        reason,
    }
}

struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn skip_whitespace(&mut self) {
        while matches!(self.text.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.text.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), ProtocolError> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(malformed(reason))
        }
    }

    fn hex4(&mut self) -> Result<u32, ProtocolError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .ok_or(malformed("truncated \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| malformed("bad \\u escape"))?;
        let value = u32::from_str_radix(text, 16).map_err(|_| malformed("bad \\u escape"))?;
        self.at += 4;
        Ok(value)
    }

    /// Appends the decoded string starting at the opening quote to `out`.
    fn string_into(&mut self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        self.expect(b'"', "expected a string")?;
        loop {
            let rest = &self.text[self.at..];
            let stop =
                memchr::memchr2(b'"', b'\\', rest).ok_or(malformed("unterminated string"))?;
            out.extend_from_slice(&rest[..stop]);
            self.at += stop + 1;
            if rest[stop] == b'"' {
                return Ok(());
            }
            let escape = *self
                .text
                .get(self.at)
                .ok_or(malformed("unterminated string"))?;
            self.at += 1;
            let simple = match escape {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b'f' => 0x0C,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    let code = self.unicode_escape()?;
                    let mut utf8 = [0u8; 4];
                    out.extend_from_slice(code.encode_utf8(&mut utf8).as_bytes());
                    continue;
                }
                _ => return Err(malformed("unknown escape")),
            };
            out.push(simple);
        }
    }

    /// Decodes `XXXX` after `\u`, joining surrogate pairs; a lone surrogate becomes U+FFFD.
    fn unicode_escape(&mut self) -> Result<char, ProtocolError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.text[self.at..].starts_with(b"\\u") {
            let saved = self.at;
            self.at += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            self.at = saved;
        }
        Ok(char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    /// Appends a scalar (string, number, literal) to `out`.
    fn scalar_into(&mut self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        match self.peek() {
            Some(b'"') => self.string_into(out),
            Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                let start = self.at;
                while matches!(
                    self.text.get(self.at),
                    Some(b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
                ) {
                    self.at += 1;
                }
                out.extend_from_slice(&self.text[start..self.at]);
                Ok(())
            }
            Some(b'{') => Err(malformed("nested objects are not supported")),
            _ => Err(malformed("expected a value")),
        }
    }
}

/// Parses one object, calling `member(name, value)` per member in order. Arrays are passed
/// as `ARRAY::a|:b`, the plain-event form of a multi-value header.
pub(crate) fn parse_object(
    text: &[u8],
    mut member: impl FnMut(&[u8], &[u8]),
) -> Result<(), ProtocolError> {
    let mut cursor = Cursor { text, at: 0 };
    let mut name = Vec::with_capacity(64);
    let mut value = Vec::with_capacity(256);
    cursor.expect(b'{', "expected an object")?;
    if cursor.peek() == Some(b'}') {
        cursor.at += 1;
    } else {
        loop {
            name.clear();
            value.clear();
            cursor.string_into(&mut name)?;
            cursor.expect(b':', "expected ':'")?;
            if cursor.peek() == Some(b'[') {
                cursor.at += 1;
                value.extend_from_slice(b"ARRAY::");
                if cursor.peek() == Some(b']') {
                    cursor.at += 1;
                } else {
                    loop {
                        cursor.scalar_into(&mut value)?;
                        match cursor.peek() {
                            Some(b',') => value.extend_from_slice(b"|:"),
                            Some(b']') => break,
                            _ => return Err(malformed("expected ',' or ']'")),
                        }
                        cursor.at += 1;
                    }
                    cursor.at += 1;
                }
            } else {
                cursor.scalar_into(&mut value)?;
            }
            member(&name, &value);
            match cursor.peek() {
                Some(b',') => cursor.at += 1,
                Some(b'}') => {
                    cursor.at += 1;
                    break;
                }
                _ => return Err(malformed("expected ',' or '}'")),
            }
        }
    }
    if cursor.peek().is_some() {
        return Err(malformed("trailing data after the object"));
    }
    Ok(())
}
