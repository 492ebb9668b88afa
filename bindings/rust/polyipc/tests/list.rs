//! List: semantics and bad input in one process, and across real processes
//! (this test binary runs again as a child in a role): two children
//! appending at once keep their own order and lose nothing, and a child
//! killed with SIGKILL mid-append or mid-pop leaves a readable, usable list.
mod common;
use common::{BOUND, ChildProc, Name, child_args, child_role, tell};
use polyipc::{Dict, DictOptions, Event, List, ListOptions, OpenMode, QueueOptions, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Instant;

fn open(name: &str) -> List {
    List::open(name, &ListOptions::new()).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

fn attach(name: &str) -> List {
    List::open(name, &ListOptions::new().open_mode(OpenMode::OpenOnly))
        .unwrap_or_else(|e| panic!("attach {name}: {e}"))
}

fn items(l: &List) -> Value {
    serde_json::from_str(&l.items_json().unwrap()).unwrap()
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i32,
    y: Vec<f64>,
}

// ---- semantics -----------------------------------------------------------

#[test]
fn append_get_set_len_items_clear() {
    let name = Name::new("list");
    let l = open(&name);
    assert_eq!(l.name(), &*name);
    assert!(l.is_empty().unwrap());
    assert_eq!(items(&l), json!([]));
    assert!(l.items::<Value>().unwrap().is_empty());

    l.append(&Point { x: 1, y: vec![0.5] }).unwrap();
    l.append_json("[1, 2,  3]").unwrap();
    l.append("text").unwrap();
    l.append(&None::<i32>).unwrap();
    assert_eq!(l.len().unwrap(), 4);
    assert_eq!(l.get::<Point>(0).unwrap(), Point { x: 1, y: vec![0.5] });
    assert_eq!(
        l.get_json(1).unwrap(),
        "[1, 2,  3]",
        "the text as it was stored"
    );
    assert_eq!(l.get::<Vec<u8>>(1).unwrap(), vec![1, 2, 3]);
    assert_eq!(l.get::<String>(2).unwrap(), "text");
    assert_eq!(l.get_json(3).unwrap(), "null");
    assert_eq!(l.get::<Option<i32>>(3).unwrap(), None);
    // negative indexes count from the end
    assert_eq!(l.get_json(-1).unwrap(), "null");
    assert_eq!(l.get::<String>(-2).unwrap(), "text");
    assert_eq!(l.get::<Point>(-4).unwrap().x, 1);

    l.set(0, &7).unwrap();
    l.set_json(-1, r#"{"k": "v"}"#).unwrap();
    l.set(-3, "one-two-three").unwrap();
    assert_eq!(items(&l), json!([7, "one-two-three", "text", {"k": "v"}]));
    assert_eq!(
        l.items::<Value>().unwrap(),
        vec![
            json!(7),
            json!("one-two-three"),
            json!("text"),
            json!({"k": "v"})
        ]
    );

    // another handle sees the same values
    let other = attach(&name);
    assert_eq!(other.get::<i64>(0).unwrap(), 7);
    other.append(&8).unwrap();
    assert_eq!(l.get::<i64>(-1).unwrap(), 8);
    assert_eq!(l.len().unwrap(), 5);

    l.clear().unwrap();
    assert!(l.is_empty().unwrap());
    assert!(other.is_empty().unwrap());
    assert_eq!(items(&l), json!([]));
    l.append(&true).unwrap();
    assert_eq!(other.items::<bool>().unwrap(), vec![true]);

    let stat: Value = serde_json::from_str(&l.stat_json().unwrap()).unwrap();
    assert_eq!(stat["name"], json!(name.0), "{stat}");
    assert_eq!(stat["kind"], json!("list"), "{stat}");
}

#[test]
fn insert_at_front_middle_end_and_beyond_either_end() {
    let name = Name::new("list-insert");
    let l = open(&name);
    l.insert(0, &2).unwrap(); // into an empty list
    l.insert(0, &0).unwrap(); // front
    l.insert(1, &1).unwrap(); // middle
    l.insert(3, &3).unwrap(); // at len: the end
    l.insert(-1, &25).unwrap(); // before the last, as Python's insert
    assert_eq!(l.items::<i64>().unwrap(), vec![0, 1, 2, 25, 3]);
    l.insert(100, &99).unwrap(); // past the end: appends
    l.insert(-100, &-99).unwrap(); // before -len: prepends
    l.insert_json(i64::MAX, "\"max\"").unwrap();
    l.insert_json(i64::MIN, "\"min\"").unwrap();
    assert_eq!(items(&l), json!(["min", -99, 0, 1, 2, 25, 3, 99, "max"]));
}

#[test]
fn pop_at_front_middle_end_and_on_empty() {
    let name = Name::new("list-pop");
    let l = open(&name);
    for i in 0..7 {
        l.append(&i).unwrap();
    }
    assert_eq!(l.pop::<i64>().unwrap(), Some(6)); // the last by default
    assert_eq!(l.pop_at::<i64>(0).unwrap(), Some(0)); // front
    assert_eq!(l.pop_at::<i64>(2).unwrap(), Some(3)); // middle
    assert_eq!(l.pop_at::<i64>(-1).unwrap(), Some(5)); // end
    assert_eq!(l.pop_json_at(-2).unwrap().as_deref(), Some("2"));
    assert_eq!(l.items::<i64>().unwrap(), vec![1, 4]);
    assert_eq!(l.pop_json().unwrap().as_deref(), Some("4"));
    assert_eq!(l.pop::<i64>().unwrap(), Some(1));
    // empty: None, whatever the index
    assert_eq!(l.pop::<i64>().unwrap(), None);
    assert_eq!(l.pop_json().unwrap(), None);
    assert_eq!(l.pop_at::<i64>(0).unwrap(), None);
    assert_eq!(l.pop_json_at(5).unwrap(), None);
    assert!(l.is_empty().unwrap());
    // a value of another type is removed all the same, the error names the list
    l.append("not a number").unwrap();
    let e = l.pop::<i64>().unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(e.message().contains(&format!("list '{}'", name.0)), "{e}");
    assert!(l.is_empty().unwrap());
}

#[test]
fn unicode_values_round_trip_byte_for_byte() {
    let name = Name::new("list-unicode");
    let l = open(&name);
    let values = [
        "🔑",
        "κλειδί",
        "鍵",
        "emoji 🎉 in the middle",
        "𝄞",
        "\u{10FFFF}",
    ];
    for v in values {
        l.append(v).unwrap();
    }
    assert_eq!(l.items::<String>().unwrap(), values);
    for (i, v) in values.iter().enumerate() {
        assert_eq!(l.get::<String>(i as i64).unwrap(), *v);
    }
    // raw text with the character itself and as an escaped surrogate pair
    l.insert_json(0, r#""😀 \ud83d\ude00""#).unwrap();
    assert_eq!(l.get_json(0).unwrap(), r#""😀 \ud83d\ude00""#);
    assert_eq!(l.get::<String>(0).unwrap(), "😀 😀");
    l.set(1, &json!({"🔑": "𝄞"})).unwrap();
    assert_eq!(l.get::<Value>(1).unwrap(), json!({"🔑": "𝄞"}));
    assert_eq!(l.pop::<String>().unwrap().as_deref(), Some("\u{10FFFF}"));
    assert_eq!(l.pop_at::<String>(0).unwrap().as_deref(), Some("😀 😀"));
}

#[test]
fn options_open_modes_and_close() {
    let name = Name::new("list-opts");
    let e = List::open(&name, &ListOptions::new().open_mode(OpenMode::OpenOnly)).unwrap_err();
    assert_eq!(e.status(), Status::NotFound, "{e}");
    let l = List::open(
        &name,
        &ListOptions::new()
            .open_mode(OpenMode::CreateOnly)
            .capacity_bytes(8192)
            .max_items(10)
            .mode(0o640),
    )
    .unwrap();
    l.append(&1).unwrap();
    let e = List::open(&name, &ListOptions::new().open_mode(OpenMode::CreateOnly)).unwrap_err();
    assert_eq!(e.status(), Status::Exists, "{e}");
    // opening an existing list ignores capacity and max_items
    let again = List::open(&name, &ListOptions::new().max_items(1)).unwrap();
    again.append(&2).unwrap();
    let stat: Value = serde_json::from_str(&polyipc::stat_json(&name).unwrap()).unwrap();
    assert_eq!(stat["kind"], "list", "{stat}");
    assert_eq!(stat["length"], 2, "{stat}");
    assert_eq!(stat["max_items"], 10, "created with 10, not 1: {stat}");
    assert_eq!(stat["mode"], 0o640, "{stat}");

    // close releases the handle only: the values stay for the next opener
    l.close();
    again.close();
    let reopened = attach(&name);
    assert_eq!(reopened.items::<i64>().unwrap(), vec![1, 2]);
    assert_eq!(
        format!("{reopened:?}"),
        format!("List {{ name: {:?}, .. }}", name.0)
    );
    List::unlink(&name).unwrap();
    let e = List::open(&name, &ListOptions::new().open_mode(OpenMode::OpenOnly)).unwrap_err();
    assert_eq!(e.status(), Status::NotFound, "{e}");
    reopened.append(&3).unwrap();
    assert_eq!(reopened.len().unwrap(), 3);
}

#[test]
fn threads_sharing_one_handle_append_everything() {
    let name = Name::new("list-threads");
    let l = open(&name);
    const THREADS: i64 = 4;
    const EACH: i64 = 200;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let l = &l;
            s.spawn(move || {
                for i in 0..EACH {
                    l.append(&json!([t, i])).unwrap();
                }
            });
        }
    });
    let all = l.items::<(i64, i64)>().unwrap();
    assert_eq!(all.len() as i64, THREADS * EACH);
    let mut next = [0i64; THREADS as usize];
    for (t, i) in all {
        assert_eq!(i, next[t as usize], "thread {t} in order");
        next[t as usize] += 1;
    }
}

// ---- bad input -----------------------------------------------------------

#[test]
fn malformed_json_is_rejected_naming_the_list_and_changes_nothing() {
    let name = Name::new("list-badjson");
    let l = open(&name);
    l.append(&1).unwrap();
    for bad in [
        "",
        "{",
        r#"{"a":}"#,
        "[1,2",
        "nul",
        "{'single':1}",
        "1 2",
        "undefined",
    ] {
        for e in [
            l.append_json(bad).unwrap_err(),
            l.insert_json(0, bad).unwrap_err(),
            l.set_json(0, bad).unwrap_err(),
        ] {
            assert_eq!(e.status(), Status::InvalidJson, "{bad:?}: {e}");
            assert!(e.message().contains(&*name), "names the list: {e}");
        }
    }
    // a NUL byte: no JSON text holds one; rejected before the C API
    for e in [
        l.append_json("\"a\0b\"").unwrap_err(),
        l.insert_json(0, "1\0").unwrap_err(),
        l.set_json(0, "[\0]").unwrap_err(),
    ] {
        assert_eq!(e.status(), Status::InvalidJson, "{e}");
        assert!(
            e.message().contains(&format!("list '{}'", name.0)) && e.message().contains("NUL"),
            "{e}"
        );
    }
    // a NUL inside a serialised string is escaped (\u0000): a value like any other
    l.append("nul\0inside").unwrap();
    assert_eq!(l.get_json(-1).unwrap(), r#""nul\u0000inside""#);
    assert_eq!(l.pop::<String>().unwrap().as_deref(), Some("nul\0inside"));
    // serde_json refuses maps with keys that are not strings
    let mut bad = HashMap::new();
    bad.insert((1, 2), 3);
    let e = l.append(&bad).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(e.message().contains(&*name), "{e}");
    // a value that is not the requested type
    let e = l.get::<String>(0).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(e.message().contains("element 0"), "{e}");
    let e = l.items::<String>().unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert_eq!(items(&l), json!([1]), "nothing changed");
}

#[test]
fn indexes_out_of_range_are_out_of_range_and_change_nothing() {
    let name = Name::new("list-range");
    let l = open(&name);
    let e = l.get_json(0).unwrap_err(); // empty
    assert_eq!(e.status(), Status::OutOfRange, "{e}");
    let e = l.set(0, &1).unwrap_err();
    assert_eq!(e.status(), Status::OutOfRange, "{e}");
    for i in 0..3 {
        l.append(&i).unwrap();
    }
    for i in [3, 4, -4, -100, i64::MAX, i64::MIN] {
        for e in [
            l.get_json(i).unwrap_err(),
            l.get::<i64>(i).unwrap_err(),
            l.set(i, &9).unwrap_err(),
            l.set_json(i, "9").unwrap_err(),
            l.pop_at::<i64>(i).unwrap_err(),
            l.pop_json_at(i).unwrap_err(),
        ] {
            assert_eq!(e.status(), Status::OutOfRange, "{i}: {e}");
            assert!(e.message().contains("out of range"), "{e}");
            assert!(e.message().contains(&*name), "{e}");
        }
    }
    assert_eq!(l.items::<i64>().unwrap(), vec![0, 1, 2], "nothing changed");
}

#[test]
fn full_by_max_items_and_by_bytes_and_too_large() {
    let name = Name::new("list-full");
    let l = List::open(
        &name,
        &ListOptions::new()
            .open_mode(OpenMode::CreateOnly)
            .capacity_bytes(1024)
            .max_items(3),
    )
    .unwrap();
    for i in 0..3 {
        l.append(&i).unwrap();
    }
    for e in [l.append(&3).unwrap_err(), l.insert(0, &3).unwrap_err()] {
        assert_eq!(e.status(), Status::Full, "{e}");
        assert!(e.message().contains(&*name), "{e}");
    }
    l.set(2, &22).unwrap(); // replacing is not adding
    // 1 KiB of room: a 700-byte value fits once, a second one does not
    let big = "x".repeat(700);
    l.set(0, &big).unwrap();
    let e = l.set(1, &big).unwrap_err();
    assert_eq!(e.status(), Status::Full, "{e}");
    // one that can never fit is TooLarge
    let e = l.set(1, &"x".repeat(2000)).unwrap_err();
    assert_eq!(e.status(), Status::TooLarge, "{e}");
    assert_eq!(items(&l), json!([big, 1, 22]));
    // after a pop there is room again
    assert_eq!(l.pop::<i64>().unwrap(), Some(22));
    l.append(&3).unwrap();
    assert_eq!(l.len().unwrap(), 3);
}

#[test]
fn a_name_holding_another_kind_is_incompatible() {
    let dname = Name::new("list-is-dict");
    let _d = Dict::open(&dname, &DictOptions::new()).unwrap();
    let e = List::open(&dname, &ListOptions::new()).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible, "{e}");
    assert!(e.message().contains("dict"), "{e}");
    let qname = Name::new("list-is-queue");
    let _q = qname.open(&QueueOptions::new());
    let e = List::open(&qname, &ListOptions::new()).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible, "{e}");
    let lname = Name::new("dict-is-list");
    let _l = open(&lname);
    let e = Dict::open(&lname, &DictOptions::new()).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible, "{e}");
    for bad in ["", "a/b", "../x", "a\0b"] {
        let e = List::open(bad, &ListOptions::new()).unwrap_err();
        assert_eq!(e.status(), Status::InvalidArg, "{bad:?}: {e}");
    }
    let e = List::open(
        &Name::new("list-bad-opts"),
        &ListOptions::new().max_items(0),
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    assert!(e.message().contains("max_items"), "{e}");
}

// ---- child roles ---------------------------------------------------------

/// Opens the list, says "ready", waits for the start event, then appends
/// [ID, i] for i in 0..N.
#[test]
fn child_appender() {
    let Some(name) = child_role("list-appender") else {
        return;
    };
    let args = child_args();
    let start = Event::open(&args[0]).unwrap();
    let n: u64 = args[1].parse().unwrap();
    let id: u64 = args[2].parse().unwrap();
    let l = attach(&name);
    tell("ready");
    assert!(start.wait(Some(BOUND)).unwrap(), "the parent starts us");
    for i in 0..n {
        l.append(&json!([id, i])).unwrap();
    }
    tell(format!("appended {n}"));
}

/// Appends, inserts and pops in a loop until killed (or for BOUND at
/// most), telling "working" once it has done as many steps as its argument.
#[test]
fn child_churner() {
    let Some(name) = child_role("list-churner") else {
        return;
    };
    let l = attach(&name);
    let after: u64 = child_args()[0].parse().unwrap();
    let deadline = Instant::now() + BOUND;
    let mut i: u64 = 0;
    while Instant::now() < deadline {
        match i % 5 {
            1 => {
                l.pop_json_at(0).unwrap();
            }
            3 => {
                l.pop_json().unwrap();
            }
            4 => {
                let len = l.len().unwrap() as i64;
                if l.insert(len / 2, &entry(i)).is_err() {
                    l.pop_json_at(0).unwrap(); // full: make room
                }
            }
            _ => {
                if l.append(&entry(i)).is_err() {
                    l.pop_json_at(0).unwrap(); // full: make room
                }
            }
        }
        i += 1;
        if i == after {
            tell("working");
        }
    }
    std::process::exit(3);
}

/// The value the churner writes at step `i`: its parts agree, so a torn
/// value would show.
fn entry(i: u64) -> Value {
    json!({"i": i, "pad": "p".repeat((i % 97) as usize), "check": [i, i * 2]})
}

// ---- across processes ----------------------------------------------------

#[test]
fn two_processes_appending_at_once_keep_their_order_and_lose_nothing() {
    let name = Name::new("list-xproc-append");
    let start = Name::new("list-xproc-start");
    const N: u64 = 3000;
    let l = List::open(&name, &ListOptions::new().max_items(2 * N + 10)).unwrap();
    let gate = Event::open(&start).unwrap();
    let mut children: Vec<_> = (0..2u64)
        .map(|id| {
            ChildProc::spawn(
                "child_appender",
                "list-appender",
                &name,
                &[&start, &N.to_string(), &id.to_string()],
            )
        })
        .collect();
    for c in &children {
        assert_eq!(c.next_line(BOUND).as_deref(), Some("ready"));
    }
    gate.set().unwrap();
    for c in &mut children {
        assert_eq!(c.next_line(BOUND), Some(format!("appended {N}")));
        assert!(c.wait(BOUND).expect("the child exits").success());
    }
    let all = l.items::<(u64, u64)>().unwrap();
    assert_eq!(all.len() as u64, 2 * N, "nothing lost");
    let mut next = [0u64; 2];
    let mut switches = 0;
    for (k, &(id, i)) in all.iter().enumerate() {
        assert_eq!(i, next[id as usize], "child {id}'s values in order");
        next[id as usize] += 1;
        if k > 0 && all[k - 1].0 != id {
            switches += 1;
        }
    }
    assert_eq!(next, [N, N]);
    // how much the appends interleaved: shown, not asserted (the scheduler decides)
    println!("the two children's appends alternated {switches} times");
}

#[test]
fn a_child_killed_mid_append_or_pop_leaves_a_readable_usable_list() {
    let name = Name::new("list-xproc-kill");
    // little room: the churner fills it and pops to make room
    let l = List::open(
        &name,
        &ListOptions::new().capacity_bytes(16 * 1024).max_items(200),
    )
    .unwrap();
    for round in 0..8u64 {
        let after = (300 + 437 * round).to_string();
        let mut churner = ChildProc::spawn("child_churner", "list-churner", &name, &[&after]);
        assert_eq!(churner.next_line(BOUND).as_deref(), Some("working"));
        churner.child.kill().unwrap(); // SIGKILL, at whatever it was doing
        let status = churner.wait(BOUND).expect("the killed child is reaped");
        assert!(!status.success());

        // every value present is complete and consistent
        let all = l.items::<Value>().unwrap();
        assert_eq!(all.len(), l.len().unwrap(), "round {round}");
        for (k, v) in all.iter().enumerate() {
            let i = v["i"].as_u64().unwrap_or_else(|| panic!("{k}: {v}"));
            assert_eq!(v, &entry(i), "round {round}: element {k}");
            assert_eq!(&l.get::<Value>(k as i64).unwrap(), v);
        }
        // and still usable: pop (making room: the churner may have filled it),
        // append, insert, set
        for want in all.iter().rev().take(3) {
            assert_eq!(l.pop::<Value>().unwrap().as_ref(), Some(want));
        }
        let left = l.len().unwrap();
        l.append(&json!({"round": round})).unwrap();
        l.insert(0, &json!("front")).unwrap();
        l.set(-1, &json!({"round": round, "set": true})).unwrap();
        assert_eq!(
            l.pop::<Value>().unwrap(),
            Some(json!({"round": round, "set": true}))
        );
        assert_eq!(l.pop_at::<String>(0).unwrap().as_deref(), Some("front"));
        assert_eq!(l.len().unwrap(), left);
    }
}
