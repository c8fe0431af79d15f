//! One rate-limit check, per store, next to its baseline: the memory store (through
//! `LimitStore::decide_now`, what the guard chain calls) next to `governor`'s keyed
//! limiter (uncontended, and with two threads on both cores); the Redis store next to
//! a bare `EVALSHA` of `return 1` on loopback (the round trip) and to a bare `EVALSHA`
//! of the store's own script on the same connection (what the GCRA costs on the
//! server, without our wrapper).
//!
//! `cargo bench -p secure-api --features redis --bench ratelimit` (needs
//! `redis-server` on the PATH: `apt-get install redis-server`). Results are in
//! `BENCHMARKS.md`.

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use governor::{Quota as GovernorQuota, RateLimiter};
use redis::{ScriptInvocation, aio::MultiplexedConnection};
use secure_api::ratelimit::{
    Check, Decision, Gcra, LimitStore, Limiter, MemoryStore, Op, Quota, RedisStore,
};
use std::{
    hint::black_box,
    net::TcpListener,
    num::NonZeroU32,
    process::{Child, Command, Stdio},
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

/// A quota no benchmark exhausts: every check admits, as most checks in a service do.
fn quota() -> Quota {
    Quota::per(u32::MAX, Duration::from_secs(1))
}

fn governor_quota() -> GovernorQuota {
    GovernorQuota::per_second(NonZeroU32::MAX)
}

/// 100,000 clients' keys, as the chain builds them.
fn partitions() -> Vec<String> {
    (0..100_000u32)
        .map(|i| format!("ip:10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
        .collect()
}

/// One check through the trait object, as the guard chain makes it.
fn decide(store: &dyn LimitStore, checks: &[Check<'_>]) -> Decision {
    let mut decisions = [Decision::default(); 2];
    store.decide_now(checks, Op::Consume, &mut decisions[..checks.len()]);
    decisions[0]
}

fn memory(c: &mut Criterion) {
    let partitions = partitions();
    let mut group = c.benchmark_group("memory: one check, uncontended");

    let store: Arc<dyn LimitStore> = Arc::new(MemoryStore::new());
    group.bench_function("MemoryStore (decide_now), one key", |b| {
        let check = [Check {
            budget: "public",
            partition: &partitions[0],
            quota: quota(),
        }];
        b.iter(|| black_box(decide(&*store, black_box(&check))));
    });
    let governor = RateLimiter::keyed(governor_quota());
    group.bench_function("governor keyed (DashMap), one key", |b| {
        b.iter(|| black_box(governor.check_key(black_box(&partitions[0]))));
    });

    let store: Arc<dyn LimitStore> = Arc::new(MemoryStore::new());
    group.bench_function("MemoryStore (decide_now), 100k keys in turn", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % partitions.len();
            let check = [Check {
                budget: "public",
                partition: &partitions[i],
                quota: quota(),
            }];
            black_box(decide(&*store, &check))
        });
    });
    let governor = RateLimiter::keyed(governor_quota());
    group.bench_function("governor keyed (DashMap), 100k keys in turn", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % partitions.len();
            black_box(governor.check_key(&partitions[i]))
        });
    });

    let store: Arc<dyn LimitStore> = Arc::new(MemoryStore::new());
    group.bench_function("MemoryStore (decide_now), two stacked limits", |b| {
        let checks = [
            Check {
                budget: "minute",
                partition: &partitions[0],
                quota: quota(),
            },
            Check {
                budget: "day",
                partition: &partitions[0],
                quota: quota(),
            },
        ];
        b.iter(|| black_box(decide(&*store, black_box(&checks))));
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let limiter = Limiter::in_memory();
    group.bench_function(
        "Limiter::check over MemoryStore (the public async API: a Vec per answer)",
        |b| {
            let check = [Check {
                budget: "public",
                partition: &partitions[0],
                quota: quota(),
            }];
            b.to_async(&runtime)
                .iter(|| limiter.check(black_box(&check), Op::Consume));
        },
    );
    group.finish();
}

/// Two threads, one per core, each checking `iters` times; the time per check of one
/// thread while the other contends.
fn contended(iters: u64, one_key: bool, check: impl Fn(usize) + Sync) -> Duration {
    let start = Instant::now();
    thread::scope(|scope| {
        for thread in 0..2 {
            let check = &check;
            scope.spawn(move || {
                for i in 0..iters as usize {
                    check(if one_key {
                        0
                    } else {
                        (i * 2 + thread) % 100_000
                    });
                }
            });
        }
    });
    start.elapsed()
}

fn memory_contended(c: &mut Criterion) {
    let partitions = partitions();
    let mut group = c.benchmark_group("memory: one check, both cores contending");
    for one_key in [true, false] {
        let what = match one_key {
            true => "one key",
            false => "100k keys",
        };
        let store: Arc<dyn LimitStore> = Arc::new(MemoryStore::new());
        group.bench_function(BenchmarkId::new("MemoryStore (decide_now)", what), |b| {
            b.iter_custom(|iters| {
                contended(iters, one_key, |i| {
                    let check = [Check {
                        budget: "public",
                        partition: &partitions[i],
                        quota: quota(),
                    }];
                    black_box(decide(&*store, &check));
                })
            });
        });
        let governor = RateLimiter::keyed(governor_quota());
        group.bench_function(BenchmarkId::new("governor keyed (DashMap)", what), |b| {
            b.iter_custom(|iters| {
                contended(iters, one_key, |i| {
                    let _ = black_box(governor.check_key(&partitions[i]));
                })
            });
        });
    }
    group.finish();
}

/// A `redis-server` on a free loopback port, killed at the end.
struct Server(Child, u16);

impl Server {
    fn start() -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start redis-server ({error}): install it with `apt-get install redis-server`")
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            thread::sleep(Duration::from_millis(20));
        }
        Server(child, port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis(c: &mut Criterion) {
    let server = Server::start();
    let url = format!("redis://127.0.0.1:{}/", server.1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let store = runtime.block_on(async {
        RedisStore::builder(&url)
            .timeout(Duration::from_secs(1))
            .connect()
            .await
            .unwrap()
    });
    let store = Arc::new(store);
    let connection = runtime.block_on(async {
        redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    });
    let bare = redis::Script::new("return 1");
    let ours = redis::Script::new(RedisStore::SCRIPT);
    runtime.block_on(async {
        let mut connection = connection.clone();
        ours.load_async(&mut connection).await.unwrap();
    });
    // What the store sends for `keys`, built once: the script alone, no wrapper.
    let by_hand = |keys: &[&str]| {
        let gcra = Gcra::new(quota());
        let micros = |nanos: u64| format!("{}.{:03}", nanos / 1000, nanos % 1000);
        let mut invocation = ours.prepare_invoke();
        invocation.arg(1);
        for key in keys {
            invocation.key(format!("secure-api:rl:{key}|ip:192.0.2.1"));
            invocation.arg(micros(gcra.interval()));
            invocation.arg(micros(gcra.tolerance()));
        }
        invocation
    };

    let mut group = c.benchmark_group("redis: one check, loopback round trip");
    let bare = bare.prepare_invoke();
    bench_bare(
        &mut group,
        "bare EVALSHA (return 1)",
        &runtime,
        &connection,
        &bare,
    );
    let one_key = by_hand(&["bare"]);
    let name = "bare EVALSHA of the store's script, one key";
    bench_bare(&mut group, name, &runtime, &connection, &one_key);
    group.bench_function("RedisStore, one limit", |b| {
        let check = [Check {
            budget: "public",
            partition: "ip:192.0.2.1",
            quota: quota(),
        }];
        b.to_async(&runtime)
            .iter(|| store.check(black_box(&check), Op::Consume));
    });
    let two_keys = by_hand(&["bare-minute", "bare-day"]);
    let name = "bare EVALSHA of the store's script, two keys";
    bench_bare(&mut group, name, &runtime, &connection, &two_keys);
    group.bench_function("RedisStore, two stacked limits", |b| {
        let checks = [
            Check {
                budget: "minute",
                partition: "ip:192.0.2.1",
                quota: quota(),
            },
            Check {
                budget: "day",
                partition: "ip:192.0.2.1",
                quota: quota(),
            },
        ];
        b.to_async(&runtime)
            .iter(|| store.check(black_box(&checks), Op::Consume));
    });
    group.finish();
    drop(server);
}

/// A bare `EVALSHA` of `invocation` on a plain multiplexed connection: nothing of ours
/// around it.
fn bench_bare(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    runtime: &tokio::runtime::Runtime,
    connection: &MultiplexedConnection,
    invocation: &ScriptInvocation<'_>,
) {
    group.bench_function(name, |b| {
        b.to_async(runtime).iter(|| {
            let mut connection = connection.clone();
            async move {
                let reply: redis::Value = invocation.invoke_async(&mut connection).await.unwrap();
                black_box(reply)
            }
        });
    });
}

criterion_group!(benches, memory, memory_contended, redis);
criterion_main!(benches);
