package polyipc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// List is a handle on a named list: a sequence of JSON values in shared
// memory, which every attached process (in any language) reads and writes
// directly. It is Python's multiprocessing.Manager().list() without the
// manager process.
//
// Every call is atomic, as for a Dict: one robust lock, one journaled
// change, so a process killed mid-call (kill -9 included) leaves the list as
// it was before or after the call. Indexes count from the end when negative
// (-1 is the last); outside [-len, len) they are ErrInvalidArg ("out of
// range"), except for Insert, which clamps as Python's list.insert does.
// Append, Insert, Set and Get encode and decode values with encoding/json (a
// json.RawMessage or a []byte is taken as JSON text already); AppendJSON,
// GetJSON, PopJSON and ItemsJSON take and give the JSON text itself.
//
// A List is safe for concurrent use; Close releases the handle (never the
// list: see Unlink). Calls after Close fail with an error matching
// ErrHandleClosed (and ErrInvalidArg).
type List struct {
	s *syncHandle[native.SwigcptrNativeList]
}

// OpenList opens list name in the namespace $POLYIPC_NAMESPACE, creating it
// unless OpenOnly is given (then ErrNotFound when there is none). Options
// are those of OpenDict: WithCapacity (room for values in bytes, default 1
// MiB; the object maps twice that), WithMaxItems (default 4096 values),
// WithMode, Ephemeral, CreateOnly, OpenOnly; any other is ErrInvalidArg.
// Opening an existing list ignores WithCapacity and WithMaxItems. A name
// holding another kind of object is ErrIncompatible.
func OpenList(name string, opts ...Option) (l *List, err error) {
	o, err := managedOptions("list", name, opts)
	if err != nil {
		return nil, err
	}
	defer recoverInto(&err)
	nl := native.NativeListOpen(name, o.openMode, uint64(o.capacity), uint64(o.maxItems), uint(o.mode.Perm()),
		boolInt(o.ephemeral))
	h := native.SwigcptrNativeList(nl.Swigcptr())
	free := func(h native.SwigcptrNativeList) { native.DeleteNativeList(h) }
	return &List{s: newSyncHandle("list", name, h, free)}, nil
}

// Name is the list's name.
func (l *List) Name() string { return l.s.name }

// Close releases this handle; the list and its values stay for the other
// handles and processes (use Unlink to remove the name). Calls in flight on
// other goroutines end with an ErrHandleClosed error. Close is idempotent.
func (l *List) Close() error { return l.s.Close() }

// encode is v as one non-empty JSON text (what: "append", "set", ...).
func (l *List) encode(what string, v any) ([]byte, error) {
	data, err := marshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("polyipc: list '%s': %s: %w", l.s.name, what, err)
	}
	if len(data) == 0 {
		return nil, newError(StatusInvalidJSON, nil, "list '%s': %s: an empty text is not JSON", l.s.name, what)
	}
	return data, nil
}

// decode decodes the JSON text data into out.
func (l *List) decode(what string, index int, data []byte, out any) error {
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("polyipc: list '%s': %s %d: the value does not decode into %T: %w", l.s.name, what, index,
			out, err)
	}
	return nil
}

// Append adds v, encoded with encoding/json (a json.RawMessage or a []byte
// as it is, which must then be one JSON text, else ErrInvalidJSON), at the
// end. ErrFull when the list holds WithMaxItems values or has no room left,
// ErrTooLarge when the value can never fit; the list is then unchanged.
func (l *List) Append(v any) error {
	data, err := l.encode("append", v)
	if err != nil {
		return err
	}
	return l.AppendJSON(data)
}

// AppendJSON adds the JSON text text at the end (ErrInvalidJSON, the list
// unchanged, when it is not one JSON text). GetJSON gives it back as it was
// appended, whitespace included.
func (l *List) AppendJSON(text []byte) error {
	if len(text) == 0 {
		return newError(StatusInvalidJSON, nil, "list '%s': append: an empty text is not JSON", l.s.name)
	}
	return l.s.do(func(h native.SwigcptrNativeList) { h.Append(text) })
}

// Insert puts v (encoded as for Append) before the value at index: an index
// >= Len appends, one <= -Len prepends (as Python's list.insert).
func (l *List) Insert(index int, v any) error {
	data, err := l.encode("insert", v)
	if err != nil {
		return err
	}
	return l.InsertJSON(index, data)
}

// InsertJSON is Insert with the JSON text itself.
func (l *List) InsertJSON(index int, text []byte) error {
	if len(text) == 0 {
		return newError(StatusInvalidJSON, nil, "list '%s': insert: an empty text is not JSON", l.s.name)
	}
	return l.s.do(func(h native.SwigcptrNativeList) { h.Insert(int64(index), text) })
}

// Get decodes the value at index into out with encoding/json. An index out
// of range is ErrOutOfRange; a value that does not decode into out is an
// error too.
func (l *List) Get(index int, out any) error {
	data, err := l.GetJSON(index)
	if err != nil {
		return err
	}
	return l.decode("get", index, data, out)
}

// GetJSON is the value at index as the JSON text it was given as.
func (l *List) GetJSON(index int) (json.RawMessage, error) {
	var data []byte
	if err := l.s.do(func(h native.SwigcptrNativeList) { data = h.Get(int64(index)) }); err != nil {
		return nil, err
	}
	return data, nil
}

// Set replaces the value at index with v (encoded as for Append).
func (l *List) Set(index int, v any) error {
	data, err := l.encode("set", v)
	if err != nil {
		return err
	}
	return l.SetJSON(index, data)
}

// SetJSON is Set with the JSON text itself.
func (l *List) SetJSON(index int, text []byte) error {
	if len(text) == 0 {
		return newError(StatusInvalidJSON, nil, "list '%s': set: an empty text is not JSON", l.s.name)
	}
	return l.s.do(func(h native.SwigcptrNativeList) { h.Set(int64(index), text) })
}

// Pop removes the value at index (-1: the last, Python's default) and
// decodes it into out; ErrEmpty on an empty list, ErrOutOfRange for an index
// out of range. The value is removed even when it does not decode into out
// (the error says so).
func (l *List) Pop(index int, out any) error {
	data, err := l.PopJSON(index)
	if err != nil {
		return err
	}
	return l.decode("pop", index, data, out)
}

// PopJSON removes the value at index (-1: the last) and gives its JSON text.
func (l *List) PopJSON(index int) (json.RawMessage, error) {
	var data []byte
	if err := l.s.do(func(h native.SwigcptrNativeList) { data = h.Pop(int64(index)) }); err != nil {
		return nil, err
	}
	return data, nil
}

// Len is the number of values.
func (l *List) Len() (int, error) {
	var n uint64
	err := l.s.do(func(h native.SwigcptrNativeList) { n = h.Len() })
	return int(n), err
}

// ItemsJSON is every value (one snapshot) as one JSON array.
func (l *List) ItemsJSON() (json.RawMessage, error) {
	var data []byte
	if err := l.s.do(func(h native.SwigcptrNativeList) { data = h.Items() }); err != nil {
		return nil, err
	}
	return data, nil
}

// Items is every value (one snapshot), each as its JSON text; decode them
// with json.Unmarshal, or ItemsJSON into a slice of your type at once.
func (l *List) Items() ([]json.RawMessage, error) {
	data, err := l.ItemsJSON()
	if err != nil {
		return nil, err
	}
	items := []json.RawMessage{}
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("polyipc: list '%s': items: %w", l.s.name, err)
	}
	return items, nil
}

// Clear removes every value, atomically.
func (l *List) Clear() error {
	return l.s.do(func(h native.SwigcptrNativeList) { h.Clear() })
}

// Version is the list's version: 0 for a new list, +1 per change (every
// Append, Insert, Set, Pop and Clear, and their JSON forms), by any process.
// Reads and calls that fail (a Pop of an empty list, an index out of range)
// leave it as it is. With WaitChange it watches the list for a change: read
// the version, then what you need, then wait from that version, and no
// change made in between is missed.
func (l *List) Version() (uint64, error) { return versionOf(l.s) }

// WaitChange blocks until the list's version differs from seen (a change by
// any process; at once if it differs already) and returns the version then.
// It ends as Event.Wait does: when ctx's deadline passes first, with an
// error matching ErrTimeout (and context.DeadlineExceeded); when ctx is
// cancelled, with an error wrapping context.Canceled, within about 50 ms
// (it waits in 50 ms native slices, each from seen, so no change between
// slices is missed); a ctx already done ends it at once, checking nothing
// (use Version to check). On every error it returns seen. A Close on another
// goroutine ends it with an ErrHandleClosed error.
func (l *List) WaitChange(ctx context.Context, seen uint64) (uint64, error) {
	return waitChange(l.s, ctx, seen)
}

// Stat is the list's name, options and counters as a JSON object (kind
// "list").
func (l *List) Stat() (json.RawMessage, error) {
	return l.s.stat(native.SwigcptrNativeList.Stat_json)
}
