//! bench/languages/rust: put+get of a 64-byte JSON text through the Rust
//! binding, one process or producer/consumer (protocol: ../c/langbench.c).
//!
//! usage: langbench single|producer|consumer N NAME [WARMUP] [get_into|get]
//!   get_into (default): Queue::get_into with a reused buffer, as the C cell
//!   get:                Queue::get, a Vec<u8> per message
use polyipc::{Format, Queue, QueueOptions};
use std::process::exit;
use std::time::Instant;

const MESSAGE: &[u8] = br#"{"id":123456,"kind":"bench","payload":"xxxxxxxxxxxxxxxxxxxxxxx"}"#;
const CAPACITY: u64 = 4 << 20;

fn fail(what: &str, e: polyipc::Error) -> ! {
    println!(
        "{{\"lang\":\"rust\",\"ok\":false,\"error\":\"{what}: {:?}\"}}",
        e.status()
    );
    eprintln!("langbench rust: {what}: {e}");
    exit(1)
}

fn open(name: &str) -> Queue {
    let opts = QueueOptions::new()
        .format(Format::Json)
        .capacity_bytes(CAPACITY);
    Queue::open(name, &opts).unwrap_or_else(|e| fail("open", e))
}

#[inline(always)]
fn put(q: &Queue) {
    if let Err(e) = q.put(MESSAGE, None) {
        fail("put", e)
    }
}

#[inline(always)]
fn get(q: &Queue, buf: &mut [u8], vec: bool) {
    let len = if vec {
        match q.get(None) {
            Ok(v) => std::hint::black_box(v).len(),
            Err(e) => fail("get", e),
        }
    } else {
        q.get_into(buf, None)
            .unwrap_or_else(|e| fail("get_into", e))
    };
    if len != MESSAGE.len() {
        println!("{{\"lang\":\"rust\",\"ok\":false,\"error\":\"message of {len} bytes\"}}");
        exit(1)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: langbench single|producer|consumer N NAME [WARMUP] [get_into|get]");
        exit(2)
    }
    let mode = args[1].as_str();
    let n: u64 = args[2].parse().expect("N");
    let name = args[3].as_str();
    let warm: u64 = args.get(4).map_or(20_000, |w| w.parse().expect("WARMUP"));
    let vec = match args.get(5).map(String::as_str) {
        None | Some("get_into") => false,
        Some("get") => true,
        Some(other) => {
            eprintln!("langbench rust: unknown variant {other}");
            exit(2)
        }
    };
    let ack = format!("{name}.ack");
    let mut buf = [0u8; 256];
    let (t0, t1);
    match mode {
        "single" => {
            let q = open(name);
            for _ in 0..warm {
                put(&q);
                get(&q, &mut buf, vec);
            }
            t0 = Instant::now();
            for _ in 0..n {
                put(&q);
                get(&q, &mut buf, vec);
            }
            t1 = Instant::now();
            q.close();
            let _ = polyipc::unlink(name);
        }
        "producer" => {
            let q = open(name);
            let a = open(&ack);
            for _ in 0..warm {
                put(&q);
            }
            a.get_into(&mut buf, None)
                .unwrap_or_else(|e| fail("get ack", e));
            t0 = Instant::now();
            for _ in 0..n {
                put(&q);
            }
            t1 = Instant::now();
        }
        "consumer" => {
            let q = open(name);
            let a = open(&ack);
            for _ in 0..warm {
                get(&q, &mut buf, vec);
            }
            t0 = Instant::now();
            a.put(b"1", None).unwrap_or_else(|e| fail("put ack", e));
            for _ in 0..n {
                get(&q, &mut buf, vec);
            }
            t1 = Instant::now();
            let _ = polyipc::unlink(name);
            let _ = polyipc::unlink(&ack);
        }
        _ => {
            eprintln!("langbench rust: unknown mode {mode}");
            exit(2)
        }
    }
    let secs = (t1 - t0).as_secs_f64();
    println!(
        "{{\"lang\":\"rust\",\"mode\":\"{mode}\",\"variant\":\"{}\",\"ok\":true,\"n\":{n},\"seconds\":{secs:.6},\"rate\":{:.1}}}",
        if vec { "get" } else { "get_into" },
        n as f64 / secs
    );
}
