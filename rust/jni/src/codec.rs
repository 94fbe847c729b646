//! The compact byte layout in which frames cross to Java, many per JNI call.
//!
//! All integers are big-endian `u32` (Java's `DataInput` order); strings are UTF-8 bytes, so
//! nothing goes through JNI's modified UTF-8. Keep in sync with `FrameDecoder.java`.
//!
//! ```text
//! batch  := count:u32 frame*
//! frame  := headers:u32 (nameLen:u32 name valueLen:u32 value)* bodyLen:u32 body
//! ```

/// Accumulates frames into one batch buffer.
#[derive(Debug, Default)]
pub(crate) struct BatchWriter {
    buf: Vec<u8>,
    count: u32,
}

impl BatchWriter {
    /// An empty batch with room for about `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity + 4);
        buf.extend_from_slice(&0u32.to_be_bytes());
        BatchWriter { buf, count: 0 }
    }

    /// Appends one frame.
    pub(crate) fn push<'a>(
        &mut self,
        headers: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
        body: &[u8],
    ) {
        self.put_len(headers.len());
        for (name, value) in headers {
            self.put_bytes(name);
            self.put_bytes(value);
        }
        self.put_bytes(body);
        self.count += 1;
    }

    /// Number of frames so far.
    pub(crate) fn len(&self) -> usize {
        self.count as usize
    }

    /// Bytes written so far.
    pub(crate) fn byte_len(&self) -> usize {
        self.buf.len()
    }

    /// The finished batch.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf[..4].copy_from_slice(&self.count.to_be_bytes());
        self.buf
    }

    fn put_len(&mut self, len: usize) {
        // Frames are capped far below 4 GiB by the engine, so this never saturates in practice.
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
    }

    fn put_bytes(&mut self, bytes: &[u8]) {
        self.put_len(bytes.len());
        self.buf.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_count_then_length_prefixed_fields() {
        let mut batch = BatchWriter::with_capacity(64);
        let headers: [(&[u8], &[u8]); 1] = [(b"A", b"bc")];
        batch.push(headers.into_iter(), b"xy");
        batch.push(std::iter::empty(), b"");
        assert_eq!(batch.len(), 2);
        let bytes = batch.finish();
        let expected: Vec<u8> = [
            &2u32.to_be_bytes()[..],
            &1u32.to_be_bytes(),
            &1u32.to_be_bytes(),
            b"A",
            &2u32.to_be_bytes(),
            b"bc",
            &2u32.to_be_bytes(),
            b"xy",
            &0u32.to_be_bytes(),
            &0u32.to_be_bytes(),
        ]
        .concat();
        assert_eq!(bytes, expected);
    }
}
