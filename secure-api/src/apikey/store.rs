//! Where API keys live: only their digests, with what each key may do.

use super::hash::KeyDigest;
use crate::users::StoreError;
use std::{
    collections::HashMap,
    fmt,
    future::Future,
    pin::Pin,
    sync::{Arc, RwLock},
};

/// One stored key: its digest (never the key), who it belongs to and its scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// `ApiKeyHasher::digest` of the key.
    pub digest: KeyDigest,
    /// Who the key belongs to: a service, a customer, ...
    pub owner: String,
    /// What the key may do, checked by `#[requires_api_key(scope = "...")]`: scopes
    /// separated by spaces, as OAuth writes a `scope` (RFC 6749 §3.3), and as a
    /// database column usually keeps them.
    pub scope: String,
}

impl ApiKeyRecord {
    /// A record for the key whose digest is `digest`, with these scopes.
    ///
    /// ```
    /// use secure_api::apikey::{ApiKeyHasher, ApiKeyRecord};
    /// let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
    /// let record = ApiKeyRecord::new(hasher.digest("valid_api_key_2"), "service2", ["read", "write"]);
    /// assert_eq!(record.scope, "read write");
    /// ```
    pub fn new<I, S>(digest: KeyDigest, owner: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut scope = String::new();
        for granted in scopes {
            if !scope.is_empty() {
                scope.push(' ');
            }
            scope.push_str(granted.as_ref());
        }
        Self::with_scope(digest, owner, scope)
    }

    /// A record whose scopes come as one space-separated `scope`, as a store reads
    /// them from its column: nothing is split or copied.
    ///
    /// ```
    /// use secure_api::apikey::{ApiKeyHasher, ApiKeyRecord};
    /// let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
    /// let record = ApiKeyRecord::with_scope(hasher.digest("k"), "service2", "read write");
    /// assert!(record.scopes().eq(["read", "write"]));
    /// ```
    pub fn with_scope(
        digest: KeyDigest,
        owner: impl Into<String>,
        scope: impl Into<String>,
    ) -> Self {
        ApiKeyRecord {
            digest,
            owner: owner.into(),
            scope: scope.into(),
        }
    }

    /// The scopes one by one.
    ///
    /// ```
    /// # use secure_api::apikey::{ApiKeyHasher, ApiKeyRecord};
    /// # let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
    /// let record = ApiKeyRecord::new(hasher.digest("k"), "me", ["read"]);
    /// assert_eq!(record.scopes().collect::<Vec<_>>(), ["read"]);
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }
}

/// A store of API keys, looked up by digest. Implement it over your database (an
/// index on the digest column); [`InMemoryApiKeyStore`] is ready.
///
/// ```
/// use secure_api::apikey::{ApiKeyRecord, ApiKeyStore, KeyDigest};
/// use secure_api::users::StoreError;
///
/// struct MyKeys;
///
/// impl ApiKeyStore for MyKeys {
///     async fn find_key(&self, digest: &KeyDigest) -> Result<Option<ApiKeyRecord>, StoreError> {
///         Ok(None) // SELECT owner, scopes FROM api_keys WHERE digest = $1 AND NOT revoked
///     }
/// }
/// ```
pub trait ApiKeyStore: Send + Sync + 'static {
    /// The key with this digest, or `None` (unknown or revoked).
    fn find_key(
        &self,
        digest: &KeyDigest,
    ) -> impl Future<Output = Result<Option<ApiKeyRecord>, StoreError>> + Send;
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Object-safe twin of [`ApiKeyStore`], so the guard holds any store behind one type.
trait DynApiKeyStore: Send + Sync + 'static {
    fn find_key<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<ApiKeyRecord>, StoreError>>;
}

impl<T: ApiKeyStore> DynApiKeyStore for T {
    fn find_key<'a>(
        &'a self,
        digest: &'a KeyDigest,
    ) -> BoxFuture<'a, Result<Option<ApiKeyRecord>, StoreError>> {
        Box::pin(ApiKeyStore::find_key(self, digest))
    }
}

/// A shared handle on any [`ApiKeyStore`].
#[derive(Clone)]
pub(crate) struct SharedApiKeyStore(Arc<dyn DynApiKeyStore>);

impl SharedApiKeyStore {
    pub(crate) fn new(store: impl ApiKeyStore) -> Self {
        SharedApiKeyStore(Arc::new(store))
    }

    pub(crate) async fn find_key(
        &self,
        digest: &KeyDigest,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.0.find_key(digest).await
    }
}

/// Keys in memory, by digest. Clones share the same keys.
///
/// ```
/// use secure_api::apikey::{ApiKeyHasher, ApiKeyRecord, InMemoryApiKeyStore};
/// let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
/// let store = InMemoryApiKeyStore::new();
/// store.insert(ApiKeyRecord::new(hasher.digest("valid_api_key_1"), "service1", ["read"]));
/// assert!(store.revoke(&hasher.digest("valid_api_key_1")));
/// ```
#[derive(Clone, Default)]
pub struct InMemoryApiKeyStore {
    keys: Arc<RwLock<HashMap<KeyDigest, ApiKeyRecord>>>,
}

impl fmt::Debug for InMemoryApiKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.keys.read().map(|keys| keys.len()).unwrap_or(0);
        f.debug_struct("InMemoryApiKeyStore")
            .field("keys", &count)
            .finish()
    }
}

impl InMemoryApiKeyStore {
    /// An empty store.
    ///
    /// ```
    /// let store = secure_api::apikey::InMemoryApiKeyStore::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key, or replaces the record of the same digest.
    ///
    /// ```
    /// # use secure_api::apikey::{ApiKeyHasher, ApiKeyRecord, InMemoryApiKeyStore};
    /// # let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
    /// let store = InMemoryApiKeyStore::new();
    /// store.insert(ApiKeyRecord::new(hasher.digest("k"), "me", ["read"]));
    /// ```
    pub fn insert(&self, record: ApiKeyRecord) {
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(record.digest, record);
    }

    /// Removes a key; `false` when there was none.
    ///
    /// ```
    /// # use secure_api::apikey::{ApiKeyHasher, InMemoryApiKeyStore};
    /// # let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
    /// assert!(!InMemoryApiKeyStore::new().revoke(&hasher.digest("k")));
    /// ```
    pub fn revoke(&self, digest: &KeyDigest) -> bool {
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(digest)
            .is_some()
    }
}

impl ApiKeyStore for InMemoryApiKeyStore {
    async fn find_key(&self, digest: &KeyDigest) -> Result<Option<ApiKeyRecord>, StoreError> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        Ok(keys
            .get(digest)
            // The map compared digests with `==`; the record is confirmed in constant time.
            .filter(|record| record.digest.ct_eq(digest))
            .cloned())
    }
}
