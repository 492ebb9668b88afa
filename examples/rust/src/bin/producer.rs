//! producer: puts N JSON jobs {"job": i, "from": "rust"} into the joinable
//! queue demo.jobs, closes it for writing (the workers stop once it is
//! drained), waits in join until every job was task_done by some worker, and
//! prints a summary.
//!
//! usage: producer N
//! The queue lives in the namespace $POLYIPC_NAMESPACE (default "default").
use polyipc::{Queue, QueueOptions};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let n = match (args.len(), args.get(1).map(|a| a.parse::<u64>())) {
        (2, Some(Ok(n))) => n,
        _ => {
            eprintln!("usage: {} N (a number of jobs)", args[0]);
            return ExitCode::from(2);
        }
    };
    match run(n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("producer rust: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(n: u64) -> polyipc::Result<()> {
    let q = Queue::open("demo.jobs", &QueueOptions::new().joinable(true))?;
    let start = Instant::now();
    for i in 1..=n {
        q.put_json(&serde_json::json!({"job": i, "from": "rust"}), None)?;
    }
    q.close_writes()?;
    q.join(None)?;
    println!(
        "producer rust pid {}: {n} jobs put into demo.jobs and done by the workers in {} ms",
        std::process::id(),
        start.elapsed().as_millis()
    );
    q.close(); // the handle only: the queue stays until someone unlinks it
    Ok(())
}
