package polyipc

import (
	"context"
	"encoding/json"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Lock is a named lock shared by processes (Python's multiprocessing.Lock),
// robust: when its holder dies, the next acquirer gets it with ErrOwnerDead.
// It implements sync.Locker.
//
// Ownership is per OS thread, and goroutines move between OS threads, so
// acquiring pins the calling goroutine to its thread (runtime.LockOSThread)
// until the matching Unlock, which must run on the same goroutine, unlike
// sync.Mutex. An Unlock from another goroutine is ErrNotOwner (a panic from
// Unlock, an error from Release) and changes nothing. A goroutine that exits
// while holding the lock ends its thread, so the lock comes back to the next
// acquirer with ErrOwnerDead, as if a process had died; but when that thread
// is the process's main thread, which Go never ends, the lock stays held
// until the process exits.
//
// The lock is not reentrant: LockContext by its holder fails at once with
// ErrInvalidArg (sync.Mutex would deadlock), TryLock returns false. Use RLock
// for a reentrant lock.
//
// A Lock handle may be used from many goroutines. Close releases the handle,
// never the lock: unlock first.
type Lock struct {
	s *syncHandle[native.NativeLock]
}

// OpenLock opens the lock name in the namespace $POLYIPC_NAMESPACE,
// creating it unless OpenOnly is given. Options: WithMode, Ephemeral,
// CreateOnly, OpenOnly. A name that holds another kind (an rlock included)
// is ErrIncompatible.
func OpenLock(name string, opts ...Option) (*Lock, error) {
	s, err := openLock("lock", name, false, opts)
	if err != nil {
		return nil, err
	}
	return &Lock{s: s}, nil
}

func openLock(kind, name string, recursive bool, opts []Option) (*syncHandle[native.NativeLock], error) {
	h, _, err := syncOpen(kind, name, opts, nil, func(o *queueOptions) native.NativeLock {
		return native.NativeLockOpen(name, o.openMode, boolInt(recursive), uint(o.mode.Perm()), boolInt(o.ephemeral))
	})
	if err != nil {
		return nil, err
	}
	return newSyncHandle(kind, name, h, native.DeleteNativeLock), nil
}

// Name is the lock's name.
func (l *Lock) Name() string { return l.s.name }

// LockContext acquires the lock, waiting until ctx is done. It returns nil
// when the lock is held; an error matching ErrOwnerDead when the lock IS
// held but its previous holder died holding it (repair what it guards, then
// Unlock as usual); ErrTimeout (also matching context.DeadlineExceeded) when
// ctx's deadline passed; ctx's error when ctx was cancelled (within about
// 50 ms); ErrInvalidArg when this goroutine holds it already. When it
// returns nil or ErrOwnerDead the goroutine is pinned to its OS thread until
// Unlock.
func (l *Lock) LockContext(ctx context.Context) error { return lockContext(l.s, ctx) }

// Lock acquires the lock, waiting as long as it takes (sync.Locker). A
// previous holder that died is not reported: use LockContext where what the
// lock guards can be left torn. It panics with the *Error on a real failure
// (use after Close, the holder locking again, an OS error).
func (l *Lock) Lock() { mustLock(l.s) }

// TryLock acquires the lock if it is free now (also when its previous holder
// died), else returns false. It panics like Lock on a real failure.
func (l *Lock) TryLock() bool { return mustTryLock(l.s) }

// Unlock releases the lock (sync.Locker). It panics with an *Error matching
// ErrNotOwner when the calling goroutine does not hold it (as sync.Mutex
// panics on the unlock of an unlocked mutex), or on use after Close.
func (l *Lock) Unlock() { mustUnlock(l.s) }

// Release is Unlock returning its error (ErrNotOwner, ...) instead of
// panicking.
func (l *Lock) Release() error { return unlock(l.s) }

// Locked reports whether anyone (any process, any thread) holds the lock.
func (l *Lock) Locked() (bool, error) { return locked(l.s) }

// Held reports whether the calling goroutine holds the lock.
func (l *Lock) Held() (bool, error) {
	n, err := held(l.s)
	return n > 0, err
}

// Stat is the lock's name, kind and state as a JSON object.
func (l *Lock) Stat() (json.RawMessage, error) { return l.s.stat(native.NativeLock.Stat_json) }

// Close releases this handle (never the lock, nor the name). Idempotent.
func (l *Lock) Close() error { return l.s.Close() }

// RLock is a named reentrant lock shared by processes (Python's
// multiprocessing.RLock): its holder may lock it again, and it is free
// after as many unlocks as locks. Everything said of Lock holds: ownership
// per OS thread, so the goroutine stays pinned to its thread while it holds
// the lock at any depth, and unlocks on that goroutine; ErrOwnerDead from
// LockContext when the previous holder died holding it.
type RLock struct {
	s *syncHandle[native.NativeLock]
}

// OpenRLock opens the rlock name, as OpenLock does a lock. A name that holds
// another kind (a lock included) is ErrIncompatible.
func OpenRLock(name string, opts ...Option) (*RLock, error) {
	s, err := openLock("rlock", name, true, opts)
	if err != nil {
		return nil, err
	}
	return &RLock{s: s}, nil
}

// Name is the rlock's name.
func (l *RLock) Name() string { return l.s.name }

// LockContext acquires the rlock (once more when this goroutine holds it),
// waiting until ctx is done; the results are those of Lock.LockContext.
func (l *RLock) LockContext(ctx context.Context) error { return lockContext(l.s, ctx) }

// Lock acquires the rlock as Lock.Lock does a lock (sync.Locker).
func (l *RLock) Lock() { mustLock(l.s) }

// TryLock acquires the rlock if it is free or held by this goroutine.
func (l *RLock) TryLock() bool { return mustTryLock(l.s) }

// Unlock releases one level (sync.Locker); it panics as Lock.Unlock does.
func (l *RLock) Unlock() { mustUnlock(l.s) }

// Release is Unlock returning its error instead of panicking.
func (l *RLock) Release() error { return unlock(l.s) }

// Locked reports whether anyone holds the rlock.
func (l *RLock) Locked() (bool, error) { return locked(l.s) }

// Held is how many times the calling goroutine holds the rlock (0: not).
func (l *RLock) Held() (int, error) { return held(l.s) }

// Stat is the rlock's name, kind and state as a JSON object.
func (l *RLock) Stat() (json.RawMessage, error) { return l.s.stat(native.NativeLock.Stat_json) }

// Close releases this handle (never the rlock, nor the name). Idempotent.
func (l *RLock) Close() error { return l.s.Close() }

func locked(s *syncHandle[native.NativeLock]) (bool, error) {
	var v int
	err := s.do(func(h native.NativeLock) { v = h.Locked() })
	return v != 0, err
}

func held(s *syncHandle[native.NativeLock]) (int, error) {
	var v uint
	err := s.do(func(h native.NativeLock) { v = h.Held() })
	return int(v), err
}
