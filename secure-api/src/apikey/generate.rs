//! New API keys: `<prefix>_<43 base62 characters: 256 random bits><6: CRC-32>`.
//!
//! The prefix says what a key is (`sk_live`, `sk_test`, ...), so a leaked key is
//! recognisable, and secret scanners can match it; the checksum lets them (and the
//! service) tell a real key from a random string without a store lookup, as GitHub's
//! token format does. Base62 keeps the key one word, selected whole by a double click.

use std::fmt;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_BYTES: usize = 32;
/// 62^43 > 2^256: enough characters for 32 random bytes.
const RANDOM_CHARS: usize = 43;
/// 62^6 > 2^32: enough characters for a CRC-32.
const CHECKSUM_CHARS: usize = 6;

/// Makes API keys with one prefix.
///
/// ```
/// use secure_api::apikey::ApiKeyGenerator;
///
/// let generator = ApiKeyGenerator::new("sk_live").unwrap();
/// let key = generator.generate().unwrap();
/// assert!(key.starts_with("sk_live_"));
/// assert!(generator.is_well_formed(&key));
/// assert!(!generator.is_well_formed("sk_live_not-a-key"));
/// ```
#[derive(Debug, Clone)]
pub struct ApiKeyGenerator {
    prefix: String,
}

impl ApiKeyGenerator {
    /// A generator of `<prefix>_...` keys; the prefix is 1 to 16 lower-case letters,
    /// digits or `_`, starting with a letter.
    ///
    /// ```
    /// # use secure_api::apikey::ApiKeyGenerator;
    /// assert!(ApiKeyGenerator::new("sk_test").is_ok());
    /// assert!(ApiKeyGenerator::new("Live Key").is_err());
    /// ```
    pub fn new(prefix: &str) -> Result<Self, BadPrefix> {
        let valid = (1..=16).contains(&prefix.len())
            && prefix.starts_with(|c: char| c.is_ascii_lowercase())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(BadPrefix(prefix.to_owned()));
        }
        Ok(ApiKeyGenerator {
            prefix: prefix.to_owned(),
        })
    }

    /// A new key: 256 bits from the operating system's generator. Show it once, store
    /// only its digest.
    ///
    /// ```
    /// # use secure_api::apikey::ApiKeyGenerator;
    /// let generator = ApiKeyGenerator::new("sk_live").unwrap();
    /// assert_ne!(generator.generate().unwrap(), generator.generate().unwrap());
    /// ```
    pub fn generate(&self) -> Result<String, getrandom::Error> {
        let mut random = [0u8; RANDOM_BYTES];
        getrandom::getrandom(&mut random)?;
        let body = base62(&random, RANDOM_CHARS);
        let checksum = base62(&crc32(body.as_bytes()).to_be_bytes(), CHECKSUM_CHARS);
        Ok(format!("{}_{body}{checksum}", self.prefix))
    }

    /// Whether `key` has this generator's prefix, the right length and alphabet, and
    /// a checksum that matches: a cheap filter before any store lookup, never a proof
    /// that the key is valid.
    ///
    /// ```
    /// # use secure_api::apikey::ApiKeyGenerator;
    /// let generator = ApiKeyGenerator::new("sk_live").unwrap();
    /// let key = generator.generate().unwrap();
    /// let mut typo = key.clone().into_bytes();
    /// typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    /// assert!(!generator.is_well_formed(&String::from_utf8(typo).unwrap()));
    /// ```
    pub fn is_well_formed(&self, key: &str) -> bool {
        let Some(rest) = key
            .strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('_'))
        else {
            return false;
        };
        if rest.len() != RANDOM_CHARS + CHECKSUM_CHARS
            || !rest.bytes().all(|b| ALPHABET.contains(&b))
        {
            return false;
        }
        let (body, checksum) = rest.split_at(RANDOM_CHARS);
        base62(&crc32(body.as_bytes()).to_be_bytes(), CHECKSUM_CHARS) == checksum
    }
}

/// `bytes` as a big-endian number in base 62, left-padded with `0` to `width`.
fn base62(bytes: &[u8], width: usize) -> String {
    let mut number = bytes.to_vec();
    let mut digits = Vec::with_capacity(width);
    while number.iter().any(|&b| b != 0) {
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 62) as u8;
            remainder = value % 62;
        }
        digits.push(ALPHABET[remainder as usize]);
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).expect("the alphabet is ASCII")
}

/// CRC-32 (IEEE 802.3, as zlib computes it).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A key prefix that cannot be used.
#[derive(Debug, Clone)]
pub struct BadPrefix(String);

impl fmt::Display for BadPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "API-key prefix `{}`: use 1 to 16 lower-case letters, digits or `_`, starting \
             with a letter, e.g. `sk_live`",
            self.0
        )
    }
}

impl std::error::Error for BadPrefix {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_zlib() {
        // python3 -c "import zlib; print(hex(zlib.crc32(b'123456789')))"
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn base62_is_positional_and_padded() {
        assert_eq!(base62(&[0], 3), "000");
        assert_eq!(base62(&[61], 1), "z");
        assert_eq!(base62(&[62], 2), "10");
        assert_eq!(base62(&[0x01, 0x00], 2), "48"); // 256 = 4 * 62 + 8
        assert_eq!(
            base62(&[0xFF; 32], 43).len(),
            43,
            "2^256 - 1 fits in 43 digits"
        );
        assert_eq!(base62(&[0xFF; 4], 6).len(), 6, "2^32 - 1 fits in 6 digits");
    }

    #[test]
    fn keys_carry_256_random_bits_and_a_checksum() {
        let generator = ApiKeyGenerator::new("sk_live").unwrap();
        let keys: Vec<String> = (0..64).map(|_| generator.generate().unwrap()).collect();
        for key in &keys {
            assert_eq!(key.len(), "sk_live_".len() + 43 + 6, "{key}");
            assert!(generator.is_well_formed(key), "{key}");
        }
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
        let other = ApiKeyGenerator::new("sk_test").unwrap();
        assert!(!other.is_well_formed(&keys[0]));
    }
}
