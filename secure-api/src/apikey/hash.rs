//! How API keys are stored: HMAC-SHA256 under a server-side secret.
//!
//! Why not argon2, as for passwords? A generated key carries at least 128 random bits,
//! so guessing it is hopeless however fast the hash; a slow hash would only make every
//! request expensive and hand attackers a cheap way to burn CPU. Why not plain SHA-256?
//! Keys are not always generated (the seed's demo keys are words), and with a keyed
//! hash a leaked table of digests cannot even be checked against guesses without the
//! secret, which lives in the service's configuration, not in the key store.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// The stored form of an API key: `HMAC-SHA256(secret, key)`.
///
/// Lookups go by digest: how long a lookup takes depends on the digest of the key
/// presented, which an attacker cannot steer without the secret, so it says nothing
/// about the stored keys (constant time with respect to the key's value).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest(pub [u8; 32]);

impl KeyDigest {
    /// A short, non-secret name for the key, for logs and audit trails: the first six
    /// bytes of the digest, in hex (a keyed hash, so it reveals nothing of the key).
    ///
    /// ```
    /// use secure_api::apikey::ApiKeyHasher;
    /// let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
    /// assert_eq!(hasher.digest("valid_api_key_1").key_id().len(), 12);
    /// ```
    pub fn key_id(&self) -> String {
        crate::hex::lower(&self.0[..6])
    }

    /// The whole digest in lower-case hex: the form a store that keeps text keeps
    /// (the digest of a key, never the key).
    ///
    /// ```
    /// use secure_api::apikey::ApiKeyHasher;
    /// let digest = ApiKeyHasher::new(&[7u8; 32]).unwrap().digest("valid_api_key_1");
    /// assert_eq!(digest.to_hex().len(), 64);
    /// assert!(digest.to_hex().starts_with(&digest.key_id()));
    /// ```
    pub fn to_hex(&self) -> String {
        crate::hex::lower(&self.0)
    }

    /// Compares two digests in constant time.
    ///
    /// ```
    /// use secure_api::apikey::ApiKeyHasher;
    /// let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
    /// assert!(hasher.digest("a").ct_eq(&hasher.digest("a")));
    /// assert!(!hasher.digest("a").ct_eq(&hasher.digest("b")));
    /// ```
    pub fn ct_eq(&self, other: &KeyDigest) -> bool {
        subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]).into()
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyDigest({})", self.key_id())
    }
}

/// Turns keys into [`KeyDigest`]s with the service's secret.
#[derive(Clone)]
pub struct ApiKeyHasher {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for ApiKeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyHasher(..)")
    }
}

/// Separates API-key digests from every other use of a master secret; a new version
/// of the derivation gets a new label.
const DERIVATION_LABEL: &[u8] = b"secure-api api-key digest v1";

/// The shortest secret accepted: the output size of SHA-256.
pub const MIN_SECRET_LEN: usize = 32;

impl ApiKeyHasher {
    /// A hasher keyed by `secret`, at least 32 random bytes, the same for every replica
    /// and kept out of the key store; a shorter one is refused.
    ///
    /// ```
    /// use secure_api::apikey::ApiKeyHasher;
    /// assert!(ApiKeyHasher::new(&[7u8; 32]).is_ok());
    /// let error = ApiKeyHasher::new(b"short").unwrap_err();
    /// assert!(error.to_string().contains("at least 32 random bytes"));
    /// ```
    pub fn new(secret: &[u8]) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(WeakSecret { len: secret.len() });
        }
        let mac =
            Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WeakSecret { len: secret.len() })?;
        Ok(ApiKeyHasher { mac })
    }

    /// A hasher keyed by a secret derived from `master_secret` (another secret of the
    /// service, such as its token-signing secret, at least 32 bytes):
    /// `HMAC-SHA256(master_secret, "secure-api api-key digest v1")`. Every replica
    /// configured with the same master secret stores and finds the same digests, and
    /// the derived key is useless for anything else (nor can it be turned back into the
    /// master secret), so one configured secret is enough.
    ///
    /// ```
    /// use secure_api::apikey::ApiKeyHasher;
    /// let master = [7u8; 32]; // e.g. the decoded SECURE_API_JWT_SECRET
    /// let replica_a = ApiKeyHasher::derived_from(&master).unwrap();
    /// let replica_b = ApiKeyHasher::derived_from(&master).unwrap();
    /// assert_eq!(replica_a.digest("k"), replica_b.digest("k"));
    /// // Not the same as keying with the master secret itself.
    /// assert_ne!(replica_a.digest("k"), ApiKeyHasher::new(&master).unwrap().digest("k"));
    /// assert!(ApiKeyHasher::derived_from(b"short").is_err());
    /// ```
    pub fn derived_from(master_secret: &[u8]) -> Result<Self, WeakSecret> {
        if master_secret.len() < MIN_SECRET_LEN {
            return Err(WeakSecret {
                len: master_secret.len(),
            });
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(master_secret).map_err(|_| WeakSecret {
            len: master_secret.len(),
        })?;
        mac.update(DERIVATION_LABEL);
        let derived: [u8; 32] = mac.finalize().into_bytes().into();
        ApiKeyHasher::new(&derived)
    }

    /// A hasher keyed by a secret made now: digests die with the process, which suits
    /// a development server whose keys are seeded at start.
    ///
    /// ```
    /// use secure_api::apikey::ApiKeyHasher;
    /// let hasher = ApiKeyHasher::random().unwrap();
    /// ```
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; MIN_SECRET_LEN];
        getrandom::getrandom(&mut secret)?;
        Ok(ApiKeyHasher::new(&secret).expect("32 bytes is long enough"))
    }

    /// The stored form of `key`.
    ///
    /// ```
    /// use secure_api::apikey::ApiKeyHasher;
    /// let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
    /// assert_eq!(hasher.digest("k"), hasher.digest("k"));
    /// assert_ne!(hasher.digest("k"), ApiKeyHasher::new(&[8u8; 32]).unwrap().digest("k"));
    /// ```
    pub fn digest(&self, key: &str) -> KeyDigest {
        let mut mac = self.mac.clone();
        mac.update(key.as_bytes());
        KeyDigest(mac.finalize().into_bytes().into())
    }
}

/// An API-key secret shorter than [`MIN_SECRET_LEN`].
#[derive(Debug, Clone)]
pub struct WeakSecret {
    len: usize,
}

impl fmt::Display for WeakSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the API-key secret is {} bytes; HMAC-SHA256 needs at least 32 random bytes \
             (generate one with `openssl rand -hex 32`)",
            self.len
        )
    }
}

impl std::error::Error for WeakSecret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_hmac_sha256() {
        // echo -n "Hi There" | openssl dgst -sha256 -mac HMAC -macopt hexkey:0b0b...0b (32 bytes)
        let hasher = ApiKeyHasher::new(&[0x0b; 32]).unwrap();
        assert_eq!(
            hasher.digest("Hi There").to_hex(),
            "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
        assert_eq!(hasher.digest("Hi There").key_id(), "198a607eb44b");
    }

    #[test]
    fn derived_keys_are_hmac_of_the_label() {
        // python3: k = hmac.new(b"\x0b" * 32, b"secure-api api-key digest v1", sha256).digest();
        //          hmac.new(k, b"Hi There", sha256).hexdigest()
        let hasher = ApiKeyHasher::derived_from(&[0x0b; 32]).unwrap();
        assert_eq!(
            hasher.digest("Hi There").to_hex(),
            "de0bfb200f6c9a3ad11b7b68f1adcc727217f60e57123c5d8857972b643fea8a"
        );
        let error = ApiKeyHasher::derived_from(&[1; 16]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the API-key secret is 16 bytes")
        );
    }
}
