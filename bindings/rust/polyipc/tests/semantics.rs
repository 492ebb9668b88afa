//! What a queue does: orders, formats, joinable leases, limits, end of
//! stream, JSON through serde, names and lifetime.
mod common;
use common::{BOUND, Name};
use polyipc::{Format, OpenMode, Order, Queue, QueueOptions, Status};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

const NOW: Option<Duration> = Some(Duration::ZERO);

fn strings(q: &Queue, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| String::from_utf8(q.get(NOW).unwrap()).unwrap())
        .collect()
}

#[test]
fn fifo_gives_messages_in_put_order() {
    let name = Name::new("fifo");
    let q = name.open(&QueueOptions::new());
    for m in ["1", "2", "3"] {
        q.put(m.as_bytes(), NOW).unwrap();
    }
    assert_eq!(q.size().unwrap(), 3);
    assert_eq!(strings(&q, 3), ["1", "2", "3"]);
    assert_eq!(q.size().unwrap(), 0);
}

#[test]
fn lifo_gives_the_newest_first() {
    let name = Name::new("lifo");
    let q = name.open(&QueueOptions::new().order(Order::Lifo));
    for m in ["1", "2", "3"] {
        q.put(m.as_bytes(), NOW).unwrap();
    }
    assert_eq!(strings(&q, 3), ["3", "2", "1"]);
}

#[test]
fn priority_gives_the_lowest_first_and_fifo_among_equals() {
    let name = Name::new("prio");
    let q = name.open(&QueueOptions::new().order(Order::Priority));
    q.put_priority(b"\"five\"", 5, NOW).unwrap();
    q.put_priority(b"\"minus\"", -3, NOW).unwrap();
    q.put_priority(b"\"one-a\"", 1, NOW).unwrap();
    q.put_priority(b"\"one-b\"", 1, NOW).unwrap();
    q.put_json_priority("zero", 0, NOW).unwrap();
    assert_eq!(
        strings(&q, 5),
        [
            "\"minus\"",
            "\"zero\"",
            "\"one-a\"",
            "\"one-b\"",
            "\"five\""
        ]
    );
}

#[test]
fn bytes_queue_carries_any_bytes() {
    let name = Name::new("bytes");
    let q = name.open(&QueueOptions::new().format(Format::Bytes));
    let blob: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    q.put(&blob, NOW).unwrap();
    q.put(b"", NOW).unwrap();
    assert_eq!(q.get(NOW).unwrap(), blob);
    assert_eq!(q.get(NOW).unwrap(), b"");
}

#[test]
fn get_returns_messages_of_any_size() {
    let name = Name::new("sizes");
    let q = name.open(&QueueOptions::new().format(Format::Bytes).joinable(true));
    let sizes = [0usize, 1, 511, 512, 513, 4096, 100_000];
    for &n in &sizes {
        q.put(&vec![(n % 251) as u8; n], NOW).unwrap();
    }
    for &n in &sizes {
        let timeout = if n % 2 == 0 { Some(BOUND) } else { NOW };
        assert_eq!(
            q.get(timeout).unwrap(),
            vec![(n % 251) as u8; n],
            "{n} bytes"
        );
        q.task_done().unwrap();
    }
    q.join(NOW)
        .expect("one lease per get, large messages included");
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Job {
    job: u32,
    from: String,
    tags: Vec<String>,
}

#[test]
fn put_json_and_get_json_round_trip_serde_types() {
    let name = Name::new("json");
    let q = name.open(&QueueOptions::new());
    let job = Job {
        job: 7,
        from: "rust".into(),
        tags: vec!["ü".into(), "\"q\"".into()],
    };
    q.put_json(&job, NOW).unwrap();
    q.put(br#"{"job": 8, "from": "c", "tags": []}"#, NOW)
        .unwrap();
    assert_eq!(q.get_json::<Job>(NOW).unwrap(), job);
    let v: serde_json::Value = q.get_json(NOW).unwrap();
    assert_eq!(v["from"], "c");
}

#[test]
fn get_json_of_another_shape_is_invalid_json_naming_the_queue() {
    let name = Name::new("shape");
    let q = name.open(&QueueOptions::new());
    q.put(b"[1,2]", NOW).unwrap();
    let e = q.get_json::<Job>(NOW).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson);
    assert!(e.message().contains(&*name), "{e}");
}

#[test]
fn get_into_copies_into_the_callers_buffer_and_reports_the_size_needed() {
    let name = Name::new("into");
    let q = name.open(&QueueOptions::new());
    q.put(br#"{"k":"0123456789"}"#, NOW).unwrap();
    let mut small = [0u8; 4];
    let e = q.get_into(&mut small, NOW).unwrap_err();
    assert_eq!(e.status(), Status::TooLarge);
    assert_eq!(e.required_len(), Some(18));
    assert_eq!(q.size().unwrap(), 1, "the message stays in the queue");
    let mut buf = [0u8; 64];
    let n = q.get_into(&mut buf, NOW).unwrap();
    assert_eq!(&buf[..n], br#"{"k":"0123456789"}"#);
    assert_eq!(
        q.get_into(&mut buf, NOW).unwrap_err().status(),
        Status::Empty
    );
}

#[test]
fn joinable_queue_join_waits_for_every_task_done() {
    let name = Name::new("join");
    let q = name.open(&QueueOptions::new().joinable(true));
    q.join(NOW).unwrap(); // nothing put yet
    q.put(b"1", NOW).unwrap();
    q.put(b"2", NOW).unwrap();
    assert_eq!(q.join(NOW).unwrap_err().status(), Status::Timeout);
    q.get(NOW).unwrap();
    q.get(NOW).unwrap();
    assert_eq!(q.size().unwrap(), 0);
    assert_eq!(
        q.join(NOW).unwrap_err().status(),
        Status::Timeout,
        "taken but not done"
    );
    q.task_done().unwrap();
    assert_eq!(q.join(NOW).unwrap_err().status(), Status::Timeout);
    q.task_done().unwrap();
    q.join(NOW).unwrap();
    assert_eq!(
        q.task_done().unwrap_err().status(),
        Status::InvalidArg,
        "no lease left"
    );
}

#[test]
fn join_returns_when_another_thread_finishes_the_work() {
    let name = Name::new("jointhread");
    let q = Arc::new(name.open(&QueueOptions::new().joinable(true)));
    for i in 0..50 {
        q.put_json(&i, NOW).unwrap();
    }
    let worker = {
        let q = Arc::clone(&q);
        std::thread::spawn(move || {
            for _ in 0..50 {
                let _: i32 = q.get_json(Some(BOUND)).unwrap();
                q.task_done().unwrap();
            }
        })
    };
    q.join(Some(BOUND)).unwrap();
    worker.join().unwrap();
}

#[test]
fn task_done_on_a_plain_queue_is_invalid_arg() {
    let name = Name::new("plain");
    let q = name.open(&QueueOptions::new());
    let e = q.task_done().unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg);
    assert!(!e.message().is_empty());
    q.put(b"1", NOW).unwrap();
    let got = q.get(NOW).unwrap();
    let e = q.task_done_message(&got).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg);
    assert!(e.message().contains(&*name), "{e}");
}

#[test]
fn task_done_message_ends_the_lease_on_those_bytes() {
    let name = Name::new("tdm");
    let q = name.open(&QueueOptions::new().format(Format::Bytes).joinable(true));
    for m in ["a", "b", "c"] {
        q.put(m.as_bytes(), NOW).unwrap();
    }
    let got: Vec<Vec<u8>> = (0..3).map(|_| q.get(NOW).unwrap()).collect();
    assert_eq!(got, [b"a", b"b", b"c"]);

    // Out of order: the 3rd, then the 1st (any AsRef<[u8]>: Vec, &str ...).
    q.task_done_message(&got[2]).unwrap();
    assert_eq!(q.join(NOW).unwrap_err().status(), Status::Timeout);
    q.task_done_message("a").unwrap();
    assert_eq!(q.join(NOW).unwrap_err().status(), Status::Timeout);

    // Messages this process holds no lease on: ended already, never got.
    for not_held in [&b"c"[..], b"a", b"x", b""] {
        let e = q.task_done_message(not_held).unwrap_err();
        assert_eq!(e.status(), Status::InvalidArg, "{not_held:?}");
        assert!(e.message().contains(&*name), "{e}");
    }

    // The plain task_done ends the one left, the 2nd.
    q.task_done().unwrap();
    q.join(Some(BOUND)).unwrap();
    let e = q.task_done_message(&got[1]).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg);
    assert!(e.message().contains(&*name), "{e}");
}

#[test]
fn task_done_message_of_equal_messages_ends_one_lease_each() {
    let name = Name::new("tdm-equal");
    let q = name.open(&QueueOptions::new().joinable(true));
    q.put_json(&serde_json::json!({"job": 1}), NOW).unwrap();
    q.put_json(&serde_json::json!({"job": 1}), NOW).unwrap();
    let first = q.get(NOW).unwrap();
    let second = q.get(NOW).unwrap();
    let _: serde_json::Value = serde_json::from_slice(&first).unwrap();
    q.task_done_message(&second).unwrap();
    assert_eq!(q.join(NOW).unwrap_err().status(), Status::Timeout);
    q.task_done_message(&first).unwrap();
    q.join(NOW).unwrap();
    assert_eq!(
        q.task_done_message(&first).unwrap_err().status(),
        Status::InvalidArg
    );
}

#[test]
fn max_items_bounds_the_queue() {
    let name = Name::new("maxitems");
    let q = name.open(&QueueOptions::new().max_items(2));
    q.put(b"1", NOW).unwrap();
    q.put(b"2", NOW).unwrap();
    assert_eq!(q.put(b"3", NOW).unwrap_err().status(), Status::Full);
    q.get(NOW).unwrap();
    q.put(b"3", NOW).unwrap();
    assert_eq!(strings(&q, 2), ["2", "3"]);
}

#[test]
fn capacity_and_max_message_bytes_limit_sizes() {
    let name = Name::new("cap");
    let q = name.open(
        &QueueOptions::new()
            .format(Format::Bytes)
            .capacity_bytes(4096)
            .max_message_bytes(100),
    );
    let e = q.put(&[1u8; 101], NOW).unwrap_err();
    assert_eq!(e.status(), Status::TooLarge);
    assert!(e.message().contains(&*name), "{e}");
    q.put(&[1u8; 100], NOW).unwrap();
    let mut n = 1;
    while q.put(&[2u8; 100], NOW).is_ok() {
        n += 1;
        assert!(n < 100, "4 KiB cannot hold 100 messages of 100 bytes");
    }
    assert_eq!(q.put(&[2u8; 100], NOW).unwrap_err().status(), Status::Full);
    assert_eq!(q.size().unwrap(), n);
}

#[test]
fn close_writes_lets_getters_drain_then_reports_closed() {
    let name = Name::new("eos");
    let q = name.open(&QueueOptions::new());
    q.put(b"1", NOW).unwrap();
    q.put(b"2", NOW).unwrap();
    q.close_writes().unwrap();
    assert_eq!(q.put(b"3", NOW).unwrap_err().status(), Status::Closed);
    assert_eq!(strings(&q, 2), ["1", "2"]);
    assert_eq!(q.get(NOW).unwrap_err().status(), Status::Closed);
    assert_eq!(
        q.get(None).unwrap_err().status(),
        Status::Closed,
        "a forever get returns too"
    );
}

#[test]
fn close_writes_wakes_a_getter_blocked_forever() {
    let name = Name::new("eoswake");
    let q = Arc::new(name.open(&QueueOptions::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let getter = {
        let q = Arc::clone(&q);
        std::thread::spawn(move || tx.send(q.get(None).map_err(|e| e.status())).unwrap())
    };
    q.close_writes().unwrap();
    assert_eq!(
        rx.recv_timeout(BOUND).expect("the getter woke"),
        Err(Status::Closed)
    );
    getter.join().unwrap();
}

#[test]
fn threads_share_one_handle() {
    let name = Name::new("threads");
    let q = Arc::new(name.open(&QueueOptions::new()));
    let producers: Vec<_> = (0..4)
        .map(|t| {
            let q = Arc::clone(&q);
            std::thread::spawn(move || {
                for i in 0..250 {
                    q.put_json(&(t * 1000 + i), Some(BOUND)).unwrap();
                }
            })
        })
        .collect();
    let mut got: Vec<i32> = (0..1000)
        .map(|_| q.get_json(Some(BOUND)).unwrap())
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    got.sort();
    let want: Vec<i32> = (0..4)
        .flat_map(|t| (0..250).map(move |i| t * 1000 + i))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn open_modes_and_reopening() {
    let name = Name::new("modes");
    let e = Queue::open(&name, &QueueOptions::new().open_mode(OpenMode::OpenOnly)).unwrap_err();
    assert_eq!(e.status(), Status::NotFound);
    assert!(e.message().contains(&*name), "{e}");
    let q = name.open(&QueueOptions::new().open_mode(OpenMode::CreateOnly));
    let e = Queue::open(&name, &QueueOptions::new().open_mode(OpenMode::CreateOnly)).unwrap_err();
    assert_eq!(e.status(), Status::Exists);
    q.put(b"42", NOW).unwrap();
    let again = name.open(&QueueOptions::new().open_mode(OpenMode::OpenOnly));
    assert_eq!(again.get(NOW).unwrap(), b"42");
    assert_eq!(again.name(), &*name);
}

#[test]
fn opening_with_another_order_format_or_joinability_is_incompatible() {
    let name = Name::new("incompat");
    let _q = name.open(&QueueOptions::new());
    for opts in [
        QueueOptions::new().order(Order::Lifo),
        QueueOptions::new().format(Format::Bytes),
        QueueOptions::new().joinable(true),
    ] {
        let e = Queue::open(&name, &opts).unwrap_err();
        assert_eq!(e.status(), Status::Incompatible, "{opts:?}: {e}");
    }
}

#[test]
fn close_and_drop_release_the_handle_but_never_unlink() {
    let name = Name::new("lifetime");
    let q = name.open(&QueueOptions::new());
    q.put(b"\"kept\"", NOW).unwrap();
    q.close();
    {
        let q2 = name.open(&QueueOptions::new().open_mode(OpenMode::OpenOnly));
        assert_eq!(q2.size().unwrap(), 1);
    } // dropped
    let q3 = name.open(&QueueOptions::new().open_mode(OpenMode::OpenOnly));
    assert_eq!(q3.get(NOW).unwrap(), b"\"kept\"");
}

#[test]
fn unlink_removes_the_name_while_open_handles_keep_working() {
    let name = Name::new("unlink");
    let q = name.open(&QueueOptions::new());
    polyipc::unlink(&name).unwrap();
    let e = Queue::open(&name, &QueueOptions::new().open_mode(OpenMode::OpenOnly)).unwrap_err();
    assert_eq!(e.status(), Status::NotFound);
    q.put(b"1", NOW).unwrap();
    assert_eq!(q.get(NOW).unwrap(), b"1");
    assert_eq!(Queue::unlink(&name).unwrap_err().status(), Status::NotFound);
}

#[test]
fn ephemeral_queue_goes_with_its_last_handle() {
    let name = Name::new("ephemeral");
    let q = name.open(&QueueOptions::new().ephemeral(true));
    q.put(b"1", NOW).unwrap();
    polyipc::stat_json(&name).unwrap();
    q.close();
    let e = polyipc::stat_json(&name).unwrap_err();
    assert_eq!(e.status(), Status::NotFound, "{e}");
}

#[test]
fn list_stat_and_peek_show_the_queue() {
    let name = Name::new("stat");
    let q = name.open(&QueueOptions::new().joinable(true).max_items(9));
    q.put(br#"{"a":1}"#, NOW).unwrap();
    let list: serde_json::Value = serde_json::from_str(&polyipc::list_json().unwrap()).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(names.contains(&&*name), "{names:?}");
    for text in [polyipc::stat_json(&name).unwrap(), q.stat_json().unwrap()] {
        let stat: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(stat["name"], *name, "{stat}");
    }
    let peek: serde_json::Value =
        serde_json::from_str(&polyipc::peek_json(&name, 10).unwrap()).unwrap();
    assert_eq!(peek[0]["message"]["a"], 1, "{peek}");
    assert_eq!(q.size().unwrap(), 1, "peek takes nothing");
    assert_eq!(
        polyipc::stat_json("rs.no-such-object")
            .unwrap_err()
            .status(),
        Status::NotFound
    );
}

#[test]
fn errors_display_message_and_status_name() {
    let name = Name::new("display");
    let q = name.open(&QueueOptions::new());
    let e = q.get(NOW).unwrap_err();
    assert_eq!(e.status(), Status::Empty);
    let text = e.to_string();
    assert!(
        text.contains("POLYIPC_ERR_EMPTY") && text.contains(&*name),
        "{text}"
    );
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
    assert!(!boxed.to_string().is_empty());
}

#[test]
fn zero_copy_reserve_commit_and_borrow_release() {
    let name = Name::new("zc");
    let q = name.open(&QueueOptions::new());
    let mut r = q.reserve(7, NOW).unwrap();
    r.copy_from_slice(br#"{"a":1}"#);
    r.commit().unwrap();
    {
        let r = q.reserve(3, NOW).unwrap(); // dropped uncommitted: cancelled
        drop(r);
    }
    let mut bad = q.reserve(2, NOW).unwrap();
    bad.copy_from_slice(b"{x");
    assert_eq!(bad.commit().unwrap_err().status(), Status::InvalidJson);
    assert_eq!(q.size().unwrap(), 1);

    let m = q.borrow(NOW).unwrap();
    assert_eq!(&*m, br#"{"a":1}"#);
    assert_eq!(q.size().unwrap(), 0);
    assert_eq!(q.borrow(NOW).unwrap_err().status(), Status::Empty);
    m.release().unwrap();
    q.put(b"2", NOW).unwrap();
    {
        let m = q.borrow(NOW).unwrap(); // released on drop
        assert_eq!(&*m, b"2");
    }
    q.put(b"3", NOW).unwrap();
    assert_eq!(q.get(NOW).unwrap(), b"3");
}
