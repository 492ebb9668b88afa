package polyipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// The synchronisation primitives (Lock, RLock, Semaphore, Event, Condition,
// Barrier), pipe ends and pools share this handle: a native handle guarded
// against Close, and the sliced waits that keep them responsive to a
// context. (The race detector sees the order they create: the runtime makes
// every cgo call a synchronisation point under -race.)

// syncHandle is a native handle of kind H with its name and guard.
type syncHandle[H any] struct {
	kind string // "lock", "rlock", "semaphore", ...
	name string
	// mu guards h: calls hold it for reading while they are in native code
	// (at most one waitSlice when they wait), Close for writing.
	mu   sync.RWMutex
	h    H
	open bool
	free func(H)
	// turn lets one goroutine at a time wait in a native call that takes
	// what any waiter could take (waitInTurn).
	turn turn
}

func newSyncHandle[H any](kind, name string, h H, free func(H)) *syncHandle[H] {
	return &syncHandle[H]{kind: kind, name: name, h: h, open: true, free: free}
}

// syncOpen checks what every Open of a synchronisation primitive checks and
// runs the native open, turning its panic into an error. check (may be nil)
// checks the options of this kind.
func syncOpen[H any](kind, name string, opts []Option, check func(o *queueOptions) error,
	open func(o *queueOptions) H) (h H, o queueOptions, err error) {
	if o, err = openOptions(kind, name, opts); err != nil {
		return h, o, err
	}
	if o.shaped || o.maxItems != 0 || o.capacity != 0 || o.maxMessageBytes != 0 {
		return h, o, newError(StatusInvalidArg, nil,
			"%s '%s': WithOrder, WithFormat, Joinable, WithMaxItems, WithCapacity, WithMaxMessageBytes and OneWay "+
				"apply to queues and pipes only", kind, name)
	}
	if o.poolOnly {
		return h, o, newError(StatusInvalidArg, nil, "%s '%s': WithMaxTasks and WithResultCapacity apply to pools only",
			kind, name)
	}
	if o.semBounded && kind != "semaphore" {
		return h, o, newError(StatusInvalidArg, nil, "%s '%s': Bounded applies to semaphores only", kind, name)
	}
	if o.lockNameSet && kind != "condition" {
		return h, o, newError(StatusInvalidArg, nil, "%s '%s': WithLockName applies to conditions only", kind, name)
	}
	if check != nil {
		if err := check(&o); err != nil {
			return h, o, err
		}
	}
	defer recoverInto(&err)
	return open(&o), o, nil
}

// Close releases the handle; calls in flight on other goroutines end with
// an ErrHandleClosed error. Idempotent.
func (s *syncHandle[H]) Close() error { return s.closeUnless(nil) }

// closeUnless is Close, refused with busy's error (nothing changed) while the
// handle is open and busy (may be nil) reports it in use. busy runs under
// the guard held for writing, so it sees no call in flight.
func (s *syncHandle[H]) closeUnless(busy func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open {
		if busy != nil {
			if err := busy(); err != nil {
				return err
			}
		}
		s.free(s.h)
		s.open = false
	}
	return nil
}

// do runs f on the native handle under the guard; a native failure becomes
// an *Error.
func (s *syncHandle[H]) do(f func(h H)) (err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.open {
		return s.closedError()
	}
	defer recoverInto(&err)
	f(s.h)
	return nil
}

func (s *syncHandle[H]) closedError() error {
	return newError(StatusInvalidArg, ErrHandleClosed, "%s '%s': handle used after Close", s.kind, s.name)
}

func (s *syncHandle[H]) stat(f func(h H) string) (json.RawMessage, error) {
	var out string
	if err := s.do(func(h H) { out = f(h) }); err != nil {
		return nil, err
	}
	return json.RawMessage(out), nil
}

// contextError is the error of a wait whose context is done: ErrTimeout
// (also matching context.DeadlineExceeded) for a deadline, else the
// context's error wrapped (context.Canceled).
func (s *syncHandle[H]) contextError(what string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(StatusTimeout, err, "%s '%s': %s: the context's deadline passed", s.kind, s.name, what)
	}
	return fmt.Errorf("polyipc: %s '%s': %s: %w", s.kind, s.name, what, err)
}

// nextStep is the native timeout of the next slice of a wait: at most
// waitSlice, less when the context's deadline comes first (last). It fails
// with the context's error when the context is done.
func nextStep(ctx context.Context) (step int64, last bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return 0, false, context.DeadlineExceeded
		}
		if left <= waitSlice {
			return int64(left), true, nil
		}
	}
	return int64(waitSlice), false, nil
}

// wait runs op (one native wait of at most timeoutNs) in slices until it
// returns anything but a timeout, the context's deadline passes (ErrTimeout)
// or the context is cancelled.
func (s *syncHandle[H]) wait(ctx context.Context, what string, op func(h H, timeoutNs int64)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	for {
		if ended, err := s.slice(ctx, what, op); ended {
			return err
		}
	}
}

// waitInTurn is wait for a call that takes something any waiter of the
// handle could take (a message, room for one, one slot): one goroutine at a
// time waits in the native call, the others on t (turn.go). rotating: a
// wait for room, whose holder waits in short slices while others wait.
func (s *syncHandle[H]) waitInTurn(ctx context.Context, what string, t *turn, rotating bool,
	op func(h H, timeoutNs int64)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var rotate *turn
	if rotating {
		rotate = t
	}
	return inTurn(ctx, t,
		func() error { return s.do(func(h H) { op(h, 0) }) },
		func() (bool, error) { return s.sliceRotating(ctx, what, op, rotate) },
		func(err error) error { return s.contextError(what, err) })
}

// slice runs one slice of wait (ctx not nil): ended is false when it ran out
// and the wait goes on with another.
func (s *syncHandle[H]) slice(ctx context.Context, what string, op func(h H, timeoutNs int64)) (ended bool, err error) {
	return s.sliceRotating(ctx, what, op, nil)
}

// sliceRotating is slice, made short while goroutines wait for rotate (may
// be nil; see turn.rotating).
func (s *syncHandle[H]) sliceRotating(ctx context.Context, what string, op func(h H, timeoutNs int64),
	rotate *turn) (ended bool, err error) {
	step, last, err := nextStep(ctx)
	if err != nil {
		return true, s.contextError(what, err)
	}
	if rotate != nil {
		step, last = rotate.rotating(step, last)
	}
	err = s.do(func(h H) { op(h, step) })
	retry, err := sliceRanOut(err, last)
	return !retry, err
}

func isStatus(err error, st Status) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == st
}

// ---- the lock protocol, shared by Lock, RLock and Condition ----------------

// nativeOwnable is a native handle with the lock calls (NativeLock and
// NativeCondition).
type nativeOwnable interface {
	Acquire(timeoutNs int64)
	Release()
}

// lockContext acquires, pinning the goroutine to its OS thread for as long
// as the lock is held: ownership is per OS thread. nil or an ErrOwnerDead
// error: held (and pinned); anything else: not held (and not pinned).
func lockContext[H nativeOwnable](s *syncHandle[H], ctx context.Context) error {
	runtime.LockOSThread()
	err := s.wait(ctx, "acquire", func(h H, timeoutNs int64) { h.Acquire(timeoutNs) })
	if err == nil || isStatus(err, StatusOwnerDead) {
		return err
	}
	runtime.UnlockOSThread()
	return err
}

// tryLock acquires if free now (held: true, with the same pinning as
// lockContext; taken by anyone, this goroutine included: false).
func tryLock[H nativeOwnable](s *syncHandle[H]) (bool, error) {
	runtime.LockOSThread()
	err := s.do(func(h H) { h.Acquire(0) })
	if err == nil || isStatus(err, StatusOwnerDead) {
		return true, nil
	}
	runtime.UnlockOSThread()
	if isStatus(err, StatusTimeout) {
		return false, nil
	}
	return false, err
}

// unlock releases and unpins (ErrNotOwner, nothing changed, when the calling
// goroutine does not hold it).
func unlock[H nativeOwnable](s *syncHandle[H]) error {
	err := s.do(func(h H) { h.Release() })
	if err == nil {
		runtime.UnlockOSThread()
	}
	return err
}

// mustLock is the sync.Locker Lock: it waits as long as it takes, takes an
// OWNER_DEAD acquisition as an acquisition, and panics on any other error.
func mustLock[H nativeOwnable](s *syncHandle[H]) {
	if err := lockContext(s, context.Background()); err != nil && !isStatus(err, StatusOwnerDead) {
		panic(err)
	}
}

func mustTryLock[H nativeOwnable](s *syncHandle[H]) bool {
	ok, err := tryLock(s)
	if err != nil {
		panic(err)
	}
	return ok
}

func mustUnlock[H nativeOwnable](s *syncHandle[H]) {
	if err := unlock(s); err != nil {
		panic(err)
	}
}
