//! Scopes: the service's declaration ([`Scopes`], usually derived) and what an
//! operation requires of a token ([`Requirement`]).

/// One declared scope: its name as it appears in tokens, and what it allows.
///
/// ```
/// # use secure_api::ScopeInfo;
/// const READ: ScopeInfo = ScopeInfo { name: "users:read", description: "Read user profiles" };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeInfo {
    /// The scope as written in a token's `scope` claim, e.g. `users:write`.
    pub name: &'static str,
    /// What the scope allows, shown in the docs' Authorize dialog.
    pub description: &'static str,
}

/// A service's scopes, declared once. Derive it:
///
/// ```
/// use secure_api::Scopes;
///
/// #[derive(Scopes)]
/// enum Scope {
///     #[scope("users:read", "Read user profiles")]
///     UsersRead,
///     #[scope("users:write", "Create and edit users")]
///     UsersWrite,
/// }
///
/// assert_eq!(Scope::UsersWrite.name(), "users:write");
/// assert_eq!(Scope::ALL.len(), 2);
/// assert!(Scope::from_name("users:read").is_some());
/// assert_eq!(<Scope as Scopes>::TOKEN_URL, "/token");
/// ```
///
/// The declaration is also the OAuth2 password flow of the OpenAPI document: its
/// scopes with their descriptions, and `TOKEN_URL` (`#[scopes(token_url = "...")]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a scope declaration: it does not derive `Scopes`",
    label = "expected an enum with `#[derive(Scopes)]`",
    note = "declare the service's scopes with `#[derive(Scopes)] enum Scope {{ #[scope(\"users:read\", \"Read user profiles\")] UsersRead }}` and name that enum"
)]
pub trait Scopes: Sized + 'static {
    /// Every declared scope, in declaration order.
    const ALL: &'static [ScopeInfo];
    /// The compile error shown for a scope this declaration lacks.
    const UNDECLARED_HELP: &'static str;
    /// Where clients obtain tokens (the password flow's `tokenUrl`).
    const TOKEN_URL: &'static str = "/token";
    /// The name of the OAuth2 security scheme in the OpenAPI document.
    const SCHEME_NAME: &'static str = "OAuth2";

    /// This scope's name.
    ///
    /// ```
    /// # use secure_api::Scopes;
    /// # #[derive(Scopes)] enum Scope { #[scope("items:read", "Read items")] ItemsRead }
    /// assert_eq!(Scope::ItemsRead.name(), "items:read");
    /// ```
    fn name(&self) -> &'static str;

    /// The scope with this name, if declared.
    ///
    /// ```
    /// # use secure_api::Scopes;
    /// # #[derive(Scopes)] enum Scope { #[scope("items:read", "Read items")] ItemsRead }
    /// assert!(matches!(Scope::from_name("items:read"), Some(Scope::ItemsRead)));
    /// assert!(Scope::from_name("items:write").is_none());
    /// ```
    fn from_name(name: &str) -> Option<Self>;

    /// Whether `name` is a declared scope.
    ///
    /// ```
    /// # use secure_api::Scopes;
    /// # #[derive(Scopes)] enum Scope { #[scope("items:read", "Read items")] ItemsRead }
    /// assert!(Scope::is_declared("items:read"));
    /// assert!(!Scope::is_declared("items:write"));
    /// ```
    fn is_declared(name: &str) -> bool {
        Self::ALL.iter().any(|scope| scope.name == name)
    }
}

/// What an operation requires of a token's scopes: one of several alternatives, each a
/// set of scopes that must all be granted.
///
/// ```
/// use secure_api::Requirement;
///
/// let write = Requirement::all_of(&["users:write"]);
/// assert!(write.is_met_by(["users:read", "users:write"]));
/// assert!(!write.is_met_by(["users:read"]));
///
/// let either = Requirement::any_of(&[&["admin"], &["users:read", "users:write"]]);
/// assert!(either.is_met_by(["admin"]));
/// assert!(!either.is_met_by(["users:read"]));
///
/// assert!(Requirement::AUTHENTICATED.is_met_by(Vec::<&str>::new()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    shape: Shape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    AllOf(&'static [&'static str]),
    AnyOf(&'static [&'static [&'static str]]),
}

impl Requirement {
    /// Any valid token, whatever its scopes.
    pub const AUTHENTICATED: Requirement = Requirement {
        shape: Shape::AllOf(&[]),
    };

    /// Every one of `scopes`.
    ///
    /// ```
    /// # use secure_api::Requirement;
    /// assert!(Requirement::all_of(&["a", "b"]).is_met_by(["b", "a"]));
    /// ```
    pub const fn all_of(scopes: &'static [&'static str]) -> Self {
        Requirement {
            shape: Shape::AllOf(scopes),
        }
    }

    /// At least one of the alternatives, each a set of scopes that must all be granted.
    ///
    /// ```
    /// # use secure_api::Requirement;
    /// assert!(Requirement::any_of(&[&["a"], &["b"]]).is_met_by(["b"]));
    /// ```
    pub const fn any_of(alternatives: &'static [&'static [&'static str]]) -> Self {
        Requirement {
            shape: Shape::AnyOf(alternatives),
        }
    }

    /// Each alternative, as a set of scopes that together meet the requirement.
    ///
    /// ```
    /// # use secure_api::Requirement;
    /// let r = Requirement::any_of(&[&["a"], &["b", "c"]]);
    /// assert_eq!(r.alternatives().collect::<Vec<_>>(), vec![&["a"][..], &["b", "c"][..]]);
    /// ```
    pub fn alternatives(&self) -> impl Iterator<Item = &'static [&'static str]> + '_ {
        let (single, many): (
            Option<&'static [&'static str]>,
            &'static [&'static [&'static str]],
        ) = match self.shape {
            Shape::AllOf(scopes) => (Some(scopes), &[]),
            Shape::AnyOf(alternatives) => (None, alternatives),
        };
        single.into_iter().chain(many.iter().copied())
    }

    /// Whether some scope is needed, beyond a valid token (no alternative is empty).
    ///
    /// ```
    /// # use secure_api::Requirement;
    /// assert!(Requirement::all_of(&["a"]).needs_scopes());
    /// assert!(!Requirement::AUTHENTICATED.needs_scopes());
    /// assert!(!Requirement::any_of(&[&["a"], &[]]).needs_scopes());
    /// ```
    pub fn needs_scopes(&self) -> bool {
        self.alternatives()
            .all(|alternative| !alternative.is_empty())
    }

    /// Whether a token granted `granted` meets the requirement.
    ///
    /// ```
    /// # use secure_api::Requirement;
    /// assert!(!Requirement::all_of(&["a", "b"]).is_met_by(["a"]));
    /// ```
    pub fn is_met_by<I, S>(&self, granted: I) -> bool
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if let Shape::AllOf(scopes) = self.shape
            && scopes.len() <= 64
        {
            // The usual shape: done as soon as the last required scope shows up, and
            // before reading any granted scope when none is required.
            let all = u64::MAX.checked_shr(64 - scopes.len() as u32).unwrap_or(0);
            if all == 0 {
                return true;
            }
            let mut found = 0u64;
            for granted in granted {
                let granted = granted.as_ref();
                for (bit, scope) in scopes.iter().enumerate() {
                    if *scope == granted {
                        found |= 1 << bit;
                    }
                }
                if found == all {
                    return true;
                }
            }
            return false;
        }
        // One pass over the granted scopes, marking each required scope found in a
        // bit of `found` (every required scope of every alternative, in order): no
        // allocation for requirements of up to 64 scopes, the checks of every request.
        let required = self.alternatives().map(<[&str]>::len).sum::<usize>();
        if required > 64 {
            let granted: Vec<S> = granted.into_iter().collect();
            let has = |scope: &str| granted.iter().any(|g| g.as_ref() == scope);
            return self
                .alternatives()
                .any(|alternative| alternative.iter().all(|scope| has(scope)));
        }
        let mut found = 0u64;
        for granted in granted {
            let granted = granted.as_ref();
            let required = self
                .alternatives()
                .flat_map(|alternative| alternative.iter());
            for (bit, scope) in required.enumerate() {
                if *scope == granted {
                    found |= 1 << bit;
                }
            }
        }
        let mut first_bit = 0;
        self.alternatives().any(|alternative| {
            let mask = match alternative.len() {
                0 => 0,
                n => (u64::MAX >> (64 - n)) << first_bit,
            };
            first_bit += alternative.len();
            found & mask == mask
        })
    }

    /// The scopes to name in a 403's `WWW-Authenticate: ... scope="..."`: the
    /// alternative the token is closest to (fewest scopes missing, then most already
    /// granted), whole.
    ///
    /// ```
    /// # use secure_api::Requirement;
    /// let r = Requirement::any_of(&[&["admin"], &["users:read", "users:write"]]);
    /// assert_eq!(r.closest_alternative(["users:read"]), &["users:read", "users:write"]);
    /// ```
    pub fn closest_alternative<I, S>(&self, granted: I) -> &'static [&'static str]
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let granted: Vec<S> = granted.into_iter().collect();
        let distance = |alternative: &[&str]| {
            let held = alternative
                .iter()
                .filter(|scope| granted.iter().any(|g| g.as_ref() == **scope))
                .count();
            (alternative.len() - held, std::cmp::Reverse(held))
        };
        self.alternatives()
            .min_by_key(|alternative| distance(alternative))
            .unwrap_or(&[])
    }
}

/// `const` check behind the compile error for an undeclared scope.
pub(crate) const fn is_declared_const<S: Scopes>(name: &str) -> bool {
    let mut i = 0;
    while i < S::ALL.len() {
        if str_eq(S::ALL[i].name, name) {
            return true;
        }
        i += 1;
    }
    false
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A scope name as poem-openapi's `#[oai(scope = "PATH")]` wants it: a path to a value
/// that implements `OAuthScopes`. Documentation only; [`crate::Authorized`] enforces.
///
/// ```
/// use secure_api::ScopeName;
/// const USERS_WRITE: ScopeName = ScopeName("users:write");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeName(pub &'static str);

impl poem_openapi::OAuthScopes for ScopeName {
    fn meta() -> Vec<poem_openapi::registry::MetaOAuthScope> {
        Vec::new()
    }

    fn name(&self) -> &'static str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Requirement;

    /// The definition `is_met_by` implements without allocating: some alternative
    /// whose every scope is granted.
    fn by_definition(requirement: &Requirement, granted: &[&str]) -> bool {
        requirement
            .alternatives()
            .any(|alternative| alternative.iter().all(|scope| granted.contains(scope)))
    }

    #[test]
    fn is_met_by_agrees_with_its_definition() {
        const MANY: [&str; 70] = [
            "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13",
            "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25",
            "s26", "s27", "s28", "s29", "s30", "s31", "s32", "s33", "s34", "s35", "s36", "s37",
            "s38", "s39", "s40", "s41", "s42", "s43", "s44", "s45", "s46", "s47", "s48", "s49",
            "s50", "s51", "s52", "s53", "s54", "s55", "s56", "s57", "s58", "s59", "s60", "s61",
            "s62", "s63", "s64", "s65", "s66", "s67", "s68", "s69",
        ];
        const SPLIT: [&[&str]; 2] = [MANY.split_at(63).0, MANY.split_at(63).1];
        let requirements = [
            Requirement::AUTHENTICATED,
            Requirement::all_of(&["a"]),
            Requirement::all_of(&["a", "b", "a"]),
            Requirement::any_of(&[&["a", "b"], &["c"]]),
            Requirement::any_of(&[&["a"], &[]]),
            Requirement::any_of(&[&["x"], &["a", "c"], &["b"]]),
            Requirement::all_of(&MANY),
            Requirement::any_of(&[&MANY, &["a"]]),
            Requirement::any_of(&SPLIT),
        ];
        let grants: [&[&str]; 9] = [
            &[],
            &["a"],
            &["b"],
            &["a", "b"],
            &["c", "a"],
            &["b", "b", "c"],
            &MANY,
            &MANY[..63],
            &MANY[63..],
        ];
        for requirement in &requirements {
            for granted in grants {
                assert_eq!(
                    requirement.is_met_by(granted.iter().copied()),
                    by_definition(requirement, granted),
                    "{requirement:?} with {granted:?}"
                );
            }
        }
    }
}
