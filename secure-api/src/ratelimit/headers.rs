//! How limits show on the wire (the rate-limit header fields, the 429 answer) and
//! in the OpenAPI document.

use super::{Decision, HeaderStyle, Quota, RateLimit};
use crate::problem::{PROBLEM_JSON, Problem, ProblemDetails};
use poem::{
    IntoResponse, Response,
    http::{HeaderName, HeaderValue, StatusCode, header},
};
use poem_openapi::{
    registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef},
    types::Type,
};
use std::{
    collections::HashSet,
    sync::{Mutex, PoisonError},
    time::Duration,
};

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// One limit of a request as the answer describes it: its name, the quota in force,
/// and what the store said (nothing when the store failed open).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LimitState {
    pub(crate) name: &'static str,
    pub(crate) quota: Quota,
    pub(crate) decision: Option<Decision>,
}

/// Whole seconds, rounded up: a client that waits that long is never early.
pub(crate) fn whole_seconds(duration: Duration) -> u64 {
    duration.as_nanos().div_ceil(1_000_000_000) as u64
}

/// The draft's `q` and `w`: the window in whole seconds (at least 1) and the quota
/// over it.
fn quota_window(quota: Quota) -> (u64, u64) {
    let window = whole_seconds(quota.period()).max(1);
    let period_ms = quota.period().as_millis().max(1);
    let q = u128::from(quota.count()) * u128::from(window) * 1000 / period_ms;
    (u64::try_from(q).unwrap_or(u64::MAX), window)
}

/// The limit closest to refusing: fewest left, then longest until more.
fn closest(states: &[LimitState]) -> Option<(&LimitState, Decision)> {
    states
        .iter()
        .filter_map(|state| state.decision.map(|decision| (state, decision)))
        .min_by_key(|(_, decision)| {
            (
                decision.remaining(),
                std::cmp::Reverse(decision.reset_after()),
            )
        })
}

/// A header field's value, built on the stack (on the heap only past 128 bytes:
/// several long limit names), then copied once into its `HeaderValue`.
struct Field {
    len: usize,
    bytes: [u8; 128],
    spilled: Option<Vec<u8>>,
}

impl Default for Field {
    fn default() -> Self {
        Field {
            len: 0,
            bytes: [0; 128],
            spilled: None,
        }
    }
}

impl Field {
    fn text(&mut self, text: &str) -> &mut Self {
        let text = text.as_bytes();
        let end = self.len + text.len();
        match (&mut self.spilled, self.bytes.get_mut(self.len..end)) {
            (Some(spilled), _) => spilled.extend_from_slice(text),
            (None, Some(room)) => {
                room.copy_from_slice(text);
                self.len = end;
            }
            (None, None) => {
                let mut spilled = Vec::with_capacity(2 * end);
                spilled.extend_from_slice(&self.bytes[..self.len]);
                spilled.extend_from_slice(text);
                self.spilled = Some(spilled);
            }
        }
        self
    }

    fn number(&mut self, number: u64) -> &mut Self {
        self.text(itoa::Buffer::new().format(number))
    }

    fn value(&self) -> Option<HeaderValue> {
        let bytes = match &self.spilled {
            Some(spilled) => spilled,
            None => &self.bytes[..self.len],
        };
        HeaderValue::from_bytes(bytes).ok()
    }
}

/// `"name";q=100;w=60, ...`: every limit of the operation (stable).
fn policy_field(states: &[LimitState]) -> Field {
    let mut field = Field::default();
    for (i, state) in states.iter().enumerate() {
        let (q, w) = quota_window(state.quota);
        if i > 0 {
            field.text(", ");
        }
        field
            .text("\"")
            .text(state.name)
            .text("\";q=")
            .number(q)
            .text(";w=")
            .number(w);
    }
    field
}

/// The header fields of `style` for `states`, in the order they go on the answer.
#[cfg(test)]
fn fields(style: HeaderStyle, states: &[LimitState]) -> Vec<(HeaderName, HeaderValue)> {
    let mut fields = Vec::new();
    each_field(style, states, |name, value| fields.push((name, value)));
    fields
}

fn each_field(
    style: HeaderStyle,
    states: &[LimitState],
    mut emit: impl FnMut(HeaderName, HeaderValue),
) {
    let mut emit = |name, field: &mut Field| {
        if let Some(value) = field.value() {
            emit(name, value);
        }
    };
    match style {
        HeaderStyle::Off => {}
        HeaderStyle::Draft => {
            // Every limit of the operation, and the state of the one closest to
            // refusing.
            if !states.is_empty() {
                emit(RATELIMIT_POLICY, &mut policy_field(states));
            }
            if let Some((state, decision)) = closest(states) {
                let mut field = Field::default();
                field
                    .text("\"")
                    .text(state.name)
                    .text("\";r=")
                    .number(decision.remaining().into())
                    .text(";t=")
                    .number(whole_seconds(decision.reset_after()));
                emit(RATELIMIT, &mut field);
            }
        }
        HeaderStyle::Legacy => {
            if let Some((state, decision)) = closest(states) {
                let (q, _) = quota_window(state.quota);
                emit(RATELIMIT_LIMIT, Field::default().number(q));
                emit(
                    RATELIMIT_REMAINING,
                    Field::default().number(decision.remaining().into()),
                );
                emit(
                    RATELIMIT_RESET,
                    Field::default().number(whole_seconds(decision.full_after())),
                );
            }
        }
    }
}

/// Adds the rate-limit header fields to an answer.
pub(crate) fn decorate(response: &mut Response, style: HeaderStyle, states: &[LimitState]) {
    let headers = response.headers_mut();
    each_field(style, states, |name, value| {
        headers.insert(name, value);
    });
}

/// 429 problem+json with `Retry-After` (whole seconds, at least 1) and the rate-limit
/// fields.
pub(crate) fn too_many_requests(
    style: HeaderStyle,
    states: &[LimitState],
    retry_after: Duration,
    detail: String,
) -> Response {
    let seconds = whole_seconds(retry_after).max(1);
    let mut response = Problem::new(StatusCode::TOO_MANY_REQUESTS)
        .detail(detail)
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    decorate(&mut response, style, states);
    response
}

/// Why the limits of a request refused it, for the 429's `detail`.
pub(crate) fn refusal_detail(limits: &[(&RateLimit, Quota, Decision)]) -> String {
    use std::fmt::Write;
    let mut detail = String::with_capacity(128);
    detail.push_str("too many requests: ");
    let mut retry = Duration::ZERO;
    let refused = limits.iter().filter(|(_, _, decision)| !decision.allowed());
    for (i, (limit, quota, decision)) in refused.enumerate() {
        retry = retry.max(decision.retry_after());
        if i > 0 {
            detail.push_str(" and ");
        }
        let _ = write!(
            detail,
            "\"{}\" allows {}",
            limit.name(),
            limit.describe_with(*quota)
        );
    }
    let _ = write!(detail, "; retry in {} s", whole_seconds(retry).max(1));
    detail
}

/// Documents a limited operation: the rate-limit fields on every response, and a 429
/// with `Retry-After` whose description states the limits.
pub(crate) fn document(meta: &mut MetaResponses, limits: &[RateLimit]) {
    for response in &mut meta.responses {
        response.headers.extend(rate_limit_headers());
    }
    if meta.responses.iter().any(|r| r.status == Some(429)) {
        return;
    }
    let described: Vec<String> = limits
        .iter()
        .map(|limit| format!("{} (\"{}\")", limit.describe(), limit.name()))
        .collect();
    let description = intern(format!(
        "Too many requests: at most {}. Retry after the seconds in `Retry-After`.",
        described.join(", and ")
    ));
    let mut headers = vec![MetaHeader {
        name: "Retry-After".to_owned(),
        description: Some("Seconds to wait before retrying (at least 1)".to_owned()),
        required: true,
        deprecated: false,
        schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("integer", "int64"))),
    }];
    headers.extend(rate_limit_headers());
    meta.responses.push(MetaResponse {
        description,
        status: Some(429),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: PROBLEM_JSON,
            schema: ProblemDetails::schema_ref(),
        }],
        headers,
    });
}

fn rate_limit_headers() -> [MetaHeader; 2] {
    let string = || MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")));
    [
        MetaHeader {
            name: "RateLimit-Policy".to_owned(),
            description: Some(
                "The operation's limits (IETF draft-ietf-httpapi-ratelimit-headers), e.g. \
                 `\"public\";q=100;w=60`"
                    .to_owned(),
            ),
            required: false,
            deprecated: false,
            schema: string(),
        },
        MetaHeader {
            name: "RateLimit".to_owned(),
            description: Some(
                "What is left of the limit closest to refusing, and the seconds until more, \
                 e.g. `\"public\";r=42;t=1`"
                    .to_owned(),
            ),
            required: false,
            deprecated: false,
            schema: string(),
        },
    ]
}

/// A `'static` copy of a description: the document's response descriptions are
/// `&'static str`. Each distinct text is kept once.
fn intern(text: String) -> &'static str {
    static TEXTS: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut texts = TEXTS.lock().unwrap_or_else(PoisonError::into_inner);
    let texts = texts.get_or_insert_with(HashSet::new);
    match texts.get(text.as_str()) {
        Some(kept) => kept,
        None => {
            let kept: &'static str = Box::leak(text.into_boxed_str());
            texts.insert(kept);
            kept
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::Gcra;

    fn state(name: &'static str, count: u32, secs: u64, backlog_secs: u64) -> LimitState {
        let quota = Quota::per(count, Duration::from_secs(secs));
        LimitState {
            name,
            quota,
            decision: Some(Gcra::new(quota).decision(true, backlog_secs * 1_000_000_000, 0)),
        }
    }

    #[test]
    fn draft_fields_list_every_policy_and_the_closest_state() {
        let minute = state("minute", 10, 60, 18);
        let day = state("day", 1000, 86_400, 864);
        let fields = fields(HeaderStyle::Draft, &[minute, day]);
        assert_eq!(
            fields,
            [
                (
                    RATELIMIT_POLICY,
                    HeaderValue::from_static("\"minute\";q=10;w=60, \"day\";q=1000;w=86400")
                ),
                (RATELIMIT, HeaderValue::from_static("\"minute\";r=7;t=6")),
            ]
        );
    }

    #[test]
    fn a_policy_longer_than_the_stack_buffer_is_whole() {
        let names = ["a".repeat(60), "b".repeat(60), "c".repeat(60)];
        let states: Vec<LimitState> = names
            .iter()
            .map(|name| state(Box::leak(name.clone().into_boxed_str()), 10, 60, 0))
            .collect();
        let expected = names
            .iter()
            .map(|name| format!("\"{name}\";q=10;w=60"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(expected.len() > 128);
        let fields = fields(HeaderStyle::Draft, &states);
        assert_eq!(
            fields[0],
            (RATELIMIT_POLICY, HeaderValue::from_str(&expected).unwrap())
        );
    }

    #[test]
    fn legacy_fields_describe_the_closest_limit() {
        let fields = fields(HeaderStyle::Legacy, &[state("minute", 10, 60, 18)]);
        assert_eq!(
            fields,
            [
                (RATELIMIT_LIMIT, HeaderValue::from_static("10")),
                (RATELIMIT_REMAINING, HeaderValue::from_static("7")),
                (RATELIMIT_RESET, HeaderValue::from_static("18")),
            ]
        );
        assert!(super::fields(HeaderStyle::Off, &[state("minute", 10, 60, 18)]).is_empty());
    }

    #[test]
    fn windows_are_whole_seconds() {
        assert_eq!(
            quota_window(Quota::per(10, Duration::from_secs(60))),
            (10, 60)
        );
        assert_eq!(
            quota_window(Quota::per(5, Duration::from_millis(500))),
            (10, 1)
        );
        assert_eq!(
            quota_window(Quota::per(3, Duration::from_millis(1500))),
            (4, 2)
        );
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(6)), 6);
        assert_eq!(whole_seconds(Duration::ZERO), 0);
    }

    #[test]
    fn descriptions_are_kept_once() {
        let a = intern("x".repeat(3));
        let b = intern("xxx".to_owned());
        assert!(std::ptr::eq(a, b));
    }
}
