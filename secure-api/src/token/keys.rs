//! Signing and verification keys, each bound to one `kid` and one algorithm (RFC 8725 §3.1).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::error::TokenConfigError;

/// RFC 8725 §3.5: an HMAC key must carry at least as much entropy as the hash output.
const MIN_HMAC_SECRET_BYTES: usize = 32;
const MIN_RSA_BITS: usize = 2048;
/// The `rsa` crate refuses larger public keys when verifying.
const MAX_RSA_BITS: usize = 4096;
const MAX_KID_BYTES: usize = 128;

/// The private half of a key pair (or an HS256 secret) that signs new access tokens.
///
/// A signing key is also a verification key: the builder adds its public
/// half automatically. For RS256, ES256 and EdDSA the public key is derived
/// from the private PEM, so only the private PEM is needed.
///
/// ```
/// use secure_api::token::SigningKey;
///
/// // In production, load the secret from the environment or a secret store.
/// let key = SigningKey::hs256("2026-01", b"an example secret, 32 bytes long!")?;
/// assert_eq!(key.kid(), "2026-01");
/// # Ok::<(), secure_api::token::TokenConfigError>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    pub(super) encoding: EncodingKey,
    pub(super) verification: VerificationKey,
}

impl SigningKey {
    /// An HS256 key from a shared secret of at least 32 bytes.
    ///
    /// Anyone holding the secret can mint tokens, so prefer an asymmetric key
    /// when other services only need to verify.
    ///
    /// ```
    /// use secure_api::token::SigningKey;
    ///
    /// assert!(SigningKey::hs256("k1", b"an example secret, 32 bytes long!").is_ok());
    /// assert!(SigningKey::hs256("k1", b"password").is_err());
    /// ```
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Self, TokenConfigError> {
        let verification = VerificationKey::hs256(kid, secret)?;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            verification,
        })
    }

    /// An RS256 key from an RSA private key PEM (PKCS#1 or PKCS#8) of at least 2048 bits.
    ///
    /// ```no_run
    /// use secure_api::token::SigningKey;
    ///
    /// let pem = std::fs::read("/run/secrets/jwt-rsa-private.pem")?;
    /// let key = SigningKey::rs256_pem("2026-01", &pem)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rs256_pem(kid: &str, private_pem: &[u8]) -> Result<Self, TokenConfigError> {
        const EXPECTED: &str = "an RSA private key PEM (PKCS#1 or PKCS#8)";
        let encoding =
            EncodingKey::from_rsa_pem(private_pem).map_err(|_| invalid(kid, EXPECTED))?;
        Self::with_derived_public_key(kid, Algorithm::RS256, encoding, EXPECTED)
    }

    /// An ES256 key from a P-256 private key PEM in PKCS#8 form.
    ///
    /// Convert a SEC1 `EC PRIVATE KEY` with `openssl pkcs8 -topk8 -nocrypt`.
    ///
    /// ```no_run
    /// use secure_api::token::SigningKey;
    ///
    /// let pem = std::fs::read("/run/secrets/jwt-ec-private.pem")?;
    /// let key = SigningKey::es256_pem("2026-01", &pem)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn es256_pem(kid: &str, private_pem: &[u8]) -> Result<Self, TokenConfigError> {
        const EXPECTED: &str = "a P-256 private key PEM in PKCS#8 form (`BEGIN PRIVATE KEY`)";
        let encoding = EncodingKey::from_ec_pem(private_pem).map_err(|_| invalid(kid, EXPECTED))?;
        Self::with_derived_public_key(kid, Algorithm::ES256, encoding, EXPECTED)
    }

    /// An EdDSA key from an Ed25519 private key PEM in PKCS#8 v1 form, as
    /// written by `openssl genpkey -algorithm ed25519`.
    ///
    /// ```no_run
    /// use secure_api::token::SigningKey;
    ///
    /// let pem = std::fs::read("/run/secrets/jwt-ed25519-private.pem")?;
    /// let key = SigningKey::eddsa_pem("2026-01", &pem)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn eddsa_pem(kid: &str, private_pem: &[u8]) -> Result<Self, TokenConfigError> {
        const EXPECTED: &str = "an Ed25519 private key PEM in PKCS#8 form (`BEGIN PRIVATE KEY`)";
        let encoding = EncodingKey::from_ed_pem(private_pem).map_err(|_| invalid(kid, EXPECTED))?;
        Self::with_derived_public_key(kid, Algorithm::EdDSA, encoding, EXPECTED)
    }

    /// The key id written into the `kid` header of every token this key signs.
    ///
    /// ```
    /// use secure_api::token::SigningKey;
    ///
    /// let key = SigningKey::hs256("2026-01", b"an example secret, 32 bytes long!")?;
    /// assert_eq!(key.kid(), "2026-01");
    /// # Ok::<(), secure_api::token::TokenConfigError>(())
    /// ```
    pub fn kid(&self) -> &str {
        &self.verification.kid
    }

    pub(super) fn algorithm(&self) -> Algorithm {
        self.verification.algorithm
    }

    // Deriving the public half (rather than asking for it) means a mismatched
    // pair cannot be configured. Building the JWK parses the private key fully,
    // so a PEM of the wrong kind or curve fails here, at start-up.
    fn with_derived_public_key(
        kid: &str,
        algorithm: Algorithm,
        encoding: EncodingKey,
        expected: &'static str,
    ) -> Result<Self, TokenConfigError> {
        let decoding = Jwk::from_encoding_key(&encoding, algorithm)
            .and_then(|jwk| DecodingKey::from_jwk(&jwk))
            .map_err(|_| invalid(kid, expected))?;
        let verification = VerificationKey::checked(kid, algorithm, decoding, expected)?;
        Ok(Self {
            encoding,
            verification,
        })
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.verification.kid)
            .field("algorithm", &self.verification.algorithm)
            .finish_non_exhaustive()
    }
}

/// A key that only verifies tokens, for example the previous signing key during a rotation.
///
/// ```
/// use secure_api::token::VerificationKey;
///
/// let key = VerificationKey::hs256("2025-12", b"the previous secret, 32 bytes ok")?;
/// assert_eq!(key.kid(), "2025-12");
/// # Ok::<(), secure_api::token::TokenConfigError>(())
/// ```
#[derive(Clone)]
pub struct VerificationKey {
    pub(super) kid: String,
    pub(super) algorithm: Algorithm,
    pub(super) decoding: DecodingKey,
}

impl VerificationKey {
    /// An HS256 key from a shared secret of at least 32 bytes.
    ///
    /// ```
    /// use secure_api::token::VerificationKey;
    ///
    /// assert!(VerificationKey::hs256("k0", b"the previous secret, 32 bytes ok").is_ok());
    /// ```
    pub fn hs256(kid: &str, secret: &[u8]) -> Result<Self, TokenConfigError> {
        check_kid(kid)?;
        if secret.len() < MIN_HMAC_SECRET_BYTES {
            return Err(TokenConfigError::WeakSecret {
                kid: kid.to_owned(),
                len: secret.len(),
            });
        }
        Ok(Self {
            kid: kid.to_owned(),
            algorithm: Algorithm::HS256,
            decoding: DecodingKey::from_secret(secret),
        })
    }

    /// An RS256 key from an RSA public key PEM (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`)
    /// of at least 2048 bits.
    ///
    /// ```no_run
    /// use secure_api::token::VerificationKey;
    ///
    /// let pem = std::fs::read("/etc/api/jwt-rsa-2025-12.pub.pem")?;
    /// let key = VerificationKey::rs256_pem("2025-12", &pem)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rs256_pem(kid: &str, public_pem: &[u8]) -> Result<Self, TokenConfigError> {
        const EXPECTED: &str = "an RSA public key PEM (`BEGIN PUBLIC KEY`)";
        let decoding = DecodingKey::from_rsa_pem(public_pem).map_err(|_| invalid(kid, EXPECTED))?;
        Self::checked(kid, Algorithm::RS256, decoding, EXPECTED)
    }

    /// An ES256 key from a P-256 public key PEM (`BEGIN PUBLIC KEY`).
    ///
    /// ```no_run
    /// use secure_api::token::VerificationKey;
    ///
    /// let pem = std::fs::read("/etc/api/jwt-ec-2025-12.pub.pem")?;
    /// let key = VerificationKey::es256_pem("2025-12", &pem)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn es256_pem(kid: &str, public_pem: &[u8]) -> Result<Self, TokenConfigError> {
        const EXPECTED: &str = "a P-256 public key PEM (`BEGIN PUBLIC KEY`)";
        let decoding = DecodingKey::from_ec_pem(public_pem).map_err(|_| invalid(kid, EXPECTED))?;
        Self::checked(kid, Algorithm::ES256, decoding, EXPECTED)
    }

    /// An EdDSA key from an Ed25519 public key PEM (`BEGIN PUBLIC KEY`).
    ///
    /// ```no_run
    /// use secure_api::token::VerificationKey;
    ///
    /// let pem = std::fs::read("/etc/api/jwt-ed25519-2025-12.pub.pem")?;
    /// let key = VerificationKey::eddsa_pem("2025-12", &pem)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn eddsa_pem(kid: &str, public_pem: &[u8]) -> Result<Self, TokenConfigError> {
        const EXPECTED: &str = "an Ed25519 public key PEM (`BEGIN PUBLIC KEY`)";
        let decoding = DecodingKey::from_ed_pem(public_pem).map_err(|_| invalid(kid, EXPECTED))?;
        Self::checked(kid, Algorithm::EdDSA, decoding, EXPECTED)
    }

    /// The key id that tokens name in their `kid` header to select this key.
    ///
    /// ```
    /// use secure_api::token::VerificationKey;
    ///
    /// let key = VerificationKey::hs256("k0", b"the previous secret, 32 bytes ok")?;
    /// assert_eq!(key.kid(), "k0");
    /// # Ok::<(), secure_api::token::TokenConfigError>(())
    /// ```
    pub fn kid(&self) -> &str {
        &self.kid
    }

    // jsonwebtoken's PEM loaders only cut the DER out of the PEM; the key itself
    // is parsed on every verification, where a bad key would look like a bad
    // signature. Converting to a JWK parses it now, and gives the RSA modulus
    // size and the curve for free.
    fn checked(
        kid: &str,
        algorithm: Algorithm,
        decoding: DecodingKey,
        expected: &'static str,
    ) -> Result<Self, TokenConfigError> {
        check_kid(kid)?;
        let jwk = Jwk::from_decoding_key(&decoding, Some(algorithm))
            .map_err(|_| invalid(kid, expected))?;
        let fits = match (&jwk.algorithm, algorithm) {
            (AlgorithmParameters::RSA(rsa), Algorithm::RS256) => {
                let bits = modulus_bits(&rsa.n).ok_or_else(|| invalid(kid, expected))?;
                if bits < MIN_RSA_BITS {
                    return Err(TokenConfigError::WeakRsaKey {
                        kid: kid.to_owned(),
                        bits,
                    });
                }
                if bits > MAX_RSA_BITS {
                    return Err(invalid(kid, "an RSA key of at most 4096 bits"));
                }
                true
            }
            (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
                ec.curve == EllipticCurve::P256
            }
            (AlgorithmParameters::OctetKeyPair(ed), Algorithm::EdDSA) => {
                ed.curve == EllipticCurve::Ed25519
            }
            _ => false,
        };
        if !fits {
            return Err(invalid(kid, expected));
        }
        Ok(Self {
            kid: kid.to_owned(),
            algorithm,
            decoding,
        })
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

// Key ids end up in token headers and in logs, so keep them to a boring charset.
fn check_kid(kid: &str) -> Result<(), TokenConfigError> {
    let ok = !kid.is_empty()
        && kid.len() <= MAX_KID_BYTES
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(TokenConfigError::InvalidKid {
            kid: kid.to_owned(),
        })
    }
}

fn modulus_bits(n_base64url: &str) -> Option<usize> {
    let n = URL_SAFE_NO_PAD.decode(n_base64url).ok()?;
    let first = n.iter().position(|&b| b != 0)?;
    let significant = &n[first..];
    Some((significant.len() - 1) * 8 + (8 - significant[0].leading_zeros() as usize))
}

fn invalid(kid: &str, expected: &'static str) -> TokenConfigError {
    TokenConfigError::InvalidKey {
        kid: kid.to_owned(),
        expected,
    }
}
