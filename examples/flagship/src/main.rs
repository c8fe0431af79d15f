//! `cargo run -p flagship`: the seed's API on 127.0.0.1:3000, no configuration needed.

use flagship::config::Config;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,poem=warn".into()),
        )
        // Colours for a person at a terminal; plain text for a file or a collector.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let running = match flagship::start(config).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("error: cannot start: {error}");
            std::process::exit(1);
        }
    };
    tracing::info!(
        "listening on http://{addr}; docs at http://{addr}/docs, OpenAPI at http://{addr}/openapi.json",
        addr = running.addr
    );
    match &running.mtls {
        Some((addr, _)) => {
            tracing::info!("mutual TLS on https://{addr} (client certificates required)")
        }
        None => tracing::info!(
            "no mTLS listener: set SECURE_API_TLS_CERT, SECURE_API_TLS_KEY and SECURE_API_TLS_CLIENT_CA"
        ),
    }
    match running.server.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            eprintln!("error: server failed: {error}");
            std::process::exit(1);
        }
        Err(error) => {
            eprintln!("error: server task failed: {error}");
            std::process::exit(1);
        }
    }
}
