//! The Redis store: one Lua script applies a whole batch of GCRA checks atomically,
//! on the Redis server's clock, in one round trip.

use super::{Check, CheckFuture, LimitStore, Op, StoreError};
use crate::ratelimit::{Clock, Decision, Gcra, MonotonicClock};
use redis::{
    Client, Cmd, ErrorKind, Script, ServerErrorKind,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use smallvec::SmallVec;
use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// The GCRA of [`Gcra`], once more in Lua: Redis runs a script without interleaving
/// other commands, so a batch is atomic, and `TIME` is the one clock every replica
/// shares. Times are microseconds since 1970 (exact in Lua's doubles until 2255).
///
/// KEYS: one per check. ARGV[1]: 1 consume, 0 peek, -1 refund; then, per key, its
/// emission interval and tolerance in microseconds. Returns, per key, four integers:
/// admitted (1 or 0), backlog before and after (µs), and the wait of a refusal (µs).
const SCRIPT: &str = r#"
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local op = tonumber(ARGV[1])
local out, writes, admitted_all = {}, {}, true
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key))
  local written = writes[key]
  if written ~= nil then tat = written or nil end
  if tat == nil or tat < now then tat = now end
  local before = tat - now
  local admitted, after, retry = 1, before, 0
  if op == -1 then
    local released = tat - interval
    if released > now then writes[key] = released; after = released - now
    else writes[key] = false; after = 0 end
  else
    local new_tat = tat + interval
    if new_tat - now <= tolerance then
      writes[key] = new_tat; after = new_tat - now
    else
      admitted, admitted_all, retry = 0, false, new_tat - now - tolerance
    end
  end
  local n = #out
  out[n + 1] = admitted
  out[n + 2] = math.floor(before)
  out[n + 3] = math.floor(after)
  out[n + 4] = math.ceil(retry)
end
if op == -1 or (op == 1 and admitted_all) then
  for key, tat in pairs(writes) do
    if tat then
      redis.call('SET', key, tat, 'PX', math.max(1, math.ceil((tat - now) / 1000)))
    else
      redis.call('DEL', key)
    end
  end
end
return out
"#;

/// Partitions longer than this are stored as their SHA-1, so a key stays short
/// whatever a subject or a custom key holds.
const MAX_PARTITION_BYTES: usize = 64;

/// Rate-limit state in Redis, shared by every replica that uses the same Redis.
///
/// - One round trip per check: a Lua script (sent as `EVALSHA`, loaded again by
///   itself after a Redis restart) applies every limit of a request atomically, on
///   the server's clock (`TIME`), so replicas' clocks never matter.
/// - Each key expires (`PX`) when its budget is full again: Redis memory holds only
///   clients that are inside a window.
/// - One multiplexed connection ([`ConnectionManager`]) that reconnects by itself,
///   and a short timeout on every call (50 ms by default): a slow or dead Redis is an
///   error, never a hang. After a failure, checks fail at once, without waiting on
///   Redis, for a short pause (500 ms by default); then one tries again. What a
///   request gets meanwhile is the [`FailureMode`](crate::ratelimit::FailureMode) of
///   the limiter.
///
/// Standalone Redis (or a primary): a check's keys span hash slots, which Redis
/// Cluster does not allow in one script.
///
/// ```no_run
/// use secure_api::ratelimit::{Limiter, RedisStore};
/// use std::time::Duration;
///
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::builder("redis://127.0.0.1:6379/")
///     .timeout(Duration::from_millis(50))
///     .connect()
///     .await?;
/// let limiter = Limiter::builder(store).build();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    script: Script,
    prefix: String,
    timeout: Duration,
    pause: Duration,
    /// Until when checks fail without asking Redis, in nanoseconds of `clock`.
    paused_until: Arc<AtomicU64>,
    clock: MonotonicClock,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`RedisStore`], then [`connect`](Self::connect).
#[derive(Debug, Clone)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    connect_timeout: Duration,
    pause: Duration,
}

impl RedisStore {
    /// The Lua script every check runs (loaded at [`connect`](RedisStoreBuilder::connect),
    /// then called by its SHA-1 with `EVALSHA`): what a batch of GCRA checks does on the
    /// server. `KEYS`: one per check; `ARGV[1]`: 1 consume, 0 peek, -1 refund; then,
    /// per key, its emission interval and tolerance in microseconds. Answers four integers
    /// per key: admitted (1 or 0), backlog before and after (µs), the wait of a refusal
    /// (µs).
    ///
    /// ```
    /// assert!(secure_api::ratelimit::RedisStore::SCRIPT.contains("redis.call('TIME')"));
    /// ```
    pub const SCRIPT: &'static str = SCRIPT;

    /// Settings for the Redis at `url` (`redis://[user:password@]host:port/db`).
    ///
    /// ```
    /// let builder = secure_api::ratelimit::RedisStore::builder("redis://127.0.0.1:6379/");
    /// ```
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_owned(),
            prefix: "secure-api:rl:".to_owned(),
            timeout: Duration::from_millis(50),
            connect_timeout: Duration::from_secs(1),
            pause: Duration::from_millis(500),
        }
    }

    async fn run(&self, checks: &[Check<'_>], op: Op) -> Result<Vec<Decision>, StoreError> {
        if self.clock.now() < self.paused_until.load(Ordering::Relaxed) {
            return Err(StoreError(
                "Redis failed a moment ago; not asked again until the pause is over".to_owned(),
            ));
        }
        let result = self.ask(checks, op).await;
        if result.is_err() {
            let pause = u64::try_from(self.pause.as_nanos()).unwrap_or(u64::MAX);
            self.paused_until
                .store(self.clock.now().saturating_add(pause), Ordering::Relaxed);
        }
        result
    }

    async fn ask(&self, checks: &[Check<'_>], op: Op) -> Result<Vec<Decision>, StoreError> {
        let command = self.command(checks, op);
        let mut connection = self.connection.clone();
        let reply = tokio::time::timeout(self.timeout, self.query(&command, &mut connection))
            .await
            .map_err(|_| StoreError(format!("Redis did not answer within {:?}", self.timeout)))?
            .map_err(|error| StoreError(error.to_string()))?;
        if reply.len() != 4 * checks.len() {
            return Err(StoreError(format!(
                "the script answered {} numbers for {} keys",
                reply.len(),
                checks.len()
            )));
        }
        let admitted_all = reply.chunks(4).all(|answer| answer[0] == 1);
        let charged = match op {
            Op::Consume => admitted_all,
            Op::Peek | Op::Refund => true,
        };
        let nanos = |micros: i64| u64::try_from(micros).unwrap_or(0).saturating_mul(1000);
        Ok(reply
            .chunks(4)
            .zip(checks)
            .map(|(answer, check)| {
                let admitted = answer[0] == 1;
                let backlog = match admitted && charged {
                    true => answer[2],
                    false => answer[1],
                };
                Gcra::new(check.quota).decision(admitted, nanos(backlog), nanos(answer[3]))
            })
            .collect())
    }

    /// `EVALSHA` of the script for `checks`, written straight into one command (a
    /// `ScriptInvocation` would allocate every argument, then copy them all into a
    /// command of its own).
    fn command(&self, checks: &[Check<'_>], op: Op) -> Cmd {
        let mut command = Cmd::with_capacity(4 + 3 * checks.len(), 64 + 96 * checks.len());
        command
            .arg("EVALSHA")
            .arg(self.script.get_hash())
            .arg(checks.len());
        let mut key = SmallVec::<[u8; 128]>::new();
        for check in checks {
            key.clear();
            self.key_into(check, &mut key);
            command.arg(&key[..]);
        }
        command.arg(match op {
            Op::Consume => 1,
            Op::Peek => 0,
            Op::Refund => -1,
        });
        for check in checks {
            let gcra = Gcra::new(check.quota);
            command.arg(micros(gcra.interval()).as_bytes());
            command.arg(micros(gcra.tolerance()).as_bytes());
        }
        command
    }

    /// Runs `command`, loading the script first if Redis lost it (a restart, a
    /// `SCRIPT FLUSH`), as `Script::invoke_async` does.
    async fn query(
        &self,
        command: &Cmd,
        connection: &mut ConnectionManager,
    ) -> redis::RedisResult<Vec<i64>> {
        match command.query_async(connection).await {
            Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                self.script.load_async(connection).await?;
                command.query_async(connection).await
            }
            reply => reply,
        }
    }

    /// `{prefix}{budget}|{partition}`, the partition as its SHA-1 when it is long.
    fn key_into(&self, check: &Check<'_>, key: &mut SmallVec<[u8; 128]>) {
        key.extend_from_slice(self.prefix.as_bytes());
        key.extend_from_slice(check.budget.as_bytes());
        key.push(b'|');
        match check.partition.len() > MAX_PARTITION_BYTES {
            true => {
                let digest = sha1_smol::Sha1::from(check.partition).digest().to_string();
                key.extend_from_slice(b"sha1:");
                key.extend_from_slice(digest.as_bytes());
            }
            false => key.extend_from_slice(check.partition.as_bytes()),
        }
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key (default `secure-api:rl:`): several services can share
    /// one Redis under different prefixes.
    ///
    /// ```
    /// let builder = secure_api::ratelimit::RedisStore::builder("redis://127.0.0.1/").prefix("billing:rl:");
    /// ```
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    /// How long a check may wait for Redis before it counts as a failure (default
    /// 50 ms).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = secure_api::ratelimit::RedisStore::builder("redis://127.0.0.1/").timeout(Duration::from_millis(20));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long checks fail at once after a failure, before one asks Redis again
    /// (default 500 ms): during an outage, requests do not each wait for the timeout.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = secure_api::ratelimit::RedisStore::builder("redis://127.0.0.1/").pause_after_failure(Duration::from_secs(1));
    /// ```
    pub fn pause_after_failure(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// How long connecting may take, at start and on each reconnection (default 1 s).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = secure_api::ratelimit::RedisStore::builder("redis://127.0.0.1/").connect_timeout(Duration::from_millis(200));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Connects, and loads the script: a wrong URL or an unreachable Redis is an
    /// error here, at start-up, not at the first request.
    ///
    /// ```no_run
    /// # async fn start() -> Result<(), secure_api::ratelimit::StoreError> {
    /// let store = secure_api::ratelimit::RedisStore::builder("redis://127.0.0.1:6379/").connect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let fail = |why: String| {
            StoreError(format!(
                "cannot use Redis at {}: {why}",
                redacted(&self.url)
            ))
        };
        let client = Client::open(self.url.as_str()).map_err(|e| fail(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            // The handshake (at start and on each reconnect) gets the connect timeout: a
            // Redis slow to greet must not fail the start. Each request is still held
            // to `timeout`, by `check` itself.
            .set_response_timeout(Some(self.connect_timeout.max(self.timeout)))
            // Reconnect quickly and give up soon: a request never waits on it (the
            // timeout), and the next request after a failure tries again.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(200));
        let connection = tokio::time::timeout(
            self.connect_timeout * 3,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| fail("no connection within the connect timeout".to_owned()))?
        .map_err(|e| fail(e.to_string()))?;
        let script = Script::new(SCRIPT);
        // Loaded now, so the first requests do not pay for it within the short timeout.
        let mut loading = connection.clone();
        tokio::time::timeout(self.connect_timeout, script.load_async(&mut loading))
            .await
            .map_err(|_| fail("the script did not load within the connect timeout".to_owned()))?
            .map_err(|e| fail(e.to_string()))?;
        Ok(RedisStore {
            connection,
            script,
            prefix: self.prefix,
            timeout: self.timeout,
            pause: self.pause,
            paused_until: Arc::new(AtomicU64::new(0)),
            clock: MonotonicClock::new(),
        })
    }
}

impl LimitStore for RedisStore {
    fn check<'a>(&'a self, checks: &'a [Check<'a>], op: Op) -> CheckFuture<'a> {
        Box::pin(self.run(checks, op))
    }
}

/// Nanoseconds as a decimal number of microseconds, exact (`8571428.571`), on the
/// stack.
fn micros(nanos: u64) -> Micros {
    let mut text = Micros {
        len: 0,
        bytes: [0; 24],
    };
    let mut whole = itoa::Buffer::new();
    let digits = whole.format(nanos / 1000).as_bytes();
    text.bytes[..digits.len()].copy_from_slice(digits);
    let fraction = nanos % 1000;
    text.bytes[digits.len()..digits.len() + 4].copy_from_slice(&[
        b'.',
        b'0' + (fraction / 100) as u8,
        b'0' + (fraction / 10 % 10) as u8,
        b'0' + (fraction % 10) as u8,
    ]);
    text.len = digits.len() + 4;
    text
}

/// The text of [`micros`]: at most 18 digits, a point and 3 more.
struct Micros {
    len: usize,
    bytes: [u8; 24],
}

impl Micros {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_keep_every_nanosecond() {
        let text = |nanos| String::from_utf8(micros(nanos).as_bytes().to_vec()).unwrap();
        assert_eq!(text(8_571_428_571), "8571428.571");
        assert_eq!(text(999), "0.999");
        assert_eq!(text(6_000_000_000), "6000000.000");
        assert_eq!(text(u64::MAX), "18446744073709551.615");
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redacted("redis://user:hunter2@cache:6379/0"),
            "redis://***@cache:6379/0"
        );
        assert_eq!(
            redacted("redis://127.0.0.1:6379/"),
            "redis://127.0.0.1:6379/"
        );
    }
}
