//! Where the token endpoint finds users and where the bearer guard checks that a
//! token's subject still exists and is enabled.

use std::{
    any::Any,
    collections::BTreeMap,
    fmt,
    future::Future,
    pin::Pin,
    sync::{Arc, RwLock},
};

/// What the framework needs to know of a user, and what else your store read with it.
///
/// ```
/// # use secure_api::users::{UserDetails, UserRecord};
/// let user = UserRecord {
///     username: "alice".into(),
///     password_hash: "$argon2id$v=19$...".into(),
///     scopes: vec!["users:read".into()],
///     disabled: false,
///     details: UserDetails::none(),
/// };
/// assert!(!format!("{user:?}").contains("argon2"), "Debug hides the hash");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    /// The login name, and the `sub` of the tokens issued to the user.
    pub username: String,
    /// The argon2id PHC string of the password (see [`crate::password`]).
    pub password_hash: String,
    /// The scopes the user may be granted.
    pub scopes: Vec<String>,
    /// A disabled user cannot log in, and its tokens stop working at once.
    pub disabled: bool,
    /// The rest of the row your store read (a profile, a tenant): the bearer guard
    /// hands the record to the handler through [`Principal::user`](crate::Principal::user),
    /// so a handler needs no second query for it.
    pub details: UserDetails,
}

/// Whatever a [`UserStore`] reads about a user beyond what the framework needs, kept
/// with the [`UserRecord`] and read back by its type.
///
/// The guard already read the user's row to check that the subject exists and is
/// enabled; a handler showing the user's profile would otherwise read it again.
///
/// ```
/// use secure_api::users::UserDetails;
///
/// #[derive(Debug, PartialEq)]
/// struct Profile { email: String }
///
/// let details = UserDetails::new(Profile { email: "alice@example.com".into() });
/// assert_eq!(details.get::<Profile>().unwrap().email, "alice@example.com");
/// assert!(details.get::<String>().is_none(), "asked by the wrong type");
/// assert!(UserDetails::none().get::<Profile>().is_none());
/// ```
#[derive(Clone, Default)]
pub struct UserDetails(Option<Arc<dyn Any + Send + Sync>>);

impl UserDetails {
    /// No details: the store reads only what the framework needs.
    ///
    /// ```
    /// # use secure_api::users::UserDetails;
    /// assert!(UserDetails::none().is_none());
    /// ```
    pub fn none() -> Self {
        UserDetails(None)
    }

    /// Keeps `value` with the record.
    ///
    /// ```
    /// # use secure_api::users::UserDetails;
    /// let details = UserDetails::new(42_u32);
    /// assert_eq!(details.get::<u32>(), Some(&42));
    /// ```
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        UserDetails(Some(Arc::new(value)))
    }

    /// The value, if one of type `T` was kept.
    ///
    /// ```
    /// # use secure_api::users::UserDetails;
    /// assert_eq!(UserDetails::new("tenant-7").get::<&str>(), Some(&"tenant-7"));
    /// ```
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.as_deref()?.downcast_ref()
    }

    /// Whether no value was kept.
    ///
    /// ```
    /// # use secure_api::users::UserDetails;
    /// assert!(!UserDetails::new(()).is_none());
    /// ```
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

// Two details are equal when they are the same value (clones of one record); the
// value's type need not be comparable.
impl PartialEq for UserDetails {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for UserDetails {}

impl fmt::Debug for UserDetails {
    // The details may be personal data: logs say only whether there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "UserDetails(..)"
        } else {
            "UserDetails(none)"
        })
    }
}

impl fmt::Debug for UserRecord {
    // The hash stays out of logs: it is what an offline attack needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("username", &self.username)
            .field("scopes", &self.scopes)
            .field("disabled", &self.disabled)
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

/// A failure of the store itself (database down, ...). Answered with 503, never a 500,
/// and never mistaken for "no such user".
///
/// ```
/// # use secure_api::users::StoreError;
/// let error = StoreError("connection refused".into());
/// assert_eq!(error.to_string(), "user store failed: connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user store failed: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// A store of users. Implement it over your database; [`InMemoryUserStore`] is ready.
///
/// ```
/// use secure_api::users::{StoreError, UserRecord, UserStore};
///
/// struct MyStore;
///
/// impl UserStore for MyStore {
///     async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
///         Ok(None) // look the user up
///     }
///     async fn set_password_hash(&self, username: &str, phc: &str) -> Result<(), StoreError> {
///         Ok(()) // store the upgraded hash
///     }
/// }
/// ```
pub trait UserStore: Send + Sync + 'static {
    /// The user named `username`, or `None`.
    ///
    /// ```
    /// # use secure_api::users::{InMemoryUserStore, UserStore};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = InMemoryUserStore::new();
    /// assert!(UserStore::find_user(&store, "alice").await.unwrap().is_none());
    /// # });
    /// ```
    fn find_user(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;

    /// Replaces a user's password hash: called after a successful login whose stored
    /// hash used older parameters.
    ///
    /// ```
    /// # use secure_api::users::{InMemoryUserStore, UserStore};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = InMemoryUserStore::new();
    /// UserStore::set_password_hash(&store, "alice", "$argon2id$...").await.unwrap();
    /// # });
    /// ```
    fn set_password_hash(
        &self,
        username: &str,
        phc: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Object-safe twin of [`UserStore`], so guards can hold any store behind one type.
pub(crate) trait DynUserStore: Send + Sync + 'static {
    fn find_user<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<UserRecord>, StoreError>>;
    fn set_password_hash<'a>(
        &'a self,
        username: &'a str,
        phc: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

impl<T: UserStore> DynUserStore for T {
    fn find_user<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<UserRecord>, StoreError>> {
        Box::pin(UserStore::find_user(self, username))
    }

    fn set_password_hash<'a>(
        &'a self,
        username: &'a str,
        phc: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(UserStore::set_password_hash(self, username, phc))
    }
}

/// A shared handle on any [`UserStore`].
///
/// ```
/// # use secure_api::users::{InMemoryUserStore, SharedUserStore};
/// let users = SharedUserStore::new(InMemoryUserStore::new());
/// let for_the_guard = users.clone(); // clones share the store
/// ```
#[derive(Clone)]
pub struct SharedUserStore(pub(crate) Arc<dyn DynUserStore>);

impl SharedUserStore {
    /// Wraps a store.
    ///
    /// ```
    /// # use secure_api::users::{InMemoryUserStore, SharedUserStore};
    /// let shared = SharedUserStore::new(InMemoryUserStore::new());
    /// ```
    pub fn new(store: impl UserStore) -> Self {
        SharedUserStore(Arc::new(store))
    }

    /// Looks a user up.
    ///
    /// ```
    /// # use secure_api::users::{InMemoryUserStore, SharedUserStore};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let shared = SharedUserStore::new(InMemoryUserStore::new());
    /// assert!(shared.find_user("nobody").await.unwrap().is_none());
    /// # });
    /// ```
    pub async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.0.find_user(username).await
    }

    /// Replaces a user's password hash.
    ///
    /// ```
    /// # use secure_api::users::{InMemoryUserStore, SharedUserStore};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let shared = SharedUserStore::new(InMemoryUserStore::new());
    /// shared.set_password_hash("nobody", "$argon2id$...").await.unwrap();
    /// # });
    /// ```
    pub async fn set_password_hash(&self, username: &str, phc: &str) -> Result<(), StoreError> {
        self.0.set_password_hash(username, phc).await
    }
}

impl fmt::Debug for SharedUserStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedUserStore")
    }
}

/// A [`UserStore`] in memory, for tests and small services. Clones share the users.
///
/// ```
/// use secure_api::users::{InMemoryUserStore, UserRecord};
///
/// let store = InMemoryUserStore::new();
/// store.insert(UserRecord {
///     username: "alice".into(),
///     password_hash: "$argon2id$v=19$...".into(),
///     scopes: vec!["users:read".into()],
///     disabled: false,
///     details: Default::default(),
/// }).unwrap();
/// assert!(store.insert(store.get("alice").unwrap()).is_err()); // names are unique
/// ```
#[derive(Debug, Clone, Default)]
pub struct InMemoryUserStore {
    users: Arc<RwLock<BTreeMap<String, UserRecord>>>,
}

/// The user already exists.
///
/// ```
/// # use secure_api::users::UserExists;
/// assert_eq!(UserExists.to_string(), "a user with this name already exists");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserExists;

impl fmt::Display for UserExists {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a user with this name already exists")
    }
}

impl std::error::Error for UserExists {}

impl InMemoryUserStore {
    /// An empty store.
    ///
    /// ```
    /// # use secure_api::users::InMemoryUserStore;
    /// assert!(InMemoryUserStore::new().list().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a user; refuses a name that exists (atomically, so two concurrent
    /// creations of one name cannot both succeed).
    ///
    /// ```
    /// # use secure_api::users::{InMemoryUserStore, UserRecord};
    /// let store = InMemoryUserStore::new();
    /// let user = UserRecord { username: "bob".into(), password_hash: String::new(), scopes: vec![], disabled: false, details: Default::default() };
    /// assert!(store.insert(user.clone()).is_ok());
    /// assert!(store.insert(user).is_err());
    /// ```
    pub fn insert(&self, user: UserRecord) -> Result<(), UserExists> {
        let mut users = self.write();
        if users.contains_key(&user.username) {
            return Err(UserExists);
        }
        users.insert(user.username.clone(), user);
        Ok(())
    }

    /// The user named `username`.
    ///
    /// ```
    /// # use secure_api::users::InMemoryUserStore;
    /// assert!(InMemoryUserStore::new().get("alice").is_none());
    /// ```
    pub fn get(&self, username: &str) -> Option<UserRecord> {
        self.read().get(username).cloned()
    }

    /// Every user, by name.
    ///
    /// ```
    /// # use secure_api::users::InMemoryUserStore;
    /// assert_eq!(InMemoryUserStore::new().list().len(), 0);
    /// ```
    pub fn list(&self) -> Vec<UserRecord> {
        self.read().values().cloned().collect()
    }

    /// Disables or enables a user; returns whether the user exists.
    ///
    /// ```
    /// # use secure_api::users::InMemoryUserStore;
    /// assert!(!InMemoryUserStore::new().set_disabled("ghost", true));
    /// ```
    pub fn set_disabled(&self, username: &str, disabled: bool) -> bool {
        match self.write().get_mut(username) {
            Some(user) => {
                user.disabled = disabled;
                true
            }
            None => false,
        }
    }

    /// Deletes a user; returns whether it existed.
    ///
    /// ```
    /// # use secure_api::users::InMemoryUserStore;
    /// assert!(!InMemoryUserStore::new().remove("ghost"));
    /// ```
    pub fn remove(&self, username: &str) -> bool {
        self.write().remove(username).is_some()
    }

    // A poisoned lock only means another thread panicked mid-update of a map whose
    // every update is a single insert or field write; the data is still consistent.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, UserRecord>> {
        self.users.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, UserRecord>> {
        self.users.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl UserStore for InMemoryUserStore {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.get(username))
    }

    async fn set_password_hash(&self, username: &str, phc: &str) -> Result<(), StoreError> {
        if let Some(user) = self.write().get_mut(username) {
            user.password_hash = phc.to_owned();
        }
        Ok(())
    }
}
