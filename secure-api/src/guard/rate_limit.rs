//! The rate-limit steps of the guard chain: limits keyed by client IP before
//! authentication, the others right after it, and the rate-limit header fields on
//! every answer on the way out.

use crate::{
    Authenticator, Principal, Requirement,
    ratelimit::{
        self, Answer, ApiKeyId, Check, Decision, IpKey, KeyKind, LimitState, Limiter, Op, Quota,
        RateLimit,
    },
};
use poem::{IntoResponse, Request, Response, http::header};
use smallvec::SmallVec;
use std::time::Duration;

/// Per-limit state of a request, inline for the usual single limit (kept small: it
/// is part of every limited request's future, which is moved as a whole).
type PerLimit<T> = SmallVec<[T; 1]>;

/// `f` of each limit; one limit, the usual case, skips the general collection.
fn per_limit<T, U>(items: &[T], f: impl FnMut(&T) -> U) -> PerLimit<U> {
    match items {
        [one] => SmallVec::from_buf([{ f }(one)]),
        _ => items.iter().map(f).collect(),
    }
}

/// The limits of one request, from the first check to the answer.
pub(crate) struct LimitRun {
    limiter: Limiter,
    limits: &'static [RateLimit],
    /// The quota in force for each limit (after overrides).
    quotas: PerLimit<Quota>,
    /// The client IP's key, for IP limits and every fallback to it.
    client: IpKey,
    /// What the store last said of each limit; `None` before it did, or when it failed
    /// open.
    decisions: PerLimit<Option<Decision>>,
    /// Whether the operation has limits keyed by client IP, and others.
    by_ip: bool,
    after_auth: bool,
    ip_charged: bool,
}

impl LimitRun {
    /// The run of `limits`, or `None` when the operation has none.
    pub(crate) fn start(limits: &'static [RateLimit], request: &Request) -> Option<Self> {
        if limits.is_empty() {
            return None;
        }
        let limiter = ratelimit::limiter_of(request).clone();
        let quotas = per_limit(limits, |limit| limiter.quota_of(limit));
        let client = limiter.client_partition(request);
        let by_ip = limits.iter().any(|limit| limit.key_kind().is_ip());
        Some(LimitRun {
            limiter,
            limits,
            quotas,
            client,
            decisions: SmallVec::from_elem(None, limits.len()),
            by_ip,
            after_auth: limits.iter().any(|limit| !limit.key_kind().is_ip()),
            ip_charged: false,
        })
    }

    fn ip_limits(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.limits.len()).filter(|&i| self.limits[i].key_kind().is_ip())
    }

    /// Both kinds: the IP limits wait to be charged with the others.
    fn mixed(&self) -> bool {
        self.by_ip && self.after_auth
    }

    /// The checks of the IP limits, keyed by `client`.
    fn ip_checks<'a>(&self, client: &'a IpKey) -> (PerLimit<usize>, PerLimit<Check<'a>>) {
        let indices: PerLimit<usize> = match self.limits {
            [only] if only.key_kind().is_ip() => SmallVec::from_buf([0]),
            _ => self.ip_limits().collect(),
        };
        let checks = per_limit(&indices, |&i| self.check(i, client.as_str()));
        (indices, checks)
    }

    fn check<'a>(&self, i: usize, partition: &'a str) -> Check<'a> {
        Check {
            budget: self.limits[i].budget(),
            partition,
            quota: self.quotas[i],
        }
    }

    /// Step 2 of the chain: the limits keyed by client IP.
    pub(crate) async fn before_authentication(&mut self) -> poem::Result<()> {
        if !self.by_ip {
            return Ok(());
        }
        let op = match self.mixed() {
            true => Op::Peek,
            false => Op::Consume,
        };
        let client = self.client;
        let (indices, checks) = self.ip_checks(&client);
        self.apply(&indices, &checks, op).await
    }

    /// A guard between the two steps refused the request: the IP limits count it
    /// (a flood of bad tokens is still a flood), and its answer gets the fields.
    pub(crate) async fn refused_by_guard(&mut self, error: poem::Error) -> poem::Error {
        if self.mixed() && !self.ip_charged {
            let client = self.client;
            let (indices, checks) = self.ip_checks(&client);
            // The refusal stands whatever the limits say now.
            let _ = self.apply(&indices, &checks, Op::Consume).await;
        }
        self.decorate_error(error)
    }

    /// Step 5 of the chain: the limits keyed by subject, API key or a function (and,
    /// when the operation has both kinds, the IP limits again, charged together).
    pub(crate) async fn after_authentication(
        &mut self,
        request: &Request,
        principal: Option<&Principal>,
    ) -> poem::Result<()> {
        if !self.after_auth {
            return Ok(());
        }
        let mut indices: PerLimit<usize> = (0..self.limits.len())
            .filter(|&i| !self.limits[i].key_kind().is_ip())
            .collect();
        let needs_subject = indices
            .iter()
            .any(|&i| matches!(self.limits[i].key_kind(), KeyKind::Subject));
        let optional;
        let principal = match principal {
            Some(principal) => Some(principal),
            None if needs_subject => {
                // Boxed: a token verification's state would otherwise be part of the
                // future of every limited request.
                optional = Box::pin(optional_principal(request)).await;
                optional.as_ref()
            }
            None => None,
        };
        // The keys of their own (`None`: the client IP's).
        let keys: PerLimit<Option<String>> = indices
            .iter()
            .map(|&i| match self.limits[i].key_kind() {
                KeyKind::Subject => principal.map(|p| format!("sub:{}", p.subject())),
                KeyKind::ApiKey => request
                    .extensions()
                    .get::<ApiKeyId>()
                    .map(|id| format!("key:{}", id.0)),
                KeyKind::Custom(key) => key(request).map(|key| format!("fn:{key}")),
                KeyKind::Ip => None,
            })
            .collect();
        let client = self.client;
        let mut checks: PerLimit<Check<'_>> = indices
            .iter()
            .zip(&keys)
            .map(|(&i, key)| self.check(i, key.as_deref().unwrap_or(client.as_str())))
            .collect();
        if self.mixed() {
            let (by_ip, ip_checks) = self.ip_checks(&client);
            indices.extend(by_ip);
            checks.extend(ip_checks);
        }
        self.apply(&indices, &checks, Op::Consume).await
    }

    async fn apply(&mut self, indices: &[usize], checks: &[Check<'_>], op: Op) -> poem::Result<()> {
        let mut decisions: PerLimit<Decision> =
            SmallVec::from_elem(Decision::default(), checks.len());
        let answer = match self.limiter.decide_now(checks, op, &mut decisions) {
            true => Answer::Decided,
            // A store that waits (Redis): its state machine is boxed, so it does not
            // grow the future of every request that never needs it.
            false => {
                let failure_mode = self.limiter.failure_mode();
                Box::pin(
                    self.limiter
                        .check_waiting_into(checks, op, failure_mode, &mut decisions),
                )
                .await
            }
        };
        match answer {
            Answer::Decided => {}
            Answer::FailedOpen => return Ok(()),
            Answer::FailedClosed => {
                return Err(self.refusal(
                    Duration::from_secs(1),
                    "rate limiting is unavailable right now; retry in 1 s".to_owned(),
                ));
            }
        }
        for (&i, decision) in indices.iter().zip(&decisions) {
            self.decisions[i] = Some(*decision);
        }
        if decisions.iter().all(Decision::allowed) {
            if op == Op::Consume && indices.iter().any(|&i| self.limits[i].key_kind().is_ip()) {
                self.ip_charged = true;
            }
            return Ok(());
        }
        Err(self.refused(indices, &decisions))
    }

    /// The 429 of a request its limits refused.
    #[cold]
    fn refused(&self, indices: &[usize], decisions: &[Decision]) -> poem::Error {
        let refused: PerLimit<(&RateLimit, Quota, Decision)> = indices
            .iter()
            .zip(decisions)
            .map(|(&i, decision)| (&self.limits[i], self.quotas[i], *decision))
            .collect();
        let retry_after = refused
            .iter()
            .filter(|(_, _, decision)| !decision.allowed())
            .map(|(_, _, decision)| decision.retry_after())
            .max()
            .unwrap_or_default();
        let detail = ratelimit::refusal_detail(&refused);
        tracing::info!(client = %self.client, reason = %detail, "rate limit refused a request");
        self.refusal(retry_after, detail)
    }

    fn states(&self) -> PerLimit<LimitState> {
        let per_limit = self.limits.iter().zip(&self.quotas).zip(&self.decisions);
        per_limit
            .map(|((limit, &quota), &decision)| LimitState {
                name: limit.name(),
                quota,
                decision,
            })
            .collect()
    }

    fn refusal(&self, retry_after: Duration, detail: String) -> poem::Error {
        let response = ratelimit::too_many_requests(
            self.limiter.header_style(),
            &self.states(),
            retry_after,
            detail,
        );
        poem::Error::from_response(response)
    }

    fn decorate_error(&self, error: poem::Error) -> poem::Error {
        let mut response = error.into_response();
        ratelimit::decorate(&mut response, self.limiter.header_style(), &self.states());
        poem::Error::from_response(response)
    }

    /// The way out: every answer, errors included, carries the fields.
    pub(crate) fn finish(&self, result: poem::Result<Response>) -> poem::Result<Response> {
        match result {
            Ok(mut response) => {
                ratelimit::decorate(&mut response, self.limiter.header_style(), &self.states());
                Ok(response.into_response())
            }
            Err(error) => Err(self.decorate_error(error)),
        }
    }
}

/// The subject of a valid bearer token, if the request has one, for an operation that
/// does not require a token: no token, or a bad one, is no refusal, only no subject.
async fn optional_principal(request: &Request) -> Option<Principal> {
    if !request.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    let Some(authenticator) = request.data::<Authenticator>() else {
        tracing::warn!(
            "a limit keyed by subject found no Authenticator in the request data; \
             counting per client IP"
        );
        return None;
    };
    authenticator
        .authenticate(request, Requirement::AUTHENTICATED)
        .await
        .ok()
}
