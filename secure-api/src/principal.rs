//! The verified caller, as handlers receive it.

use crate::{token::AccessClaims, users::UserRecord};
use std::sync::Arc;

/// Who called: the verified subject of a bearer token, its scopes and all its claims.
///
/// An operation of a `#[secure_api]` impl gets it by naming a parameter of this type;
/// asking for it requires a valid token even without `#[requires_scopes]`.
///
/// ```
/// # use secure_api::Principal;
/// fn greet(who: &Principal) -> String {
///     format!("hello {}, you may {:?}", who.subject(), who.scopes().collect::<Vec<_>>())
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    // Shared: the guard chain hands the same principal to the operation. One
    // allocation for both halves: every authenticated request makes one.
    verified: Arc<Verified>,
}

#[derive(Debug, Clone, PartialEq)]
struct Verified {
    claims: AccessClaims,
    user: Option<UserRecord>,
}

impl Principal {
    /// Wraps verified claims. Only the guard (or your own code, after verifying) builds one.
    ///
    /// ```
    /// use secure_api::{Principal, token::{SigningKey, TokenService}};
    ///
    /// let tokens = TokenService::builder().issuer("i").audience("a")
    ///     .signing_key(SigningKey::hs256("k", &[7u8; 32])?).build()?;
    /// let issued = tokens.issue("alice", &["users:read"])?;
    /// let who = Principal::from_verified_claims(tokens.verify(&issued.access_token)?);
    /// assert_eq!(who.subject(), "alice");
    /// assert!(who.has_scope("users:read"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_verified_claims(claims: AccessClaims) -> Self {
        Self::verified(claims, None)
    }

    /// The bearer guard's principal: the claims and the record in one allocation.
    pub(crate) fn verified(claims: AccessClaims, user: Option<UserRecord>) -> Self {
        Principal {
            verified: Arc::new(Verified { claims, user }),
        }
    }

    /// Attaches the subject's record, as the user store gave it (the bearer guard does
    /// this after checking that the subject exists and is enabled).
    ///
    /// ```
    /// use secure_api::{Principal, token::{SigningKey, TokenService}, users::UserRecord};
    ///
    /// let tokens = TokenService::builder().issuer("i").audience("a")
    ///     .signing_key(SigningKey::hs256("k", &[7u8; 32])?).build()?;
    /// let issued = tokens.issue("alice", &["users:read"])?;
    /// let record = UserRecord { username: "alice".into(), ..Default::default() };
    /// let who = Principal::from_verified_claims(tokens.verify(&issued.access_token)?)
    ///     .with_user(record);
    /// assert_eq!(who.user().unwrap().username, "alice");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_user(mut self, record: UserRecord) -> Self {
        Arc::make_mut(&mut self.verified).user = Some(record);
        self
    }

    /// The subject's record, read by the bearer guard in the same request: its
    /// [`details`](UserRecord::details) carry whatever else your store read, so the
    /// handler need not query again. `None` for a principal built by hand without one.
    ///
    /// The record is as fresh as the request: read after the token was verified.
    ///
    /// ```
    /// use secure_api::Principal;
    ///
    /// struct Profile { email: String }
    ///
    /// fn email(who: &Principal) -> Option<&str> {
    ///     let profile = who.user()?.details.get::<Profile>()?;
    ///     Some(&profile.email)
    /// }
    /// ```
    pub fn user(&self) -> Option<&UserRecord> {
        self.verified.user.as_ref()
    }

    /// The token's `sub`: the username for tokens of the password flow.
    ///
    /// ```
    /// # use secure_api::Principal;
    /// fn log_in_as(who: &Principal) -> &str { who.subject() }
    /// ```
    pub fn subject(&self) -> &str {
        &self.verified.claims.sub
    }

    /// The scopes the token grants.
    ///
    /// ```
    /// # use secure_api::Principal;
    /// fn count(who: &Principal) -> usize { who.scopes().count() }
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.verified.claims.scopes()
    }

    /// Whether the token grants `scope`.
    ///
    /// ```
    /// # use secure_api::Principal;
    /// fn can_write(who: &Principal) -> bool { who.has_scope("users:write") }
    /// ```
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|granted| granted == scope)
    }

    /// Every verified claim of the token.
    ///
    /// ```
    /// # use secure_api::Principal;
    /// fn token_id(who: &Principal) -> Option<&str> { who.claims().jti.as_deref() }
    /// ```
    pub fn claims(&self) -> &AccessClaims {
        &self.verified.claims
    }
}
