//! Path normalization before routing, as poem's `NormalizePath` does it, for less:
//! every run of `/` becomes one, and the trailing slash is trimmed, kept or added as
//! [`TrailingSlash`] says. The same request reaches the same route as with poem's.
//!
//! poem's middleware copies the path into a new `String` and runs a regular
//! expression over it on every request, then compares. This one reads the path once
//! and touches nothing when it is already normal, as nearly every request's is; only a
//! path that changes is copied, into its new URI.

use poem::{
    Endpoint, Middleware, Request,
    http::{
        Uri,
        uri::{Parts, PathAndQuery},
    },
};

pub use poem::middleware::TrailingSlash;

/// Routes `/users/me/` and `//users//me` where `/users/me` is routed (with
/// [`TrailingSlash::Trim`]), before any endpoint behind it sees the request.
///
/// ```
/// use secure_api::normalize_path::{NormalizePath, TrailingSlash};
/// use secure_api::poem::{EndpointExt, Route, handler};
///
/// #[handler]
/// fn me() -> &'static str { "me" }
///
/// let app = Route::new().at("/users/me", me).with(NormalizePath::new(TrailingSlash::Trim));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NormalizePath(TrailingSlash);

impl NormalizePath {
    /// Merges runs of `/`, and trims, keeps or adds the trailing slash per `style`.
    pub fn new(style: TrailingSlash) -> Self {
        NormalizePath(style)
    }
}

impl<E: Endpoint> Middleware<E> for NormalizePath {
    type Output = NormalizePathEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        NormalizePathEndpoint {
            inner,
            style: self.0,
        }
    }
}

/// An endpoint behind [`NormalizePath`].
#[derive(Debug)]
pub struct NormalizePathEndpoint<E> {
    inner: E,
    style: TrailingSlash,
}

impl<E: Endpoint> Endpoint for NormalizePathEndpoint<E> {
    type Output = E::Output;

    // An `async` block, so the request is kept once in the future (see `App::call`).
    #[allow(clippy::manual_async_fn)]
    fn call(&self, mut request: Request) -> impl Future<Output = poem::Result<E::Output>> + Send {
        async move {
            if let Some(path) = normalized(request.uri().path(), self.style)
                && let Some(uri) = with_path(request.uri(), &path)
            {
                *request.uri_mut() = uri;
            }
            self.inner.call(request).await
        }
    }
}

/// The normal form of `path`, or `None` when it is normal already (or empty: poem
/// leaves an empty path alone too).
fn normalized(path: &str, style: TrailingSlash) -> Option<String> {
    let bytes = path.as_bytes();
    let merges = bytes.windows(2).any(|pair| pair == b"//");
    let ends_with_slash = bytes.last() == Some(&b'/');
    let trailing_changes = match style {
        // `/` alone stays: trimmed to nothing, it would become `/` again.
        TrailingSlash::Trim => ends_with_slash && path != "/",
        TrailingSlash::MergeOnly => false,
        TrailingSlash::Always => !ends_with_slash,
    };
    if path.is_empty() || !(merges || trailing_changes) {
        return None;
    }
    slow_normalized(path, style)
}

/// [`normalized`] for a path that changes: poem's steps (trailing slash first, then
/// runs of `/` merged, nothing left becoming `/`), in one pass.
#[cold]
fn slow_normalized(path: &str, style: TrailingSlash) -> Option<String> {
    let shaped = match style {
        TrailingSlash::Trim => path.trim_end_matches('/'),
        TrailingSlash::MergeOnly | TrailingSlash::Always => path,
    };
    let mut normal = String::with_capacity(shaped.len() + 1);
    for c in shaped.chars() {
        if !(c == '/' && normal.ends_with('/')) {
            normal.push(c);
        }
    }
    if matches!(style, TrailingSlash::Always) && !normal.ends_with('/') {
        normal.push('/');
    }
    if normal.is_empty() {
        normal.push('/');
    }
    (normal != path).then_some(normal)
}

/// `uri` with its path replaced, its query kept; `None` (the request then goes on as
/// it came) if that is not a URI, which cannot happen to a path made from a valid
/// one by adding or removing `/`.
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => PathAndQuery::try_from(format!("{path}?{query}")).ok()?,
        None => PathAndQuery::try_from(path).ok()?,
    };
    let mut parts = Parts::from(uri.clone());
    parts.path_and_query = Some(path_and_query);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_path_that_changes_is_copied() {
        for (path, style, expected) in [
            ("/users/me", TrailingSlash::Trim, None),
            ("/", TrailingSlash::Trim, None),
            ("/users/me/", TrailingSlash::Trim, Some("/users/me")),
            ("/users/me///", TrailingSlash::Trim, Some("/users/me")),
            ("//", TrailingSlash::Trim, Some("/")),
            ("//users//me", TrailingSlash::Trim, Some("/users/me")),
            ("/a//b/", TrailingSlash::MergeOnly, Some("/a/b/")),
            ("/a/b/", TrailingSlash::MergeOnly, None),
            ("/a/b", TrailingSlash::Always, Some("/a/b/")),
            ("/a/b/", TrailingSlash::Always, None),
            ("", TrailingSlash::Always, None),
        ] {
            assert_eq!(
                normalized(path, style).as_deref(),
                expected,
                "{path} {style:?}"
            );
        }
    }

    /// Every path of up to three segments, each after one to three slashes, with up
    /// to three trailing slashes, with and without a query, in each style: the same
    /// URI reaches the endpoint as behind poem's own middleware.
    #[tokio::test]
    async fn routes_exactly_as_poems_normalize_path() {
        use poem::{EndpointExt, handler};

        #[handler]
        fn echo(request: &Request) -> String {
            request.uri().to_string()
        }
        let mut paths = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = (paths.iter())
                .flat_map(|path| {
                    ["/", "//", "///"].into_iter().flat_map(move |slashes| {
                        ["a", "bc", ""].map(|segment| format!("{path}{slashes}{segment}"))
                    })
                })
                .collect();
            paths.extend(longer);
        }
        paths.retain(|path| !path.is_empty());
        paths.sort();
        paths.dedup();
        let mut compared = 0;
        for style in [
            TrailingSlash::Trim,
            TrailingSlash::MergeOnly,
            TrailingSlash::Always,
        ] {
            let ours = echo.with(NormalizePath::new(style));
            let poems = echo.with(poem::middleware::NormalizePath::new(style));
            for path in &paths {
                for target in [path.clone(), format!("{path}?x=1&y=%2F%2F")] {
                    let request = || Request::builder().uri(target.parse().unwrap()).finish();
                    let expected = poems.call(request()).await.unwrap().into_body();
                    let got = ours.call(request()).await.unwrap().into_body();
                    let (got, expected) = (
                        got.into_string().await.unwrap(),
                        expected.into_string().await.unwrap(),
                    );
                    assert_eq!(got, expected, "{target} {style:?}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 3_078);
    }
}
