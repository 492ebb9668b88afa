//! Timeouts: None waits forever, ZERO never blocks, a duration bounds the wait.
mod common;
use common::{BOUND, Name};
use polyipc::{QueueOptions, Status};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOW: Option<Duration> = Some(Duration::ZERO);
const SHORT: Duration = Duration::from_millis(100);

#[test]
fn zero_timeout_never_blocks() {
    let name = Name::new("zero");
    let q = name.open(&QueueOptions::new().max_items(1).joinable(true));
    let t0 = Instant::now();
    assert_eq!(q.get(NOW).unwrap_err().status(), Status::Empty);
    q.put(b"1", NOW).unwrap();
    assert_eq!(q.put(b"2", NOW).unwrap_err().status(), Status::Full);
    assert_eq!(q.join(NOW).unwrap_err().status(), Status::Timeout);
    assert!(t0.elapsed() < BOUND);
}

#[test]
fn a_get_on_an_empty_queue_times_out_after_the_timeout() {
    let name = Name::new("gettimeout");
    let q = name.open(&QueueOptions::new());
    let t0 = Instant::now();
    let e = q.get(Some(SHORT)).unwrap_err();
    let took = t0.elapsed();
    assert_eq!(e.status(), Status::Timeout, "{e}");
    assert!(took >= SHORT, "returned after {took:?}");
    assert!(took < SHORT + BOUND, "returned after {took:?}");
    let mut buf = [0u8; 8];
    assert_eq!(
        q.get_into(&mut buf, Some(SHORT)).unwrap_err().status(),
        Status::Timeout
    );
}

#[test]
fn a_put_on_a_full_queue_times_out_after_the_timeout() {
    let name = Name::new("puttimeout");
    let q = name.open(&QueueOptions::new().max_items(1));
    q.put(b"1", NOW).unwrap();
    let t0 = Instant::now();
    assert_eq!(
        q.put(b"2", Some(SHORT)).unwrap_err().status(),
        Status::Timeout
    );
    assert!(t0.elapsed() >= SHORT);
    assert_eq!(q.size().unwrap(), 1);
}

#[test]
fn join_times_out_while_work_is_outstanding() {
    let name = Name::new("jointimeout");
    let q = name.open(&QueueOptions::new().joinable(true));
    q.put(b"1", NOW).unwrap();
    let t0 = Instant::now();
    assert_eq!(q.join(Some(SHORT)).unwrap_err().status(), Status::Timeout);
    assert!(t0.elapsed() >= SHORT);
}

#[test]
fn a_huge_timeout_is_clamped_not_an_error() {
    let name = Name::new("huge");
    let q = name.open(&QueueOptions::new());
    q.put(b"1", Some(Duration::MAX)).unwrap();
    assert_eq!(q.get(Some(Duration::MAX)).unwrap(), b"1");
}

#[test]
fn a_blocked_get_wakes_for_a_put_from_another_thread() {
    let name = Name::new("wake");
    let q = Arc::new(name.open(&QueueOptions::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let getter = {
        let q = Arc::clone(&q);
        std::thread::spawn(move || tx.send(q.get(None).map_err(|e| e.status())).unwrap())
    };
    q.put(b"\"hello\"", NOW).unwrap();
    assert_eq!(
        rx.recv_timeout(BOUND).expect("the getter woke"),
        Ok(b"\"hello\"".to_vec())
    );
    getter.join().unwrap();
}

#[test]
fn a_blocked_put_wakes_when_room_is_made() {
    let name = Name::new("wakeput");
    let q = Arc::new(name.open(&QueueOptions::new().max_items(1)));
    q.put(b"1", NOW).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let putter = {
        let q = Arc::clone(&q);
        std::thread::spawn(move || {
            tx.send(q.put(b"2", Some(BOUND)).map_err(|e| e.status()))
                .unwrap()
        })
    };
    // the putter may or may not be asleep yet: either way it must get the room
    assert_eq!(q.get(Some(BOUND)).unwrap(), b"1");
    assert_eq!(rx.recv_timeout(BOUND).expect("the putter woke"), Ok(()));
    assert_eq!(q.get(NOW).unwrap(), b"2");
    putter.join().unwrap();
}
