package polyipc

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A turn lets one goroutine at a time of a handle wait inside a native call
// for something that any of the handle's waiters could take: a message (Get,
// Recv), room for one (Put, Send), one semaphore slot, or an Event's Set (which
// every waiter counts from its own start, event.go).
//
// A goroutine in a native call holds its OS thread for as long as the call
// runs. Without a turn, 200 goroutines waiting in Get on an empty queue held
// 205 threads, and Go keeps its threads once they are idle. With a turn, one
// goroutine waits natively and the others wait on a channel, which holds no
// thread. A goroutine that finds the turn taken first tries once without
// waiting, so a handle's goroutines never queue behind one another while
// there is something to take.
//
// The waiters want the same thing, so the one that holds the turn is never
// waiting for something that a goroutine behind it could have taken. Put is
// the exception (a small message fits where a large one does not): its
// holder waits in short slices while others wait behind it, and so hands the
// turn on; so does Conn.Send's. AcquireN of several slots uses no turn.
//
// The turn is taken and given with one compare-and-swap each while nobody
// waits for it (a buffered channel as the turn cost 33 ns a Get here, these
// 6 ns); waiters queue under a mutex, each on a channel of its own.
type turn struct {
	state   atomic.Int32 // turnFree, turnHeld, or turnWanted (changes only under mu)
	mu      sync.Mutex
	waiters []chan struct{} // in the order they asked; each gets the turn by a send
}

const (
	turnFree   = 0
	turnHeld   = 1 // and nobody waits for it
	turnWanted = 2 // held, and waiters queue
)

// tryTake takes the turn when no goroutine holds it.
func (t *turn) tryTake() bool { return t.state.CompareAndSwap(turnFree, turnHeld) }

// take waits for the turn (on a channel: no OS thread) until ctx is done
// (its error). Waiters get the turn in the order they asked for it.
func (t *turn) take(ctx context.Context) error {
	t.mu.Lock()
	for {
		switch t.state.Load() {
		case turnFree:
			if t.state.CompareAndSwap(turnFree, turnHeld) {
				t.mu.Unlock()
				return nil
			}
			continue
		case turnHeld:
			if !t.state.CompareAndSwap(turnHeld, turnWanted) {
				continue // given back meanwhile
			}
		}
		break
	}
	mine := make(chan struct{}, 1)
	t.waiters = append(t.waiters, mine)
	t.mu.Unlock()
	select {
	case <-mine:
		return nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	if i := slices.Index(t.waiters, mine); i >= 0 {
		t.waiters = slices.Delete(t.waiters, i, i+1)
		if len(t.waiters) == 0 {
			t.state.Store(turnHeld) // the holder's give goes back to the fast path
		}
		t.mu.Unlock()
		return ctx.Err()
	}
	t.mu.Unlock()
	t.give() // handed to this goroutine as its context ended: pass it on
	return ctx.Err()
}

// give hands the turn to the goroutine that has waited longest, if any.
func (t *turn) give() {
	if t.state.CompareAndSwap(turnHeld, turnFree) {
		return
	}
	t.mu.Lock()
	if len(t.waiters) == 0 { // the last waiter gave up meanwhile
		t.state.Store(turnFree)
		t.mu.Unlock()
		return
	}
	next := t.waiters[0]
	t.waiters = slices.Delete(t.waiters, 0, 1)
	if len(t.waiters) == 0 {
		t.state.Store(turnHeld) // by next, and nobody else waits
	}
	t.mu.Unlock()
	next <- struct{}{}
}

// wanted tells whether goroutines wait for the turn.
func (t *turn) wanted() bool { return t.state.Load() == turnWanted }

// rotateSlice bounds a native wait for room (Put, Send) while other
// goroutines of the handle wait for the turn: each then gets its own look.
const rotateSlice = 2 * time.Millisecond

// rotating is the next slice of a wait for room (at most step, the last one
// when last): rotateSlice while others wait for the turn, and then not the
// last.
func (t *turn) rotating(step int64, last bool) (int64, bool) {
	if step > int64(rotateSlice) && t.wanted() {
		return int64(rotateSlice), false
	}
	return step, last
}

// held tells whether a goroutine holds the turn (for tests).
func (t *turn) held() bool { return t.state.Load() != turnFree }

// wouldWait tells whether a call that was not to wait found nothing to take
// (ErrEmpty, ErrFull, or ErrTimeout: a semaphore with no slot free, or a
// lock held for a moment longer than a non-blocking call waits).
func wouldWait(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Status == StatusEmpty || e.Status == StatusFull || e.Status == StatusTimeout
}

// inTurn runs a wait that takes something any waiter of the handle could
// take. try makes one attempt that does not wait; slice one native wait of
// at most a slice, holding the turn (ended: false when it ran out and the
// wait goes on). ctxError is the handle's error for a done context.
func inTurn(ctx context.Context, t *turn, try func() error, slice func() (ended bool, err error),
	ctxError func(error) error) error {
	for {
		if !t.tryTake() {
			if err := ctx.Err(); err != nil {
				return ctxError(err)
			}
			if err := try(); !wouldWait(err) {
				return err
			}
			if err := t.take(ctx); err != nil {
				return ctxError(err)
			}
		}
		if ended, err := t.holding(slice); ended {
			return err
		}
	}
}

// holding runs f, the turn held, and gives the turn back even if f panics
// (a turn never given back would leave every later waiter of the handle
// waiting for it).
func (t *turn) holding(f func() (bool, error)) (bool, error) {
	defer t.give()
	return f()
}
