//! Bad input gets a clear error naming the object and loses nothing.
mod common;
use common::Name;
use polyipc::{Format, OpenMode, Queue, QueueOptions, Status};
use std::time::Duration;

const NOW: Option<Duration> = Some(Duration::ZERO);

#[test]
fn malformed_json_is_rejected_naming_the_queue_and_leaves_it_as_it_was() {
    let name = Name::new("badjson");
    let q = name.open(&QueueOptions::new());
    q.put(br#"{"ok":true}"#, NOW).unwrap();
    for bad in [
        &b"{"[..],
        b"{\"a\":}",
        b"",
        b"[1,2",
        b"nul",
        b"{'single':1}",
        b"1 2",
        b"\"\xff\"",
    ] {
        let e = q.put(bad, NOW).unwrap_err();
        assert_eq!(
            e.status(),
            Status::InvalidJson,
            "{:?}: {e}",
            String::from_utf8_lossy(bad)
        );
        assert!(
            e.message().contains(&*name),
            "the message names the queue: {e}"
        );
        let e = q.put_priority(bad, 1, NOW).unwrap_err();
        assert_eq!(e.status(), Status::InvalidJson);
    }
    assert_eq!(q.size().unwrap(), 1, "a rejected put adds nothing");
    assert_eq!(q.get(NOW).unwrap(), br#"{"ok":true}"#);
}

#[test]
fn a_bytes_queue_takes_what_a_json_queue_refuses() {
    let name = Name::new("bytesok");
    let q = name.open(&QueueOptions::new().format(Format::Bytes));
    q.put(b"{", NOW).unwrap();
    assert_eq!(q.get(NOW).unwrap(), b"{");
}

#[test]
fn json_nested_deeper_than_the_limit_is_invalid() {
    let name = Name::new("deep");
    let q = name.open(&QueueOptions::new());
    let depth = polyipc::sys::POLYIPC_JSON_MAX_DEPTH as usize;
    let ok = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    q.put(ok.as_bytes(), NOW).unwrap();
    let too_deep = format!("{}{}", "[".repeat(depth + 1), "]".repeat(depth + 1));
    assert_eq!(
        q.put(too_deep.as_bytes(), NOW).unwrap_err().status(),
        Status::InvalidJson
    );
}

#[test]
fn bad_names_are_invalid_arg() {
    let long = "n".repeat(polyipc::sys::POLYIPC_MAX_NAME as usize + 1);
    for bad in [
        "",
        "a/b",
        "..",
        "/abs",
        "sp ace",
        "semi;colon",
        "nul\0byte",
        "ünï",
        long.as_str(),
    ] {
        let e = Queue::open(bad, &QueueOptions::new()).unwrap_err();
        assert_eq!(e.status(), Status::InvalidArg, "{bad:?}: {e}");
        assert!(!e.message().is_empty());
        assert_eq!(
            polyipc::unlink(bad).unwrap_err().status(),
            Status::InvalidArg,
            "{bad:?}"
        );
        assert_eq!(
            polyipc::stat_json(bad).unwrap_err().status(),
            Status::InvalidArg,
            "{bad:?}"
        );
    }
    let max = "m".repeat(polyipc::sys::POLYIPC_MAX_NAME as usize);
    let e = Queue::open(&max, &QueueOptions::new().open_mode(OpenMode::OpenOnly)).unwrap_err();
    assert_eq!(
        e.status(),
        Status::NotFound,
        "a 200-character name is valid: {e}"
    );
}

#[test]
fn bad_options_are_invalid_arg() {
    let name = Name::new("badopts");
    let e = Queue::open(&name, &QueueOptions::new().capacity_bytes(1)).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    let e = Queue::open(
        &name,
        &QueueOptions::new()
            .capacity_bytes(4096)
            .max_message_bytes(1 << 20),
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
}

#[test]
fn a_message_larger_than_the_queue_is_too_large_not_a_wait() {
    let name = Name::new("huge");
    let q = name.open(
        &QueueOptions::new()
            .format(Format::Bytes)
            .capacity_bytes(4096),
    );
    let e = q.put(&vec![0u8; 8192], None).unwrap_err();
    assert_eq!(e.status(), Status::TooLarge, "{e}");
    assert_eq!(q.size().unwrap(), 0);
}

#[test]
fn a_value_serde_cannot_write_as_json_is_invalid_json() {
    let name = Name::new("unserialisable");
    let q = name.open(&QueueOptions::new());
    let mut map = std::collections::HashMap::new();
    map.insert((1, 2), "tuple keys are not JSON");
    let e = q.put_json(&map, NOW).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson);
    assert!(e.message().contains(&*name), "{e}");
    assert_eq!(q.size().unwrap(), 0);
}
