//! Pipes and `wait`: semantics in one process, and across real processes
//! (this test binary runs again as a child in a role; the `child_*` tests do
//! nothing unless started that way).
mod common;
use common::{BOUND, ChildProc, Name, child_args, child_role, tell};
use polyipc::{
    Connection, End, Format, OpenMode, Pipe, PipeOptions, Queue, QueueOptions, Status, wait,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

const NOW: Option<Duration> = Some(Duration::ZERO);
const SHORT: Option<Duration> = Some(Duration::from_millis(30));

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Msg {
    seq: i64,
    text: String,
}

#[test]
fn a_duplex_pipe_carries_bytes_and_json_both_ways() {
    let name = Name::new("pipe");
    let (a, b) = Pipe::open(&name, &PipeOptions::new()).unwrap();
    assert_eq!((a.end(), b.end()), (End::A, End::B));
    assert_eq!(a.name(), &*name);

    a.send(br#"{"x": 1}"#, None).unwrap();
    assert!(b.poll(NOW).unwrap());
    assert_eq!(b.recv(NOW).unwrap(), br#"{"x": 1}"#);
    assert!(!b.poll(NOW).unwrap());

    let m = Msg {
        seq: 7,
        text: "héllo 😀".into(),
    };
    b.send_json(&m, None).unwrap();
    assert_eq!(a.recv_json::<Msg>(Some(BOUND)).unwrap(), m);

    // order is kept, and a message above the stack-buffer size comes whole
    let big = serde_json::json!({"big": "ü".repeat(5000)});
    for i in 0..3 {
        a.send_json(&serde_json::json!({"seq": i}), None).unwrap();
    }
    a.send_json(&big, None).unwrap();
    for i in 0..3 {
        assert_eq!(
            b.recv_json::<serde_json::Value>(NOW).unwrap(),
            serde_json::json!({"seq": i})
        );
    }
    assert_eq!(b.recv_json::<serde_json::Value>(NOW).unwrap(), big);

    // nothing waiting: Empty without waiting, Timeout after a wait
    assert_eq!(b.recv(NOW).unwrap_err().status(), Status::Empty);
    let t0 = Instant::now();
    assert_eq!(b.recv(SHORT).unwrap_err().status(), Status::Timeout);
    assert!(t0.elapsed() >= Duration::from_millis(25));
    assert!(!b.poll(SHORT).unwrap());
    assert!(a.stat_json().unwrap().contains(&name.0));
}

#[test]
fn recv_into_fills_a_buffer_and_says_how_much_a_message_needs() {
    let name = Name::new("pipe-into");
    let (a, b) = Pipe::open(&name, &PipeOptions::new().format(Format::Bytes)).unwrap();
    a.send(&[1, 2, 3, 4, 5], None).unwrap();
    let mut small = [0u8; 3];
    let e = b.recv_into(&mut small, NOW).unwrap_err();
    assert_eq!(e.status(), Status::TooLarge);
    assert_eq!(e.required_len(), Some(5));
    let mut buf = [0u8; 16];
    assert_eq!(b.recv_into(&mut buf, NOW).unwrap(), 5, "the message stayed");
    assert_eq!(&buf[..5], &[1, 2, 3, 4, 5]);
    // bytes pipes take anything, the empty message included
    a.send(b"\xff not json", None).unwrap();
    a.send(b"", None).unwrap();
    assert_eq!(b.recv(NOW).unwrap(), b"\xff not json");
    assert_eq!(b.recv(NOW).unwrap(), b"");
}

#[test]
fn end_of_stream_comes_after_what_was_sent() {
    let name = Name::new("pipe-eof");
    let (a, b) = Pipe::open(&name, &PipeOptions::new()).unwrap();
    a.send_json(&1, None).unwrap();
    a.send_json(&2, None).unwrap();
    a.close();
    assert!(b.poll(NOW).unwrap());
    assert_eq!(b.recv_json::<i32>(NOW).unwrap(), 1);
    assert_eq!(b.recv_json::<i32>(NOW).unwrap(), 2);
    assert!(b.poll(NOW).unwrap(), "end of stream: recv would not wait");
    let e = b.recv(Some(BOUND)).unwrap_err();
    assert!(e.is_eof(), "{e}");
    assert_eq!(e.status(), Status::Closed);
    // and sending to the closed end is a broken pipe
    assert_eq!(b.send_json(&3, None).unwrap_err().status(), Status::Closed);

    // a second handle on an end keeps it open until it closes too
    let name = Name::new("pipe-two-handles");
    let (a, b) = Pipe::open(&name, &PipeOptions::new()).unwrap();
    let a2 = Connection::attach(&name, End::A).unwrap();
    a.close();
    assert_eq!(b.recv(NOW).unwrap_err().status(), Status::Empty);
    a2.send_json(&"still here", None).unwrap();
    assert_eq!(b.recv_json::<String>(NOW).unwrap(), "still here");
    a2.close();
    assert!(b.recv(Some(BOUND)).unwrap_err().is_eof());
}

#[test]
fn a_one_way_pipe_sends_from_a_only() {
    let name = Name::new("pipe-oneway");
    let (a, b) = Pipe::open(&name, &PipeOptions::new().duplex(false)).unwrap();
    assert_eq!(
        b.send_json(&1, None).unwrap_err().status(),
        Status::InvalidArg
    );
    assert_eq!(a.recv(NOW).unwrap_err().status(), Status::InvalidArg);
    a.send_json(&1, None).unwrap();
    assert_eq!(b.recv_json::<i32>(NOW).unwrap(), 1);
}

#[test]
fn bad_input_is_a_clean_error() {
    let name = Name::new("pipe-bad");
    let (a, b) = Pipe::open(&name, &PipeOptions::new().capacity_bytes(4096)).unwrap();
    let e = a.send(b"{not json", None).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson);
    assert_eq!(
        b.recv(NOW).unwrap_err().status(),
        Status::Empty,
        "nothing was sent"
    );
    let too_big = format!("\"{}\"", "x".repeat(5000));
    assert_eq!(
        a.send(too_big.as_bytes(), None).unwrap_err().status(),
        Status::TooLarge
    );
    // fill it: Full without waiting, Timeout after a wait
    let chunk = format!("\"{}\"", "y".repeat(1000));
    let mut sent = 0;
    loop {
        match a.send(chunk.as_bytes(), NOW) {
            Ok(()) => sent += 1,
            Err(e) => {
                assert_eq!(e.status(), Status::Full);
                break;
            }
        }
        assert!(sent < 10, "a 4 KiB pipe took {sent} messages of 1 KB");
    }
    assert_eq!(
        a.send(chunk.as_bytes(), SHORT).unwrap_err().status(),
        Status::Timeout
    );
    b.send_json(&[1, 2], None).unwrap();
    let e = a.recv_json::<String>(NOW).unwrap_err();
    assert_eq!(
        e.status(),
        Status::InvalidJson,
        "not the requested type: {e}"
    );

    // another duplex or format is Incompatible; attach takes it as it is
    let e = Connection::open(&name, End::B, &PipeOptions::new().duplex(false)).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible);
    let e = Connection::open(&name, End::B, &PipeOptions::new().format(Format::Bytes)).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible);
    Connection::attach(&name, End::B).unwrap();
    let e = Pipe::open(&name, &PipeOptions::new().open_mode(OpenMode::CreateOnly)).unwrap_err();
    assert_eq!(e.status(), Status::Exists);
    let missing = Name::new("pipe-missing");
    assert_eq!(
        Connection::attach(&missing, End::A).unwrap_err().status(),
        Status::NotFound
    );
    assert_eq!(
        Connection::open("bad/name", End::A, &PipeOptions::new())
            .unwrap_err()
            .status(),
        Status::InvalidArg
    );
    assert_eq!(
        Connection::open("nul\0", End::A, &PipeOptions::new())
            .unwrap_err()
            .status(),
        Status::InvalidArg
    );
    // a queue name is not a pipe
    let q = Name::new("pipe-is-a-queue");
    q.open(&QueueOptions::new());
    assert_eq!(
        Connection::attach(&q, End::A).unwrap_err().status(),
        Status::Incompatible
    );
}

#[test]
fn wait_reports_the_ready_connections_and_queues() {
    let (n1, n2, nq) = (Name::new("w1"), Name::new("w2"), Name::new("wq"));
    let (a1, b1) = Pipe::open(&n1, &PipeOptions::new()).unwrap();
    let (a2, b2) = Pipe::open(&n2, &PipeOptions::new()).unwrap();
    let q = Queue::open(&nq, &QueueOptions::new()).unwrap();

    let t0 = Instant::now();
    assert!(wait(&[&b1, &b2, &q], SHORT).unwrap().is_empty());
    assert!(t0.elapsed() >= Duration::from_millis(25));
    assert!(wait(&[&b1, &b2, &q], NOW).unwrap().is_empty());

    a2.send_json(&"two", None).unwrap();
    assert_eq!(wait(&[&b1, &b2, &q], Some(BOUND)).unwrap(), vec![1]);
    q.put_json(&"q", None).unwrap();
    assert_eq!(wait(&[&b1, &b2, &q], NOW).unwrap(), vec![1, 2]);
    b2.recv(NOW).unwrap();
    q.get(NOW).unwrap();

    // a wait that is woken by a sender in another thread
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50)); // let the wait start
            a1.send_json(&"one", None).unwrap();
        });
        assert_eq!(wait(&[&b1, &b2, &q], Some(BOUND)).unwrap(), vec![0]);
    });
    b1.recv(NOW).unwrap();

    // end of stream is ready too
    a2.close();
    assert_eq!(wait(&[&b1, &b2, &q], Some(BOUND)).unwrap(), vec![1]);
    assert!(b2.recv(NOW).unwrap_err().is_eof());
    // nothing to wait on
    assert_eq!(wait(&[], NOW).unwrap_err().status(), Status::InvalidArg);
}

// ---- across processes -------------------------------------------------------

/// Blocks until the parent ends (closes our stdin) or kills us.
fn hold_until_killed() -> ! {
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    std::process::exit(3);
}

#[test]
fn child_pipe_sender() {
    let Some(name) = child_role("pipe-sender") else {
        return;
    };
    let k: i64 = child_args()[0].parse().unwrap();
    let a = Connection::open(&name, End::A, &PipeOptions::new()).unwrap();
    for i in 0..k {
        a.send_json(&serde_json::json!({"seq": i}), Some(BOUND))
            .unwrap();
    }
    tell(format!("sent {k}"));
    hold_until_killed();
}

#[test]
fn child_pipe_echo() {
    let Some(name) = child_role("pipe-echo") else {
        return;
    };
    let b = Connection::open(&name, End::B, &PipeOptions::new()).unwrap();
    let mut n = 0;
    loop {
        match b.recv_json::<Msg>(Some(BOUND)) {
            Ok(mut m) => {
                m.text = m.text.to_uppercase();
                b.send_json(&m, Some(BOUND)).unwrap();
                n += 1;
            }
            Err(e) if e.is_eof() => break,
            Err(e) => panic!("{e}"),
        }
    }
    tell(format!("echoed {n}"));
}

#[test]
fn a_peer_killed_with_sigkill_gives_end_of_stream_after_its_messages() {
    let name = Name::new("xpipe");
    let b = Connection::open(&name, End::B, &PipeOptions::new()).unwrap();
    let mut child = ChildProc::spawn("child_pipe_sender", "pipe-sender", &name, &["5"]);
    assert_eq!(child.next_line(BOUND).as_deref(), Some("sent 5"));
    child.child.kill().unwrap(); // SIGKILL: end A is never closed
    child.wait(BOUND).expect("the killed child is reaped");
    let killed = Instant::now();
    for i in 0..5 {
        let m: serde_json::Value = b.recv_json(Some(BOUND)).unwrap();
        assert_eq!(m["seq"], i, "what it sent comes first");
    }
    let e = b.recv(Some(BOUND)).unwrap_err();
    assert!(e.is_eof(), "{e}");
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(5), "end of stream took {took:?}");
}

#[test]
fn a_child_echoes_over_a_duplex_pipe_until_end_of_stream() {
    let name = Name::new("xecho");
    let a = Connection::open(&name, End::A, &PipeOptions::new()).unwrap();
    let mut child = ChildProc::spawn("child_pipe_echo", "pipe-echo", &name, &[]);
    for seq in 0..20 {
        a.send_json(
            &Msg {
                seq,
                text: format!("ping {seq}"),
            },
            Some(BOUND),
        )
        .unwrap();
        assert!(!wait(&[&a], Some(BOUND)).unwrap().is_empty());
        let reply: Msg = a.recv_json(Some(BOUND)).unwrap();
        assert_eq!(
            reply,
            Msg {
                seq,
                text: format!("PING {seq}")
            }
        );
    }
    a.close();
    assert_eq!(child.next_line(BOUND).as_deref(), Some("echoed 20"));
    assert!(child.wait(BOUND).unwrap().success());
}
