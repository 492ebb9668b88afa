//! Runs the demo for real: two `worker`s and one `producer` (the binaries of
//! this package) share demo.jobs; every job is done exactly once and all
//! three exit. Bounded waits only.
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const BOUND: Duration = Duration::from_secs(30);
const JOBS: u64 = 20;

fn spawn(exe: &str, args: &[&str]) -> (Child, Receiver<String>) {
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect(exe);
    let out = child.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn wait(child: &mut Child, what: &str) {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{what} exited with {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not exit within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(10)); // polling an exit: std has no timed wait
    }
}

/// Every line the process printed: its pipe ends when it exits.
fn all_lines(rx: Receiver<String>) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(BOUND) {
            Ok(line) => lines.push(line),
            Err(RecvTimeoutError::Disconnected) => return lines,
            Err(RecvTimeoutError::Timeout) => {
                panic!("output still open {BOUND:?} after exit: {lines:?}")
            }
        }
    }
}

#[test]
fn two_workers_do_every_job_of_a_producer_once() {
    if std::env::var_os("POLYIPC_NAMESPACE").is_none() {
        // Never touch the user's demo.jobs in "default". SAFETY: the only
        // test of this binary, before it starts any thread.
        unsafe {
            std::env::set_var(
                "POLYIPC_NAMESPACE",
                format!("rust-examples-{}", std::process::id()),
            )
        };
    }
    let _ = polyipc::unlink("demo.jobs"); // a leftover of an earlier failed run
    let (mut w1, lines1) = spawn(env!("CARGO_BIN_EXE_worker"), &[]);
    let (mut w2, lines2) = spawn(env!("CARGO_BIN_EXE_worker"), &[]);
    let (mut producer, producer_lines) =
        spawn(env!("CARGO_BIN_EXE_producer"), &[&JOBS.to_string()]);
    wait(&mut producer, "producer");
    wait(&mut w1, "worker 1");
    wait(&mut w2, "worker 2");
    polyipc::unlink("demo.jobs").expect("the demo leaves demo.jobs for someone to unlink");

    let summary = all_lines(producer_lines);
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert!(
        summary[0].starts_with("producer rust pid ")
            && summary[0].contains(&format!("{JOBS} jobs")),
        "{summary:?}"
    );

    let mut done = BTreeMap::new();
    for (lines, worker) in [(lines1, &w1), (lines2, &w2)] {
        let prefix = format!("worker rust pid {}: ", worker.id());
        let lines = all_lines(lines);
        let (last, jobs) = lines.split_last().expect("a worker prints its exit");
        assert!(
            last.starts_with(&prefix) && last.contains("exiting after"),
            "{last}"
        );
        for line in jobs {
            let job = line
                .strip_prefix(&prefix)
                .and_then(|l| l.strip_prefix("job "))
                .and_then(|l| l.strip_suffix(" done"));
            let job: u64 = job
                .unwrap_or_else(|| panic!("unexpected line {line:?}"))
                .parse()
                .unwrap();
            *done.entry(job).or_insert(0) += 1;
        }
    }
    assert_eq!(
        done.keys().copied().collect::<Vec<_>>(),
        (1..=JOBS).collect::<Vec<_>>()
    );
    assert!(
        done.values().all(|&n| n == 1),
        "each job done once: {done:?}"
    );
}
