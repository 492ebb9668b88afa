package polyipc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Waitable is what Wait waits on: a *Conn or a *Queue.
type Waitable interface {
	// guard is the read-write lock that keeps the native handle alive
	// (nil for a nil *Conn or *Queue).
	guard() *sync.RWMutex
	// addTo adds the native handle to set, the guard held for reading:
	// false when the handle is closed.
	addTo(set native.NativeWaitSet) (index int64, open bool)
	closedError() error
}

func (c *Conn) guard() *sync.RWMutex {
	if c == nil {
		return nil
	}
	return &c.s.mu
}

func (c *Conn) addTo(set native.NativeWaitSet) (int64, bool) {
	if !c.s.open {
		return 0, false
	}
	return set.Add_pipe(c.s.h), true
}

func (c *Conn) closedError() error { return c.s.closedError() }

func (q *Queue) guard() *sync.RWMutex {
	if q == nil {
		return nil
	}
	return &q.mu
}

func (q *Queue) addTo(set native.NativeWaitSet) (int64, bool) {
	if q.h == 0 {
		return 0, false
	}
	return set.Add_queue(q.h), true
}

// Wait waits until at least one of objs is ready, and returns the ready
// ones in the order given (multiprocessing.connection.wait). A *Conn is
// ready when Recv would not wait (a message, or the end of stream); a
// *Queue when Get would not wait (a message, or closed for writing and
// drained). Wait checks at once, then waits until ctx is done: an empty
// result and a nil error when ctx's deadline passes first, ctx's error when
// it is cancelled (within about 50 ms); with a ctx already done it only
// checks. Any of objs closed (or nil) is an error (ErrHandleClosed,
// ErrInvalidArg). Readiness is a hint when other handles take from the same
// objects: a Recv or Get may still find nothing, so use TryRecv / TryGet or
// a short deadline when several consumers race.
func Wait(ctx context.Context, objs ...Waitable) ([]Waitable, error) {
	if loadErr != nil {
		return nil, loadErr
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if len(objs) == 0 {
		return nil, newError(StatusInvalidArg, nil, "wait: nothing to wait on")
	}
	// The guards, each once, in a fixed order (their addresses: the Go heap
	// does not move): two Waits never hold them in opposite orders, and a
	// guard is never read-locked twice (which a waiting Close would deadlock).
	guards := make([]*sync.RWMutex, 0, len(objs))
	for i, o := range objs {
		g := (*sync.RWMutex)(nil)
		if o != nil {
			g = o.guard()
		}
		if g == nil {
			return nil, newError(StatusInvalidArg, nil, "wait: object %d is nil", i)
		}
		guards = append(guards, g)
	}
	slices.SortFunc(guards, func(a, b *sync.RWMutex) int {
		return cmp.Compare(uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(b)))
	})
	guards = slices.Compact(guards)

	step := int64(0)
	for {
		ready, err := waitOnce(guards, objs, step)
		if !isStatus(err, StatusTimeout) {
			return ready, err
		}
		step, _, err = nextStep(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return []Waitable{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("polyipc: wait: %w", err)
		}
	}
}

// waitOnce is one native wait of at most timeoutNs, every guard held for
// reading (so no Close frees a handle the native set points to).
func waitOnce(guards []*sync.RWMutex, objs []Waitable, timeoutNs int64) (ready []Waitable, err error) {
	for _, g := range guards {
		g.RLock()
		defer g.RUnlock()
	}
	defer recoverInto(&err)
	set := native.NativeWaitSetCreate()
	if set == nil || set.Swigcptr() == 0 {
		return nil, newError(StatusNoMemory, nil, "wait: no memory for the wait set")
	}
	defer native.DeleteNativeWaitSet(set)
	index := make([]int64, len(objs))
	for i, o := range objs {
		n, open := o.addTo(set)
		if !open {
			return nil, o.closedError()
		}
		if n < 0 {
			return nil, newError(StatusNoMemory, nil, "wait: no memory for the wait set")
		}
		index[i] = n
	}
	set.Wait(timeoutNs) // TIMEOUT when none is ready: a panic, recovered into err
	for i, o := range objs {
		if set.Ready(index[i]) != 0 {
			ready = append(ready, o)
		}
	}
	return ready, nil
}
