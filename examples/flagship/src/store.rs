//! The service's users: credentials for the framework (through `UserStore`) and the
//! profile the API shows. In memory for now; one map, so a user and its profile can
//! never disagree.

use secure_api::users::{StoreError, UserRecord, UserStore};
use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

#[derive(Clone)]
pub struct Profile {
    pub email: Option<String>,
    pub full_name: Option<String>,
}

#[derive(Clone, Default)]
pub struct Users {
    users: Arc<RwLock<BTreeMap<String, (UserRecord, Profile)>>>,
}

pub struct UsernameTaken;

impl Users {
    /// Adds a user, atomically refusing a taken name (two concurrent creations of one
    /// name cannot both succeed).
    pub fn create(&self, record: UserRecord, profile: Profile) -> Result<(), UsernameTaken> {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        if users.contains_key(&record.username) {
            return Err(UsernameTaken);
        }
        users.insert(record.username.clone(), (record, profile));
        Ok(())
    }

    pub fn get(&self, username: &str) -> Option<(UserRecord, Profile)> {
        self.read().get(username).cloned()
    }

    pub fn all(&self) -> Vec<(UserRecord, Profile)> {
        self.read().values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, (UserRecord, Profile)>> {
        self.users.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl UserStore for Users {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.get(username).map(|(record, _)| record))
    }

    async fn set_password_hash(&self, username: &str, phc: &str) -> Result<(), StoreError> {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        if let Some((record, _)) = users.get_mut(username) {
            record.password_hash = phc.to_owned();
        }
        Ok(())
    }
}
