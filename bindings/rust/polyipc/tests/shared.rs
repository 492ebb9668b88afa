//! SharedMemory, Array and Value: semantics in one process, and across real
//! processes (this test binary runs again as a child in a role).
mod common;
use common::{BOUND, ChildProc, Name, child_args, child_role, tell};
use polyipc::{Array, OpenMode, SharedMemory, Status, SyncOptions, Value};
use std::time::Duration;

fn pattern(i: usize, seed: usize) -> u8 {
    ((i * 131 + seed) % 256) as u8
}

#[test]
fn shared_memory_starts_zeroed_and_is_seen_by_every_handle() {
    let name = Name::new("shm");
    let mut m = SharedMemory::open(&name, 10000).unwrap();
    assert_eq!(m.len(), 10000);
    assert!(!m.is_empty());
    assert!(m.as_slice().iter().all(|&b| b == 0));
    assert_eq!(m.as_ptr() as usize % 4096, 0, "page-aligned");
    m.as_mut_slice()[..5].copy_from_slice(b"hello");
    m.as_mut()[9999] = 7;

    let other = SharedMemory::attach(&name).unwrap();
    assert_eq!(other.len(), 10000);
    assert_eq!(&other.as_slice()[..5], b"hello");
    assert_eq!(other.as_ref()[9999], 7);
    assert_eq!(other.as_slice().get(10000), None, "no byte past the end");
    assert!(other.stat_json().unwrap().contains(&name.0));

    // the same size, or 0, attaches; another size does not
    SharedMemory::open(&name, 10000).unwrap();
    SharedMemory::open(&name, 0).unwrap();
    assert_eq!(
        SharedMemory::open(&name, 20000).unwrap_err().status(),
        Status::Incompatible
    );
    let e = SharedMemory::open_with(
        &name,
        10000,
        &SyncOptions::new().open_mode(OpenMode::CreateOnly),
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::Exists);

    // unlinked: the name is gone, the attached bytes stay
    polyipc::unlink(&name).unwrap();
    assert_eq!(
        SharedMemory::attach(&name).unwrap_err().status(),
        Status::NotFound
    );
    m.as_mut_slice()[0] = b'H';
    assert_eq!(&other.as_slice()[..5], b"Hello");
}

#[test]
fn bad_shared_memory_requests_are_clean_errors() {
    let name = Name::new("shm-bad");
    let e = SharedMemory::open_with(
        &name,
        0,
        &SyncOptions::new().open_mode(OpenMode::CreateOnly),
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg, "{e}");
    assert_eq!(
        SharedMemory::open(&name, 0).unwrap_err().status(),
        Status::NotFound
    );
    let e = SharedMemory::open(&name, 1 << 43).unwrap_err(); // 8 TiB: more than /dev/shm holds
    assert_eq!(e.status(), Status::NoMemory, "{e}");
    assert_eq!(
        SharedMemory::open("a/b", 10).unwrap_err().status(),
        Status::InvalidArg
    );
    // a name holding an array is not a block of bytes
    let arr = Name::new("shm-is-array");
    let _a = Array::<i64>::open(&arr, 2).unwrap();
    assert_eq!(
        SharedMemory::attach(&arr).unwrap_err().status(),
        Status::Incompatible
    );
}

#[test]
fn array_operations_are_atomic_and_range_checked() {
    let name = Name::new("arr");
    let a = Array::<i64>::open(&name, 4).unwrap();
    assert_eq!(a.len(), 4);
    assert_eq!(a.to_vec().unwrap(), vec![0; 4]);
    a.store(1, 41).unwrap();
    assert_eq!(a.fetch_add(1, 1).unwrap(), 41);
    assert_eq!(a.load(1).unwrap(), 42);
    assert_eq!(a.compare_exchange(1, 42, 7).unwrap(), Ok(42));
    assert_eq!(a.compare_exchange(1, 42, 8).unwrap(), Err(7));
    a.store(3, i64::MAX).unwrap();
    assert_eq!(a.fetch_add(3, 1).unwrap(), i64::MAX);
    assert_eq!(a.load(3).unwrap(), i64::MIN, "wrapping");
    assert_eq!(a.load_range(1..3).unwrap(), vec![7, 0]);
    assert!(a.load_range(4..4).unwrap().is_empty());

    // out of range: an error, never a panic
    for e in [
        a.load(4).unwrap_err(),
        a.store(4, 1).unwrap_err(),
        a.fetch_add(usize::MAX, 1).unwrap_err(),
        a.compare_exchange(99, 0, 1).unwrap_err(),
        a.load_range(2..5).unwrap_err(),
    ] {
        assert_eq!(e.status(), Status::OutOfRange, "{e}");
    }

    // another handle: length 0 attaches whatever the length
    let b = Array::<i64>::attach(&name).unwrap();
    assert_eq!(b.len(), 4);
    assert_eq!(b.load(1).unwrap(), 7);
    assert_eq!(
        Array::<i64>::open(&name, 5).unwrap_err().status(),
        Status::Incompatible
    );
    assert_eq!(
        Array::<f64>::open(&name, 4).unwrap_err().status(),
        Status::Incompatible
    );
    assert_eq!(
        Array::<f64>::attach(&name).unwrap_err().status(),
        Status::Incompatible
    );
    assert_eq!(
        Value::<i64>::open(&name).unwrap_err().status(),
        Status::Incompatible
    );
    assert!(a.stat_json().unwrap().contains(&name.0));
}

#[test]
fn double_arrays_compare_bits() {
    let name = Name::new("arr-f64");
    let a = Array::<f64>::open(&name, 2).unwrap();
    a.store(0, 0.5).unwrap();
    assert_eq!(a.fetch_add(0, 0.25).unwrap(), 0.5);
    assert_eq!(a.load(0).unwrap(), 0.75);
    a.store(1, f64::NAN).unwrap();
    let found = a.compare_exchange(1, f64::NAN, 1.0).unwrap();
    assert!(found.unwrap().is_nan(), "NaN is replaced (same bits)");
    a.store(1, -0.0).unwrap();
    assert_eq!(
        a.compare_exchange(1, 0.0, 2.0)
            .unwrap()
            .unwrap_err()
            .to_bits(),
        (-0.0f64).to_bits()
    );
    assert_eq!(
        a.compare_exchange(1, -0.0, 2.0).unwrap().map(f64::to_bits),
        Ok((-0.0f64).to_bits())
    );
    assert_eq!(a.to_vec().unwrap(), vec![0.75, 2.0]);
    assert_eq!(a.load(2).unwrap_err().status(), Status::OutOfRange);
    let v = Value::<f64>::open(&Name::new("val-f64")).unwrap();
    v.store(1.5).unwrap();
    assert_eq!(v.fetch_add(-0.5).unwrap(), 1.5);
    assert_eq!(v.load().unwrap(), 1.0);
}

#[test]
fn the_lock_of_a_value_is_held_by_one_thread_at_a_time() {
    let name = Name::new("val-lock");
    let v = Value::<i64>::open(&name).unwrap();
    assert_eq!(v.as_array().len(), 1);
    let g = v.lock(Some(BOUND)).unwrap();
    assert!(!g.previous_owner_died());
    assert_eq!(
        v.lock(None).unwrap_err().status(),
        Status::InvalidArg,
        "not recursive"
    );
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(v.try_lock().unwrap().is_none(), "held by the other thread");
            let t = v.lock(Some(Duration::from_millis(30))).unwrap_err();
            assert_eq!(t.status(), Status::Timeout);
        });
    });
    g.release().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| drop(v.try_lock().unwrap().expect("free again")));
    });
}

// ---- across processes -------------------------------------------------------

#[test]
fn child_shm_writer() {
    let Some(name) = child_role("shm-writer") else {
        return;
    };
    let args = child_args();
    let (size, seed): (usize, usize) = (args[0].parse().unwrap(), args[1].parse().unwrap());
    let mut m = SharedMemory::open(&name, size).unwrap();
    for (i, b) in m.as_mut_slice().iter_mut().enumerate() {
        *b = pattern(i, seed);
    }
    tell(format!("wrote {size}"));
}

#[test]
fn child_counter() {
    let Some(name) = child_role("counter") else {
        return;
    };
    let args = child_args();
    let n: i64 = args[0].parse().unwrap();
    let v = Value::<i64>::open(&name).unwrap();
    let locked = args.get(1).map(String::as_str) == Some("locked");
    for _ in 0..n {
        if locked {
            // a compound update (load, then store) made safe by the lock
            let _g = v.lock(Some(BOUND)).unwrap();
            let x = v.load().unwrap();
            v.store(x + 1).unwrap();
        } else {
            v.fetch_add(1).unwrap();
        }
    }
    tell(format!("added {n}"));
}

#[test]
fn child_value_lock_holder() {
    let Some(name) = child_role("value-lock-holder") else {
        return;
    };
    let v = Value::<i64>::open(&name).unwrap();
    let g = v.lock(Some(BOUND)).unwrap();
    tell(format!("holding {}", g.previous_owner_died()));
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    std::process::exit(3);
}

#[test]
fn shared_memory_written_by_a_child_is_read_by_the_parent() {
    let name = Name::new("xshm");
    let size = 100_000;
    let mut child = ChildProc::spawn("child_shm_writer", "shm-writer", &name, &["100000", "17"]);
    assert_eq!(child.next_line(BOUND).as_deref(), Some("wrote 100000"));
    assert!(child.wait(BOUND).unwrap().success());
    // the child closed its handle and exited: the bytes stay under the name
    let m = SharedMemory::attach(&name).unwrap();
    assert_eq!(m.len(), size);
    let bad = m
        .as_slice()
        .iter()
        .enumerate()
        .find(|&(i, &b)| b != pattern(i, 17));
    assert_eq!(bad, None);
}

#[test]
fn a_value_incremented_by_several_processes_ends_exact() {
    let name = Name::new("xcount");
    let v = Value::<i64>::open(&name).unwrap();
    let mut children: Vec<ChildProc> = (0..4)
        .map(|_| ChildProc::spawn("child_counter", "counter", &name, &["2500"]))
        .collect();
    for _ in 0..2500 {
        v.fetch_add(1).unwrap(); // the parent adds at the same time
    }
    for c in &mut children {
        assert_eq!(c.next_line(BOUND).as_deref(), Some("added 2500"));
        assert!(c.wait(BOUND).unwrap().success());
    }
    assert_eq!(v.load().unwrap(), 5 * 2500);
}

#[test]
fn locked_updates_by_several_processes_end_exact() {
    let name = Name::new("xlocked");
    let v = Value::<i64>::open(&name).unwrap();
    let mut children: Vec<ChildProc> = (0..3)
        .map(|_| ChildProc::spawn("child_counter", "counter", &name, &["400", "locked"]))
        .collect();
    for c in &mut children {
        assert_eq!(c.next_line(BOUND).as_deref(), Some("added 400"));
        assert!(c.wait(BOUND).unwrap().success());
    }
    assert_eq!(v.load().unwrap(), 1200);
}

#[test]
fn a_value_lock_whose_holder_was_killed_is_taken_with_previous_owner_died() {
    let name = Name::new("xvlock");
    let v = Value::<i64>::open(&name).unwrap();
    let mut holder = ChildProc::spawn("child_value_lock_holder", "value-lock-holder", &name, &[]);
    assert_eq!(holder.next_line(BOUND).as_deref(), Some("holding false"));
    assert!(v.try_lock().unwrap().is_none());
    holder.child.kill().unwrap();
    holder.wait(BOUND).unwrap();
    let g = v.lock(Some(BOUND)).expect("a dead holder never wedges it");
    assert!(g.previous_owner_died());
    drop(g);
    assert!(!v.lock(Some(Duration::ZERO)).unwrap().previous_owner_died());
}
