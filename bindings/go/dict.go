package polyipc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Dict is a handle on a named dict: a map from string keys to JSON values in
// shared memory, which every attached process (in any language) reads and
// writes directly. It is Python's multiprocessing.Manager().dict() without
// the manager process.
//
// Every call is atomic: one robust lock, one journaled change, so a process
// killed mid-call (kill -9 included) leaves the dict as it was before or
// after the call, and the others go on using it. Keys are UTF-8 strings of at
// most 4096 bytes without NUL (else ErrInvalidArg); values are JSON texts.
// Set, Get, CompareAndSet and SetIfAbsent encode and decode values with
// encoding/json (a json.RawMessage or a []byte is taken as JSON text already,
// as Pool.Submit does); SetJSON and GetJSON take and give the JSON text
// itself. Keys and ItemsJSON list the entries in the order they were last
// set.
//
// A Dict is safe for concurrent use; Close releases the handle (never the
// dict: see Unlink). Calls after Close fail with an error matching
// ErrHandleClosed (and ErrInvalidArg).
type Dict struct {
	s *syncHandle[native.SwigcptrNativeDict]
}

// OpenDict opens dict name in the namespace $POLYIPC_NAMESPACE, creating it
// unless OpenOnly is given (then ErrNotFound when there is none). Options:
// WithCapacity (room for keys and values in bytes, default 1 MiB; the object
// maps twice that), WithMaxItems (default 4096 keys), WithMode, Ephemeral,
// CreateOnly, OpenOnly; any other is ErrInvalidArg. Opening an existing dict
// ignores WithCapacity and WithMaxItems. A name holding another kind of
// object is ErrIncompatible.
func OpenDict(name string, opts ...Option) (d *Dict, err error) {
	o, err := managedOptions("dict", name, opts)
	if err != nil {
		return nil, err
	}
	defer recoverInto(&err)
	nd := native.NativeDictOpen(name, o.openMode, uint64(o.capacity), uint64(o.maxItems), uint(o.mode.Perm()),
		boolInt(o.ephemeral))
	h := native.SwigcptrNativeDict(nd.Swigcptr())
	free := func(h native.SwigcptrNativeDict) { native.DeleteNativeDict(h) }
	return &Dict{s: newSyncHandle("dict", name, h, free)}, nil
}

// Absent stands for "no value" in CompareAndSet: as expected, the key must
// be absent; as desired, the key is removed. (nil is JSON null, as for
// encoding/json.)
var Absent = absentValue{}

type absentValue struct{}

// Name is the dict's name.
func (d *Dict) Name() string { return d.s.name }

// Close releases this handle; the dict and its entries stay for the other
// handles and processes (use Unlink to remove the name). Calls in flight on
// other goroutines end with an ErrHandleClosed error. Close is idempotent.
func (d *Dict) Close() error { return d.s.Close() }

// encode is v as the JSON text of a call's argument (what: "set",
// "expected value", ...): nil for Absent where absentOK, else one non-empty
// text (an empty json.RawMessage is not JSON, and would mean "absent" to the
// native call).
func (d *Dict) encode(what, key string, v any, absentOK bool) ([]byte, error) {
	if _, ok := v.(absentValue); ok {
		if absentOK {
			return nil, nil
		}
		return nil, newError(StatusInvalidArg, nil, "dict '%s': %s %q: Absent is for CompareAndSet only",
			d.s.name, what, key)
	}
	data, err := marshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("polyipc: dict '%s': %s %q: %w", d.s.name, what, key, err)
	}
	if len(data) == 0 {
		return nil, newError(StatusInvalidJSON, nil, "dict '%s': %s %q: an empty text is not JSON", d.s.name, what,
			key)
	}
	return data, nil
}

// Set sets key to v encoded with encoding/json (a json.RawMessage or a
// []byte as it is, which must then be one JSON text, else ErrInvalidJSON).
// ErrFull when the dict holds WithMaxItems keys or has no room left for the
// entry, ErrTooLarge when the entry can never fit; the dict is then
// unchanged.
func (d *Dict) Set(key string, v any) error {
	data, err := d.encode("set", key, v, false)
	if err != nil {
		return err
	}
	return d.SetJSON(key, data)
}

// SetJSON sets key to the JSON text text (ErrInvalidJSON, the dict
// unchanged, when it is not one JSON text). Get and GetJSON give the text
// back as it was set, whitespace included.
func (d *Dict) SetJSON(key string, text []byte) error {
	return d.s.do(func(h native.SwigcptrNativeDict) { h.Set([]byte(key), text) })
}

// Get decodes the value of key into out with encoding/json: false (and out
// untouched) when the key is absent. A value that does not decode into out
// is an error (with true).
func (d *Dict) Get(key string, out any) (bool, error) {
	data, ok, err := d.GetJSON(key)
	if err != nil || !ok {
		return ok, err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return true, fmt.Errorf("polyipc: dict '%s': get %q: the value does not decode into %T: %w", d.s.name, key,
			out, err)
	}
	return true, nil
}

// GetJSON is the value of key as the JSON text that was set: false (and nil)
// when the key is absent.
func (d *Dict) GetJSON(key string) (json.RawMessage, bool, error) {
	var data []byte
	err := d.s.do(func(h native.SwigcptrNativeDict) { data = h.Get([]byte(key)) })
	if err != nil || len(data) == 0 { // a JSON text is never empty: empty is absent
		return nil, false, err
	}
	return data, true, nil
}

// Contains reports whether key is in the dict.
func (d *Dict) Contains(key string) (bool, error) {
	_, ok, err := d.GetJSON(key)
	return ok, err
}

// Delete removes key: true when it was there.
func (d *Dict) Delete(key string) (bool, error) {
	var removed int
	err := d.s.do(func(h native.SwigcptrNativeDict) { removed = h.Remove([]byte(key)) })
	return removed != 0, err
}

// CompareAndSet sets key to desired only if its value equals expected as
// JSON (1 equals 1.0; whitespace and the order of object members do not
// count), atomically: true when it changed. expected Absent: only if the key
// is absent; desired Absent: removes the key. Values are encoded as for Set.
func (d *Dict) CompareAndSet(key string, expected, desired any) (bool, error) {
	x, err := d.encode("compare-and-set: expected value", key, expected, true)
	if err != nil {
		return false, err
	}
	v, err := d.encode("compare-and-set: value", key, desired, true)
	if err != nil {
		return false, err
	}
	var swapped int
	err = d.s.do(func(h native.SwigcptrNativeDict) { swapped = h.Compare_and_set([]byte(key), x, v) })
	return swapped != 0, err
}

// SetIfAbsent sets key to v (encoded as for Set) only if key is absent:
// true when it did (Java's putIfAbsent, CompareAndSet(key, Absent, v)).
func (d *Dict) SetIfAbsent(key string, v any) (bool, error) {
	data, err := d.encode("set if absent", key, v, false)
	if err != nil {
		return false, err
	}
	return d.CompareAndSet(key, Absent, json.RawMessage(data))
}

// Len is the number of keys.
func (d *Dict) Len() (int, error) {
	var n uint64
	err := d.s.do(func(h native.SwigcptrNativeDict) { n = h.Len() })
	return int(n), err
}

// Keys lists the keys (one snapshot), in the order they were last set.
func (d *Dict) Keys() ([]string, error) {
	var data []byte
	if err := d.s.do(func(h native.SwigcptrNativeDict) { data = h.Keys() }); err != nil {
		return nil, err
	}
	var keys []string
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("polyipc: dict '%s': keys: %w", d.s.name, err)
	}
	return keys, nil
}

// ItemsJSON is every entry (one snapshot) as a JSON object, its members in
// the order they were last set.
func (d *Dict) ItemsJSON() (json.RawMessage, error) {
	var data []byte
	err := d.s.do(func(h native.SwigcptrNativeDict) { data = h.Items() })
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Items is every entry (one snapshot), each value as its JSON text.
func (d *Dict) Items() (map[string]json.RawMessage, error) {
	data, err := d.ItemsJSON()
	if err != nil {
		return nil, err
	}
	items := map[string]json.RawMessage{}
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("polyipc: dict '%s': items: %w", d.s.name, err)
	}
	return items, nil
}

// Clear removes every key, atomically.
func (d *Dict) Clear() error {
	return d.s.do(func(h native.SwigcptrNativeDict) { h.Clear() })
}

// Version is the dict's version: 0 for a new dict, +1 per change (a Set or
// SetJSON, a Delete that found its key, a Clear, a CompareAndSet or
// SetIfAbsent that swapped), by any process. Reads and calls that change
// nothing leave it as it is. With WaitChange it watches the dict for a
// change: read the version, then what you need, then wait from that
// version, and no change made in between is missed.
func (d *Dict) Version() (uint64, error) { return versionOf(d.s) }

// WaitChange blocks until the dict's version differs from seen (a change by
// any process; at once if it differs already) and returns the version then.
// It ends as Event.Wait does: when ctx's deadline passes first, with an
// error matching ErrTimeout (and context.DeadlineExceeded); when ctx is
// cancelled, with an error wrapping context.Canceled, within about 50 ms
// (it waits in 50 ms native slices, each from seen, so no change between
// slices is missed); a ctx already done ends it at once, checking nothing
// (use Version to check). On every error it returns seen. A Close on another
// goroutine ends it with an ErrHandleClosed error.
//
//	v, err := d.Version()
//	// ... read what you need ...
//	v, err = d.WaitChange(ctx, v) // then read again, and wait from the new v
func (d *Dict) WaitChange(ctx context.Context, seen uint64) (uint64, error) {
	return waitChange(d.s, ctx, seen)
}

// Stat is the dict's name, options and counters as a JSON object (kind
// "dict").
func (d *Dict) Stat() (json.RawMessage, error) {
	return d.s.stat(native.SwigcptrNativeDict.Stat_json)
}
