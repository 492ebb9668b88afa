//! Across real processes: this test binary runs again as a child in a role
//! (the `child_*` tests do nothing unless started that way).
mod common;
use common::{BOUND, ChildProc, Name, child_args, child_role, tell};
use polyipc::{Format, OpenMode, Queue, QueueOptions, Status};
use std::collections::BTreeMap;
use std::time::Duration;

const NOW: Option<Duration> = Some(Duration::ZERO);

fn joinable() -> QueueOptions {
    QueueOptions::new().joinable(true)
}

fn bytes_joinable() -> QueueOptions {
    joinable().format(Format::Bytes)
}

// ---- child roles ---------------------------------------------------------

/// Puts N jobs {"job": i}, then close_writes.
#[test]
fn child_producer() {
    let Some(name) = child_role("producer") else {
        return;
    };
    let n: u32 = child_args()[0].parse().unwrap();
    let q = Queue::open(&name, &joinable().open_mode(OpenMode::OpenOnly)).unwrap();
    for i in 0..n {
        q.put_json(
            &serde_json::json!({"job": i, "from": "rust-child"}),
            Some(BOUND),
        )
        .unwrap();
    }
    q.close_writes().unwrap();
    tell(format!("put {n}"));
}

/// Takes jobs until CLOSED, task_done for each, tells every job it did.
#[test]
fn child_consumer() {
    let Some(name) = child_role("consumer") else {
        return;
    };
    let q = Queue::open(&name, &joinable().open_mode(OpenMode::OpenOnly)).unwrap();
    let mut done = 0;
    loop {
        match q.get_json::<serde_json::Value>(Some(BOUND)) {
            Ok(job) => {
                tell(format!("did {}", job["job"]));
                q.task_done().unwrap();
                done += 1;
            }
            Err(e) if e.status() == Status::Closed => break,
            Err(e) => panic!("consumer: {e}"),
        }
    }
    tell(format!("closed after {done}"));
}

/// Takes one job and holds its lease until killed (or until the parent's
/// end of its stdin, so it never outlives a failed parent).
#[test]
fn child_lease_holder() {
    let Some(name) = child_role("lease-holder") else {
        return;
    };
    let q = Queue::open(&name, &joinable().open_mode(OpenMode::OpenOnly)).unwrap();
    let job: serde_json::Value = q.get_json(Some(BOUND)).unwrap();
    tell(format!("holding {}", job["job"]));
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    std::process::exit(3);
}

/// On a bytes queue: gets "a", "b", "c", ends "c" and "b" by message, still
/// works on "a" until killed (or until the parent's end of its stdin).
#[test]
fn child_out_of_order_finisher() {
    let Some(name) = child_role("out-of-order-finisher") else {
        return;
    };
    let q = Queue::open(&name, &bytes_joinable().open_mode(OpenMode::OpenOnly)).unwrap();
    let got: Vec<Vec<u8>> = (0..3).map(|_| q.get(Some(BOUND)).unwrap()).collect();
    assert_eq!(got, [b"a", b"b", b"c"]);
    q.task_done_message(&got[2]).unwrap();
    q.task_done_message(&got[1]).unwrap();
    tell("ended c b");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    std::process::exit(3);
}

// ---- tests ---------------------------------------------------------------

#[test]
fn a_producer_process_feeds_this_process_until_end_of_stream() {
    let name = Name::new("xproc-producer");
    let q = name.open(&joinable());
    let mut producer = ChildProc::spawn("child_producer", "producer", &name, &["200"]);
    let mut got = Vec::new();
    loop {
        match q.get_json::<serde_json::Value>(Some(BOUND)) {
            Ok(job) => {
                assert_eq!(job["from"], "rust-child");
                got.push(job["job"].as_u64().unwrap());
                q.task_done().unwrap();
            }
            Err(e) if e.status() == Status::Closed => break,
            Err(e) => panic!("get: {e}"),
        }
    }
    assert_eq!(got, (0..200).collect::<Vec<_>>(), "FIFO across processes");
    assert_eq!(producer.next_line(BOUND).as_deref(), Some("put 200"));
    assert!(producer.wait(BOUND).expect("producer exits").success());
    q.join(Some(BOUND)).unwrap();
}

#[test]
fn consumer_processes_share_the_work_and_join_returns() {
    let name = Name::new("xproc-consumers");
    let q = name.open(&joinable());
    let consumers: Vec<_> = (0..2)
        .map(|_| ChildProc::spawn("child_consumer", "consumer", &name, &[]))
        .collect();
    const N: u64 = 300;
    for i in 0..N {
        q.put_json(&serde_json::json!({"job": i}), Some(BOUND))
            .unwrap();
    }
    q.join(Some(BOUND))
        .expect("join returns once the consumers did every job");
    q.close_writes().unwrap();
    let mut seen = BTreeMap::new();
    let mut total = 0;
    for mut c in consumers {
        loop {
            let line = c
                .next_line(BOUND)
                .expect("the consumer reports until it stops");
            if let Some(n) = line.strip_prefix("did ") {
                *seen.entry(n.parse::<u64>().unwrap()).or_insert(0) += 1;
            } else {
                total += line
                    .strip_prefix("closed after ")
                    .unwrap()
                    .parse::<u64>()
                    .unwrap();
                break;
            }
        }
        assert!(c.wait(BOUND).expect("consumer exits").success());
    }
    assert_eq!(total, N);
    assert_eq!(seen.len() as u64, N);
    assert!(seen.values().all(|&n| n == 1), "each job done exactly once");
}

#[test]
fn a_lease_of_a_killed_process_is_redelivered_and_join_returns() {
    let name = Name::new("xproc-kill");
    let q = name.open(&joinable());
    for i in 0..3 {
        q.put_json(&serde_json::json!({"job": i}), NOW).unwrap();
    }
    // A joiner from before the crash must be released by the rescue.
    let (tx, joined) = std::sync::mpsc::channel();
    let joiner = {
        let name = name.0.clone();
        std::thread::spawn(move || {
            let q = Queue::open(&name, &joinable().open_mode(OpenMode::OpenOnly)).unwrap();
            tx.send(q.join(Some(BOUND * 2)).map_err(|e| e.to_string()))
                .unwrap();
        })
    };

    let mut holder = ChildProc::spawn("child_lease_holder", "lease-holder", &name, &[]);
    assert_eq!(holder.next_line(BOUND).as_deref(), Some("holding 0"));
    assert_eq!(q.size().unwrap(), 2, "job 0 is leased by the child");
    assert_eq!(q.join(NOW).unwrap_err().status(), Status::Timeout);

    holder.child.kill().unwrap(); // SIGKILL: no task_done, no cleanup
    let status = holder.wait(BOUND).expect("the killed child is reaped");
    assert!(!status.success());

    let mut jobs = Vec::new();
    for _ in 0..3 {
        let job: serde_json::Value = q
            .get_json(Some(BOUND))
            .expect("jobs, the redelivered one included");
        jobs.push(job["job"].as_u64().unwrap());
        q.task_done().unwrap();
    }
    jobs.sort();
    assert_eq!(jobs, [0, 1, 2]);
    assert_eq!(
        q.get(NOW).unwrap_err().status(),
        Status::Empty,
        "delivered once more, not twice"
    );
    q.join(Some(BOUND)).unwrap();
    assert_eq!(
        joined.recv_timeout(BOUND * 2).expect("the joiner returned"),
        Ok(())
    );
    joiner.join().unwrap();
}

#[test]
fn a_killed_consumer_that_ended_items_by_message_leaves_only_its_unfinished_one() {
    let name = Name::new("xproc-tdm");
    let q = name.open(&bytes_joinable());
    for m in ["a", "b", "c"] {
        q.put(m.as_bytes(), NOW).unwrap();
    }
    let mut child = ChildProc::spawn(
        "child_out_of_order_finisher",
        "out-of-order-finisher",
        &name,
        &[],
    );
    assert_eq!(child.next_line(BOUND).as_deref(), Some("ended c b"));
    assert_eq!(q.size().unwrap(), 0);
    assert_eq!(q.join(NOW).unwrap_err().status(), Status::Timeout);

    child.child.kill().unwrap(); // SIGKILL: "a" was never finished
    let status = child.wait(BOUND).expect("the killed child is reaped");
    assert!(!status.success());

    let m = q
        .get(Some(BOUND))
        .expect("the unfinished item, handed out again");
    assert_eq!(m, b"a");
    assert_eq!(
        q.get(NOW).unwrap_err().status(),
        Status::Empty,
        "the items it ended are not handed out again"
    );
    assert_eq!(q.join(NOW).unwrap_err().status(), Status::Timeout);
    q.task_done_message(&m).unwrap();
    q.join(Some(BOUND)).unwrap();
}
