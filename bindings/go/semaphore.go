package polyipc

import (
	"context"
	"encoding/json"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Semaphore is a named counting semaphore shared by processes (Python's
// multiprocessing.Semaphore, or BoundedSemaphore with the Bounded option).
// Slots are counted per process, not per goroutine or thread: any goroutine
// may release what another acquired, and the slots a process holds come
// back when it dies. A Semaphore handle may be used from many goroutines.
type Semaphore struct {
	s *syncHandle[native.NativeSemaphore]
}

// OpenSemaphore opens the semaphore name, creating it with value initial
// unless it exists (or OpenOnly is given). Options: Bounded, WithMode,
// Ephemeral, CreateOnly, OpenOnly.
func OpenSemaphore(name string, initial int, opts ...Option) (*Semaphore, error) {
	if initial < 0 {
		return nil, newError(StatusInvalidArg, nil, "semaphore '%s': the initial value %d is negative", name, initial)
	}
	check := func(o *queueOptions) error { // Bounded(0) would mean "unbounded" to the library
		if o.semBounded && o.semMax <= 0 {
			return newError(StatusInvalidArg, nil, "semaphore '%s': Bounded(%d): the maximum must be positive", name, o.semMax)
		}
		return nil
	}
	h, _, err := syncOpen("semaphore", name, opts, check, func(o *queueOptions) native.NativeSemaphore {
		return native.NativeSemaphoreOpen(name, o.openMode, uint64(initial), uint64(o.semMax), uint(o.mode.Perm()),
			boolInt(o.ephemeral))
	})
	if err != nil {
		return nil, err
	}
	return &Semaphore{s: newSyncHandle("semaphore", name, h, native.DeleteNativeSemaphore)}, nil
}

// Name is the semaphore's name.
func (m *Semaphore) Name() string { return m.s.name }

// Acquire takes one slot, waiting until ctx is done (ErrTimeout on its
// deadline, ctx's error when cancelled, within about 50 ms).
func (m *Semaphore) Acquire(ctx context.Context) error { return m.AcquireN(ctx, 1) }

// AcquireN takes n slots at once, all or none, waiting until ctx is done.
// AcquireN(ctx, 0) returns nil; n larger than a bounded semaphore's maximum
// is ErrInvalidArg.
func (m *Semaphore) AcquireN(ctx context.Context, n int) error {
	if err := m.checkN("acquire", n); err != nil {
		return err
	}
	acquire := func(h native.NativeSemaphore, timeoutNs int64) { h.Acquire(uint64(n), timeoutNs) }
	if n == 1 { // every waiter for one slot could take the one freed: turn.go
		return m.s.waitInTurn(ctx, "acquire", &m.s.turn, false, acquire)
	}
	return m.s.wait(ctx, "acquire", acquire)
}

// TryAcquire takes one slot if one is free now.
func (m *Semaphore) TryAcquire() bool { return m.TryAcquireN(1) }

// TryAcquireN takes n slots if n are free now, else takes none and returns
// false. Like TryLock it panics with the *Error on a real failure (negative
// n, use after Close).
func (m *Semaphore) TryAcquireN(n int) bool {
	err := m.checkN("acquire", n)
	if err == nil {
		err = m.s.do(func(h native.NativeSemaphore) { h.Acquire(uint64(n), 0) })
	}
	switch {
	case err == nil:
		return true
	case isStatus(err, StatusTimeout):
		return false
	}
	panic(err)
}

// Release gives n slots back (any process may release). On a bounded
// semaphore, raising the value past its maximum is ErrInvalidArg and
// changes nothing.
func (m *Semaphore) Release(n int) error {
	if err := m.checkN("release", n); err != nil {
		return err
	}
	return m.s.do(func(h native.NativeSemaphore) { h.Release(uint64(n)) })
}

// Value is the number of free slots now.
func (m *Semaphore) Value() (int, error) {
	var v uint64
	err := m.s.do(func(h native.NativeSemaphore) { v = h.Value() })
	return int(v), err
}

// Drain takes every slot free now and returns how many it took.
func (m *Semaphore) Drain() (int, error) {
	var v uint64
	err := m.s.do(func(h native.NativeSemaphore) { v = h.Drain() })
	return int(v), err
}

// Stat is the semaphore's name, value, maximum and holders as a JSON object.
func (m *Semaphore) Stat() (json.RawMessage, error) {
	return m.s.stat(native.NativeSemaphore.Stat_json)
}

// Close releases this handle (the slots this process holds stay held).
// Idempotent.
func (m *Semaphore) Close() error { return m.s.Close() }

func (m *Semaphore) checkN(what string, n int) error {
	if n < 0 {
		return newError(StatusInvalidArg, nil, "semaphore '%s': %s: the count %d is negative", m.s.name, what, n)
	}
	return nil
}
