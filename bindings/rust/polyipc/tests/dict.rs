//! Dict: semantics and bad input in one process, and across real processes
//! (this test binary runs again as a child in a role): compare-and-set
//! increments from two children ending exact, and a writer killed with
//! SIGKILL leaving a readable, writable dict.
mod common;
use common::{BOUND, ChildProc, Name, child_args, child_role, tell};
use polyipc::{Dict, DictOptions, Event, OpenMode, Queue, QueueOptions, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Instant;

fn open(name: &str) -> Dict {
    Dict::open(name, &DictOptions::new()).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

fn attach(name: &str) -> Dict {
    Dict::open(name, &DictOptions::new().open_mode(OpenMode::OpenOnly))
        .unwrap_or_else(|e| panic!("attach {name}: {e}"))
}

fn items(d: &Dict) -> Value {
    serde_json::from_str(&d.items_json().unwrap()).unwrap()
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Point {
    x: i32,
    y: Vec<f64>,
}

// ---- semantics -----------------------------------------------------------

#[test]
fn set_get_replace_remove_len_keys_items_clear() {
    let name = Name::new("dict");
    let d = open(&name);
    assert_eq!(d.name(), &*name);
    assert!(d.is_empty().unwrap());
    assert_eq!(d.get::<i64>("a").unwrap(), None);
    assert_eq!(d.get_json("a").unwrap(), None);
    assert!(!d.contains_key("a").unwrap());

    d.set("a", &Point { x: 1, y: vec![0.5] }).unwrap();
    d.set_json("b", "[1, 2,  3]").unwrap();
    d.set("", "empty key").unwrap();
    d.set("nothing", &None::<i32>).unwrap();
    assert_eq!(
        d.get::<Point>("a").unwrap(),
        Some(Point { x: 1, y: vec![0.5] })
    );
    assert_eq!(
        d.get_json("b").unwrap().as_deref(),
        Some("[1, 2,  3]"),
        "the text as it was set"
    );
    assert_eq!(d.get::<Vec<u8>>("b").unwrap(), Some(vec![1, 2, 3]));
    assert_eq!(d.get::<String>("").unwrap().as_deref(), Some("empty key"));
    // a JSON null is a value, not an absent key
    assert_eq!(d.get_json("nothing").unwrap().as_deref(), Some("null"));
    assert_eq!(d.get::<Option<i32>>("nothing").unwrap(), Some(None));
    assert!(d.contains_key("nothing").unwrap());
    assert_eq!(d.len().unwrap(), 4);

    // replacing moves the key to the end of the order
    d.set("a", &3).unwrap();
    assert_eq!(d.get::<i64>("a").unwrap(), Some(3));
    assert_eq!(d.len().unwrap(), 4);
    assert_eq!(d.keys().unwrap(), ["b", "", "nothing", "a"]);
    assert_eq!(
        serde_json::from_str::<Value>(&d.keys_json().unwrap()).unwrap(),
        json!(["b", "", "nothing", "a"])
    );
    assert_eq!(
        d.items::<Value>().unwrap(),
        vec![
            ("b".to_string(), json!([1, 2, 3])),
            ("".to_string(), json!("empty key")),
            ("nothing".to_string(), Value::Null),
            ("a".to_string(), json!(3)),
        ],
        "items in the order last set"
    );

    assert!(d.remove("b").unwrap());
    assert!(!d.remove("b").unwrap());
    assert!(!d.remove("never").unwrap());
    assert_eq!(d.get_json("b").unwrap(), None);
    assert_eq!(d.len().unwrap(), 3);

    // another handle sees the same entries
    let other = attach(&name);
    assert_eq!(other.get::<i64>("a").unwrap(), Some(3));
    other.remove("a").unwrap();
    assert_eq!(d.get::<i64>("a").unwrap(), None);

    d.clear().unwrap();
    assert!(d.is_empty().unwrap());
    assert_eq!(items(&d), json!({}));
    assert!(d.items::<Value>().unwrap().is_empty());
    assert!(d.keys().unwrap().is_empty());
    d.set("after-clear", &true).unwrap();
    assert_eq!(other.get::<bool>("after-clear").unwrap(), Some(true));

    let stat: Value = serde_json::from_str(&d.stat_json().unwrap()).unwrap();
    assert_eq!(stat["name"], json!(name.0), "{stat}");
    assert_eq!(stat["count"], json!(1), "{stat}");
}

#[test]
fn unicode_keys_and_values_round_trip_byte_for_byte() {
    let name = Name::new("dict-unicode");
    let d = open(&name);
    // non-BMP characters (surrogate pairs in UTF-16, 4 bytes in UTF-8)
    let keys = ["🔑", "κλειδί", "鍵", "emoji 🎉 in the middle", "𝄞"];
    for (i, k) in keys.iter().enumerate() {
        d.set(k, &format!("value {i} 🚀 {k}")).unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(
            d.get::<String>(k).unwrap(),
            Some(format!("value {i} 🚀 {k}"))
        );
    }
    assert_eq!(d.keys().unwrap(), keys);
    // raw JSON text with the character itself and as an escaped surrogate pair
    d.set_json("🔑", r#""😀 \ud83d\ude00""#).unwrap();
    assert_eq!(
        d.get_json("🔑").unwrap().as_deref(),
        Some(r#""😀 \ud83d\ude00""#)
    );
    assert_eq!(d.get::<String>("🔑").unwrap().as_deref(), Some("😀 😀"));
    let all: HashMap<String, String> = d.items().unwrap().into_iter().collect();
    assert_eq!(all["𝄞"], "value 4 🚀 𝄞");
    assert!(d.remove("🔑").unwrap());
    assert!(!d.contains_key("🔑").unwrap());
    // a key of exactly 4096 bytes of 4-byte characters is fine
    let long = "😀".repeat(1024);
    d.set(&long, &1).unwrap();
    assert_eq!(d.get::<i32>(&long).unwrap(), Some(1));
}

#[test]
fn compare_and_set_compares_as_json_and_set_if_absent_is_atomic() {
    let name = Name::new("dict-cas");
    let d = open(&name);
    // expected None: only if absent
    assert!(d.compare_and_set("n", None, Some("1")).unwrap());
    assert!(!d.compare_and_set("n", None, Some("100")).unwrap());
    assert_eq!(d.get_json("n").unwrap().as_deref(), Some("1"));
    // 1.0 equals 1 as JSON, 2 does not
    assert!(!d.compare_and_set("n", Some("2"), Some("5")).unwrap());
    assert!(d.compare_and_set("n", Some("1.0"), Some("2")).unwrap());
    assert_eq!(d.get::<i64>("n").unwrap(), Some(2));
    // objects: key order and whitespace do not count
    d.set("o", &json!({"a": 1, "b": [true, null]})).unwrap();
    assert!(
        d.compare_and_set(
            "o",
            Some(r#"{ "b" : [ true , null ], "a" : 1.0 }"#),
            Some("{}")
        )
        .unwrap()
    );
    assert_eq!(d.get_json("o").unwrap().as_deref(), Some("{}"));
    // desired None removes, only on a match
    assert!(!d.compare_and_set("o", Some("[]"), None).unwrap());
    assert!(d.compare_and_set("o", Some("{}"), None).unwrap());
    assert!(!d.contains_key("o").unwrap());
    // an expected value never matches an absent key, not even null
    assert!(!d.compare_and_set("o", Some("null"), Some("1")).unwrap());
    assert!(!d.contains_key("o").unwrap());

    // set_if_absent: Java's putIfAbsent, Python's setdefault
    assert!(d.set_if_absent("p", &Point { x: 7, y: vec![] }).unwrap());
    assert!(!d.set_if_absent("p", &Point { x: 8, y: vec![] }).unwrap());
    assert_eq!(d.get::<Point>("p").unwrap().unwrap().x, 7);
    assert!(d.set_json_if_absent("q", "[1]").unwrap());
    assert!(!d.set_json_if_absent("q", "[2]").unwrap());
    assert_eq!(d.get_json("q").unwrap().as_deref(), Some("[1]"));

    // bad expected or desired JSON: InvalidJson, nothing changes
    let e = d.compare_and_set("n", Some("{bad"), Some("3")).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(e.message().contains("expected"), "{e}");
    let e = d.compare_and_set("n", Some("2"), Some("[1,")).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert_eq!(d.get::<i64>("n").unwrap(), Some(2));
}

#[test]
fn threads_sharing_one_handle_increment_exactly() {
    let name = Name::new("dict-threads");
    let d = open(&name);
    d.set("count", &0).unwrap();
    const THREADS: usize = 4;
    const EACH: i64 = 200;
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..EACH {
                    increment(&d, "count");
                }
            });
        }
    });
    assert_eq!(d.get::<i64>("count").unwrap(), Some(THREADS as i64 * EACH));
}

/// One compare-and-set increment of `key`, retried until no one came
/// between; returns the number of retries.
fn increment(d: &Dict, key: &str) -> u64 {
    let mut retries = 0;
    loop {
        let now = d.get_json(key).unwrap().expect("the counter exists");
        let next: i64 = serde_json::from_str::<i64>(&now).unwrap() + 1;
        if d.compare_and_set(key, Some(&now), Some(&next.to_string()))
            .unwrap()
        {
            return retries;
        }
        retries += 1;
    }
}

#[test]
fn options_open_modes_and_close() {
    let name = Name::new("dict-opts");
    assert_eq!(
        Dict::open(&name, &DictOptions::new().open_mode(OpenMode::OpenOnly))
            .unwrap_err()
            .status(),
        Status::NotFound
    );
    let d = Dict::open(
        &name,
        &DictOptions::new()
            .open_mode(OpenMode::CreateOnly)
            .capacity_bytes(8192)
            .max_items(10)
            .mode(0o640),
    )
    .unwrap();
    d.set("k", &1).unwrap();
    let e = Dict::open(&name, &DictOptions::new().open_mode(OpenMode::CreateOnly)).unwrap_err();
    assert_eq!(e.status(), Status::Exists, "{e}");
    // opening an existing dict ignores capacity and max_items
    let again = Dict::open(&name, &DictOptions::new().max_items(1)).unwrap();
    again.set("k2", &2).unwrap();
    let stat: Value = serde_json::from_str(&polyipc::stat_json(&name).unwrap()).unwrap();
    assert_eq!(stat["kind"], "dict", "{stat}");
    assert_eq!(stat["count"], 2, "{stat}");

    // close releases the handle only: the entries stay for the next opener
    d.close();
    again.close();
    let reopened = attach(&name);
    assert_eq!(reopened.get::<i32>("k").unwrap(), Some(1));
    assert_eq!(
        format!("{reopened:?}"),
        format!("Dict {{ name: {:?}, .. }}", name.0)
    );
    // unlinked: the name is gone, the open handle keeps working
    Dict::unlink(&name).unwrap();
    assert_eq!(
        Dict::open(&name, &DictOptions::new().open_mode(OpenMode::OpenOnly))
            .unwrap_err()
            .status(),
        Status::NotFound
    );
    reopened.set("still", &true).unwrap();
    assert_eq!(reopened.len().unwrap(), 3);
}

// ---- bad input -----------------------------------------------------------

#[test]
fn malformed_json_is_rejected_naming_the_dict_and_changes_nothing() {
    let name = Name::new("dict-badjson");
    let d = open(&name);
    d.set("k", &1).unwrap();
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
        let e = d.set_json("k", bad).unwrap_err();
        assert_eq!(e.status(), Status::InvalidJson, "{bad:?}: {e}");
        assert!(e.message().contains(&*name), "names the dict: {e}");
        let e = d.set_json("new", bad).unwrap_err();
        assert_eq!(e.status(), Status::InvalidJson, "{bad:?}: {e}");
        let e = d.set_json_if_absent("new", bad).unwrap_err();
        assert_eq!(e.status(), Status::InvalidJson, "{bad:?}: {e}");
    }
    // a NUL byte: no JSON text holds one
    let e = d.set_json("k", "\"a\0b\"").unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(
        e.message().contains(&*name) && e.message().contains("NUL"),
        "{e}"
    );
    let e = d.compare_and_set("k", Some("1\0"), Some("2")).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(e.message().contains("expected"), "{e}");
    let e = d.compare_and_set("k", Some("1"), Some("2\0")).unwrap_err();
    assert!(e.message().contains("desired"), "{e}");
    assert_eq!(items(&d), json!({"k": 1}), "nothing changed");
}

#[test]
fn bad_keys_are_invalid_arg_naming_the_dict() {
    let name = Name::new("dict-badkey");
    let d = open(&name);
    d.set("k", &1).unwrap();
    let nul = d.set("a\0b", &1).unwrap_err();
    let too_long = d.set(&"k".repeat(4097), &1).unwrap_err();
    let too_long_utf8 = d.set(&format!("{}x", "😀".repeat(1024)), &1).unwrap_err();
    for e in [
        nul.clone(),
        d.get_json("a\0b").unwrap_err(),
        d.get::<i32>("\0").unwrap_err(),
        d.remove("a\0").unwrap_err(),
        d.contains_key("\0").unwrap_err(),
        d.compare_and_set("a\0b", None, Some("1")).unwrap_err(),
        d.set_if_absent("\0", &1).unwrap_err(),
        too_long.clone(),
        too_long_utf8,
        d.get_json(&"k".repeat(5000)).unwrap_err(),
    ] {
        assert_eq!(e.status(), Status::InvalidArg, "{e}");
        assert!(e.message().contains(&format!("dict '{}'", name.0)), "{e}");
    }
    assert!(nul.message().contains("NUL byte at offset 1"), "{nul}");
    assert!(too_long.message().contains("longer than"), "{too_long}");
    assert_eq!(items(&d), json!({"k": 1}), "nothing changed");
}

#[test]
fn values_of_another_type_or_not_serialisable_are_invalid_json() {
    let name = Name::new("dict-types");
    let d = open(&name);
    d.set("s", "text").unwrap();
    let e = d.get::<i64>("s").unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(
        e.message().contains(&*name) && e.message().contains("\"s\""),
        "{e}"
    );
    // serde_json refuses maps with keys that are not strings
    let mut bad = HashMap::new();
    bad.insert((1, 2), 3);
    let e = d.set("m", &bad).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(e.message().contains(&*name), "{e}");
    let e = d.set_if_absent("m", &bad).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(!d.contains_key("m").unwrap());
    d.set("n", &1).unwrap();
    let e = d.items::<String>().unwrap_err(); // "n" is no String
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    assert!(e.message().contains(&*name), "{e}");
    assert_eq!(d.items::<Value>().unwrap().len(), 2);
}

#[test]
fn full_by_max_items_and_by_bytes_and_too_large() {
    let name = Name::new("dict-full");
    let d = Dict::open(
        &name,
        &DictOptions::new()
            .open_mode(OpenMode::CreateOnly)
            .capacity_bytes(1024)
            .max_items(3),
    )
    .unwrap();
    for (k, v) in [("a", 1), ("b", 2), ("c", 3)] {
        d.set(k, &v).unwrap();
    }
    let e = d.set("d", &4).unwrap_err();
    assert_eq!(e.status(), Status::Full, "{e}");
    assert!(
        e.message().contains("max_items") && e.message().contains(&*name),
        "{e}"
    );
    let e = d.set_if_absent("d", &4).unwrap_err();
    assert_eq!(e.status(), Status::Full, "{e}");
    d.set("c", &33).unwrap(); // replacing is not adding
    // 1 KiB of room: a 700-byte value fits once, a second one does not
    let big = "x".repeat(700);
    d.set("a", &big).unwrap();
    let e = d.set("b", &big).unwrap_err();
    assert_eq!(e.status(), Status::Full, "{e}");
    // one that can never fit is TooLarge
    let e = d.set("b", &"x".repeat(2000)).unwrap_err();
    assert_eq!(e.status(), Status::TooLarge, "{e}");
    assert_eq!(items(&d), json!({"b": 2, "c": 33, "a": big}));
    // after a removal there is room for a key again
    assert!(d.remove("b").unwrap());
    d.set("d", &4).unwrap();
    assert_eq!(d.len().unwrap(), 3);
}

#[test]
fn a_name_holding_another_kind_is_incompatible() {
    let qname = Name::new("dict-is-queue");
    let _q = qname.open(&QueueOptions::new());
    let e = Dict::open(&qname, &DictOptions::new()).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible, "{e}");
    assert!(e.message().contains("queue"), "{e}");
    let dname = Name::new("queue-is-dict");
    let _d = open(&dname);
    let e = Queue::open(&dname, &QueueOptions::new()).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible, "{e}");
    for bad in ["", "a/b", "../x", "a\0b"] {
        let e = Dict::open(bad, &DictOptions::new()).unwrap_err();
        assert_eq!(e.status(), Status::InvalidArg, "{bad:?}: {e}");
    }
    let e = Dict::open(&"n".repeat(201), &DictOptions::new()).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    let e = Dict::open(
        &Name::new("dict-bad-opts"),
        &DictOptions::new().max_items(0),
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    assert!(e.message().contains("max_items"), "{e}");
}

// ---- child roles ---------------------------------------------------------

/// Opens the dict, says "ready", waits for the start event, then does N
/// compare-and-set increments of "counter" and tells how many retries it took.
#[test]
fn child_incrementer() {
    let Some(name) = child_role("dict-incrementer") else {
        return;
    };
    let args = child_args();
    let start = Event::open(&args[0]).unwrap();
    let n: u64 = args[1].parse().unwrap();
    let d = attach(&name);
    tell("ready");
    assert!(start.wait(Some(BOUND)).unwrap(), "the parent starts us");
    let retries: u64 = (0..n).map(|_| increment(&d, "counter")).sum();
    tell(format!("did {n}"));
    tell(format!("retries {retries}"));
}

/// Sets, replaces and removes entries in a loop until killed (or for BOUND
/// at most), telling "writing" once it has done as many as its argument.
#[test]
fn child_writer() {
    let Some(name) = child_role("dict-writer") else {
        return;
    };
    let d = attach(&name);
    let after: u64 = child_args()[0].parse().unwrap();
    let deadline = Instant::now() + BOUND;
    let mut i: u64 = 0;
    while Instant::now() < deadline {
        let key = format!("k{}", i % 40);
        match i % 7 {
            3 => {
                d.remove(&key).unwrap();
            }
            5 => {
                let now = d.get_json(&key).unwrap();
                d.compare_and_set(&key, now.as_deref(), Some(&entry(i).to_string()))
                    .unwrap();
            }
            _ => d.set(&key, &entry(i)).unwrap(),
        }
        i += 1;
        if i == after {
            tell("writing");
        }
    }
    std::process::exit(3);
}

/// The value the writer sets at step `i`: its parts agree with each other
/// and with the key, so a torn value would show.
fn entry(i: u64) -> Value {
    json!({"i": i, "key": i % 40, "pad": "p".repeat((i % 97) as usize), "check": [i, i * 2]})
}

// ---- across processes ----------------------------------------------------

#[test]
fn two_processes_incrementing_with_compare_and_set_end_exact() {
    let name = Name::new("dict-xproc-cas");
    let start = Name::new("dict-xproc-start");
    let d = open(&name);
    d.set("counter", &0).unwrap();
    let gate = Event::open(&start).unwrap();
    const N: u64 = 20000;
    let mut children: Vec<_> = (0..2)
        .map(|_| {
            ChildProc::spawn(
                "child_incrementer",
                "dict-incrementer",
                &name,
                &[&start, &N.to_string()],
            )
        })
        .collect();
    for c in &children {
        assert_eq!(c.next_line(BOUND).as_deref(), Some("ready"));
    }
    gate.set().unwrap();
    // this process increments too, at the same time
    let mut retries: u64 = (0..N).map(|_| increment(&d, "counter")).sum();
    for c in &mut children {
        assert_eq!(c.next_line(BOUND), Some(format!("did {N}")));
        let line = c.next_line(BOUND).expect("the child's retries");
        retries += line
            .strip_prefix("retries ")
            .unwrap()
            .parse::<u64>()
            .unwrap();
        assert!(c.wait(BOUND).expect("the child exits").success());
    }
    // how often a compare-and-set lost a race (and was retried): shown, not
    // asserted, as the scheduler decides how much the processes overlap
    println!("{retries} retried compare-and-sets out of {}", 3 * N);
    assert_eq!(
        d.get::<u64>("counter").unwrap(),
        Some(3 * N),
        "no lost update"
    );
}

#[test]
fn a_writer_killed_mid_set_leaves_a_readable_writable_dict() {
    let name = Name::new("dict-xproc-kill");
    // little room: the writer compacts often, so kills land in compactions too
    let d = Dict::open(&name, &DictOptions::new().capacity_bytes(16 * 1024)).unwrap();
    for round in 0..8 {
        // kill it after a different number of operations each round
        let after = (300 + 437 * round).to_string();
        let mut writer = ChildProc::spawn("child_writer", "dict-writer", &name, &[&after]);
        assert_eq!(writer.next_line(BOUND).as_deref(), Some("writing"));
        writer.child.kill().unwrap(); // SIGKILL, at whatever it was doing
        let status = writer.wait(BOUND).expect("the killed child is reaped");
        assert!(!status.success());

        // every value present is a complete, consistent entry
        let all = d.items::<Value>().unwrap();
        assert_eq!(all.len(), d.len().unwrap(), "round {round}");
        assert_eq!(
            d.keys().unwrap(),
            all.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()
        );
        for (k, v) in &all {
            let i = v["i"].as_u64().unwrap_or_else(|| panic!("{k}: {v}"));
            assert_eq!(v, &entry(i), "round {round}: {k}");
            assert_eq!(k, &format!("k{}", i % 40), "round {round}: {v}");
            assert_eq!(d.get::<Value>(k).unwrap().as_ref(), Some(v));
        }
        // and it is still writable: set, compare-and-set, remove
        d.set("parent", &json!({"round": round})).unwrap();
        assert_eq!(
            d.get::<Value>("parent").unwrap(),
            Some(json!({"round": round}))
        );
        assert!(
            d.compare_and_set("parent", Some(&json!({"round": round}).to_string()), None)
                .unwrap()
        );
        assert!(!d.contains_key("parent").unwrap());
    }
    let stat: Value = serde_json::from_str(&d.stat_json().unwrap()).unwrap();
    assert!(
        stat["counters"]["compactions"].as_u64().unwrap() > 0,
        "{stat}"
    );
}
