package polyipc

import (
	"context"
	"encoding/json"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Barrier is a named barrier of a fixed number of parties shared by
// processes (Python's multiprocessing.Barrier): Wait returns once all
// parties are waiting. A waiter that gives up (its context's deadline or
// cancellation), an Abort, a Reset or a waiting process that dies breaks the
// barrier: the other waiters, and every Wait until Reset, get ErrBroken.
// A Barrier handle may be used from many goroutines (each Wait is one party).
type Barrier struct {
	s *syncHandle[native.NativeBarrier]
}

// OpenBarrier opens the barrier name of parties (1..256) parties, creating
// it unless it exists or OpenOnly is given; an existing barrier with other
// parties is ErrIncompatible. Options: WithMode, Ephemeral, CreateOnly,
// OpenOnly.
func OpenBarrier(name string, parties int, opts ...Option) (*Barrier, error) {
	if parties < 1 || parties > 256 {
		return nil, newError(StatusInvalidArg, nil, "barrier '%s': parties must be 1..256, not %d", name, parties)
	}
	h, _, err := syncOpen("barrier", name, opts, nil, func(o *queueOptions) native.NativeBarrier {
		return native.NativeBarrierOpen(name, o.openMode, uint(parties), uint(o.mode.Perm()), boolInt(o.ephemeral))
	})
	if err != nil {
		return nil, err
	}
	return &Barrier{s: newSyncHandle("barrier", name, h, native.DeleteNativeBarrier)}, nil
}

// Name is the barrier's name.
func (b *Barrier) Name() string { return b.s.name }

// Wait arrives at the barrier and waits for the other parties. It returns
// the arrival index (0 for the first to arrive, parties-1 for the last), or
// -1 and: ErrBroken when the barrier is or gets broken; ErrTimeout (also
// matching context.DeadlineExceeded) when ctx's deadline passed first; ctx's
// error when ctx was cancelled (within about 50 ms). Giving up (deadline or
// cancellation) breaks the barrier for everyone, as Java's CyclicBarrier
// does on an interrupt. A ctx that is done already returns without arriving.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return -1, b.s.contextError("wait", err)
	}
	var ticket uint64
	if err := b.s.do(func(h native.NativeBarrier) { ticket = h.Arrive() }); err != nil {
		return -1, err
	}
	for {
		step, last, err := nextStep(ctx)
		if err != nil {
			return b.giveUp(ticket, err)
		}
		var index uint64
		err = b.s.do(func(h native.NativeBarrier) { index = h.Await_ticket(ticket, step) })
		switch {
		case err == nil:
			return int(index), nil
		case !isStatus(err, StatusTimeout):
			return -1, err // broken, or the handle was closed
		case last:
			return b.giveUp(ticket, context.DeadlineExceeded)
		}
	}
}

// giveUp ends a Wait whose context is done: unless the round completed at
// the last moment (then its index), it cancels the arrival, which breaks the
// barrier for the others and, unlike Abort, can never break a later round.
func (b *Barrier) giveUp(ticket uint64, cause error) (int, error) {
	var index uint64
	err := b.s.do(func(h native.NativeBarrier) { index = h.Cancel_ticket(ticket) })
	if err == nil {
		return int(index), nil
	}
	if !isStatus(err, StatusBroken) {
		return -1, err
	}
	return -1, b.s.contextError("wait", cause)
}

// Abort breaks the barrier: current and later waiters get ErrBroken until
// Reset.
func (b *Barrier) Abort() error { return b.s.do(func(h native.NativeBarrier) { h.Abort() }) }

// Reset returns the barrier to its initial, unbroken state; parties waiting
// now get ErrBroken.
func (b *Barrier) Reset() error { return b.s.do(func(h native.NativeBarrier) { h.Reset() }) }

// Parties is the number of parties needed to pass the barrier.
func (b *Barrier) Parties() (int, error) {
	var v uint
	err := b.s.do(func(h native.NativeBarrier) { v = h.Parties() })
	return int(v), err
}

// NWaiting is the number of parties waiting now (0 while broken).
func (b *Barrier) NWaiting() (int, error) {
	var v uint
	err := b.s.do(func(h native.NativeBarrier) { v = h.N_waiting() })
	return int(v), err
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() (bool, error) {
	var v int
	err := b.s.do(func(h native.NativeBarrier) { v = h.Broken() })
	return v != 0, err
}

// Stat is the barrier's name, parties, state and counters as a JSON object.
func (b *Barrier) Stat() (json.RawMessage, error) { return b.s.stat(native.NativeBarrier.Stat_json) }

// Close releases this handle. A Wait in flight on it ends with an
// ErrHandleClosed error, but its arrival stays counted in the round.
// Idempotent.
func (b *Barrier) Close() error { return b.s.Close() }
