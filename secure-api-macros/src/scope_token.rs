//! RFC 6749 §3.3 scope tokens: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
//! Checked at compile time so a scope that could never appear in a token (a space,
//! a quote, a backslash) is refused where it is written.

pub(crate) fn invalid_reason(scope: &str) -> Option<String> {
    if scope.is_empty() {
        return Some("a scope cannot be empty".to_owned());
    }
    let bad = scope
        .chars()
        .find(|c| !matches!(*c as u32, 0x21 | 0x23..=0x5B | 0x5D..=0x7E));
    bad.map(|c| {
        format!(
            "scope `{scope}` contains {c:?}, which RFC 6749 does not allow in a scope; \
             use printable ASCII without spaces, `\"` or `\\`, e.g. `users:write`"
        )
    })
}
