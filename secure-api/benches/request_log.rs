//! What the request log costs per request, next to its baseline: one request through
//! `App` with the log turned off (`request_log(false)`), the same with the log on but
//! filtered out by the subscriber (what a service running at `RUST_LOG=warn` pays), and
//! the same with every event formatted (to a sink, so no I/O is measured).
//!
//! Run: `cargo bench -p secure-api --bench request_log`; results in BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use secure_api::{
    App,
    poem::{self, Endpoint, Request, Route, handler},
};
use tracing::Level;

#[handler]
fn hello() -> &'static str {
    "hello"
}

fn request() -> Request {
    Request::builder()
        .uri("/hello?api-key=never-logged".parse().unwrap())
        .header("host", "localhost")
        .finish()
}

fn request_log(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let quiet = App::new(Route::new().at("/hello", hello)).request_log(false);
    let logged = App::new(Route::new().at("/hello", hello));
    let filtered_out = tracing_subscriber::fmt()
        .with_max_level(Level::WARN)
        .with_writer(std::io::sink)
        .finish();
    let formatted = tracing_subscriber::fmt()
        .with_max_level(Level::INFO)
        .with_ansi(false)
        .with_writer(std::io::sink)
        .finish();

    let mut group = c.benchmark_group("request log, one request through App");
    tracing::subscriber::with_default(filtered_out, || {
        group.bench_function("baseline: request_log(false)", |b| {
            b.iter(|| runtime.block_on(quiet.get_response(request())))
        });
        group.bench_function("log on, filtered out (RUST_LOG=warn)", |b| {
            b.iter(|| runtime.block_on(logged.get_response(request())))
        });
    });
    tracing::subscriber::with_default(formatted, || {
        group.bench_function("log on, one line formatted (to a sink)", |b| {
            b.iter(|| runtime.block_on(logged.get_response(request())))
        });
    });
    group.finish();
}

criterion_group!(benches, request_log);
criterion_main!(benches);
