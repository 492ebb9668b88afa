//! Dict and List: `version` and `wait_change` (watching for a change). In
//! one process: what the version counts, timeouts, a wait from an old
//! version, a change from another thread; and across real processes (this
//! test binary runs again as a child in a role): a change made by a child
//! wakes this process blocked in `wait_change`, whether the child writes
//! before the wait begins or while it is blocked (seen blocked in /proc).
//! A closed handle cannot be reached (`close` takes it by value): the
//! `compile_fail` examples in the docs of `Dict::wait_change` and
//! `List::wait_change` are that test.
mod common;
use common::{BOUND, ChildProc, Name, child_args, child_role, tell};
use polyipc::{Dict, DictOptions, List, ListOptions, OpenMode, Result};
use serde_json::json;
use std::io::{BufRead, Write};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

/// What the generic tests need of a `Dict` or a `List`.
trait Watched: Sync {
    fn version(&self) -> Result<u64>;
    fn wait_change(&self, seen: u64, timeout: Option<Duration>) -> Result<u64>;
    /// One change (exactly one version step).
    fn change(&self, i: u64);
    /// Reads of every kind (no version step).
    fn read_all(&self);
}

impl Watched for Dict {
    fn version(&self) -> Result<u64> {
        Dict::version(self)
    }
    fn wait_change(&self, seen: u64, timeout: Option<Duration>) -> Result<u64> {
        Dict::wait_change(self, seen, timeout)
    }
    fn change(&self, i: u64) {
        self.set(&format!("k{i}"), &i).unwrap();
    }
    fn read_all(&self) {
        self.get::<u64>("k0").unwrap();
        self.contains_key("absent").unwrap();
        self.len().unwrap();
        self.keys().unwrap();
        self.items_json().unwrap();
        self.stat_json().unwrap();
    }
}

impl Watched for List {
    fn version(&self) -> Result<u64> {
        List::version(self)
    }
    fn wait_change(&self, seen: u64, timeout: Option<Duration>) -> Result<u64> {
        List::wait_change(self, seen, timeout)
    }
    fn change(&self, i: u64) {
        self.append(&i).unwrap();
    }
    fn read_all(&self) {
        if !self.is_empty().unwrap() {
            self.get_json(0).unwrap();
        }
        self.len().unwrap();
        self.items_json().unwrap();
        self.stat_json().unwrap();
    }
}

fn open_dict(name: &str) -> Dict {
    Dict::open(name, &DictOptions::new()).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

fn open_list(name: &str) -> List {
    List::open(name, &ListOptions::new()).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

// ---- what the version counts ---------------------------------------------

#[test]
fn dict_version_counts_changes_not_reads_or_misses() {
    let name = Name::new("watch-dict-version");
    let d = open_dict(&name);
    assert_eq!(d.version().unwrap(), 0, "a new dict");
    d.set("a", &1).unwrap();
    assert_eq!(d.version().unwrap(), 1, "a set");
    d.set_json("a", "2").unwrap();
    assert_eq!(d.version().unwrap(), 2, "a replacing set");
    d.read_all();
    d.get_json("absent").unwrap();
    assert_eq!(d.version().unwrap(), 2, "reads change nothing");
    assert!(!d.remove("absent").unwrap());
    assert_eq!(d.version().unwrap(), 2, "a delete of a missing key");
    assert!(!d.compare_and_set("a", Some("1"), Some("3")).unwrap());
    assert!(!d.set_if_absent("a", &4).unwrap());
    assert_eq!(
        d.version().unwrap(),
        2,
        "compare-and-sets that did not swap"
    );
    assert!(d.compare_and_set("a", Some("2.0"), Some("3")).unwrap());
    assert_eq!(d.version().unwrap(), 3, "a compare-and-set that swapped");
    assert!(d.set_if_absent("b", &5).unwrap());
    assert_eq!(d.version().unwrap(), 4, "a set_if_absent that set");
    assert!(d.remove("b").unwrap());
    assert_eq!(d.version().unwrap(), 5, "a delete that found its key");
    d.set("c", &6).unwrap();
    assert_eq!(d.version().unwrap(), 6);
    d.clear().unwrap();
    assert_eq!(d.version().unwrap(), 7, "a clear");
    assert!(d.is_empty().unwrap());
    // bad input changes nothing
    assert!(d.set_json("a", "{not json").is_err());
    assert!(d.set("a\0b", &1).is_err());
    assert_eq!(d.version().unwrap(), 7, "rejected calls");
    // another handle (as another process would) sees the same version
    let other = Dict::open(&name, &DictOptions::new().open_mode(OpenMode::OpenOnly)).unwrap();
    assert_eq!(other.version().unwrap(), 7);
    other.set("d", &json!({"x": [1, 2]})).unwrap();
    assert_eq!(d.version().unwrap(), 8);
}

#[test]
fn list_version_counts_changes_not_reads_or_misses() {
    let name = Name::new("watch-list-version");
    let l = open_list(&name);
    assert_eq!(l.version().unwrap(), 0, "a new list");
    assert_eq!(l.pop_json().unwrap(), None);
    assert_eq!(l.version().unwrap(), 0, "a pop on an empty list");
    l.append(&1).unwrap();
    assert_eq!(l.version().unwrap(), 1, "an append");
    l.append_json("2").unwrap();
    l.append(&3).unwrap();
    assert_eq!(l.version().unwrap(), 3);
    l.read_all();
    l.get::<i64>(-1).unwrap();
    assert_eq!(l.version().unwrap(), 3, "reads change nothing");
    l.insert(1, &10).unwrap();
    assert_eq!(l.version().unwrap(), 4, "an insert in the middle");
    l.insert(0, &0).unwrap();
    assert_eq!(l.version().unwrap(), 5, "an insert at the front");
    l.set(0, &"zero").unwrap();
    assert_eq!(l.version().unwrap(), 6, "a set");
    assert_eq!(l.pop::<i64>().unwrap(), Some(3));
    assert_eq!(l.version().unwrap(), 7, "a pop");
    assert_eq!(l.pop_at::<i64>(2).unwrap(), Some(10));
    assert_eq!(l.version().unwrap(), 8, "a pop in the middle");
    assert_eq!(
        l.items::<serde_json::Value>().unwrap(),
        [json!("zero"), json!(1), json!(2)]
    );
    // out of range and bad input change nothing
    assert!(l.get_json(5).is_err());
    assert!(l.set(5, &1).is_err());
    assert!(l.pop_at::<i64>(5).is_err());
    assert!(l.append_json("{not json").is_err());
    assert_eq!(l.version().unwrap(), 8, "rejected calls");
    l.clear().unwrap();
    assert_eq!(l.version().unwrap(), 9, "a clear");
    assert_eq!(l.pop_json().unwrap(), None);
    assert_eq!(l.version().unwrap(), 9, "a pop on the cleared list");
    let other = List::open(&name, &ListOptions::new().open_mode(OpenMode::OpenOnly)).unwrap();
    assert_eq!(other.version().unwrap(), 9);
    other.append(&"x").unwrap();
    assert_eq!(l.version().unwrap(), 10);
}

/// +1 per change even when an append must first compact the list (a
/// compaction alone changes no value; until 0.6.0's fix it stepped the
/// version too, so such an append counted 2).
#[test]
fn list_append_that_compacts_steps_the_version_once() {
    let name = Name::new("watch-list-compact");
    let l = List::open(&name, &ListOptions::new().capacity_bytes(1024)).unwrap();
    let big = "x".repeat(300);
    for round in 0..8 {
        let before = l.version().unwrap();
        l.append(&big).unwrap();
        assert_eq!(l.version().unwrap(), before + 1, "round {round}: an append");
        assert_eq!(l.pop_at::<String>(0).unwrap().as_deref(), Some(&*big));
        assert_eq!(l.version().unwrap(), before + 2, "round {round}: a pop");
    }
}

// ---- timeouts and waits in one process -----------------------------------

/// No change: the wait times out and returns `seen` (ZERO at once, a short
/// timeout after it), never an error; reads in between do not wake it.
fn times_out_returning_seen(w: &impl Watched) {
    w.change(0);
    let seen = w.version().unwrap();
    assert_eq!(w.wait_change(seen, Some(Duration::ZERO)).unwrap(), seen);
    let timeout = Duration::from_millis(200);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let t0 = Instant::now();
            (w.wait_change(seen, Some(timeout)).unwrap(), t0.elapsed())
        });
        // reads while it waits do not count as changes
        while !waiter.is_finished() {
            w.read_all();
        }
        let (got, took) = waiter.join().unwrap();
        assert_eq!(got, seen, "a timeout returns the seen version");
        assert!(
            took >= timeout,
            "returned after {took:?}, before the timeout"
        );
        assert!(took < BOUND, "{took:?}");
    });
    assert_eq!(w.version().unwrap(), seen);
}

#[test]
fn dict_wait_with_no_change_times_out_returning_seen() {
    let name = Name::new("watch-dict-timeout");
    times_out_returning_seen(&open_dict(&name));
}

#[test]
fn list_wait_with_no_change_times_out_returning_seen() {
    let name = Name::new("watch-list-timeout");
    times_out_returning_seen(&open_list(&name));
}

/// A wait from an old version (or any version but the current one) returns
/// the current version at once, even with a long or no timeout.
fn old_version_returns_at_once(w: &impl Watched) {
    let old = w.version().unwrap();
    w.change(1);
    w.change(2);
    let now = w.version().unwrap();
    assert_eq!(now, old + 2);
    let t0 = Instant::now();
    assert_eq!(w.wait_change(old, Some(Duration::ZERO)).unwrap(), now);
    assert_eq!(w.wait_change(old, Some(BOUND)).unwrap(), now);
    assert_eq!(w.wait_change(old, Some(Duration::MAX)).unwrap(), now);
    assert_eq!(w.wait_change(old, None).unwrap(), now);
    assert_eq!(w.wait_change(now + 7, Some(BOUND)).unwrap(), now);
    assert!(t0.elapsed() < BOUND / 4, "took {:?}", t0.elapsed());
}

#[test]
fn dict_wait_from_an_old_version_returns_at_once() {
    let name = Name::new("watch-dict-old");
    old_version_returns_at_once(&open_dict(&name));
}

#[test]
fn list_wait_from_an_old_version_returns_at_once() {
    let name = Name::new("watch-list-old");
    old_version_returns_at_once(&open_list(&name));
}

/// A thread blocked with a long timeout is woken by a change made through
/// another handle (`writer`), and returns the new version; then the timeout
/// (Rust's cancellation) ends a blocked wait promptly.
fn thread_wakes_and_timeout_cancels(watcher: &impl Watched, writer: &impl Watched) {
    let seen = watcher.version().unwrap();
    std::thread::scope(|s| {
        let (tx, rx) = channel();
        let waiter = s.spawn(move || {
            tx.send(thread_id()).unwrap();
            watcher.wait_change(seen, Some(BOUND)).unwrap()
        });
        wait_until_sleeping(&rx.recv().unwrap(), &waiter);
        writer.change(7);
        assert_eq!(waiter.join().unwrap(), seen + 1);
    });
    // cancellation: a wait blocked with a timeout ends when it passes, not
    // later, while another thread keeps reading
    let seen = watcher.version().unwrap();
    let timeout = Duration::from_millis(300);
    std::thread::scope(|s| {
        let (tx, rx) = channel();
        let waiter = s.spawn(move || {
            tx.send(thread_id()).unwrap();
            let t0 = Instant::now();
            (
                watcher.wait_change(seen, Some(timeout)).unwrap(),
                t0.elapsed(),
            )
        });
        wait_until_sleeping(&rx.recv().unwrap(), &waiter);
        let (got, took) = waiter.join().unwrap();
        assert_eq!(got, seen);
        assert!(took >= timeout, "{took:?}");
        // promptly: well within the bound on a loaded 2-core machine
        assert!(took < timeout + Duration::from_secs(3), "{took:?}");
    });
}

#[test]
fn dict_change_from_another_thread_wakes_a_waiter_and_a_timeout_cancels() {
    let name = Name::new("watch-dict-thread");
    let d = open_dict(&name);
    thread_wakes_and_timeout_cancels(&d, &d);
    let other = Dict::open(&name, &DictOptions::new().open_mode(OpenMode::OpenOnly)).unwrap();
    thread_wakes_and_timeout_cancels(&d, &other);
}

#[test]
fn list_change_from_another_thread_wakes_a_waiter_and_a_timeout_cancels() {
    let name = Name::new("watch-list-thread");
    let l = open_list(&name);
    thread_wakes_and_timeout_cancels(&l, &l);
    let other = List::open(&name, &ListOptions::new().open_mode(OpenMode::OpenOnly)).unwrap();
    thread_wakes_and_timeout_cancels(&l, &other);
}

// ---- across processes ----------------------------------------------------

/// The id of the calling thread, from /proc/thread-self ("<pid>/task/<tid>").
fn thread_id() -> String {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    link.file_name().unwrap().to_string_lossy().into_owned()
}

/// The state letter of thread `tid` of this process (R running, S sleeping).
fn thread_state(tid: &str) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Returns once thread `tid`, about to call `wait_change` and blocking in
/// nothing else, sleeps in the kernel: the wait has begun. Polls /proc
/// (a condition, not a guess of a delay), bounded.
fn wait_until_sleeping<T>(tid: &str, waiter: &std::thread::ScopedJoinHandle<'_, T>) {
    let deadline = Instant::now() + BOUND;
    while thread_state(tid) != Some('S') {
        assert!(
            !waiter.is_finished(),
            "the waiter returned before any change"
        );
        assert!(Instant::now() < deadline, "the waiter never blocked");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Attaches to the dict or list (first argument), says "ready", then makes
/// one change for each "go" line on its stdin and says "changed <version>",
/// until its stdin ends.
#[test]
fn child_changer() {
    let Some(name) = child_role("watch-changer") else {
        return;
    };
    let kind = child_args()[0].clone();
    let w: Box<dyn Fn(u64) -> u64> = match kind.as_str() {
        "dict" => {
            let d = Dict::open(&name, &DictOptions::new().open_mode(OpenMode::OpenOnly)).unwrap();
            Box::new(move |i| {
                d.set(&format!("child{i}"), &i).unwrap();
                d.version().unwrap()
            })
        }
        _ => {
            let l = List::open(&name, &ListOptions::new().open_mode(OpenMode::OpenOnly)).unwrap();
            Box::new(move |i| {
                l.append(&i).unwrap();
                l.version().unwrap()
            })
        }
    };
    tell("ready");
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        if line.unwrap() != "go" {
            break;
        }
        tell(format!("changed {}", w(i as u64)));
    }
}

fn go(child: &mut ChildProc) {
    let stdin = child.child.stdin.as_mut().unwrap();
    writeln!(stdin, "go").unwrap();
    stdin.flush().unwrap();
}

/// A child's change wakes this process: written before the wait (the wait
/// returns at once) and written while it is blocked with a long timeout
/// (several rounds), each wait returning the child's version.
fn another_process_wakes_a_waiter(w: &impl Watched, name: &str, kind: &str) {
    w.change(100);
    let mut child = ChildProc::spawn("child_changer", "watch-changer", name, &[kind]);
    assert_eq!(child.next_line(BOUND).as_deref(), Some("ready"));

    // before: the child has written when the wait begins
    let seen = w.version().unwrap();
    go(&mut child);
    assert_eq!(
        child.next_line(BOUND),
        Some(format!("changed {}", seen + 1))
    );
    let t0 = Instant::now();
    assert_eq!(w.wait_change(seen, Some(BOUND)).unwrap(), seen + 1);
    assert!(t0.elapsed() < BOUND / 4, "took {:?}", t0.elapsed());

    // after: the child writes while this process is blocked in the wait
    for round in 0..5 {
        let seen = w.version().unwrap();
        std::thread::scope(|s| {
            let (tx, rx) = channel();
            let waiter = s.spawn(move || {
                tx.send(thread_id()).unwrap();
                let t0 = Instant::now();
                (w.wait_change(seen, Some(BOUND)).unwrap(), t0.elapsed())
            });
            wait_until_sleeping(&rx.recv().unwrap(), &waiter);
            go(&mut child);
            let (got, took) = waiter.join().unwrap();
            assert_eq!(got, seen + 1, "round {round}: woken by the child's change");
            assert!(took < BOUND, "round {round}: {took:?}");
        });
        assert_eq!(
            child.next_line(BOUND),
            Some(format!("changed {}", seen + 1)),
            "round {round}"
        );
    }
    drop(child.child.stdin.take()); // end of its input: it exits
    assert!(child.wait(BOUND).expect("the child exits").success());
}

#[test]
fn dict_change_by_another_process_wakes_a_blocked_waiter() {
    let name = Name::new("watch-dict-xproc");
    let d = open_dict(&name);
    another_process_wakes_a_waiter(&d, &name, "dict");
    assert_eq!(d.len().unwrap(), 7);
}

#[test]
fn list_change_by_another_process_wakes_a_blocked_waiter() {
    let name = Name::new("watch-list-xproc");
    let l = open_list(&name);
    another_process_wakes_a_waiter(&l, &name, "list");
    assert_eq!(l.items::<u64>().unwrap(), [100, 0, 1, 2, 3, 4, 5]);
}
