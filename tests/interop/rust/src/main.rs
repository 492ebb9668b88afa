//! The Rust interop agent: the safe crate `polyipc` and serde_json.
//! Messages and command lines: see ../../README.md.
use polyipc::{
    Barrier, Condition, Connection, Dict, DictOptions, End, Event, Handler, List, ListOptions,
    Lock, OpenMode, PipeOptions, Pool, PoolOptions, Queue, QueueOptions, Semaphore, SharedMemory,
    Status, TaskId,
};
use serde_json::{Map, Number, Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const LANG: &str = "rust";
const FIXED: &str = "héllo wörld — 漢字かな한글 😀🎉 👩\u{200d}💻 e\u{0301} 𝄞 \u{10FFFF}";
const ESCAPES: &str = "quote\" backslash\\ slash/ bs\u{8} ff\u{c} nl\n cr\r tab\t nul\0 us\u{1f} del\u{7f} ls\u{2028} ps\u{2029} <&>";

fn timeout() -> Duration {
    let secs = std::env::var("POLYIPC_INTEROP_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(60.0);
    Duration::from_secs_f64(secs)
}

fn f(x: f64) -> Value {
    Value::Number(Number::from_f64(x).expect("finite"))
}

fn cp(n: i64) -> char {
    char::from_u32(n as u32).expect("a scalar value")
}

fn message(producer: &str, i: i64) -> Value {
    let d = i as f64;
    let computed: String = [
        cp(0x4E00 + i % 20902),
        cp(0x1F600 + i % 80),
        'a',
        cp(0x0301),
        cp(0xAC00 + i % 11172),
        cp(0x10000 + (i * 7919) % 0x100000),
    ]
    .iter()
    .collect();
    let mut m = json!({
        "seq": i,
        "producer": producer,
        "ints": [i64::MIN, i64::MAX, i64::MAX - i, i64::MIN + i, i * 1000000007, -i, 0],
        "doubles": [f(1.7976931348623157e308), f(5e-324), f(-0.0), f(2.2250738585072014e-308),
                    f((d + 0.5) / 7.0), f(-((d + 1.0) * 1e-300)), f((d + 1.0) * 1e21), f(d + 0.25)],
        "flags": [true, false, null],
        "strings": {"fixed": FIXED, "escapes": ESCAPES, "computed": computed, "empty": ""},
        "ключ🔑": i,
        "nested": {"a": {"b": {"c": {"d": [i, {"e": [[], {}, null, true, false]}, [[["deep"]]]]}}}},
        "list": (0..i % 10).collect::<Vec<i64>>(),
    });
    if i % 1000 == 999 {
        m["big"] = Value::String(format!("{}|{}", "ü".repeat(20000), i));
    }
    m
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 120 {
        s
    } else {
        s.chars().take(117).collect::<String>() + "..."
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null | Value::Bool(_) => "literal",
        Value::Number(n) if n.is_f64() => "double",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn int_of(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// None when equal, else the first difference.
fn diff(got: &Value, want: &Value, path: &str) -> Option<String> {
    let same = match (got, want) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(g), Value::Bool(w)) => g == w,
        (Value::Number(g), Value::Number(w)) if w.is_f64() => {
            g.is_f64() && g.as_f64().map(f64::to_bits) == w.as_f64().map(f64::to_bits)
        }
        (Value::Number(g), Value::Number(w)) => {
            !g.is_f64() && int_of(g).is_some() && int_of(g) == int_of(w)
        }
        (Value::String(g), Value::String(w)) => g == w,
        (Value::Array(g), Value::Array(w)) => {
            if g.len() != w.len() {
                return Some(format!(
                    "{path}: array of {} elements, want {}",
                    g.len(),
                    w.len()
                ));
            }
            return g
                .iter()
                .zip(w)
                .enumerate()
                .find_map(|(k, (g, w))| diff(g, w, &format!("{path}[{k}]")));
        }
        (Value::Object(g), Value::Object(w)) => return diff_objects(g, w, path),
        _ => false,
    };
    if same {
        None
    } else {
        Some(format!(
            "{path}: got {} ({}), want {} ({})",
            show(got),
            kind(got),
            show(want),
            kind(want)
        ))
    }
}

fn diff_objects(g: &Map<String, Value>, w: &Map<String, Value>, path: &str) -> Option<String> {
    if let Some(k) = w.keys().find(|k| !g.contains_key(*k)) {
        return Some(format!("{path}: key {k:?} missing"));
    }
    if let Some(k) = g.keys().find(|k| !w.contains_key(*k)) {
        return Some(format!("{path}: unexpected key {k:?}"));
    }
    w.iter()
        .find_map(|(k, wv)| diff(&g[k], wv, &format!("{path}.{k}")))
}

type Res<T> = Result<T, String>;

fn check(msg: &Value, producer: &str, seq: i64) -> Res<()> {
    match diff(msg, &message(producer, seq), "$") {
        None => Ok(()),
        Some(d) => Err(format!("message {producer}#{seq}: {d}")),
    }
}

fn open(queue: &str, joinable: bool) -> Res<Queue> {
    Queue::open(queue, &QueueOptions::new().joinable(joinable))
        .map_err(|e| format!("open {queue}: {e}"))
}

/// One message, decoded; Ok(None) at end of stream.
fn get(q: &Queue, what: &str) -> Res<Option<Value>> {
    let t = timeout();
    match q.get_json::<Value>(Some(t)) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.status() == Status::Closed => Ok(None),
        Err(e) if e.status() == Status::Timeout => {
            Err(format!("{what}: nothing came within {t:?}"))
        }
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn seq_of(m: &Value) -> Option<(String, i64)> {
    Some((
        m.get("producer")?.as_str()?.to_string(),
        m.get("seq")?.as_i64()?,
    ))
}

fn produce(queue: &str, n: i64, id: &str) -> Res<()> {
    let q = open(queue, false)?;
    for i in 0..n {
        q.put_json(&message(id, i), Some(timeout()))
            .map_err(|e| format!("put #{i}: {e}"))?;
    }
    q.close();
    println!("{LANG}: produced {n} messages on {queue}");
    Ok(())
}

fn consume(queue: &str, n: i64, id: &str) -> Res<()> {
    let q = open(queue, false)?;
    for k in 0..n {
        let m = get(&q, &format!("waiting for message #{k}"))?
            .ok_or_else(|| format!("end of stream after {k} messages"))?;
        match seq_of(&m) {
            Some((p, s)) if s == k && p == id => {}
            _ => {
                let none = Value::Null;
                return Err(format!(
                    "message #{k}: got seq {} from {}, want seq {k} from {id:?}",
                    show(m.get("seq").unwrap_or(&none)),
                    show(m.get("producer").unwrap_or(&none))
                ));
            }
        }
        check(&m, id, k)?;
    }
    match q.get(Some(Duration::ZERO)) {
        Ok(extra) => {
            return Err(format!(
                "after {n} messages the queue still holds one: {}",
                String::from_utf8_lossy(&extra[..extra.len().min(120)])
            ));
        }
        Err(e) if e.status() == Status::Empty || e.status() == Status::Timeout => {}
        Err(e) => return Err(format!("after {n} messages: {e}")),
    }
    q.close();
    println!("{LANG}: ok {n} messages from {id}");
    Ok(())
}

fn consume_until_closed(
    queue: &str,
    out: &str,
    joinable: bool,
    hang_after: Option<usize>,
) -> Res<()> {
    let q = open(queue, joinable)?;
    let mut got: Vec<(String, i64)> = Vec::new();
    let result = (|| -> Res<()> {
        let mut last: HashMap<String, i64> = HashMap::new();
        while let Some(m) = get(&q, &format!("waiting for message #{}", got.len()))? {
            let ps = seq_of(&m);
            if hang_after == Some(got.len()) {
                let (p, s) = ps.clone().unwrap_or_default();
                println!("took job {p} {s}");
                std::io::stdout().flush().ok();
                loop {
                    std::thread::sleep(Duration::from_secs(3600)); // holds the lease until killed
                }
            }
            let (p, s) =
                ps.ok_or_else(|| format!("message #{}: no producer/seq: {}", got.len(), show(&m)))?;
            check(&m, &p, s)?;
            if let Some(&l) = last.get(&p)
                && s <= l
            {
                return Err(format!("message {p}#{s} came after {p}#{l}"));
            }
            last.insert(p.clone(), s);
            got.push((p, s));
            if joinable {
                q.task_done().map_err(|e| format!("task_done: {e}"))?;
            }
        }
        Ok(())
    })();
    let mut text = String::new();
    for (p, s) in &got {
        let _ = writeln!(text, "{p} {s}");
    }
    std::fs::write(out, text).map_err(|e| format!("write {out}: {e}"))?;
    result?;
    q.close();
    println!("{LANG}: ok {} messages, end of stream", got.len());
    Ok(())
}

// ---- synchronisation scenarios (../README.md, "Synchronisation scenarios") ----

/// Rewrites FILE atomically: FILE.tmp.<pid>, then rename over FILE.
fn write_json(path: &str, v: &Value) -> Res<()> {
    let tmp = format!("{path}.tmp.{}", std::process::id());
    std::fs::write(&tmp, v.to_string()).map_err(|e| format!("write {tmp}: {e}"))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("rename {tmp} to {path}: {e}"))
}

fn read_json(path: &str) -> Res<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read {path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: not JSON ({e}): {text:?}"))
}

fn num_of(v: &Value, what: &str) -> Res<i64> {
    v.get(what)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("no integer {what:?} in {}", show(v)))
}

/// Prints `holding` and sleeps until killed.
fn hang() -> ! {
    println!("holding");
    std::io::stdout().flush().ok();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn tickets(lock_name: &str, path: &str, id: &str, hang_mid_sale: bool) -> Res<()> {
    let lock = Lock::open(lock_name).map_err(|e| format!("open lock {lock_name}: {e}"))?;
    let mut bought = 0u64;
    loop {
        let guard = lock
            .acquire(Some(timeout()))
            .map_err(|e| format!("acquire {lock_name}: {e}"))?;
        let owner_died = guard.previous_owner_died();
        let mut t = read_json(path)?;
        if !t["pending"].is_null() {
            if !owner_died {
                return Err(format!(
                    "a torn sale without a dead holder: {}",
                    show(&t["pending"])
                ));
            }
            let pending = t["pending"].take();
            for k in ["remaining", "sold", "buyers"] {
                t[k] = pending[k].clone();
            }
            t["repairs"] = json!(num_of(&t, "repairs")? + 1);
            write_json(path, &t)?;
        }
        let remaining = num_of(&t, "remaining")?;
        if remaining == 0 {
            drop(guard);
            break;
        }
        let sold = num_of(&t, "sold")?;
        let before = json!({"remaining": remaining, "sold": sold, "buyers": t["buyers"].clone()});
        t["remaining"] = json!(remaining - 1);
        t["sold"] = json!(sold + 1);
        let mine = t["buyers"].get(id).and_then(Value::as_i64).unwrap_or(0);
        t["buyers"][id] = json!(mine + 1);
        t["pending"] = before;
        write_json(path, &t)?;
        if hang_mid_sale {
            hang(); // the lock stays held: killed mid-sale
        }
        t["pending"] = Value::Null;
        write_json(path, &t)?;
        bought += 1;
        drop(guard);
    }
    println!("tickets {id}: bought {bought}");
    Ok(())
}

fn semaphore(sem_name: &str, log: &str, id: &str, iterations: u64, hang_inside: bool) -> Res<()> {
    let sem =
        Semaphore::open(sem_name, 3).map_err(|e| format!("open semaphore {sem_name}: {e}"))?;
    let q = open(log, false)?;
    let pid = std::process::id();
    let event = |ev: &str| {
        q.put_json(&json!({"id": id, "pid": pid, "ev": ev}), Some(timeout()))
            .map_err(|e| format!("put on {log}: {e}"))
    };
    for i in 0..iterations {
        let permit = sem
            .acquire(Some(timeout()))
            .map_err(|e| format!("acquire {sem_name} (iteration {i}): {e}"))?;
        event("enter")?;
        if hang_inside {
            permit.forget();
            hang();
        }
        for _ in 0..20 {
            std::thread::yield_now();
        }
        event("exit")?;
        drop(permit);
    }
    println!("semaphore {id}: {iterations} iterations");
    Ok(())
}

fn event_wait(event: &str, ready: &str, id: &str) -> Res<()> {
    let e = Event::open(event).map_err(|e| format!("open event {event}: {e}"))?;
    open(ready, false)?
        .put_json(&json!({"id": id}), Some(timeout()))
        .map_err(|e| format!("put on {ready}: {e}"))?;
    if !e
        .wait(Some(timeout()))
        .map_err(|e| format!("wait {event}: {e}"))?
    {
        return Err(format!("event {event} not set within {:?}", timeout()));
    }
    println!("event {id}: woken");
    Ok(())
}

fn event_set(event: &str, id: &str) -> Res<()> {
    Event::open(event)
        .and_then(|e| e.set())
        .map_err(|e| format!("set {event}: {e}"))?;
    println!("event {id}: set");
    Ok(())
}

fn barrier(name: &str, parties: i64, rounds: i64, out: &str, id: &str) -> Res<()> {
    let b =
        Barrier::open(name, parties as usize).map_err(|e| format!("open barrier {name}: {e}"))?;
    let mut indexes = Vec::new();
    for r in 0..rounds {
        indexes.push(
            b.wait(Some(timeout()))
                .map_err(|e| format!("barrier {name} round {r}: {e}"))?,
        );
    }
    open(out, false)?
        .put_json(&json!({"id": id, "indexes": indexes}), Some(timeout()))
        .map_err(|e| format!("put on {out}: {e}"))?;
    println!("barrier {id}: {rounds} rounds");
    Ok(())
}

fn barrier_timeout(name: &str, parties: i64, timeout_ms: i64, id: &str) -> Res<()> {
    let b =
        Barrier::open(name, parties as usize).map_err(|e| format!("open barrier {name}: {e}"))?;
    match b.wait(Some(Duration::from_millis(timeout_ms.max(0) as u64))) {
        Ok(i) => {
            println!("barrier {id}: passed");
            Err(format!(
                "barrier {name}: passed with index {i}, expected a timeout or broken"
            ))
        }
        Err(e) if e.status() == Status::Timeout => {
            println!("barrier {id}: timeout");
            Ok(())
        }
        Err(e) if e.status() == Status::Broken => {
            println!("barrier {id}: broken");
            Ok(())
        }
        Err(e) => Err(format!("barrier {name}: {e}")),
    }
}

/// The bounded buffer of the condition scenarios.
fn condition(cond_name: &str, path: &str, n: i64, id: &str, produce: bool) -> Res<()> {
    let cond =
        Condition::open(cond_name).map_err(|e| format!("open condition {cond_name}: {e}"))?;
    for i in 0..n {
        let deadline = Instant::now() + timeout();
        let mut g = cond
            .acquire(Some(timeout()))
            .map_err(|e| format!("acquire {cond_name}: {e}"))?;
        let mut buf = read_json(path)?;
        loop {
            let len = buf["items"].as_array().map_or(0, Vec::len) as i64;
            let ready = if produce {
                len < num_of(&buf, "capacity")?
            } else {
                len > 0
            };
            if ready {
                break;
            }
            let rest = deadline.saturating_duration_since(Instant::now());
            if rest.is_zero() {
                return Err(format!(
                    "item {i}: the buffer never became ready: {}",
                    show(&buf)
                ));
            }
            g.wait(Some(rest))
                .map_err(|e| format!("wait {cond_name}: {e}"))?;
            buf = read_json(path)?;
        }
        if !buf["items"].is_array() {
            return Err(format!("no items in {}", show(&buf)));
        }
        let items = buf["items"].as_array_mut().expect("checked");
        if produce {
            items.push(json!(i));
        } else {
            let first = items.remove(0);
            if first.as_i64() != Some(i) {
                return Err(format!(
                    "took {} from the buffer, expected {i}",
                    show(&first)
                ));
            }
        }
        write_json(path, &buf)?;
        g.notify_all()
            .map_err(|e| format!("notify_all {cond_name}: {e}"))?;
        drop(g);
    }
    if produce {
        println!("condition {id}: produced {n}");
    } else {
        println!("condition {id}: consumed {n}");
    }
    Ok(())
}

// ---- pipe and shared-memory scenarios (../README.md, "Pipe and shared-memory scenarios") ----

fn open_end(pipe: &str, end: End) -> Res<Connection> {
    Connection::open(pipe, end, &PipeOptions::new()).map_err(|e| format!("open pipe {pipe}: {e}"))
}

fn send(c: &Connection, v: &Value) -> Res<()> {
    c.send_json(v, Some(timeout()))
        .map_err(|e| format!("send on {}: {e}", c.name()))
}

/// One message; Ok(None) at end of stream.
fn recv(c: &Connection, what: &str) -> Res<Option<Value>> {
    let t = timeout();
    match c.recv_json::<Value>(Some(t)) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_eof() => Ok(None),
        Err(e) if e.status() == Status::Timeout => {
            Err(format!("{what}: nothing came within {t:?}"))
        }
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn expect_seq(m: &Value, i: i64) -> Res<()> {
    if m.get("seq").and_then(Value::as_i64) == Some(i) {
        Ok(())
    } else {
        Err(format!("expected seq {i}, got {}", show(m)))
    }
}

fn pipe_ping(pipe: &str, n: i64, id: &str, pong: bool) -> Res<()> {
    let c = open_end(pipe, if pong { End::B } else { End::A })?;
    for i in 0..n {
        if !pong {
            send(&c, &json!({"seq": i, "ping": id}))?;
        }
        let m = recv(&c, &format!("waiting for message {i}"))?
            .ok_or_else(|| format!("end of stream after {i} messages"))?;
        expect_seq(&m, i)?;
        if pong {
            send(&c, &json!({"seq": i, "pong": id}))?;
        }
    }
    c.close();
    println!(
        "pipe {id}: {n} {}",
        if pong { "replies" } else { "round trips" }
    );
    Ok(())
}

fn pipe_send(pipe: &str, k: i64, id: &str, hang_after: bool) -> Res<()> {
    let c = open_end(pipe, End::A)?;
    for i in 0..k {
        send(&c, &json!({"seq": i, "from": id}))?;
    }
    println!("pipe {id}: sent {k}");
    if hang_after {
        hang(); // holds end A until killed
    }
    c.close();
    Ok(())
}

fn pipe_eof(pipe: &str, id: &str) -> Res<()> {
    let c = open_end(pipe, End::B)?;
    let mut k = 0;
    while let Some(m) = recv(&c, &format!("waiting for message {k}"))? {
        expect_seq(&m, k)?;
        k += 1;
    }
    c.close();
    println!("pipe {id}: eof after {k} messages");
    Ok(())
}

fn shm_byte(i: usize, seed: u64) -> u8 {
    ((i as u64).wrapping_mul(131).wrapping_add(seed) % 256) as u8
}

fn shm_write(name: &str, size: usize, seed: u64, id: &str) -> Res<()> {
    let mut m =
        SharedMemory::open(name, size).map_err(|e| format!("open shared memory {name}: {e}"))?;
    if m.len() != size {
        return Err(format!("size {}, expected {size}", m.len()));
    }
    for (i, b) in m.as_mut_slice().iter_mut().enumerate() {
        *b = shm_byte(i, seed);
    }
    m.close();
    println!("shm {id}: wrote {size}");
    Ok(())
}

fn shm_check(name: &str, size: usize, seed: u64, id: &str) -> Res<()> {
    let m = SharedMemory::attach(name).map_err(|e| format!("attach shared memory {name}: {e}"))?;
    if m.len() != size {
        return Err(format!("size {}, expected {size}", m.len()));
    }
    if let Some((i, b)) = m
        .as_slice()
        .iter()
        .enumerate()
        .find(|&(i, &b)| b != shm_byte(i, seed))
    {
        return Err(format!("byte {i} is {b}, expected {}", shm_byte(i, seed)));
    }
    m.close();
    println!("shm {id}: checked {size}");
    Ok(())
}

fn counter(name: &str, n: i64, id: &str) -> Res<()> {
    let v = polyipc::Value::<i64>::open(name).map_err(|e| format!("open value {name}: {e}"))?;
    for i in 0..n {
        v.fetch_add(1).map_err(|e| format!("add #{i}: {e}"))?;
    }
    v.close();
    println!("counter {id}: added {n}");
    Ok(())
}

// ---- dict and list (../README.md, "Dict" and "List") ----

/// K(L): the key of language L's entry, outside the BMP (U+1F511).
fn dict_key(lang: &str) -> String {
    format!("ключ🔑.{lang}")
}

/// V(L): language L's entry, with int64 extremes, escapes and a NUL.
fn dict_value(lang: &str) -> Value {
    json!({
        "lang": lang,
        "text": "héllo wörld 😀 漢字 quote\" backslash\\ nl\n nul\u{0}",
        "ints": [i64::MIN, i64::MAX, 0, -1],
        "doubles": [f(0.5), f(1e300), f(-2.25)],
        "flags": [true, false, null],
        "nested": {"a": [[], {}, [["deep"]]]}
    })
}

fn open_dict(name: &str, mode: OpenMode) -> Res<Dict> {
    Dict::open(name, &DictOptions::new().open_mode(mode))
        .map_err(|e| format!("open dict {name}: {e}"))
}

/// dict-write DICT N ID: set K(ID) to V(ID), then N compare-and-set
/// increments of "counter".
fn dict_write(name: &str, n: i64, id: &str) -> Res<()> {
    let d = open_dict(name, OpenMode::OpenOrCreate)?;
    d.set(&dict_key(id), &dict_value(id))
        .map_err(|e| format!("set {}: {e}", dict_key(id)))?;
    for i in 0..n {
        loop {
            let now = d
                .get_json("counter")
                .map_err(|e| format!("get counter (increment {i}): {e}"))?;
            let next = match now.as_deref() {
                None => 1,
                Some(t) => {
                    t.trim()
                        .parse::<i64>()
                        .map_err(|_| format!("counter is not an integer: {t}"))?
                        + 1
                }
            };
            if d.compare_and_set("counter", now.as_deref(), Some(&next.to_string()))
                .map_err(|e| format!("compare_and_set counter (increment {i}): {e}"))?
            {
                break;
            }
        }
    }
    d.close();
    println!("dict {id}: wrote, {n} increments");
    Ok(())
}

/// dict-relay DICT INDEX COUNT ROUNDS ID: a token round the languages through
/// one dict; each turn waits in wait_change from the version read before the token.
fn dict_relay(name: &str, index: i64, count: i64, rounds: i64, id: &str) -> Res<()> {
    let d = open_dict(name, OpenMode::OpenOrCreate)?;
    for r in 0..rounds {
        let turn = r * count + index;
        loop {
            let version = d.version().map_err(|e| format!("version: {e}"))?;
            let token = match d.get_json("token").map_err(|e| format!("get token: {e}"))? {
                None => 0,
                Some(t) => t
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| format!("token is not an integer: {t}"))?,
            };
            if token == turn {
                break;
            }
            if token > turn {
                return Err(format!("the token passed turn {turn}: {token}").into());
            }
            let now = d
                .wait_change(version, Some(Duration::from_secs(60)))
                .map_err(|e| format!("wait for turn {turn}: {e}"))?;
            if now == version {
                return Err(format!("no change for 60 s while waiting for turn {turn}").into());
            }
        }
        d.set("token", &(turn + 1))
            .map_err(|e| format!("set token: {e}"))?;
    }
    d.close();
    println!("relay {id}: {rounds} turns");
    Ok(())
}

/// dict-check DICT LANGS ID: every language's entry, as a tree.
fn dict_check(name: &str, langs: &str, id: &str) -> Res<()> {
    let d = open_dict(name, OpenMode::OpenOnly)?;
    let mut checked = 0;
    for lang in langs.split(',') {
        let key = dict_key(lang);
        let got: Value = d
            .get(&key)
            .map_err(|e| format!("get {key}: {e}"))?
            .ok_or_else(|| format!("the entry of {lang} ({key}) is missing"))?;
        if let Some(d) = diff(&got, &dict_value(lang), "$") {
            return Err(format!("the entry of {lang} differs: {d}"));
        }
        checked += 1;
    }
    d.close();
    println!("dict {id}: checked {checked} entries");
    Ok(())
}

/// list-append LIST N ID: {"from": ID, "seq": i} for i in 0..N-1.
fn list_append(name: &str, n: i64, id: &str) -> Res<()> {
    let l = List::open(name, &ListOptions::new()).map_err(|e| format!("open list {name}: {e}"))?;
    for i in 0..n {
        l.append(&json!({"from": id, "seq": i}))
            .map_err(|e| format!("append #{i}: {e}"))?;
    }
    l.close();
    println!("list {id}: appended {n}");
    Ok(())
}

/// list-check LIST LANGS N ID: one snapshot, N values per language in
/// order, nothing else.
fn list_check(name: &str, langs: &str, n: i64, id: &str) -> Res<()> {
    let l = List::open(name, &ListOptions::new().open_mode(OpenMode::OpenOnly))
        .map_err(|e| format!("open list {name}: {e}"))?;
    let items: Vec<Value> = l.items().map_err(|e| format!("items: {e}"))?;
    l.close();
    // language -> the seq its next value must have
    let mut next: HashMap<&str, i64> = langs.split(',').map(|lang| (lang, 0)).collect();
    for v in &items {
        let from = v["from"]
            .as_str()
            .ok_or_else(|| format!("a value without \"from\": {}", show(v)))?;
        let want = next
            .get_mut(from)
            .ok_or_else(|| format!("a value from an unknown language: {}", show(v)))?;
        if v["seq"].as_i64() != Some(*want) {
            return Err(format!(
                "out of order or lost: {} (want seq {want})",
                show(v)
            ));
        }
        *want += 1;
    }
    for lang in langs.split(',') {
        if next[lang] != n {
            return Err(format!("{lang} has {} values, expected {n}", next[lang]));
        }
    }
    println!("list {id}: checked {} values", items.len());
    Ok(())
}

// ---- worker pools (../README.md, "Pools") ----

fn open_pool(pool: &str) -> Res<Pool> {
    Pool::open(pool, &PoolOptions::new()).map_err(|e| format!("open pool {pool}: {e}"))
}

/// The five functions every agent's worker registers.
fn pool_handlers() -> HashMap<String, Handler> {
    let mut h: HashMap<String, Handler> = HashMap::new();
    h.insert(
        "add".into(),
        Box::new(|v| match v.as_array().map(Vec::as_slice) {
            Some([a, b]) => match (a.as_i64(), b.as_i64()) {
                (Some(a), Some(b)) => a
                    .checked_add(b)
                    .map(Value::from)
                    .ok_or_else(|| format!("add: {a} + {b} overflows")),
                _ => Err(format!("add: not two integers: {}", show(&v))),
            },
            _ => Err(format!("add: args are not [a, b]: {}", show(&v))),
        }),
    );
    h.insert(
        "concat".into(),
        Box::new(|v| {
            let parts = v
                .get("parts")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("concat: no \"parts\" array: {}", show(&v)))?;
            let mut out = String::new();
            for p in parts {
                out.push_str(
                    p.as_str()
                        .ok_or_else(|| format!("concat: not a string: {}", show(p)))?,
                );
            }
            Ok(Value::String(out))
        }),
    );
    h.insert("echo".into(), Box::new(Ok));
    h.insert(
        "fail".into(),
        Box::new(|v| match v {
            Value::String(s) => Err(s),
            other => Err(other.to_string()),
        }),
    );
    h.insert(
        "whoami".into(),
        Box::new(|_| Ok(Value::String(LANG.into()))),
    );
    h
}

/// pool-work POOL [--hang-after K]: serves until CLOSED; with K, after K
/// tasks takes one more, tells its id and hangs until killed.
fn pool_work(pool: &str, hang_after: Option<usize>) -> Res<()> {
    let p = open_pool(pool)?;
    let mut served = 0;
    if let Some(k) = hang_after {
        // serve looks at the stop flag before every take: set it once the
        // K-th task is being run, and serve returns after finishing it.
        let stop = AtomicBool::new(k == 0);
        let count = AtomicUsize::new(0);
        type Counted<'a> = Box<dyn Fn(Value) -> Result<Value, String> + 'a>;
        let (stop, count) = (&stop, &count);
        let counted: HashMap<String, Counted<'_>> = pool_handlers()
            .into_iter()
            .map(|(name, f)| {
                let counted: Counted<'_> = Box::new(move |v| {
                    if count.fetch_add(1, Ordering::AcqRel) + 1 >= k {
                        stop.store(true, Ordering::Release);
                    }
                    f(v)
                });
                (name, counted)
            })
            .collect();
        served = p
            .serve(&counted, stop)
            .map_err(|e| format!("serve {pool}: {e}"))?;
        if stop.load(Ordering::Acquire) {
            // K tasks were run (serve stopped, not CLOSED): take one more
            match p.take(Some(timeout())) {
                Ok(task) => {
                    println!("took task {}", task.id());
                    std::io::stdout().flush().ok();
                    loop {
                        std::thread::sleep(Duration::from_secs(3600)); // holds the task until killed
                    }
                }
                Err(e) if e.status() == Status::Closed => {}
                Err(e) => return Err(format!("take after {k} tasks: {e}")),
            }
        }
    } else {
        served += p
            .serve(&pool_handlers(), &AtomicBool::new(false))
            .map_err(|e| format!("serve {pool}: {e}"))?;
    }
    p.close();
    println!("served {served}");
    Ok(())
}

/// Task i of pool-submit: (function, args, expected outcome).
fn pool_task(i: i64) -> (&'static str, Value, Result<Value, String>) {
    match i % 4 {
        0 => ("add", json!([i, 2 * i]), Ok(json!(3 * i))),
        1 => (
            "concat",
            json!({"parts": ["p", i.to_string(), "é😀"]}),
            Ok(Value::String(format!("p{i}é😀"))),
        ),
        2 => {
            let v = json!({"i": i, "v": [i, "x", null, true, f(1.5), {"k": "ü"}]});
            ("echo", v.clone(), Ok(v))
        }
        _ => ("fail", json!(boom(i)), Err(boom(i))),
    }
}

/// The error text of fail task i: a named escape two characters in, then a \u one (Json.NET 6's
/// JsonConvert.ToString threw on that), quotes, a backslash, a line separator.
fn boom(i: i64) -> String {
    format!("nl\nctl\u{1} boom {i} \"q\" \\ ls\u{2028}")
}

/// pool-submit POOL N: N tasks, at most 64 outstanding, every result checked.
fn pool_submit(pool: &str, n: i64) -> Res<()> {
    let p = open_pool(pool)?;
    let t = timeout();
    let mut outstanding: HashMap<TaskId, i64> = HashMap::new();
    let mut next = 0;
    let mut done = 0;
    while done < n {
        while next < n && outstanding.len() < 64 {
            let (function, args, _) = pool_task(next);
            let id = p
                .submit_timeout(function, &args, Some(t))
                .map_err(|e| format!("submit task {next}: {e}"))?;
            outstanding.insert(id, next);
            next += 1;
        }
        let r = match p.result_any(Some(t)) {
            Ok(r) => r,
            Err(e) if e.status() == Status::Timeout => {
                return Err(format!(
                    "no result came within {t:?} ({} outstanding, {done} of {n} done)",
                    outstanding.len()
                ));
            }
            Err(e) => return Err(format!("result after {done} of {n}: {e}")),
        };
        let i = outstanding
            .remove(&r.id)
            .ok_or_else(|| format!("result of task id {} that is not outstanding", r.id))?;
        let (function, _, want) = pool_task(i);
        let mismatch = match (&r.outcome, &want) {
            (Ok(got), Ok(w)) => diff(got, w, "$").map(|d| format!("result {d}")),
            (Err(got), Err(w)) if got == w => None,
            _ => Some(String::new()),
        };
        if let Some(d) = mismatch {
            let say = |o: &Result<Value, String>| match o {
                Ok(v) => format!("ok, result {}", show(v)),
                Err(s) => format!("failed, error {s:?}"),
            };
            println!(
                "task {i} ({function}): expected {}, got {} {d}",
                say(&want),
                say(&r.outcome)
            );
            return Err(format!("task {i} ({function}): wrong result"));
        }
        done += 1;
    }
    p.close();
    println!("results ok {n}");
    Ok(())
}

/// pool-close POOL: no more tasks; workers drain the pool and end.
fn pool_close(pool: &str) -> Res<()> {
    let p = Pool::open(
        pool,
        &PoolOptions::new().open_mode(polyipc::OpenMode::OpenOnly),
    )
    .map_err(|e| format!("open pool {pool}: {e}"))?;
    p.close_tasks()
        .map_err(|e| format!("close_tasks {pool}: {e}"))?;
    println!("closed {pool}");
    Ok(())
}

fn run(a: &[String]) -> Res<()> {
    let num = |s: &str| s.parse::<i64>().map_err(|_| format!("not a number: {s}"));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["produce", queue, n, id] => produce(queue, num(n)?, id),
        ["consume", queue, n, id] => consume(queue, num(n)?, id),
        ["many-consume", queue, out] => consume_until_closed(queue, out, false, None),
        ["jobs-consume", queue, out] => consume_until_closed(queue, out, true, None),
        ["jobs-consume", queue, out, "--hang-after", k] => {
            consume_until_closed(queue, out, true, Some(num(k)? as usize))
        }
        ["tickets", lock, file, id] => tickets(lock, file, id, false),
        ["tickets", lock, file, id, "--hang"] => tickets(lock, file, id, true),
        ["semaphore", sem, log, id, iterations] => {
            semaphore(sem, log, id, num(iterations)? as u64, false)
        }
        ["semaphore", sem, log, id, iterations, "--hang"] => {
            semaphore(sem, log, id, num(iterations)? as u64, true)
        }
        ["event-wait", event, ready, id] => event_wait(event, ready, id),
        ["event-set", event, id] => event_set(event, id),
        ["barrier", b, parties, rounds, out, id] => {
            barrier(b, num(parties)?, num(rounds)?, out, id)
        }
        ["barrier-timeout", b, parties, ms, id] => barrier_timeout(b, num(parties)?, num(ms)?, id),
        ["condition-produce", cond, file, n, id] => condition(cond, file, num(n)?, id, true),
        ["condition-consume", cond, file, n, id] => condition(cond, file, num(n)?, id, false),
        ["pipe-ping", pipe, n, id] => pipe_ping(pipe, num(n)?, id, false),
        ["pipe-pong", pipe, n, id] => pipe_ping(pipe, num(n)?, id, true),
        ["pipe-send", pipe, k, id] => pipe_send(pipe, num(k)?, id, false),
        ["pipe-send", pipe, k, id, "--hang"] => pipe_send(pipe, num(k)?, id, true),
        ["pipe-eof", pipe, id] => pipe_eof(pipe, id),
        ["shm-write", shm, size, seed, id] => {
            shm_write(shm, num(size)? as usize, num(seed)? as u64, id)
        }
        ["shm-check", shm, size, seed, id] => {
            shm_check(shm, num(size)? as usize, num(seed)? as u64, id)
        }
        ["counter", array, n, id] => counter(array, num(n)?, id),
        ["dict-write", dict, n, id] => dict_write(dict, num(n)?, id),
        ["dict-check", dict, langs, id] => dict_check(dict, langs, id),
        ["list-append", list, n, id] => list_append(list, num(n)?, id),
        ["list-check", list, langs, n, id] => list_check(list, langs, num(n)?, id),
        ["dict-relay", dict, index, count, rounds, id] => {
            dict_relay(dict, num(index)?, num(count)?, num(rounds)?, id)
        }
        ["pool-work", pool] => pool_work(pool, None),
        ["pool-work", pool, "--hang-after", k] => pool_work(pool, Some(num(k)? as usize)),
        ["pool-submit", pool, n] => pool_submit(pool, num(n)?),
        ["pool-close", pool] => pool_close(pool),
        ["dump", seq, id] => {
            println!("{}", message(id, num(seq)?));
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: agent produce|consume QUEUE N ID | many-consume|jobs-consume QUEUE OUT [--hang-after K]\n\
                 \x20      agent tickets LOCK FILE ID [--hang] | semaphore SEM LOG ID ITERATIONS [--hang]\n\
                 \x20      agent event-wait EVENT READY ID | event-set EVENT ID\n\
                 \x20      agent barrier BARRIER PARTIES ROUNDS OUT ID | barrier-timeout BARRIER PARTIES TIMEOUT_MS ID\n\
                 \x20      agent condition-produce|condition-consume COND FILE N ID\n\
                 \x20      agent pipe-ping|pipe-pong PIPE N ID | pipe-send PIPE K ID [--hang] | pipe-eof PIPE ID\n\
                 \x20      agent shm-write|shm-check SHM SIZE SEED ID | counter ARRAY N ID\n\
                 \x20      agent dict-write DICT N ID | dict-check DICT LANGS ID\n\
                 \x20      agent list-append LIST N ID | list-check LIST LANGS N ID\n\
                 \x20      agent dict-relay DICT INDEX COUNT ROUNDS ID\n\
                 \x20      agent pool-work POOL [--hang-after K] | pool-submit POOL N | pool-close POOL"
            );
            std::process::exit(2);
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("FAIL: {LANG}: {e}");
            ExitCode::FAILURE
        }
    }
}
