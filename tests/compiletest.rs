//! Every mistake a user can make with the macros, each pinned by its `.stderr`:
//! the `.stderr` files are the documentation of the error messages.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("ui-pass/*.rs");
}
