//! Worker pools: submit, take, complete / fail, results by id, timeouts,
//! closing, joining, tasks given back, cancel, bad input, the serve loop, and
//! workers in other processes (this test binary run again in a role), one
//! of them killed with SIGKILL mid-task.
mod common;
use common::{BOUND, ChildProc, Name, child_role, tell};
use polyipc::{Handler, OpenMode, Pool, PoolOptions, Queue, QueueOptions, Status, TaskId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const NOW: Option<Duration> = Some(Duration::ZERO);

fn open(name: &Name) -> Pool {
    Pool::open(name, &PoolOptions::new()).unwrap_or_else(|e| panic!("open pool {}: {e}", &**name))
}

/// The handlers every worker of these tests registers.
fn handlers() -> HashMap<String, Handler> {
    let mut h: HashMap<String, Handler> = HashMap::new();
    h.insert(
        "square".into(),
        Box::new(|v| {
            let x = v.as_i64().ok_or("square wants an integer")?;
            Ok(json!(x * x))
        }),
    );
    h.insert("echo".into(), Box::new(Ok));
    h.insert(
        "fail".into(),
        Box::new(|v| Err(v.as_str().unwrap_or("?").to_string())),
    );
    h.insert("boom".into(), Box::new(|_| panic!("handler exploded")));
    h
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Resize {
    path: String,
    width: u32,
}

// ---- one process ---------------------------------------------------------

#[test]
fn a_task_goes_to_a_worker_and_its_result_back_to_the_submitter() {
    let name = Name::new("pool-trip");
    let submitter = open(&name);
    let worker = Pool::open(&name, &PoolOptions::new().open_mode(OpenMode::OpenOnly)).unwrap();
    let args = Resize {
        path: "a/é.png".into(),
        width: 640,
    };
    let id = submitter.submit("resize", &args).unwrap();
    assert_ne!(id.get(), 0);

    let task = worker.take(NOW).unwrap();
    assert_eq!(task.id(), id);
    assert_eq!(task.function(), "resize");
    assert_eq!(task.args_json(), r#"{"path":"a/é.png","width":640}"#);
    assert_eq!(task.args::<Resize>().unwrap(), args);
    let e = task.args::<Vec<u8>>().unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson);
    assert!(e.message().contains("resize"), "{e}");
    task.complete(&json!({"ok": [640, 480]})).unwrap();

    let r = submitter.result(id, Some(BOUND)).unwrap();
    assert_eq!(r.id, id);
    assert_eq!(r.outcome, Ok(json!({"ok": [640, 480]})));
    // Each result is returned once.
    let e = submitter.result(id, NOW).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    assert!(e.message().contains(&*name), "{e}");
}

#[test]
fn json_text_goes_through_as_it_is() {
    let name = Name::new("pool-json");
    let p = open(&name);
    let args = r#" {"a" : [1.50, -0e3, "\u00e9\n", null],"b":{}} "#;
    let id = p.submit_json("r\u{e9}size \"big\"", args).unwrap();
    let t = p.take(NOW).unwrap();
    assert_eq!(t.function(), "r\u{e9}size \"big\"");
    assert_eq!(t.args_json(), args);
    t.complete_json("[1.5, 2]").unwrap();
    let raw = p.result_json(Some(id), Some(BOUND)).unwrap();
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v, json!({"id": id.get(), "ok": true, "result": [1.5, 2]}));
}

#[test]
fn a_failed_task_returns_its_error_text() {
    let name = Name::new("pool-fail");
    let p = open(&name);
    let id = p.submit("divide", &[1, 0]).unwrap();
    p.take(NOW)
        .unwrap()
        .fail("ZeroDivisionError: \"1/0\"\n\tat line 2 ü")
        .unwrap();
    let r = p.result(id, Some(BOUND)).unwrap();
    assert_eq!(
        r.outcome,
        Err("ZeroDivisionError: \"1/0\"\n\tat line 2 ü".to_string())
    );
    assert_eq!(
        r.decode::<i64>().unwrap(),
        Err("ZeroDivisionError: \"1/0\"\n\tat line 2 ü".to_string())
    );
}

#[test]
fn results_come_back_by_id_whatever_the_order_they_finish_in() {
    let name = Name::new("pool-order");
    let p = open(&name);
    let ids: Vec<TaskId> = (0..5).map(|i| p.submit("id", &i).unwrap()).collect();
    let tasks: Vec<_> = (0..5).map(|_| p.take(NOW).unwrap()).collect();
    assert_eq!(
        tasks.iter().map(|t| t.id()).collect::<Vec<_>>(),
        ids,
        "FIFO"
    );
    for t in tasks.into_iter().rev() {
        let v: i64 = t.args().unwrap();
        t.complete(&v).unwrap();
    }
    let r = p.result(ids[2], Some(BOUND)).unwrap();
    assert_eq!(r.decode::<i64>().unwrap(), Ok(2));
    let mut rest = BTreeMap::new();
    for _ in 0..4 {
        let r = p.result_any(Some(BOUND)).unwrap();
        let v = r.outcome.clone().unwrap().as_i64().unwrap();
        assert_eq!(r.id, ids[v as usize]);
        rest.insert(v, r.id);
    }
    assert_eq!(rest.keys().copied().collect::<Vec<_>>(), [0, 1, 3, 4]);
    let e = p.result_any(NOW).unwrap_err();
    assert_eq!(
        e.status(),
        Status::InvalidArg,
        "nothing is still to come: {e}"
    );
}

#[test]
fn a_result_not_there_yet_times_out_and_the_task_goes_on() {
    let name = Name::new("pool-timeout");
    let p = open(&name);
    let id = p.submit("slow", &()).unwrap();
    assert_eq!(p.result(id, NOW).unwrap_err().status(), Status::Timeout);
    let t0 = Instant::now();
    let e = p.result(id, Some(Duration::from_millis(50))).unwrap_err();
    assert_eq!(e.status(), Status::Timeout);
    assert!(t0.elapsed() >= Duration::from_millis(45));
    assert!(e.message().contains(&*name), "{e}");
    // take times out the same way while nothing is there
    let t = p.take(NOW).unwrap();
    assert_eq!(p.take(NOW).unwrap_err().status(), Status::Empty);
    let t0 = Instant::now();
    assert_eq!(
        p.take(Some(Duration::from_millis(50)))
            .unwrap_err()
            .status(),
        Status::Timeout
    );
    assert!(t0.elapsed() >= Duration::from_millis(45));
    t.complete(&true).unwrap();
    assert_eq!(p.result(id, Some(BOUND)).unwrap().outcome, Ok(json!(true)));
}

#[test]
fn a_task_dropped_unfinished_goes_back_to_the_pool() {
    let name = Name::new("pool-giveback");
    let p = open(&name);
    let id = p.submit("f", &1).unwrap();
    {
        let t = p.take(NOW).unwrap();
        assert_eq!(t.id(), id);
        assert_eq!(p.take(NOW).unwrap_err().status(), Status::Empty);
    } // dropped unfinished
    let again = p.take(NOW).expect("the task came back");
    assert_eq!(again.id(), id);
    again.complete(&2).unwrap();
    assert_eq!(p.result(id, Some(BOUND)).unwrap().outcome, Ok(json!(2)));
    p.join(NOW).unwrap();
}

#[test]
fn close_tasks_lets_workers_drain_then_take_ends() {
    let name = Name::new("pool-close");
    let p = open(&name);
    let id = p.submit("f", &1).unwrap();
    p.close_tasks().unwrap();
    let e = p.submit("f", &2).unwrap_err();
    assert_eq!(e.status(), Status::Closed);
    assert!(e.message().contains(&*name), "{e}");
    let t = p.take(NOW).expect("what was submitted before still comes");
    // the taken task may still come back, so a take waits for it ...
    assert_eq!(p.take(NOW).unwrap_err().status(), Status::Empty);
    t.complete(&1).unwrap();
    // ... and once it is finished every take ends, even one that waits forever
    let e = p.take(None).unwrap_err();
    assert_eq!(e.status(), Status::Closed);
    assert!(e.is_eof());
    assert_eq!(p.result(id, Some(BOUND)).unwrap().outcome, Ok(json!(1)));
}

#[test]
fn join_waits_for_every_task() {
    let name = Name::new("pool-join");
    let p = open(&name);
    p.submit("f", &1).unwrap();
    p.submit("f", &2).unwrap();
    assert_eq!(p.join(NOW).unwrap_err().status(), Status::Timeout);
    for i in 0..2 {
        let t = p.take(NOW).unwrap();
        assert_eq!(p.join(NOW).unwrap_err().status(), Status::Timeout);
        if i == 0 {
            t.complete(&0).unwrap();
        } else {
            t.fail("no").unwrap();
        }
    }
    p.join(NOW).unwrap();
    // a joiner in another thread is released by the last finish
    p.submit("f", &3).unwrap();
    let p = Arc::new(p);
    let joiner = {
        let p = Arc::clone(&p);
        std::thread::spawn(move || p.join(Some(BOUND)))
    };
    p.take(Some(BOUND)).unwrap().complete(&3).unwrap();
    joiner.join().unwrap().unwrap();
}

#[test]
fn options_bound_tasks_and_results() {
    let name = Name::new("pool-opts");
    let p = Pool::open(
        &name,
        &PoolOptions::new()
            .max_tasks(2)
            .result_capacity_bytes(4096)
            .capacity_bytes(64 * 1024)
            .mode(0o600),
    )
    .unwrap();
    p.submit("f", &1).unwrap();
    let second = p.submit("big", &2).unwrap();
    let e = p.submit_timeout("f", &3, NOW).unwrap_err();
    assert_eq!(e.status(), Status::Full, "{e}");
    let e = p
        .submit_json_timeout("f", "3", Some(Duration::from_millis(20)))
        .unwrap_err();
    assert_eq!(e.status(), Status::Timeout, "{e}");
    p.take(NOW).unwrap().complete(&1).unwrap();
    // a result larger than the submitter's result queue arrives as a failure
    p.take(NOW).unwrap().complete(&"x".repeat(10000)).unwrap();
    let r = p.result(second, Some(BOUND)).unwrap();
    assert!(r.outcome.unwrap_err().contains("exceeds"));
    let stat: Value = serde_json::from_str(&p.stat_json().unwrap()).unwrap();
    assert_eq!(stat["kind"], "pool");
    assert_eq!(stat["results_pending"], 1);
    assert!(
        stat["result_queue"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}.results.", &*name))
    );
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let name = Name::new("pool-bad");
    let p = open(&name);
    let cases: Vec<(&str, polyipc::Error, Status, &str)> = vec![
        (
            "empty function",
            p.submit("", &1).unwrap_err(),
            Status::InvalidArg,
            "function name is empty",
        ),
        (
            "NUL in function",
            p.submit("a\0b", &1).unwrap_err(),
            Status::InvalidArg,
            "NUL",
        ),
        (
            "malformed args",
            p.submit_json("f", "[1,]").unwrap_err(),
            Status::InvalidJson,
            "at byte 3",
        ),
        (
            "empty args",
            p.submit_json("f", "").unwrap_err(),
            Status::InvalidJson,
            "arguments of 'f'",
        ),
        (
            "unserialisable args",
            p.submit("f", &HashMap::from([((1, 2), 3)])).unwrap_err(),
            Status::InvalidJson,
            "cannot be serialised",
        ),
        (
            "args too large",
            p.submit("f", &"x".repeat(2 << 20)).unwrap_err(),
            Status::TooLarge,
            "pool '",
        ),
        (
            "result of no task",
            p.result_json(None, NOW).unwrap_err(),
            Status::InvalidArg,
            "no task whose result is still to come",
        ),
        (
            "bad pool name",
            Pool::open("../x", &PoolOptions::new()).unwrap_err(),
            Status::InvalidArg,
            "pool '../x'",
        ),
        (
            "161 characters",
            Pool::open(&"p".repeat(161), &PoolOptions::new()).unwrap_err(),
            Status::InvalidArg,
            "at most 160",
        ),
        (
            "no such pool",
            Pool::open(
                &Name::new("none"),
                &PoolOptions::new().open_mode(OpenMode::OpenOnly),
            )
            .unwrap_err(),
            Status::NotFound,
            "pool '",
        ),
        (
            "a pool opened as a queue",
            Queue::open(&name, &QueueOptions::new()).unwrap_err(),
            Status::Incompatible,
            "holds a pool, not a queue",
        ),
    ];
    for (what, e, status, says) in cases {
        assert_eq!(e.status(), status, "{what}: {e}");
        assert!(e.message().contains(says), "{what}: {e}");
    }
    let qname = Name::new("pool-bad-q");
    let _q = qname.open(&QueueOptions::new());
    let e = Pool::open(&qname, &PoolOptions::new()).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible, "{e}");
    let id = p.submit("f", &1).unwrap();
    assert_eq!(p.result(id, NOW).unwrap_err().status(), Status::Timeout);
    // an id of another handle is no task of this one
    let other = Pool::open(&name, &PoolOptions::new()).unwrap();
    let mut foreign = other.submit("f", &0).unwrap();
    let mut others = 1;
    while foreign <= id {
        foreign = other.submit("f", &others).unwrap();
        others += 1;
    }
    let e = p.result(foreign, NOW).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    assert!(e.message().contains(&format!("task {foreign}")), "{e}");
    drop(other); // its tasks stay in the pool; their results are dropped
    let t = p.take(NOW).unwrap();
    assert_eq!(t.id(), id);
    t.complete(&1).unwrap();
    p.result(id, Some(BOUND)).unwrap();
    for _ in 0..others {
        p.take(NOW).unwrap().complete(&0).unwrap();
    }
    let id = p.submit("f", &1).unwrap();
    // nothing else was submitted
    let t = p.take(NOW).unwrap();
    assert_eq!(t.id(), id);
    assert_eq!(p.take(NOW).unwrap_err().status(), Status::Empty);
    // a result that is not JSON fails the task, so its submitter learns of it
    let e = t.complete_json(r#"{"a":"#).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson);
    assert!(e.message().contains(&format!("task {id}")), "{e}");
    assert!(!e.message().contains("stays taken"), "{e}");
    let r = p.result(id, Some(BOUND)).unwrap();
    let text = r.outcome.unwrap_err();
    assert!(text.contains("not valid JSON at byte 5"), "{text}");
    p.join(NOW).unwrap();
}

#[test]
fn threads_waiting_for_their_own_results_each_get_theirs() {
    let name = Name::new("pool-threads");
    let p = Arc::new(open(&name));
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let (p, stop) = (Arc::clone(&p), Arc::clone(&stop));
        std::thread::spawn(move || p.serve(&handlers(), &stop))
    };
    const THREADS: i64 = 4;
    const EACH: i64 = 50;
    let submitters: Vec<_> = (0..THREADS)
        .map(|k| {
            let p = Arc::clone(&p);
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let v = k * 1000 + i;
                    let id = p.submit("echo", &v).unwrap();
                    let r = p.result(id, Some(BOUND)).unwrap();
                    assert_eq!((r.id, r.outcome), (id, Ok(json!(v))));
                }
            })
        })
        .collect();
    for s in submitters {
        s.join().unwrap();
    }
    stop.store(true, Ordering::Release);
    let served = worker.join().unwrap().unwrap();
    assert_eq!(served, (THREADS * EACH) as usize);
}

#[test]
fn serve_runs_handlers_and_reports_errors_unknown_functions_and_panics() {
    let name = Name::new("pool-serve");
    let p = open(&name);
    let a = p.submit("square", &7).unwrap();
    let b = p.submit("fail", &"nope").unwrap();
    let c = p.submit("nothing", &()).unwrap();
    let d = p.submit("boom", &()).unwrap();
    let e = p.submit("square", &"seven").unwrap();
    p.close_tasks().unwrap();
    let stop = AtomicBool::new(false);
    assert_eq!(p.serve(&handlers(), &stop).unwrap(), 5, "until CLOSED");
    let want = [
        (a, Ok(json!(49))),
        (b, Err("nope".to_string())),
        (c, Err("no function 'nothing' in this worker".to_string())),
        (d, Err("panic: handler exploded".to_string())),
        (e, Err("square wants an integer".to_string())),
    ];
    for (id, outcome) in want {
        assert_eq!(p.result(id, Some(BOUND)).unwrap().outcome, outcome);
    }
}

#[test]
fn serve_stops_when_asked() {
    let name = Name::new("pool-stop");
    let p = open(&name);
    let stop = AtomicBool::new(true);
    p.submit("square", &2).unwrap();
    assert_eq!(
        p.serve(&handlers(), &stop).unwrap(),
        0,
        "stop is looked at first"
    );
    // a serve waiting for tasks notices the flag within its slice
    let stop = Arc::new(AtomicBool::new(false));
    let p = Arc::new(p);
    let worker = {
        let (p, stop) = (Arc::clone(&p), Arc::clone(&stop));
        std::thread::spawn(move || p.serve(&handlers(), &stop))
    };
    p.join(Some(BOUND)).unwrap();
    stop.store(true, Ordering::Release);
    assert_eq!(worker.join().unwrap().unwrap(), 1);
}

/// Submits a chunk through the C API (this crate submits task by task; Python's
/// `map` and Go's `SubmitMany` make chunks) and returns its first task id.
fn submit_chunk(raw: *mut polyipc_sys::polyipc_pool, args: &[&str]) -> u64 {
    let data: Vec<*const std::ffi::c_void> = args.iter().map(|a| a.as_ptr().cast()).collect();
    let lens: Vec<usize> = args.iter().map(|a| a.len()).collect();
    let (mut first, mut done) = (0u64, 0usize);
    // SAFETY: valid pool handle, arrays of args.len() entries, out pointers.
    let rc = unsafe {
        polyipc_sys::polyipc_pool_submit_many(
            raw,
            c"n".as_ptr(),
            data.as_ptr(),
            lens.as_ptr(),
            args.len(),
            args.len(),
            1_000_000_000,
            &mut first,
            &mut done,
            std::ptr::null_mut(),
        )
    };
    assert_eq!((rc, done), (0, args.len()));
    first
}

/// The results of tasks first.. first+count-1, through the C API: their values.
fn results_of(raw: *mut polyipc_sys::polyipc_pool, first: u64, count: usize) -> Value {
    let (mut values, mut failures) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: valid pool handle and out pointers; the texts are released below.
    unsafe {
        let rc = polyipc_sys::polyipc_pool_results(
            raw,
            first,
            count,
            10_000_000_000,
            &mut values,
            std::ptr::null_mut(),
            &mut failures,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        assert_eq!(rc, 0);
        let v: Value =
            serde_json::from_str(std::ffi::CStr::from_ptr(values).to_str().unwrap()).unwrap();
        polyipc_sys::polyipc_free(values.cast());
        polyipc_sys::polyipc_free(failures.cast());
        v
    }
}

#[test]
fn serve_takes_a_chunk_together_and_stopped_mid_chunk_finishes_what_ran() {
    let name = Name::new("pool-chunk");
    let p = open(&name);
    let mut raw: *mut polyipc_sys::polyipc_pool = std::ptr::null_mut();
    let cname = std::ffi::CString::new(name.0.clone()).unwrap();
    // SAFETY: valid name and out pointer; closed at the end.
    let rc = unsafe {
        polyipc_sys::polyipc_pool_open(
            cname.as_ptr(),
            polyipc_sys::polyipc_open_mode_POLYIPC_OPEN_ONLY,
            std::ptr::null(),
            &mut raw,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0);
    let first = submit_chunk(raw, &["0", "1", "2", "3", "4", "5"]);
    let stop = Arc::new(AtomicBool::new(false));
    let ran = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut h: HashMap<String, Handler> = HashMap::new();
    {
        let (stop, ran) = (Arc::clone(&stop), Arc::clone(&ran));
        h.insert(
            "n".into(),
            Box::new(move |v| {
                let n = v.as_i64().unwrap();
                let mut ran = ran.lock().unwrap();
                ran.push(n);
                if ran.len() == 3 {
                    // the first run, at task 2
                    stop.store(true, Ordering::Release);
                }
                Ok(json!(10 * n))
            }),
        );
    }
    assert_eq!(
        p.serve(&h, &stop).unwrap(),
        3,
        "tasks 0..2 ran and were finished"
    );
    assert_eq!(results_of(raw, first, 3), json!([0, 10, 20]));
    p.close_tasks().unwrap();
    stop.store(false, Ordering::Release);
    assert_eq!(p.serve(&h, &stop).unwrap(), 6, "the chunk came back whole");
    assert_eq!(results_of(raw, first + 3, 3), json!([30, 40, 50]));
    assert_eq!(*ran.lock().unwrap(), vec![0, 1, 2, 0, 1, 2, 3, 4, 5]);
    // SAFETY: opened above, closed once.
    unsafe { polyipc_sys::polyipc_pool_close(raw) };
}

#[test]
fn map_returns_every_result_in_order_through_a_pool_smaller_than_the_map() {
    let name = Name::new("pool-map");
    let opts = PoolOptions::new().max_tasks(2).result_capacity_bytes(4096);
    let p = Pool::open(&name, &opts).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (name, stop) = (name.0.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let w = Pool::open(&name, &PoolOptions::new()).unwrap();
                w.serve(&handlers(), &stop)
            })
        })
        .collect();
    let xs: Vec<i64> = (0..5000).collect();
    for chunk in [1, 7, 600] {
        let got = p.map("square", &xs, chunk).unwrap();
        assert_eq!(got.len(), xs.len());
        for (i, r) in got.iter().enumerate() {
            assert_eq!(r.outcome, Ok(json!(i * i)), "chunk {chunk}, task {i}");
        }
        assert!(got.windows(2).all(|w| w[1].id.get() == w[0].id.get() + 1));
    }
    // failures come in their places, each with its worker's text
    let got = p
        .map("square", &[json!(2), json!("two"), json!(3)], 2)
        .unwrap();
    assert_eq!(got[0].outcome, Ok(json!(4)));
    assert_eq!(got[1].outcome, Err("square wants an integer".to_string()));
    assert_eq!(got[2].outcome, Ok(json!(9)));
    assert!(p.map("square", &[] as &[i64], 4).unwrap().is_empty());
    let stat: Value = serde_json::from_str(&p.stat_json().unwrap()).unwrap();
    assert_eq!(stat["results_pending"], 0, "no result is left behind");
    assert_eq!(
        p.result_any(NOW).unwrap_err().status(),
        Status::InvalidArg,
        "nothing left for result_any"
    );
    let keyed = [BTreeMap::from([((1, 2), 3)])]; // JSON keys are strings: nothing is submitted
    let e = p.map("square", &keyed, 1).unwrap_err();
    assert_eq!(e.status(), Status::InvalidJson, "{e}");
    stop.store(true, Ordering::Release);
    for w in workers {
        w.join().unwrap().unwrap();
    }
}

// ---- cancel ----------------------------------------------------------------

fn assert_cancelled(r: &polyipc::TaskResult, id: TaskId) {
    assert_eq!(r.id, id);
    assert!(r.cancelled && r.is_cancelled(), "{r:?}");
    assert_eq!(r.outcome, Err("cancelled".to_string()));
}

/// A result the worker sent: not cancelled, `outcome` as given.
fn assert_ran(r: &polyipc::TaskResult, outcome: Result<Value, &str>) {
    assert!(!r.cancelled && !r.is_cancelled(), "{r:?}");
    assert_eq!(r.outcome, outcome.map_err(str::to_string));
}

#[test]
fn a_task_no_worker_took_is_cancelled_and_never_runs() {
    let name = Name::new("pool-cancel");
    let p = open(&name);
    let a = p.submit("square", &2).unwrap();
    let b = p.submit("square", &3).unwrap();
    assert!(p.cancel(a).unwrap());
    let r = p.result(a, Some(BOUND)).unwrap();
    assert_cancelled(&r, a);
    assert_eq!(r.decode::<i64>().unwrap(), Err("cancelled".to_string()));
    // a worker takes the next task, never the cancelled one
    let t = p.take(NOW).unwrap();
    assert_eq!(t.id(), b);
    assert_eq!(p.take(NOW).unwrap_err().status(), Status::Empty);
    t.complete(&9).unwrap();
    assert_ran(&p.result(b, Some(BOUND)).unwrap(), Ok(json!(9)));
    p.join(NOW)
        .expect("join does not wait for the cancelled task");

    // result_any and the raw message say so too; join still does not wait
    let c = p.submit("square", &4).unwrap();
    assert!(p.cancel(c).unwrap());
    p.join(NOW).unwrap();
    assert_cancelled(&p.result_any(Some(BOUND)).unwrap(), c);
    let d = p.submit("square", &5).unwrap();
    assert!(p.cancel(d).unwrap());
    let raw: Value = serde_json::from_str(&p.result_json(None, Some(BOUND)).unwrap()).unwrap();
    assert_eq!(
        raw,
        json!({"id": d.get(), "ok": false, "cancelled": true, "error": "cancelled"})
    );
    assert_eq!(p.take(NOW).unwrap_err().status(), Status::Empty);
    // a worker failing a task with the text "cancelled" is a failure, not a cancel
    let e = p.submit("fail", &"cancelled").unwrap();
    p.take(NOW).unwrap().fail("cancelled").unwrap();
    assert_ran(&p.result(e, Some(BOUND)).unwrap(), Err("cancelled"));
}

#[test]
fn a_task_a_worker_took_is_not_cancelled_and_its_result_comes() {
    let name = Name::new("pool-cancel-taken");
    let p = open(&name);
    let a = p.submit("square", &6).unwrap();
    let t = p.take(NOW).unwrap();
    assert_eq!(t.id(), a);
    assert!(!p.cancel(a).unwrap(), "a worker has it");
    assert_eq!(p.join(NOW).unwrap_err().status(), Status::Timeout);
    t.complete(&36).unwrap();
    assert_ran(&p.result(a, Some(BOUND)).unwrap(), Ok(json!(36)));
    p.join(NOW).unwrap();
    // one given back unfinished is waiting again, so it can be cancelled
    let b = p.submit("square", &7).unwrap();
    drop(p.take(NOW).unwrap());
    assert!(p.cancel(b).unwrap());
    assert_cancelled(&p.result(b, Some(BOUND)).unwrap(), b);
    assert_eq!(p.take(NOW).unwrap_err().status(), Status::Empty);
    p.join(NOW).unwrap();
}

#[test]
fn threads_already_waiting_are_answered_with_the_cancel() {
    let name = Name::new("pool-cancel-wait");
    let p = Arc::new(open(&name));
    let waiter = |id: Option<TaskId>| {
        let p = Arc::clone(&p);
        let ready = Arc::new(std::sync::Barrier::new(2));
        let r = Arc::clone(&ready);
        let h = std::thread::spawn(move || {
            r.wait();
            match id {
                Some(id) => p.result(id, Some(BOUND)),
                None => p.result_any(Some(BOUND)),
            }
        });
        ready.wait();
        h
    };
    // by id
    let a = p.submit("square", &8).unwrap();
    let by_id = waiter(Some(a));
    assert!(p.cancel(a).unwrap());
    assert_cancelled(&by_id.join().unwrap().unwrap(), a);
    // any task
    let b = p.submit("square", &9).unwrap();
    let any = waiter(None);
    assert!(p.cancel(b).unwrap());
    assert_cancelled(&any.join().unwrap().unwrap(), b);
    assert_eq!(p.take(NOW).unwrap_err().status(), Status::Empty);
    p.join(NOW).unwrap();
}

#[test]
fn cancel_twice_or_after_the_result_is_false() {
    let name = Name::new("pool-cancel-twice");
    let p = open(&name);
    let a = p.submit("square", &1).unwrap();
    assert!(p.cancel(a).unwrap());
    assert!(!p.cancel(a).unwrap(), "cancelled already, result not read");
    assert_cancelled(&p.result(a, Some(BOUND)).unwrap(), a);
    assert!(!p.cancel(a).unwrap(), "cancelled already, result read");
    // finished: before and after its result is read
    let b = p.submit("square", &2).unwrap();
    p.take(NOW).unwrap().complete(&4).unwrap();
    assert!(!p.cancel(b).unwrap(), "finished, result not read");
    assert_ran(&p.result(b, Some(BOUND)).unwrap(), Ok(json!(4)));
    assert!(!p.cancel(b).unwrap(), "result read");
    // an id this handle never issued is an error
    let other = Pool::open(&name, &PoolOptions::new()).unwrap();
    let mut foreign = other.submit("f", &0).unwrap();
    while foreign <= b {
        foreign = other.submit("f", &0).unwrap();
    }
    let e = p.cancel(foreign).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    assert!(e.message().contains(&format!("task {foreign}")), "{e}");
}

// ---- across processes ----------------------------------------------------

/// Serves the test handlers until the pool is closed; tells how many.
#[test]
fn child_pool_worker() {
    let Some(name) = child_role("pool-worker") else {
        return;
    };
    let p = Pool::open(&name, &PoolOptions::new().open_mode(OpenMode::OpenOnly)).unwrap();
    let served = p.serve(&handlers(), &AtomicBool::new(false)).unwrap();
    tell(format!("served {served}"));
}

/// Serves with handlers that tell which task they run and then hang until
/// the process is killed (or its parent's end of stdin closes).
#[test]
fn child_pool_hanger() {
    let Some(name) = child_role("pool-hanger") else {
        return;
    };
    let p = Pool::open(&name, &PoolOptions::new().open_mode(OpenMode::OpenOnly)).unwrap();
    let mut h: HashMap<String, Handler> = HashMap::new();
    h.insert(
        "square".into(),
        Box::new(|v| {
            tell(format!("running square {v}"));
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            std::process::exit(3);
        }),
    );
    p.serve(&h, &AtomicBool::new(false)).unwrap();
}

#[test]
fn a_worker_killed_mid_task_has_its_task_finished_by_another_process() {
    let name = Name::new("pool-xproc");
    let p = open(&name);
    const N: i64 = 30;
    let ids: BTreeMap<TaskId, i64> = (0..N)
        .map(|i| (p.submit("square", &i).unwrap(), i))
        .collect();

    let mut hanger = ChildProc::spawn("child_pool_hanger", "pool-hanger", &name, &[]);
    assert_eq!(
        hanger.next_line(BOUND).as_deref(),
        Some("running square 0"),
        "the first worker is mid-task"
    );
    hanger.child.kill().unwrap(); // SIGKILL: no finish, no give-back
    assert!(
        !hanger
            .wait(BOUND)
            .expect("the killed worker is reaped")
            .success()
    );
    assert_eq!(
        p.result(*ids.keys().next().unwrap(), NOW)
            .unwrap_err()
            .status(),
        Status::Timeout
    );

    let mut worker = ChildProc::spawn("child_pool_worker", "pool-worker", &name, &[]);
    let mut seen = BTreeMap::new();
    for _ in 0..N {
        let r = p.result_any(Some(BOUND)).expect("every task's result");
        let i = *ids.get(&r.id).expect("a task of this handle");
        assert_eq!(r.outcome, Ok(json!(i * i)), "task {i}");
        assert!(seen.insert(r.id, i).is_none(), "task {i}: one result");
    }
    assert_eq!(seen.len() as i64, N);
    assert_eq!(
        p.result_any(NOW).unwrap_err().status(),
        Status::InvalidArg,
        "no second result for any task"
    );
    p.join(Some(BOUND)).unwrap();
    p.close_tasks().unwrap();
    assert_eq!(
        worker.next_line(BOUND).as_deref(),
        Some(&*format!("served {N}")),
        "the second worker did every task, the rescued one included"
    );
    assert!(worker.wait(BOUND).expect("the worker exits").success());
}
