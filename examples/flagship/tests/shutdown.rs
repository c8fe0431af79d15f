//! The flagship's binary stops cleanly on SIGTERM and on Ctrl-C (SIGINT): a request
//! in flight when the signal arrives still gets its whole answer, then the process
//! exits with status 0.
//!
//! The request in flight is a login whose form body is sent in two halves, the
//! signal arriving in between: the service has started the request and cannot
//! answer it before the rest of the body comes.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

/// Far below the service's 10 s grace period: an exit that comes only when the grace
/// period runs out would mean in-flight requests were waited for in vain.
const PROMPTLY: Duration = Duration::from_secs(5);

/// The binary, started on a free port, and the address it says it listens on.
fn start() -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flagship"))
        .env("SECURE_API_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the flagship binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the flagship says where it listens before its output ends")
            .unwrap();
        if let Some((_, rest)) = line.split_once("listening on http://") {
            break rest
                .split(|c: char| c == ';' || c.is_whitespace())
                .next()
                .unwrap()
                .to_owned();
        }
    };
    // Keep draining its output, so the service never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -{name} {}", child.id());
}

fn wait_with_deadline(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn in_flight_login_survives(signal_name: &str) {
    let (mut child, addr) = start();
    let body = "grant_type=password&username=alice&password=password";
    let (first, rest) = body.split_at(20);

    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    // Let the service take the request in before it is told to stop.
    std::thread::sleep(Duration::from_millis(300));

    signal(&child, signal_name);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the service quit with a request in flight"
    );
    stream.write_all(rest.as_bytes()).unwrap();

    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"access_token\""), "{answer}");

    let status = wait_with_deadline(&mut child, PROMPTLY).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("still running {PROMPTLY:?} after its last request ended");
    });
    assert!(
        status.success(),
        "exit status after {signal_name}: {status}"
    );
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    in_flight_login_survives("TERM");
}

#[test]
fn ctrl_c_finishes_the_request_in_flight_then_exits_0() {
    in_flight_login_survives("INT");
}
