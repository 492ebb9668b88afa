package polyipc

import (
	"context"
	"encoding/json"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Event is a named flag shared by processes (Python's
// multiprocessing.Event): Set wakes every waiter in every process, Clear
// resets it. An Event handle may be used from many goroutines.
type Event struct {
	s *syncHandle[native.NativeEvent]
}

// OpenEvent opens the event name, creating it (not set) unless it exists or
// OpenOnly is given. Options: WithMode, Ephemeral, CreateOnly, OpenOnly.
func OpenEvent(name string, opts ...Option) (*Event, error) {
	h, _, err := syncOpen("event", name, opts, nil, func(o *queueOptions) native.NativeEvent {
		return native.NativeEventOpen(name, o.openMode, uint(o.mode.Perm()), boolInt(o.ephemeral))
	})
	if err != nil {
		return nil, err
	}
	return &Event{s: newSyncHandle("event", name, h, native.DeleteNativeEvent)}, nil
}

// Name is the event's name.
func (e *Event) Name() string { return e.s.name }

// Set sets the flag and wakes every waiter.
func (e *Event) Set() error {
	return e.s.do(func(h native.NativeEvent) { h.Set() })
}

// Clear resets the flag.
func (e *Event) Clear() error { return e.s.do(func(h native.NativeEvent) { h.Clear() }) }

// IsSet reports whether the flag is set.
func (e *Event) IsSet() (bool, error) {
	var v int
	err := e.s.do(func(h native.NativeEvent) { v = h.Is_set() })
	return v != 0, err
}

// Wait returns nil once the flag is set (at once if it is), ErrTimeout
// (also matching context.DeadlineExceeded) when ctx's deadline passes
// first, ctx's error when ctx is cancelled (within about 50 ms).
func (e *Event) Wait(ctx context.Context) error {
	// A token taken once makes every slice count a Set that came (and was
	// perhaps cleared) since the call began, not only since the slice began.
	var token uint
	if err := e.s.do(func(h native.NativeEvent) { token = h.Token() }); err != nil {
		return err
	}
	// Goroutines wait their turn (turn.go): the one in the native call wakes
	// at a Set, and each after it then finds that Set counted by its token.
	return e.s.waitInTurn(ctx, "wait", &e.s.turn, false, func(h native.NativeEvent, timeoutNs int64) { h.Wait_since(token, timeoutNs) })
}

// Stat is the event's name and state as a JSON object.
func (e *Event) Stat() (json.RawMessage, error) { return e.s.stat(native.NativeEvent.Stat_json) }

// Close releases this handle. Idempotent.
func (e *Event) Close() error { return e.s.Close() }
