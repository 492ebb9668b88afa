//! Put+get throughput of 64-byte JSON messages in one process, the figure to
//! compare with a C loop over the same C API.
//!
//! usage: cargo run --release --example throughput [PAIRS (default 2000000)] [ROUNDS (default 5)] [into|vec|json]
//! Each round times PAIRS put+get pairs per API variant (all, or the one
//! named); the best round counts. The C loop to compare with does the same
//! calls: polyipc_queue_put + polyipc_queue_get_into / polyipc_queue_get.
use polyipc::{Queue, QueueOptions};
use std::time::{Duration, Instant};

const NOW: Option<Duration> = Some(Duration::ZERO);
// exactly 64 bytes of JSON
const MESSAGE: &[u8; 64] = br#"{"job":12345,"from":"rust","payload":"abcdefghijklmnopqrstuv"}  "#;

fn best_ns_per_pair(rounds: u32, pairs: u64, mut round: impl FnMut(u64)) -> f64 {
    round(pairs / 10); // warm-up
    (0..rounds)
        .map(|_| {
            let t0 = Instant::now();
            round(pairs);
            t0.elapsed().as_nanos() as f64 / pairs as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> polyipc::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| {
        args.get(i)
            .map_or(default, |a| a.parse().expect("a number"))
    };
    let pairs = number(0, 2_000_000);
    let rounds = number(1, 5) as u32;
    let only = args.get(2).map(String::as_str);
    let run = |variant: &str| only.is_none_or(|o| o == variant);
    let name = format!("rs.throughput.{}", std::process::id());
    let q = Queue::open(&name, &QueueOptions::new())?;
    let mut buf = [0u8; 256];

    let report = |what: &str, ns: f64| {
        println!(
            "rust {what:<22} {ns:7.1} ns/pair  {:6.2} M pairs/s",
            1e3 / ns
        );
    };
    if run("into") {
        let ns = best_ns_per_pair(rounds, pairs, |n| {
            for _ in 0..n {
                q.put(MESSAGE, NOW).unwrap();
                let len = q.get_into(&mut buf, NOW).unwrap();
                debug_assert_eq!(len, 64);
            }
        });
        report("put + get_into", ns);
    }
    if run("vec") {
        let ns = best_ns_per_pair(rounds, pairs, |n| {
            for _ in 0..n {
                q.put(MESSAGE, NOW).unwrap();
                std::hint::black_box(q.get(NOW).unwrap());
            }
        });
        report("put + get (Vec)", ns);
    }
    if run("json") {
        let value =
            serde_json::json!({"job": 12345, "from": "rust", "payload": "abcdefghijklmnopqrstuv"});
        let ns = best_ns_per_pair(rounds, pairs / 4, |n| {
            for _ in 0..n {
                q.put_json(&value, NOW).unwrap();
                std::hint::black_box(q.get_json::<serde_json::Value>(NOW).unwrap());
            }
        });
        report("put_json + get_json", ns);
    }
    q.close();
    polyipc::unlink(&name)
}
