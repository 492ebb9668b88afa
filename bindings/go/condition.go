package polyipc

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Condition is a named condition variable shared by processes (Python's
// multiprocessing.Condition), bound to a named lock: "<name>.lock" unless
// WithLockName names another (a Lock or an RLock). The Condition is itself
// a sync.Locker acting on that lock, with the rules of Lock: the goroutine
// that locks is pinned to its OS thread and must be the one that unlocks.
//
//	c.Lock()
//	for !ready() {
//		if err := c.Wait(ctx); err != nil { ... } // the lock is held again
//	}
//	... c.Unlock()
//
// A Condition handle may be used from many goroutines.
type Condition struct {
	s        *syncHandle[native.NativeCondition]
	lockName string
}

// OpenCondition opens the condition name and its lock, creating either
// unless it exists (or OpenOnly is given). Options: WithLockName, WithMode,
// Ephemeral, CreateOnly, OpenOnly.
func OpenCondition(name string, opts ...Option) (*Condition, error) {
	check := func(o *queueOptions) error { return checkName("lock", o.lockName) }
	h, o, err := syncOpen("condition", name, opts, check, func(o *queueOptions) native.NativeCondition {
		return native.NativeConditionOpen(name, o.openMode, o.lockName, uint(o.mode.Perm()), boolInt(o.ephemeral))
	})
	if err != nil {
		return nil, err
	}
	lockName := o.lockName
	if lockName == "" {
		lockName = name + ".lock"
	}
	return &Condition{
		s:        newSyncHandle("condition", name, h, native.DeleteNativeCondition),
		lockName: lockName,
	}, nil
}

// Name is the condition's name.
func (c *Condition) Name() string { return c.s.name }

// LockName is the name of the condition's lock.
func (c *Condition) LockName() string { return c.lockName }

// LockContext acquires the condition's lock; the results are those of
// Lock.LockContext (ErrOwnerDead: held, the previous holder died).
func (c *Condition) LockContext(ctx context.Context) error { return lockContext(c.s, ctx) }

// Lock acquires the condition's lock (sync.Locker), as Lock.Lock does.
func (c *Condition) Lock() { mustLock(c.s) }

// TryLock acquires the condition's lock if it is free now.
func (c *Condition) TryLock() bool { return mustTryLock(c.s) }

// Unlock releases the condition's lock (sync.Locker); it panics as
// Lock.Unlock does.
func (c *Condition) Unlock() { mustUnlock(c.s) }

// Release is Unlock returning its error instead of panicking.
func (c *Condition) Release() error { return unlock(c.s) }

// Wait releases the lock, which the calling goroutine must hold (else
// ErrNotOwner), waits for a Notify and takes the lock back, however long
// that takes. It returns with the lock held: nil when notified; an error
// matching ErrOwnerDead when the lock came back from a holder that died
// (a wake-up too: repair what the lock guards); ErrTimeout (also matching
// context.DeadlineExceeded) when ctx's deadline passed; ctx's error when ctx
// was cancelled (noticed within about 50 ms, then the lock is taken back).
// As with any condition variable, recheck the predicate (see WaitFor).
func (c *Condition) Wait(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return c.s.contextError("wait", err)
	}
	// Every slice releases the lock, waits, and takes it back, so a notify
	// (which needs the lock) cannot fall between two slices.
	return c.s.wait(ctx, "wait", func(h native.NativeCondition, timeoutNs int64) { h.Wait(timeoutNs) })
}

// WaitFor waits (as Wait) until pred returns true, checking it first; the
// caller holds the lock, and pred runs with the lock held. It returns nil
// when pred is true, even when that was checked once more after ctx was
// done; else Wait's error (ErrTimeout, ctx's error, ErrOwnerDead,
// ErrNotOwner, ...), with the lock held as after Wait.
func (c *Condition) WaitFor(ctx context.Context, pred func() bool) error {
	for !pred() {
		err := c.Wait(ctx)
		if err == nil {
			continue
		}
		if (isStatus(err, StatusTimeout) || errors.Is(err, context.Canceled)) && pred() {
			return nil
		}
		return err
	}
	return nil
}

// Notify wakes up to n waiters, longest waiting first; the caller holds the
// lock (else ErrNotOwner).
func (c *Condition) Notify(n int) error {
	if n < 0 {
		return newError(StatusInvalidArg, nil, "condition '%s': notify: the count %d is negative", c.s.name, n)
	}
	return c.s.do(func(h native.NativeCondition) { h.Notify(uint64(n)) })
}

// NotifyAll wakes every waiter; the caller holds the lock (else ErrNotOwner).
func (c *Condition) NotifyAll() error {
	return c.s.do(func(h native.NativeCondition) { h.Notify_all() })
}

// Stat is the condition's name, lock and waiters as a JSON object.
func (c *Condition) Stat() (json.RawMessage, error) {
	return c.s.stat(native.NativeCondition.Stat_json)
}

// Close releases this handle (never the lock). Idempotent.
func (c *Condition) Close() error { return c.s.Close() }
