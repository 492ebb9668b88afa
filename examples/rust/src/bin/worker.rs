//! worker: takes JSON jobs from the joinable queue demo.jobs (opening it, or
//! creating it if it is not there yet), prints one line per job and calls
//! task_done for each. Exits when the queue is closed for writing and
//! drained, or after max_jobs jobs if given. Killed mid-job (even with
//! kill -9), its job goes to another worker.
//!
//! usage: worker [max_jobs]
//! The queue lives in the namespace $POLYIPC_NAMESPACE (default "default").
use polyipc::{Queue, QueueOptions, Status};
use serde::Deserialize;
use std::process::ExitCode;

#[derive(Deserialize)]
struct Job {
    job: i64,
    #[allow(dead_code)]
    from: Option<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let max_jobs = match args.get(1).map(|a| a.parse::<u64>()) {
        None => None,
        Some(Ok(n)) if args.len() == 2 => Some(n),
        _ => {
            eprintln!("usage: {} [max_jobs]", args[0]);
            return ExitCode::from(2);
        }
    };
    match run(max_jobs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("worker rust: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(max_jobs: Option<u64>) -> polyipc::Result<()> {
    let q = Queue::open("demo.jobs", &QueueOptions::new().joinable(true))?;
    let pid = std::process::id();
    let mut done = 0;
    while max_jobs.is_none_or(|max| done < max) {
        let job: Job = match q.get_json(None) {
            Ok(job) => job,
            Err(e) if e.status() == Status::Closed => break, // end of stream, drained
            Err(e) => return Err(e),
        };
        println!("worker rust pid {pid}: job {} done", job.job);
        q.task_done()?;
        done += 1;
    }
    println!("worker rust pid {pid}: exiting after {done} jobs");
    q.close(); // the handle only: the queue stays for the others
    Ok(())
}
