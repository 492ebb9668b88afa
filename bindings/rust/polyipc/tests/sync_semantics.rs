//! Lock, RLock, Semaphore, Event, Condition and Barrier in one process
//! (threads), bad input included. Across processes: sync_processes.rs.
mod common;
use common::{BOUND, Name};
use polyipc::{
    Barrier, Condition, Event, Lock, OpenMode, Queue, QueueOptions, RLock, Semaphore, Status,
    SyncOptions,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

const NOW: Option<Duration> = Some(Duration::ZERO);
const SHORT: Duration = Duration::from_millis(100);

/// Runs `f` on another OS thread and returns its result.
fn on_other_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    thread::spawn(f).join().unwrap()
}

// ---- Lock / RLock ----------------------------------------------------------

#[test]
fn a_lock_is_held_by_one_thread_and_released_by_its_guard() {
    let name = Name::new("lock");
    let lock = Arc::new(Lock::open(&name).unwrap());
    assert_eq!(lock.name(), &*name);
    assert!(!lock.locked().unwrap());
    let g = lock.acquire(Some(BOUND)).unwrap();
    assert!(!g.previous_owner_died());
    assert!(lock.locked().unwrap());
    assert_eq!(lock.held_by_current_thread().unwrap(), 1);
    // the holder again: not recursive
    assert!(
        lock.try_acquire().unwrap().is_none(),
        "acquire(0) by the holder is 'not acquired'"
    );
    let e = lock.acquire(Some(SHORT)).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    // another thread
    let l = lock.clone();
    assert!(on_other_thread(move || l.try_acquire().unwrap().is_none()));
    let l = lock.clone();
    let (st, took) = on_other_thread(move || {
        let t0 = Instant::now();
        (l.acquire(Some(SHORT)).unwrap_err().status(), t0.elapsed())
    });
    assert_eq!(st, Status::Timeout);
    assert!(took >= SHORT && took < SHORT + BOUND, "{took:?}");
    let l = lock.clone();
    assert_eq!(
        on_other_thread(move || l.held_by_current_thread().unwrap()),
        0
    );
    drop(g);
    assert!(!lock.locked().unwrap());
    let l = lock.clone();
    assert!(on_other_thread(move || l.try_acquire().unwrap().is_some()));
    assert!(
        !lock.locked().unwrap(),
        "the other thread's guard released it"
    );
}

#[test]
fn release_by_a_thread_that_does_not_hold_the_lock_is_not_owner() {
    let name = Name::new("notowner");
    let lock = Arc::new(Lock::open(&name).unwrap());
    assert_eq!(
        lock.release().unwrap_err().status(),
        Status::NotOwner,
        "not held at all"
    );
    lock.acquire(NOW).unwrap().leak();
    let l = lock.clone();
    let e = on_other_thread(move || l.release().unwrap_err());
    assert_eq!(e.status(), Status::NotOwner, "{e}");
    assert!(e.message().contains(&*name), "{e}");
    assert!(lock.locked().unwrap());
    lock.release().unwrap();
    assert!(!lock.locked().unwrap());
    // an explicit release of a guard reports
    lock.acquire(NOW).unwrap().release().unwrap();
    assert!(!lock.locked().unwrap());
}

#[test]
fn a_lock_serialises_threads_and_handles() {
    let name = Name::new("serial");
    let counter = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (name, counter) = (name.0.clone(), counter.clone());
            thread::spawn(move || {
                let lock = Lock::open(&name).unwrap(); // a handle per thread
                for _ in 0..300 {
                    let _g = lock.acquire(Some(BOUND)).unwrap();
                    // a read-modify-write that only the lock keeps exact
                    let v = counter.load(Ordering::Relaxed);
                    thread::yield_now();
                    counter.store(v + 1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 1200);
}

#[test]
fn an_rlock_counts_its_holders_acquisitions() {
    let name = Name::new("rlock");
    let r = Arc::new(RLock::open(&name).unwrap());
    let g1 = r.acquire(Some(BOUND)).unwrap();
    let g2 = r.acquire(NOW).unwrap();
    let g3 = r.try_acquire().unwrap().expect("re-entered at once");
    assert_eq!(r.held_by_current_thread().unwrap(), 3);
    let r2 = r.clone();
    assert!(on_other_thread(move || r2.try_acquire().unwrap().is_none()));
    drop(g2);
    drop(g1);
    assert_eq!(r.held_by_current_thread().unwrap(), 1);
    assert!(r.locked().unwrap());
    let r2 = r.clone();
    assert_eq!(
        on_other_thread(move || r2.release().unwrap_err().status()),
        Status::NotOwner
    );
    drop(g3);
    assert!(!r.locked().unwrap());
    assert_eq!(r.release().unwrap_err().status(), Status::NotOwner);
}

#[test]
fn a_name_holds_one_kind() {
    let name = Name::new("kind");
    let _l = Lock::open(&name).unwrap();
    for st in [
        RLock::open(&name).map(drop).unwrap_err().status(),
        Semaphore::open(&name, 1).map(drop).unwrap_err().status(),
        Event::open(&name).map(drop).unwrap_err().status(),
        Barrier::open(&name, 2).map(drop).unwrap_err().status(),
        Queue::open(&name, &QueueOptions::new())
            .map(drop)
            .unwrap_err()
            .status(),
    ] {
        assert_eq!(st, Status::Incompatible);
    }
    let q = Name::new("kindq");
    let _q = q.open(&QueueOptions::new());
    let e = Lock::open(&q).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible, "{e}");
}

#[test]
fn open_modes_and_options() {
    let name = Name::new("modes");
    let only = SyncOptions::new().open_mode(OpenMode::OpenOnly);
    assert_eq!(
        Event::open_with(&name, &only).unwrap_err().status(),
        Status::NotFound
    );
    let create = SyncOptions::new()
        .open_mode(OpenMode::CreateOnly)
        .mode(0o640);
    let e = Event::open_with(&name, &create).unwrap();
    assert_eq!(
        Event::open_with(&name, &create).unwrap_err().status(),
        Status::Exists
    );
    Event::open_with(&name, &only).unwrap().set().unwrap();
    assert!(e.is_set().unwrap());
    let stat: serde_json::Value = serde_json::from_str(&e.stat_json().unwrap()).unwrap();
    assert_eq!(stat["name"], *name, "{stat}");
    let bad = Name::new("badmode");
    for st in [
        Lock::open_with(&bad, &SyncOptions::new().mode(0o1000))
            .map(drop)
            .unwrap_err()
            .status(),
        Event::open_with(&bad, &SyncOptions::new().mode(u32::MAX))
            .map(drop)
            .unwrap_err()
            .status(),
    ] {
        assert_eq!(st, Status::InvalidArg);
    }
}

#[test]
fn bad_names_are_invalid_arg_for_every_kind() {
    let ok = Name::new("condok");
    let _ok_lock = Name(format!("{}.lock", &*ok));
    let long = "x".repeat(201);
    for bad in ["", "a/b", "..", "with space", "nul\0byte", long.as_str()] {
        let results = [
            Lock::open(bad).map(drop),
            RLock::open(bad).map(drop),
            Semaphore::open(bad, 1).map(drop),
            Semaphore::open_bounded(bad, 1, 2).map(drop),
            Event::open(bad).map(drop),
            Condition::open(bad).map(drop),
            Condition::open_with(&ok, Some(bad), &SyncOptions::new()).map(drop),
            Barrier::open(bad, 2).map(drop),
        ];
        for (k, r) in results.into_iter().enumerate() {
            let e = r.expect_err(&format!("{bad:?} #{k}"));
            assert_eq!(e.status(), Status::InvalidArg, "{bad:?}: {e}");
        }
    }
}

// ---- Semaphore ---------------------------------------------------------------

#[test]
fn a_semaphore_counts_and_its_permits_give_slots_back() {
    let name = Name::new("sem");
    let s = Semaphore::open(&name, 2).unwrap();
    assert_eq!(s.value().unwrap(), 2);
    let a = s.acquire(Some(BOUND)).unwrap();
    let b = s.try_acquire().unwrap().expect("a second slot");
    assert_eq!(a.count(), 1);
    assert!(s.try_acquire().unwrap().is_none());
    let t0 = Instant::now();
    assert_eq!(
        s.acquire(Some(SHORT)).unwrap_err().status(),
        Status::Timeout
    );
    assert!(t0.elapsed() >= SHORT);
    drop(a);
    assert_eq!(s.value().unwrap(), 1);
    b.forget(); // stays taken ...
    assert_eq!(s.value().unwrap(), 1);
    s.release(1).unwrap(); // ... until someone releases it
    assert_eq!(s.value().unwrap(), 2);
    // n at once, all or none
    assert_eq!(
        s.acquire_many(3, NOW).unwrap_err().status(),
        Status::Timeout
    );
    assert_eq!(s.value().unwrap(), 2);
    let two = s.acquire_many(2, NOW).unwrap();
    assert_eq!((two.count(), s.value().unwrap()), (2, 0));
    two.release().unwrap();
    s.release(5).unwrap(); // unbounded
    let all = s.drain().unwrap();
    assert_eq!((all.count(), s.value().unwrap()), (7, 0));
    drop(all);
    assert_eq!(s.value().unwrap(), 7);
    // another open of the same name sees the same value, whatever its initial
    assert_eq!(Semaphore::open(&name, 100).unwrap().value().unwrap(), 7);
}

#[test]
fn a_blocked_acquire_is_woken_by_a_release_from_another_thread() {
    let name = Name::new("semwake");
    let s = Arc::new(Semaphore::open(&name, 0).unwrap());
    let s2 = s.clone();
    let t = thread::spawn(move || {
        s2.acquire(Some(BOUND))
            .map(|p| p.forget())
            .map_err(|e| e.status())
    });
    s.release(1).unwrap();
    assert_eq!(t.join().unwrap(), Ok(()));
    assert_eq!(s.value().unwrap(), 0);
}

#[test]
fn a_bounded_semaphore_refuses_a_release_past_its_maximum() {
    let name = Name::new("bsem");
    let s = Semaphore::open_bounded(&name, 1, 2).unwrap();
    s.release(1).unwrap();
    let e = s.release(1).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    assert_eq!(s.value().unwrap(), 2);
    let p = s.acquire(NOW).unwrap();
    s.release(1).unwrap(); // someone else gave it back first ...
    assert_eq!(
        p.release().unwrap_err().status(),
        Status::InvalidArg,
        "... so the permit's release is one too many"
    );
    assert_eq!(s.value().unwrap(), 2);
    // another bound under the same name
    assert_eq!(
        Semaphore::open_bounded(&name, 1, 3).unwrap_err().status(),
        Status::Incompatible
    );
    assert_eq!(
        Semaphore::open(&name, 1).unwrap_err().status(),
        Status::Incompatible
    );
    let only = SyncOptions::new().open_mode(OpenMode::OpenOnly);
    assert_eq!(
        Semaphore::open_with(&name, 0, None, &only)
            .unwrap()
            .value()
            .unwrap(),
        2
    );
    // bad bounds
    let other = Name::new("bsembad");
    assert_eq!(
        Semaphore::open_bounded(&other, 0, 0).unwrap_err().status(),
        Status::InvalidArg
    );
    assert_eq!(
        Semaphore::open_bounded(&other, 3, 2).unwrap_err().status(),
        Status::InvalidArg
    );
}

// ---- Event -------------------------------------------------------------------

#[test]
fn an_event_wakes_every_waiter() {
    let name = Name::new("event");
    let e = Arc::new(Event::open(&name).unwrap());
    assert!(!e.is_set().unwrap());
    assert!(!e.wait(NOW).unwrap());
    let t0 = Instant::now();
    assert!(!e.wait(Some(SHORT)).unwrap());
    assert!(t0.elapsed() >= SHORT);
    let (tx, rx) = mpsc::channel();
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let (name, tx) = (name.0.clone(), tx.clone());
            thread::spawn(move || {
                let e = Event::open(&name).unwrap();
                tx.send(()).unwrap();
                e.wait(Some(BOUND)).unwrap()
            })
        })
        .collect();
    for _ in 0..3 {
        rx.recv_timeout(BOUND).unwrap();
    }
    e.set().unwrap();
    for w in waiters {
        assert!(w.join().unwrap(), "woken, not timed out");
    }
    assert!(e.is_set().unwrap());
    assert!(e.wait(None).unwrap(), "a set event does not block");
    e.clear().unwrap();
    assert!(!e.is_set().unwrap());
    assert!(!e.wait(NOW).unwrap());
}

#[test]
fn a_set_then_clear_during_a_long_wait_is_seen() {
    let name = Name::new("pulse");
    let e = Arc::new(Event::open(&name).unwrap());
    let t0 = Instant::now();
    let waiter = {
        let e = Arc::clone(&e);
        thread::spawn(move || e.wait(Some(BOUND)).unwrap())
    };
    // blocked for a while (what the sliced bindings would spend in a few
    // slices), and asleep in the native wait now
    let waiting = || {
        let stat: serde_json::Value = serde_json::from_str(&e.stat_json().unwrap()).unwrap();
        stat["waiting"].as_u64().unwrap_or(0) >= 1
    };
    while (t0.elapsed() < Duration::from_millis(120) || !waiting()) && t0.elapsed() < BOUND {
        thread::sleep(Duration::from_millis(1));
    }
    assert!(
        !waiter.is_finished(),
        "the waiter returned before the pulse"
    );
    e.set().unwrap();
    e.clear().unwrap();
    assert!(
        waiter.join().unwrap(),
        "a set then clear during the wait was seen"
    );
    assert!(!e.is_set().unwrap());
}

// ---- Condition ---------------------------------------------------------------

#[test]
fn a_condition_hands_items_from_a_producer_to_a_consumer() {
    let name = Name::new("cond");
    let _lock_name = Name(format!("{}.lock", &*name));
    // The shared state, guarded by the condition's lock (atomics only to
    // satisfy Rust: every access is under the lock).
    let items = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
    const N: u64 = 200;
    let producer = {
        let (name, items) = (name.0.clone(), items.clone());
        thread::spawn(move || {
            let c = Condition::open(&name).unwrap();
            for i in 0..N {
                let mut g = c.acquire(Some(BOUND)).unwrap();
                let room = g
                    .wait_for(|| items.lock().unwrap().len() < 4, Some(BOUND))
                    .unwrap();
                assert!(room);
                items.lock().unwrap().push_back(i);
                g.notify_all().unwrap();
            }
        })
    };
    let c = Condition::open(&name).unwrap();
    for i in 0..N {
        let mut g = c.acquire(Some(BOUND)).unwrap();
        assert!(
            c.wait_for(&mut g, || !items.lock().unwrap().is_empty(), Some(BOUND))
                .unwrap()
        );
        assert_eq!(items.lock().unwrap().pop_front(), Some(i));
        c.notify(1).unwrap();
    }
    producer.join().unwrap();
}

#[test]
fn condition_wait_times_out_and_takes_the_lock_back() {
    let name = Name::new("condto");
    let _lock_name = Name(format!("{}.lock", &*name));
    let c = Condition::open(&name).unwrap();
    let lock = Lock::open(&format!("{}.lock", &*name)).unwrap();
    let mut g = c.acquire(NOW).unwrap();
    assert!(!g.previous_owner_died());
    let t0 = Instant::now();
    assert!(!g.wait(Some(SHORT)).unwrap(), "timed out");
    assert!(t0.elapsed() >= SHORT);
    assert_eq!(
        lock.held_by_current_thread().unwrap(),
        1,
        "held again after the wait"
    );
    assert!(!g.wait_while(|| true, Some(SHORT)).unwrap());
    assert!(g.wait_while(|| false, NOW).unwrap());
    assert!(!g.wait_for(|| false, NOW).unwrap());
    drop(g);
    assert!(!lock.locked().unwrap());
    // notify without the lock
    assert_eq!(c.notify(1).unwrap_err().status(), Status::NotOwner);
    assert_eq!(c.notify_all().unwrap_err().status(), Status::NotOwner);
    // the lock is the Lock of that name: held elsewhere, the condition cannot take it
    let lg = lock.acquire(NOW).unwrap();
    let c2 = Condition::open(&name).unwrap();
    assert!(on_other_thread(move || c2.try_acquire().unwrap().is_none()));
    drop(lg);
    // a guard of another handle
    let other = Condition::open(&name).unwrap();
    let mut og = other.acquire(NOW).unwrap();
    assert_eq!(
        c.wait(&mut og, NOW).unwrap_err().status(),
        Status::InvalidArg
    );
    assert!(!other.wait(&mut og, NOW).unwrap());
}

#[test]
fn a_condition_can_be_bound_to_an_rlock() {
    let name = Name::new("condr");
    let rname = Name::new("condr-lock");
    let r = RLock::open(&rname).unwrap();
    let c = Condition::open_with(&name, Some(&rname), &SyncOptions::new()).unwrap();
    let _outer = r.acquire(NOW).unwrap();
    let mut g = c.acquire(NOW).unwrap(); // re-entered
    assert_eq!(r.held_by_current_thread().unwrap(), 2);
    // while waiting, every level is released: another thread can take the
    // rlock through a condition handle of its own, and notify
    let (tx, rx) = mpsc::channel();
    let (n2, r2) = (name.0.clone(), rname.0.clone());
    let t = thread::spawn(move || {
        let c2 = Condition::open_with(&n2, Some(&r2), &SyncOptions::new()).unwrap();
        let g2 = c2.acquire(Some(BOUND)).unwrap();
        tx.send(()).unwrap();
        g2.notify_all().unwrap();
    });
    let woke = g.wait_for(|| rx.try_recv().is_ok(), Some(BOUND)).unwrap();
    t.join().unwrap();
    assert!(woke, "the other thread took the rlock during the wait");
    assert_eq!(r.held_by_current_thread().unwrap(), 2, "both levels back");
    drop(g);
    // bound to another lock: incompatible
    let other = Name::new("condr-other");
    let e = Condition::open_with(&name, Some(&other), &SyncOptions::new()).unwrap_err();
    assert_eq!(e.status(), Status::Incompatible, "{e}");
}

// ---- Barrier -----------------------------------------------------------------

#[test]
fn a_barrier_gives_every_party_its_arrival_index_round_after_round() {
    let name = Name::new("barrier");
    let b = Barrier::open(&name, 3).unwrap();
    assert_eq!(b.parties().unwrap(), 3);
    assert_eq!(b.n_waiting().unwrap(), 0);
    assert!(!b.is_broken().unwrap());
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let name = name.0.clone();
            thread::spawn(move || {
                let b = Barrier::open(&name, 3).unwrap();
                (0..5)
                    .map(|_| b.wait(Some(BOUND)).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mine: Vec<_> = (0..5).map(|_| b.wait(Some(BOUND)).unwrap()).collect();
    let theirs: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for round in 0..5 {
        let mut idx = vec![mine[round], theirs[0][round], theirs[1][round]];
        idx.sort();
        assert_eq!(idx, [0, 1, 2], "round {round}");
    }
    // one party: never waits
    let one = Name::new("barrier1");
    assert_eq!(Barrier::open(&one, 1).unwrap().wait(NOW).unwrap(), 0);
}

#[test]
fn a_barrier_timeout_breaks_it_for_everyone_until_reset() {
    let name = Name::new("barrierto");
    let b = Arc::new(Barrier::open(&name, 3).unwrap());
    let b2 = b.clone();
    let other = thread::spawn(move || b2.wait(Some(BOUND)).unwrap_err().status());
    // the other thread arrives first (bounded poll of the shared count)
    let t0 = Instant::now();
    while b.n_waiting().unwrap() < 1 {
        assert!(t0.elapsed() < BOUND, "the other thread never arrived");
        thread::yield_now();
    }
    let t0 = Instant::now();
    let e = b.wait(Some(SHORT)).unwrap_err();
    assert_eq!(e.status(), Status::Timeout, "{e}");
    assert!(t0.elapsed() >= SHORT);
    assert_eq!(other.join().unwrap(), Status::Broken);
    assert!(b.is_broken().unwrap());
    assert_eq!(b.n_waiting().unwrap(), 0);
    assert_eq!(
        b.wait(Some(BOUND)).unwrap_err().status(),
        Status::Broken,
        "broken until reset"
    );
    b.reset().unwrap();
    assert!(!b.is_broken().unwrap());
    // zero timeout: gives up at once, and that breaks it too
    assert_eq!(b.wait(NOW).unwrap_err().status(), Status::Timeout);
    assert!(b.is_broken().unwrap());
    b.reset().unwrap();
}

#[test]
fn abort_and_reset_wake_waiters_with_broken() {
    let name = Name::new("barrierab");
    let b = Arc::new(Barrier::open(&name, 2).unwrap());
    for how in ["abort", "reset"] {
        let b2 = b.clone();
        let waiter = thread::spawn(move || b2.wait(None).unwrap_err().status());
        let t0 = Instant::now();
        while b.n_waiting().unwrap() < 1 {
            assert!(t0.elapsed() < BOUND, "the waiter never arrived");
            thread::yield_now();
        }
        if how == "abort" {
            b.abort().unwrap();
            assert!(b.is_broken().unwrap());
        } else {
            b.reset().unwrap();
        }
        assert_eq!(waiter.join().unwrap(), Status::Broken, "{how}");
        b.reset().unwrap();
    }
    // and it works again
    let b2 = b.clone();
    let t = thread::spawn(move || b2.wait(Some(BOUND)).unwrap());
    let mine = b.wait(Some(BOUND)).unwrap();
    assert_eq!(mine + t.join().unwrap(), 1);
}

#[test]
fn barrier_parties_are_checked() {
    let name = Name::new("barrierp");
    for bad in [0, 257, usize::MAX] {
        let e = Barrier::open(&name, bad).unwrap_err();
        assert_eq!(e.status(), Status::InvalidArg, "{bad}: {e}");
    }
    let _b = Barrier::open(&name, 256).unwrap();
    assert_eq!(
        Barrier::open(&name, 2).unwrap_err().status(),
        Status::Incompatible
    );
}
