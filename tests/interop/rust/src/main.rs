//! The Rust interop agent: the safe crate `polyipc` and serde_json.
//! Messages and command lines: see ../../README.md.
use polyipc::{Queue, QueueOptions, Status};
use serde_json::{Map, Number, Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

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
        ["dump", seq, id] => {
            println!("{}", message(id, num(seq)?));
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: agent produce|consume QUEUE N ID | many-consume|jobs-consume QUEUE OUT [--hang-after K]"
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
            eprintln!("{LANG}: FAIL: {e}");
            ExitCode::FAILURE
        }
    }
}
