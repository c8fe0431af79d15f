//! The rate-limit steps of the guard chain: limits keyed by client IP before
//! authentication, the others right after it, and the rate-limit header fields on
//! every answer on the way out.

use crate::{
    Authenticator, Principal, Requirement,
    ratelimit::{
        self, ApiKeyId, Check, CheckOutcome, Decision, KeyKind, LimitState, Limiter, Op, Quota,
        RateLimit,
    },
};
use poem::{IntoResponse, Request, Response, http::header};
use std::time::Duration;

/// The limits of one request, from the first check to the answer.
pub(crate) struct LimitRun {
    limiter: Limiter,
    limits: &'static [RateLimit],
    /// The quota in force for each limit (after overrides).
    quotas: Vec<Quota>,
    /// The client IP's key, for IP limits and every fallback to it.
    client: String,
    /// What the store last said of each limit; `None` before it did, or when it failed
    /// open.
    decisions: Vec<Option<Decision>>,
    ip_charged: bool,
}

impl LimitRun {
    /// The run of `limits`, or `None` when the operation has none.
    pub(crate) fn start(limits: &'static [RateLimit], request: &Request) -> Option<Self> {
        if limits.is_empty() {
            return None;
        }
        let limiter = ratelimit::limiter_of(request).clone();
        let quotas = limits.iter().map(|limit| limiter.quota_of(limit)).collect();
        let client = limiter.client_partition(request);
        Some(LimitRun {
            limiter,
            limits,
            quotas,
            client,
            decisions: vec![None; limits.len()],
            ip_charged: false,
        })
    }

    fn by_ip(&self) -> Vec<usize> {
        (0..self.limits.len())
            .filter(|&i| self.limits[i].key_kind().is_ip())
            .collect()
    }

    fn after_auth(&self) -> Vec<usize> {
        (0..self.limits.len())
            .filter(|&i| !self.limits[i].key_kind().is_ip())
            .collect()
    }

    /// Both kinds: the IP limits wait to be charged with the others.
    fn mixed(&self) -> bool {
        !self.by_ip().is_empty() && !self.after_auth().is_empty()
    }

    /// Step 2 of the chain: the limits keyed by client IP.
    pub(crate) async fn before_authentication(&mut self) -> poem::Result<()> {
        let indices = self.by_ip();
        if indices.is_empty() {
            return Ok(());
        }
        let op = match self.mixed() {
            true => Op::Peek,
            false => Op::Consume,
        };
        let partitions = vec![self.client.clone(); indices.len()];
        self.apply(&indices, &partitions, op).await
    }

    /// A guard between the two steps refused the request: the IP limits count it
    /// (a flood of bad tokens is still a flood), and its answer gets the fields.
    pub(crate) async fn refused_by_guard(&mut self, error: poem::Error) -> poem::Error {
        if self.mixed() && !self.ip_charged {
            let indices = self.by_ip();
            let partitions = vec![self.client.clone(); indices.len()];
            // The refusal stands whatever the limits say now.
            let _ = self.apply(&indices, &partitions, Op::Consume).await;
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
        let mut indices = self.after_auth();
        if indices.is_empty() {
            return Ok(());
        }
        let needs_subject = indices
            .iter()
            .any(|&i| matches!(self.limits[i].key_kind(), KeyKind::Subject));
        let optional;
        let principal = match principal {
            Some(principal) => Some(principal),
            None if needs_subject => {
                optional = optional_principal(request).await;
                optional.as_ref()
            }
            None => None,
        };
        let mut partitions: Vec<String> = indices
            .iter()
            .map(|&i| {
                let key = match self.limits[i].key_kind() {
                    KeyKind::Subject => principal.map(|p| format!("sub:{}", p.subject())),
                    KeyKind::ApiKey => request
                        .extensions()
                        .get::<ApiKeyId>()
                        .map(|id| format!("key:{}", id.0)),
                    KeyKind::Custom(key) => key(request).map(|key| format!("fn:{key}")),
                    KeyKind::Ip => None,
                };
                key.unwrap_or_else(|| self.client.clone())
            })
            .collect();
        if self.mixed() {
            let by_ip = self.by_ip();
            partitions.extend(std::iter::repeat_n(self.client.clone(), by_ip.len()));
            indices.extend(by_ip);
        }
        self.apply(&indices, &partitions, Op::Consume).await
    }

    async fn apply(
        &mut self,
        indices: &[usize],
        partitions: &[String],
        op: Op,
    ) -> poem::Result<()> {
        let checks: Vec<Check<'_>> = indices
            .iter()
            .zip(partitions)
            .map(|(&i, partition)| Check {
                budget: self.limits[i].budget(),
                partition,
                quota: self.quotas[i],
            })
            .collect();
        let decisions = match self.limiter.check(&checks, op).await {
            CheckOutcome::Decided(decisions) => decisions,
            CheckOutcome::FailedOpen => return Ok(()),
            CheckOutcome::FailedClosed => {
                return Err(self.refusal(
                    Duration::from_secs(1),
                    "rate limiting is unavailable right now; retry in 1 s".to_owned(),
                ));
            }
        };
        for (&i, decision) in indices.iter().zip(&decisions) {
            self.decisions[i] = Some(*decision);
        }
        if decisions.iter().all(Decision::allowed) {
            if op == Op::Consume && indices.iter().any(|&i| self.limits[i].key_kind().is_ip()) {
                self.ip_charged = true;
            }
            return Ok(());
        }
        let refused: Vec<(&RateLimit, Quota, Decision)> = indices
            .iter()
            .zip(&decisions)
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
        Err(self.refusal(retry_after, detail))
    }

    fn states(&self) -> Vec<LimitState> {
        self.limits
            .iter()
            .zip(&self.quotas)
            .zip(&self.decisions)
            .map(|((limit, quota), decision)| LimitState {
                name: limit.name(),
                quota: *quota,
                decision: *decision,
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
