//! Consuming iteration (`Queue::iter`, `for msg in &queue`): one blocking get
//! per step, ending normally at end of stream. Producers and closers run as
//! real processes (this test binary run again in a role, as in processes.rs).
mod common;
use common::{BOUND, ChildProc, Name, child_args, child_role, tell};
use polyipc::{Format, OpenMode, Queue, QueueOptions, Status};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOW: Option<Duration> = Some(Duration::ZERO);

fn bytes() -> QueueOptions {
    QueueOptions::new().format(Format::Bytes)
}

fn msg(i: u32) -> Vec<u8> {
    format!("m{i}").into_bytes()
}

/// Runs `f` on a thread and waits at most BOUND for its result, so a loop
/// that blocks for ever fails the test instead of hanging it.
fn within_bound<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(BOUND) {
        Ok(r) => r,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: did not end within {BOUND:?}")
        }
        Err(e) => panic!("{what}: the thread failed ({e})"),
    }
}

/// Collects what the loop yields until it ends, stopping at the first error.
fn drain(q: &Queue) -> Result<Vec<Vec<u8>>, polyipc::Error> {
    let mut got = Vec::new();
    for m in q {
        got.push(m?);
    }
    Ok(got)
}

// ---- child roles ---------------------------------------------------------

/// Puts N bytes messages "m0".."m{N-1}", then close_writes.
#[test]
fn child_iter_producer() {
    let Some(name) = child_role("iter-producer") else {
        return;
    };
    let n: u32 = child_args()[0].parse().unwrap();
    let q = Queue::open(&name, &bytes().open_mode(OpenMode::OpenOnly)).unwrap();
    for i in 0..n {
        q.put(&msg(i), Some(BOUND)).unwrap();
    }
    q.close_writes().unwrap();
    tell(format!("put {n}"));
}

/// Only close_writes.
#[test]
fn child_iter_closer() {
    let Some(name) = child_role("iter-closer") else {
        return;
    };
    let q = Queue::open(&name, &bytes().open_mode(OpenMode::OpenOnly)).unwrap();
    q.close_writes().unwrap();
    tell("closed");
}

// ---- tests ---------------------------------------------------------------

#[test]
fn the_loop_yields_what_another_process_put_in_order_then_ends() {
    const N: u32 = 200;
    let name = Name::new("iter-xproc");
    let q = Arc::new(name.open(&bytes()));
    let mut producer = ChildProc::spawn("child_iter_producer", "iter-producer", &name, &["200"]);
    let got = {
        let q = Arc::clone(&q);
        within_bound("the loop over the producer's messages", move || drain(&q))
    }
    .expect("no error before end of stream");
    assert_eq!(got, (0..N).map(msg).collect::<Vec<_>>(), "all N, FIFO");
    assert_eq!(producer.next_line(BOUND).as_deref(), Some("put 200"));
    assert!(producer.wait(BOUND).expect("producer exits").success());
    // The end is for good: a new loop, a plain get, the same.
    assert_eq!(q.iter().count(), 0);
    assert_eq!(q.get(NOW).unwrap_err().status(), Status::Closed);
}

#[test]
fn a_closed_and_drained_queue_ends_the_loop_at_once() {
    let name = Name::new("iter-drained");
    let q = Arc::new(name.open(&bytes()));
    q.put(b"last", NOW).unwrap();
    q.close_writes().unwrap();
    assert_eq!(q.get(NOW).unwrap(), b"last");
    let (got, again) = {
        let q = Arc::clone(&q);
        within_bound("the loop over a drained queue", move || {
            let mut it = q.iter();
            let got: Vec<_> = it.by_ref().collect();
            (got, it.next())
        })
    };
    assert!(got.is_empty(), "nothing, and no error: {got:?}");
    assert!(again.is_none(), "fused");
}

#[test]
fn breaking_out_of_the_loop_leaves_the_rest_in_the_queue() {
    let name = Name::new("iter-break");
    let q = name.open(&bytes());
    for i in 0..10 {
        q.put(&msg(i), NOW).unwrap();
    }
    let k = 4;
    let mut got = Vec::new();
    for m in &q {
        got.push(m.unwrap());
        if got.len() == k {
            break;
        }
    }
    assert_eq!(got, (0..4).map(msg).collect::<Vec<_>>());
    assert_eq!(q.size().unwrap(), 6, "nothing taken ahead");
    assert_eq!(q.get(NOW).unwrap(), msg(4), "a later get takes message k+1");
    // A later loop goes on from there.
    assert_eq!(q.iter().next().unwrap().unwrap(), msg(5));
    assert_eq!(q.size().unwrap(), 4);
}

#[test]
fn on_a_joinable_queue_each_message_is_a_lease_and_join_returns() {
    let name = Name::new("iter-join");
    let q = Arc::new(name.open(&bytes().joinable(true)));
    for i in 0..100 {
        q.put(&msg(i), NOW).unwrap();
    }
    q.close_writes().unwrap();
    let n = {
        let q = Arc::clone(&q);
        within_bound("the loop over a joinable queue", move || {
            let mut n = 0;
            for m in q.iter() {
                assert_eq!(m.unwrap(), msg(n));
                assert_eq!(
                    q.join(NOW).unwrap_err().status(),
                    Status::Timeout,
                    "the message just got is a lease"
                );
                q.task_done().unwrap();
                n += 1;
            }
            n
        })
    };
    assert_eq!(n, 100);
    q.join(Some(BOUND))
        .expect("every lease ended: join returns");
}

/// Rust has no cancellation of a blocking get: the way to end a loop blocked
/// on an empty queue is end of stream, here from another process.
#[test]
fn a_loop_blocked_on_an_empty_queue_ends_when_another_process_closes_writes() {
    let name = Name::new("iter-blocked");
    let q = Arc::new(name.open(&bytes()));
    let (tx, rx) = std::sync::mpsc::channel();
    let looper = {
        let q = Arc::clone(&q);
        std::thread::spawn(move || tx.send(drain(&q)).unwrap())
    };
    // Bounded wait until the loop's get sleeps on the empty queue (the
    // queue's stat counts sleeping getters), so the close meets a blocked loop.
    let deadline = Instant::now() + BOUND;
    loop {
        let stat: serde_json::Value = serde_json::from_str(&q.stat_json().unwrap()).unwrap();
        if stat["sleeping"]["getters"].as_u64().unwrap() >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the loop never blocked: {stat}");
        std::thread::sleep(Duration::from_millis(1)); // polling a counter
    }
    assert!(rx.try_recv().is_err(), "still blocked");

    let mut closer = ChildProc::spawn("child_iter_closer", "iter-closer", &name, &[]);
    let t0 = Instant::now();
    let got = rx
        .recv_timeout(BOUND)
        .expect("the blocked loop ends after close_writes");
    assert_eq!(
        got.expect("ended normally, no error"),
        Vec::<Vec<u8>>::new()
    );
    assert!(t0.elapsed() < BOUND);
    assert_eq!(closer.next_line(BOUND).as_deref(), Some("closed"));
    assert!(closer.wait(BOUND).expect("closer exits").success());
    looper.join().unwrap();
}
