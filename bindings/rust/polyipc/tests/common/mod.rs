//! Helpers shared by the integration tests: unique names that are unlinked
//! afterwards, and child processes (this test binary run again in a role).
#![allow(dead_code)]
use polyipc::{Queue, QueueOptions};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// Generous bound for anything that should take milliseconds, so a loaded
/// 2-core machine does not fail a test, and a bug does not hang it.
pub const BOUND: Duration = Duration::from_secs(20);

/// A queue name unique to this process and call (ctest also gives every run
/// its own $POLYIPC_NAMESPACE). Unlinked when dropped.
pub struct Name(pub String);

impl Name {
    pub fn new(what: &str) -> Name {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        Name(format!("rs.{what}.{}.{n}", std::process::id()))
    }

    pub fn open(&self, opts: &QueueOptions) -> Queue {
        Queue::open(&self.0, opts).unwrap_or_else(|e| panic!("open {}: {e}", self.0))
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let _ = polyipc::unlink(&self.0); // the test's own object; may already be gone
    }
}

const ROLE_ENV: &str = "POLYIPC_RUST_TEST_ROLE";
const QUEUE_ENV: &str = "POLYIPC_RUST_TEST_QUEUE";

/// In a child started by `ChildProc::spawn(test, role, queue)`: the queue name
/// when this process plays `role`, else None (the test then does nothing).
pub fn child_role(role: &str) -> Option<String> {
    match std::env::var(ROLE_ENV) {
        Ok(r) if r == role => Some(std::env::var(QUEUE_ENV).expect("queue name for the child")),
        _ => None,
    }
}

/// What a child says to its parent: one line on stdout, prefixed so it stands
/// out from the test harness's own output.
pub fn tell(line: impl AsRef<str>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "CHILD: {}", line.as_ref()).unwrap();
    out.flush().unwrap();
}

/// A child process running one test function of this binary in a role. Its
/// `CHILD:` lines arrive on a channel, so every wait for them is bounded. A
/// child still running when this is dropped is killed (it is ours).
pub struct ChildProc {
    pub child: Child,
    lines: Receiver<String>,
}

impl ChildProc {
    pub fn spawn(test: &str, role: &str, queue: &str, args: &[&str]) -> ChildProc {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new(exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(ROLE_ENV, role)
            .env(QUEUE_ENV, queue)
            .env("POLYIPC_RUST_TEST_ARGS", args.join(" "))
            .stdin(Stdio::piped()) // a child blocked reading it ends when we do
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the test binary as a child");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        let role = role.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may have written "test NAME ... " on the same line
                match line.find("CHILD: ").map(|at| &line[at + 7..]) {
                    Some(msg) => {
                        if tx.send(msg.to_string()).is_err() {
                            break;
                        }
                    }
                    // the harness's own lines, shown in case the child fails
                    None => eprintln!("  child {role}: {line}"),
                }
            }
        });
        ChildProc { child, lines: rx }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line the child tells, within `timeout`.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// Waits at most `timeout` for the child to exit; its exit status.
    pub fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            // polling the exit of a process: std has no waitpid with a timeout
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for ChildProc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn child_args() -> Vec<String> {
    std::env::var("POLYIPC_RUST_TEST_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect()
}
