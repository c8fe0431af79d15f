//! `cargo run --release -p baseline`: the yardstick service on 127.0.0.1:3001.

#[tokio::main]
async fn main() {
    let addr = std::env::var("BASELINE_ADDR").unwrap_or_else(|_| "127.0.0.1:3001".to_owned());
    let running = match baseline::start(&addr).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("error: cannot start: {error}");
            std::process::exit(1);
        }
    };
    println!("baseline listening on http://{}", running.addr);
    if let Ok(Err(error)) = running.server.await {
        eprintln!("error: server failed: {error}");
        std::process::exit(1);
    }
}
