//! The mutual-TLS listener: its own accept loop (tokio-rustls), so the verified peer
//! certificate of each connection can be attached to each of its requests, which
//! poem's rustls listener cannot do (poem-web/poem#468, #837).

use super::{ClientCert, MtlsConfig};
use hyper::{body::Incoming, service::service_fn};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{
        conn::auto,
        graceful::{GracefulShutdown, Watcher},
    },
};
use poem::{
    Addr, Endpoint, EndpointExt, IntoEndpoint, Request,
    http::uri::Scheme,
    web::{LocalAddr, RemoteAddr},
};
use std::{convert::Infallible, future::Future, io, net::SocketAddr, sync::Arc, time::Duration};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio_rustls::TlsAcceptor;

/// A TCP listener that serves HTTPS (HTTP/1.1 and HTTP/2) only to clients with a
/// certificate signed by the configured CA, and hands each request its connection's
/// [`ClientCert`].
///
/// ```no_run
/// use secure_api::mtls::{ClientCert, MtlsConfig, MtlsListener};
/// use secure_api::poem::{self, Route, handler};
///
/// #[handler]
/// fn whoami(peer: ClientCert) -> String {
///     peer.common_name().unwrap_or("unnamed").to_owned()
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = MtlsConfig::from_pem_files("server.crt", "server.key", "clients-ca.crt")?;
/// let listener = MtlsListener::bind("127.0.0.1:8443", &config).await?;
/// listener.run(Route::new().at("/whoami", whoami)).await?;
/// # Ok(())
/// # }
/// ```
pub struct MtlsListener {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for MtlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtlsListener")
            .field("local_addr", &self.listener.local_addr().ok())
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

impl MtlsListener {
    /// Binds `addr` (port 0 picks a free port).
    ///
    /// ```no_run
    /// # use secure_api::mtls::{MtlsConfig, MtlsListener};
    /// # async fn run(config: MtlsConfig) -> std::io::Result<()> {
    /// let listener = MtlsListener::bind("127.0.0.1:0", &config).await?;
    /// println!("mTLS on {}", listener.local_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs, config: &MtlsConfig) -> io::Result<Self> {
        Ok(MtlsListener {
            listener: TcpListener::bind(addr).await?,
            acceptor: TlsAcceptor::from(config.server.clone()),
            handshake_timeout: Duration::from_secs(10),
        })
    }

    /// How long a client may take to complete the handshake (10 s by default), so a
    /// connection that never finishes it does not hold resources.
    ///
    /// ```no_run
    /// # use secure_api::mtls::{MtlsConfig, MtlsListener};
    /// # use std::time::Duration;
    /// # async fn run(config: MtlsConfig) -> std::io::Result<()> {
    /// let listener = MtlsListener::bind("127.0.0.1:0", &config).await?
    ///     .handshake_timeout(Duration::from_secs(5));
    /// # Ok(())
    /// # }
    /// ```
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The bound address.
    ///
    /// ```no_run
    /// # use secure_api::mtls::{MtlsConfig, MtlsListener};
    /// # async fn run(config: MtlsConfig) -> std::io::Result<()> {
    /// let port = MtlsListener::bind("127.0.0.1:0", &config).await?.local_addr()?.port();
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves `endpoint` until the process ends.
    ///
    /// ```no_run
    /// # use secure_api::mtls::{MtlsConfig, MtlsListener};
    /// # async fn run(config: MtlsConfig) -> std::io::Result<()> {
    /// MtlsListener::bind("127.0.0.1:8443", &config).await?.run(secure_api::poem::Route::new()).await
    /// # }
    /// ```
    pub async fn run<E>(self, endpoint: E) -> io::Result<()>
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.run_with_graceful_shutdown(endpoint, std::future::pending(), None)
            .await
    }

    /// Serves `endpoint` until `signal`; then stops accepting and lets open
    /// connections finish their requests, for at most `timeout` when given.
    ///
    /// ```no_run
    /// # use secure_api::mtls::{MtlsConfig, MtlsListener};
    /// # use std::time::Duration;
    /// # async fn run(config: MtlsConfig) -> std::io::Result<()> {
    /// let listener = MtlsListener::bind("127.0.0.1:8443", &config).await?;
    /// let stop = async { let _ = tokio::signal::ctrl_c().await; };
    /// listener
    ///     .run_with_graceful_shutdown(secure_api::poem::Route::new(), stop, Some(Duration::from_secs(10)))
    ///     .await
    /// # }
    /// ```
    pub async fn run_with_graceful_shutdown<E>(
        self,
        endpoint: E,
        signal: impl Future<Output = ()>,
        timeout: Option<Duration>,
    ) -> io::Result<()>
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        let endpoint = Arc::new(endpoint.into_endpoint().map_to_response());
        let local = self.listener.local_addr()?;
        let graceful = GracefulShutdown::new();
        tracing::info!(addr = %local, "mTLS listener started");
        tokio::pin!(signal);
        loop {
            let (tcp, peer) = tokio::select! {
                _ = &mut signal => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(%error, "mTLS listener: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let connection = Connection {
                tcp,
                acceptor: self.acceptor.clone(),
                handshake_timeout: self.handshake_timeout,
                local,
                peer,
            };
            let watcher = graceful.watcher();
            let endpoint = endpoint.clone();
            tokio::spawn(async move {
                connection.serve(endpoint, watcher).await;
            });
        }
        drop(self.listener);
        match timeout {
            Some(timeout) => {
                if tokio::time::timeout(timeout, graceful.shutdown())
                    .await
                    .is_err()
                {
                    tracing::warn!("mTLS listener: connections still open after the grace period");
                }
            }
            None => graceful.shutdown().await,
        }
        Ok(())
    }
}

struct Connection {
    tcp: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
    local: SocketAddr,
    peer: SocketAddr,
}

impl Connection {
    /// The handshake (client-certificate verification included), then HTTP on the
    /// connection, each request carrying the peer's certificate.
    async fn serve<E>(self, endpoint: Arc<E>, watcher: Watcher)
    where
        E: Endpoint<Output = poem::Response> + 'static,
    {
        let Connection {
            tcp,
            acceptor,
            handshake_timeout,
            local,
            peer,
        } = self;
        let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(error)) => {
                tracing::info!(%peer, %error, "mTLS handshake refused");
                return;
            }
            Err(_) => {
                tracing::info!(%peer, "mTLS handshake timed out");
                return;
            }
        };
        let leaf = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|der| der.clone().into_owned());
        let Some(leaf) = leaf else {
            // The verifier requires a certificate; this is only a second lock.
            tracing::warn!(%peer, "mTLS connection without a client certificate: closed");
            return;
        };
        let client = ClientCert::from_verified(leaf);
        tracing::debug!(
            %peer,
            common_name = client.common_name().unwrap_or("-"),
            fingerprint = %client.fingerprint_sha256(),
            "mTLS client connected"
        );
        let local = LocalAddr(Addr::SocketAddr(local));
        let remote = RemoteAddr(Addr::SocketAddr(peer));
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            // poem keeps the request's extensions: the certificate travels with it.
            request.extensions_mut().insert(client.clone());
            let request = Request::from((request, local.clone(), remote.clone(), Scheme::HTTPS));
            let endpoint = endpoint.clone();
            async move {
                let response: hyper::Response<_> = endpoint.get_response(request).await.into();
                Ok::<_, Infallible>(response)
            }
        });
        let builder = auto::Builder::new(TokioExecutor::new());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(tls), service)
            .into_owned();
        if let Err(error) = watcher.watch(connection).await {
            tracing::debug!(%peer, %error, "mTLS connection ended with an error");
        }
    }
}
