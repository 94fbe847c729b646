//! Percent-encoding as FreeSWITCH does it (`switch_url_encode_opt` / `esl_url_decode`).
//!
//! Decoding turns every `%XX` (any case) into one byte and leaves everything else alone; in
//! particular `+` stays `+`, because the server encodes a literal plus as `%2B`.

/// Characters FreeSWITCH always escapes, besides control bytes and bytes above 0x7E
/// (`SWITCH_URL_UNSAFE` in `switch_utils.h`).
const UNSAFE: &[u8] = b"\r\n #%&+:;<=>?@[\\]^`{|}\"";

pub(crate) fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Appends the percent-decoded form of `input` to `out`.
///
/// A `%` that is not followed by two hex digits is copied as is, as libesl does.
pub fn decode_into(input: &[u8], out: &mut Vec<u8>) {
    let mut rest = input;
    while let Some(at) = memchr::memchr(b'%', rest) {
        out.extend_from_slice(&rest[..at]);
        let escaped = rest
            .get(at + 1..at + 3)
            .and_then(|hex| Some(hex_value(hex[0])? << 4 | hex_value(hex[1])?));
        match escaped {
            Some(byte) => {
                out.push(byte);
                rest = &rest[at + 3..];
            }
            None => {
                out.push(b'%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.extend_from_slice(rest);
}

/// Returns the percent-decoded bytes of `input`.
pub fn decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    decode_into(input, &mut out);
    out
}

/// Percent-encodes `input` the way the server encodes event header values: every unsafe
/// character, control byte and non-ASCII byte becomes `%XX` with upper-case hex.
///
/// Unlike FreeSWITCH this always encodes `%`, so [`decode`] restores the exact input.
pub fn encode(input: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len());
    for &byte in input {
        if !(0x20..=0x7E).contains(&byte) || UNSAFE.contains(&byte) {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        } else {
            out.push(char::from(byte));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_in_any_case_and_keeps_plus() {
        assert_eq!(decode(b"a%20b%2bc+d%E4%BD%A0"), "a b+c+d你".as_bytes());
    }

    #[test]
    fn keeps_incomplete_escapes() {
        assert_eq!(decode(b"100%"), b"100%");
        assert_eq!(decode(b"%4"), b"%4");
        assert_eq!(decode(b"%zz%41"), b"%zzA");
    }

    #[test]
    fn encode_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let encoded = encode(&all);
        assert!(encoded.bytes().all(|b| b.is_ascii_graphic()));
        assert_eq!(decode(encoded.as_bytes()), all);
        assert_eq!(encode(b"+OK\n"), "%2BOK%0A");
    }
}
