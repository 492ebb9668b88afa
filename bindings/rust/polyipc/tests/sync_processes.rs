//! The synchronisation primitives across real processes: this test binary
//! runs again as a child in a role (the `child_*` tests do nothing unless
//! started that way); holders are killed with SIGKILL.
mod common;
use common::{BOUND, ChildProc, Name, child_args, child_role, tell};
use polyipc::{Barrier, Event, Lock, Semaphore, Status};
use std::time::{Duration, Instant};

const NOW: Option<Duration> = Some(Duration::ZERO);

/// Blocks until the parent ends (closes our stdin) or kills us.
fn hold_until_killed() -> ! {
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    std::process::exit(3);
}

// ---- child roles ---------------------------------------------------------

#[test]
fn child_lock_holder() {
    let Some(name) = child_role("lock-holder") else {
        return;
    };
    let lock = Lock::open(&name).unwrap();
    let g = lock.acquire(Some(BOUND)).unwrap();
    tell(format!("holding {}", g.previous_owner_died()));
    hold_until_killed();
}

#[test]
fn child_semaphore_holder() {
    let Some(name) = child_role("semaphore-holder") else {
        return;
    };
    let s = Semaphore::open(&name, 0).unwrap();
    let n: u64 = child_args()[0].parse().unwrap();
    let permit = s.acquire_many(n, Some(BOUND)).unwrap();
    tell(format!("holding {}", permit.count()));
    hold_until_killed();
}

#[test]
fn child_event_waiter() {
    let Some(name) = child_role("event-waiter") else {
        return;
    };
    let e = Event::open(&name).unwrap();
    tell("waiting");
    tell(format!("woken {}", e.wait(Some(BOUND)).unwrap()));
}

#[test]
fn child_barrier_party() {
    let Some(name) = child_role("barrier-party") else {
        return;
    };
    let args = child_args();
    let (parties, rounds): (usize, usize) = (args[0].parse().unwrap(), args[1].parse().unwrap());
    let b = Barrier::open(&name, parties).unwrap();
    for _ in 0..rounds {
        match b.wait(Some(BOUND)) {
            Ok(i) => tell(format!("index {i}")),
            Err(e) => tell(format!("error {:?}", e.status())),
        }
    }
    if args.get(2).map(String::as_str) == Some("hang") {
        hold_until_killed();
    }
}

// ---- tests ---------------------------------------------------------------

#[test]
fn a_lock_whose_holder_was_killed_is_acquired_with_previous_owner_died() {
    let name = Name::new("xlock");
    let lock = Lock::open(&name).unwrap();
    let mut holder = ChildProc::spawn("child_lock_holder", "lock-holder", &name, &[]);
    assert_eq!(holder.next_line(BOUND).as_deref(), Some("holding false"));
    assert!(lock.locked().unwrap());
    assert!(lock.try_acquire().unwrap().is_none(), "held by the child");
    assert_eq!(lock.release().unwrap_err().status(), Status::NotOwner);

    holder.child.kill().unwrap(); // SIGKILL inside the critical section
    assert!(
        !holder
            .wait(BOUND)
            .expect("the killed child is reaped")
            .success()
    );

    let g = lock
        .acquire(Some(BOUND))
        .expect("a dead holder never wedges the lock");
    assert!(
        g.previous_owner_died(),
        "OWNER_DEAD is surfaced on the guard"
    );
    assert!(lock.locked().unwrap());
    drop(g);
    assert!(!lock.locked().unwrap());
    let g = lock.acquire(NOW).unwrap();
    assert!(!g.previous_owner_died(), "repaired: reported once");
    drop(g);

    // the same for a process that acquires after this one held it: no report
    let mut next = ChildProc::spawn("child_lock_holder", "lock-holder", &name, &[]);
    assert_eq!(next.next_line(BOUND).as_deref(), Some("holding false"));
    next.child.kill().unwrap();
    next.wait(BOUND).unwrap();
}

#[test]
fn the_slots_of_a_killed_semaphore_holder_come_back() {
    let name = Name::new("xsem");
    let s = Semaphore::open(&name, 3).unwrap();
    let mut holder = ChildProc::spawn("child_semaphore_holder", "semaphore-holder", &name, &["2"]);
    assert_eq!(holder.next_line(BOUND).as_deref(), Some("holding 2"));
    assert_eq!(s.value().unwrap(), 1);
    let mine = s.acquire(NOW).unwrap();
    assert!(s.try_acquire().unwrap().is_none());

    holder.child.kill().unwrap();
    holder.wait(BOUND).expect("the killed child is reaped");
    let two = s
        .acquire_many(2, Some(BOUND))
        .expect("the dead holder's 2 slots come back");
    assert_eq!(s.value().unwrap(), 0);
    drop(two);
    drop(mine);
    assert_eq!(
        s.value().unwrap(),
        3,
        "exact: nothing lost, nothing made up"
    );
}

#[test]
fn an_event_set_here_wakes_a_waiting_child() {
    let name = Name::new("xevent");
    let e = Event::open(&name).unwrap();
    let mut waiter = ChildProc::spawn("child_event_waiter", "event-waiter", &name, &[]);
    assert_eq!(waiter.next_line(BOUND).as_deref(), Some("waiting"));
    e.set().unwrap();
    assert_eq!(waiter.next_line(BOUND).as_deref(), Some("woken true"));
    assert!(waiter.wait(BOUND).expect("the waiter exits").success());
}

#[test]
fn a_barrier_across_three_processes() {
    let name = Name::new("xbarrier");
    let b = Barrier::open(&name, 3).unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| ChildProc::spawn("child_barrier_party", "barrier-party", &name, &["3", "4"]))
        .collect();
    let mine: Vec<usize> = (0..4).map(|_| b.wait(Some(BOUND)).unwrap()).collect();
    let mut theirs = Vec::new();
    for mut c in children {
        let idx: Vec<usize> = (0..4)
            .map(|_| {
                let line = c.next_line(BOUND).expect("the child reports each round");
                line.strip_prefix("index ")
                    .unwrap_or_else(|| panic!("{line}"))
                    .parse()
                    .unwrap()
            })
            .collect();
        assert!(c.wait(BOUND).expect("the child exits").success());
        theirs.push(idx);
    }
    for round in 0..4 {
        let mut idx = vec![mine[round], theirs[0][round], theirs[1][round]];
        idx.sort();
        assert_eq!(idx, [0, 1, 2], "round {round}");
    }
}

#[test]
fn a_waiting_party_that_dies_breaks_the_barrier() {
    let name = Name::new("xbarrierdead");
    let b = Barrier::open(&name, 3).unwrap();
    // the child arrives and waits (its one round never completes)
    let mut child = ChildProc::spawn("child_barrier_party", "barrier-party", &name, &["3", "1"]);
    let t0 = Instant::now();
    while b.n_waiting().unwrap() < 1 {
        assert!(t0.elapsed() < BOUND, "the child never arrived");
        std::thread::yield_now();
    }
    child.child.kill().unwrap();
    child.wait(BOUND).unwrap();
    let e = b.wait(Some(BOUND)).unwrap_err();
    assert_eq!(e.status(), Status::Broken, "{e}");
    assert!(b.is_broken().unwrap());
    b.reset().unwrap();
    assert!(!b.is_broken().unwrap());
}

#[test]
fn a_timeout_here_breaks_the_barrier_for_a_child() {
    let name = Name::new("xbarrierto");
    let b = Barrier::open(&name, 3).unwrap();
    let mut child = ChildProc::spawn("child_barrier_party", "barrier-party", &name, &["3", "1"]);
    let t0 = Instant::now();
    while b.n_waiting().unwrap() < 1 {
        assert!(t0.elapsed() < BOUND, "the child never arrived");
        std::thread::yield_now();
    }
    assert_eq!(
        b.wait(Some(Duration::from_millis(100)))
            .unwrap_err()
            .status(),
        Status::Timeout
    );
    assert_eq!(child.next_line(BOUND).as_deref(), Some("error Broken"));
    assert!(child.wait(BOUND).unwrap().success());
}
