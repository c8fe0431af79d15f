//! A real PostgreSQL for the tests: a fresh cluster in a temporary directory, on a free
//! loopback port, trusting local connections; stopped and deleted on drop.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::atomic::{AtomicUsize, Ordering},
};

/// A running `postgres` of its own cluster.
pub struct PostgresServer {
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
    /// The account the server runs as when the tests run as root (PostgreSQL refuses
    /// to run as root; CI runs as root).
    run_as: Option<String>,
}

impl PostgresServer {
    /// `initdb` and starts a cluster, and waits until it accepts connections.
    ///
    /// Panics, saying how to install it, when PostgreSQL is missing.
    pub fn start() -> PostgresServer {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let bin = binaries();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = std::env::temp_dir().join(format!(
            "secure-api-postgres-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory for PostgreSQL");
        let run_as = unprivileged_account(&dir);
        let server = PostgresServer {
            port,
            dir,
            bin,
            run_as,
        };
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
        );
        // Durability off: a test cluster lives for one test.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off",
            server.port,
            server.dir.display()
        );
        let log = server.dir.join("server.log");
        let started = server.try_run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        if !started.status.success() {
            panic!(
                "PostgreSQL did not start on port {}: {}\n{}",
                server.port,
                String::from_utf8_lossy(&started.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        server
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.try_run(tool, args);
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn try_run(&self, tool: &str, args: &[&str]) -> Output {
        let program = self.bin.join(tool);
        let mut command = match &self.run_as {
            Some(account) => {
                let mut command = Command::new("runuser");
                command.args(["-u", account, "--"]).arg(&program);
                command
            }
            None => Command::new(&program),
        };
        command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", program.display()))
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self.try_run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), or the directory
/// of an `initdb` on the PATH.
fn binaries() -> PathBuf {
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin);
    let on_path = || {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
        })
    };
    debian.or_else(on_path).unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed, and the PostgreSQL tests need a real server: \
             install it with `apt-get install postgresql` (Debian, Ubuntu) or your system's \
             package manager, then run the tests again"
        )
    })
}

/// As root, the account to run PostgreSQL as (`postgres` when Debian's package made it,
/// else `nobody`), made owner of `dir`; `None` for any other user.
fn unprivileged_account(dir: &Path) -> Option<String> {
    if id(&["-u"])? != 0 {
        return None;
    }
    let account = ["postgres", "nobody"]
        .into_iter()
        .find(|account| id(&["-u", account]).is_some())
        .expect("as root, the tests run PostgreSQL as `postgres` or `nobody`; neither exists");
    let uid = id(&["-u", account]);
    let gid = id(&["-g", account]);
    std::os::unix::fs::chown(dir, uid, gid).expect("give the cluster's directory to its account");
    Some(account.to_owned())
}

/// `id ARGS` as a number.
fn id(args: &[&str]) -> Option<u32> {
    let output = Command::new("id").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()?.trim().parse().ok()
}
