package polyipc

import (
	"context"
	"encoding/json"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Element types of the native arrays (polyipc_elem_type).
const (
	elemInt64   = 0
	elemFloat64 = 1
)

// numArray is the common part of Int64Array, Float64Array, Int64Value and
// Float64Value: a native array of T guarded against Close.
type numArray[T int64 | float64] struct {
	s *syncHandle[native.NativeArray]
	n int
}

func openNumArray[T int64 | float64](kind, name string, length int, opts []Option) (*numArray[T], error) {
	if length < 0 {
		return nil, newError(StatusInvalidArg, nil, "%s '%s': the length %d is negative", kind, name, length)
	}
	var zero T
	elem := elemInt64
	if _, ok := any(zero).(float64); ok {
		elem = elemFloat64
	}
	h, _, err := syncOpen(kind, name, opts, nil, func(o *queueOptions) native.NativeArray {
		return native.NativeArrayOpen(name, o.openMode, elem, uint64(length), uint(o.mode.Perm()), boolInt(o.ephemeral))
	})
	if err != nil {
		return nil, err
	}
	a := &numArray[T]{s: newSyncHandle(kind, name, h, native.DeleteNativeArray)}
	var n uint64
	if err := a.s.do(func(h native.NativeArray) { n = h.Length() }); err != nil {
		_ = a.s.Close()
		return nil, err
	}
	if n > uint64(maxInt) {
		_ = a.s.Close()
		return nil, newError(StatusIncompatible, nil, "%s '%s': %d elements do not fit an int", kind, name, n)
	}
	a.n = int(n)
	return a, nil
}

// checkIndex is the clean error of an index out of range (no native call).
func (a *numArray[T]) checkIndex(i int) error {
	if i < 0 || i >= a.n {
		return newError(StatusOutOfRange, nil, "%s '%s': index %d out of range [0, %d)", a.s.kind, a.s.name, i, a.n)
	}
	return nil
}

func (a *numArray[T]) load(i int) (v T, err error) {
	if err := a.checkIndex(i); err != nil {
		return v, err
	}
	err = a.s.do(func(h native.NativeArray) {
		switch p := any(&v).(type) {
		case *int64:
			*p = h.Load_i64(uint64(i))
		case *float64:
			*p = h.Load_f64(uint64(i))
		}
	})
	return v, err
}

func (a *numArray[T]) store(i int, v T) error {
	if err := a.checkIndex(i); err != nil {
		return err
	}
	return a.s.do(func(h native.NativeArray) {
		switch x := any(v).(type) {
		case int64:
			h.Store_i64(uint64(i), x)
		case float64:
			h.Store_f64(uint64(i), x)
		}
	})
}

// add returns the new value, as sync/atomic's Add (the native call gives
// the old one; old + delta is the same arithmetic, wrapping for int64).
func (a *numArray[T]) add(i int, delta T) (v T, err error) {
	if err := a.checkIndex(i); err != nil {
		return v, err
	}
	err = a.s.do(func(h native.NativeArray) {
		switch p := any(&v).(type) {
		case *int64:
			*p = h.Add_i64(uint64(i), any(delta).(int64))
		case *float64:
			*p = h.Add_f64(uint64(i), any(delta).(float64))
		}
	})
	if err != nil {
		return v, err
	}
	return v + delta, nil
}

func (a *numArray[T]) cas(i int, old, new T) (swapped bool, err error) {
	if err := a.checkIndex(i); err != nil {
		return false, err
	}
	err = a.s.do(func(h native.NativeArray) {
		var r int
		switch o := any(old).(type) {
		case int64:
			r = h.Compare_exchange_i64(uint64(i), o, any(new).(int64))
		case float64:
			r = h.Compare_exchange_f64(uint64(i), o, any(new).(float64))
		}
		swapped = r != 0
	})
	return swapped, err
}

// swap is a compare-and-swap loop (the C API has no exchange). For float64
// the comparison is on the bits, so NaN and -0.0 are swapped like any value.
func (a *numArray[T]) swap(i int, new T) (old T, err error) {
	for {
		if old, err = a.load(i); err != nil {
			return old, err
		}
		ok, err := a.cas(i, old, new)
		if err != nil || ok {
			return old, err
		}
	}
}

func (a *numArray[T]) slice(lo, hi int) ([]T, error) {
	if lo < 0 || hi > a.n || lo > hi {
		return nil, newError(StatusOutOfRange, nil, "%s '%s': slice [%d:%d] out of range [0, %d]", a.s.kind, a.s.name,
			lo, hi, a.n)
	}
	out := make([]T, hi-lo)
	for k := range out {
		v, err := a.load(lo + k)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// Int64Array is a named array of int64 shared by processes (Python's
// multiprocessing.Array('q', n)), every element an atomic (sequentially
// consistent), with the names of sync/atomic: Load, Store, Add (returns the
// new value, wrapping), Swap, CompareAndSwap. An index out of range is an
// error matching ErrOutOfRange, never a panic.
//
// It carries an optional robust lock (Python's get_lock()) for compound
// updates: Lock/Unlock (sync.Locker), LockContext, TryLock, Release, with
// Lock's rules: ownership per OS thread, so the goroutine that locks is
// pinned to its thread until it unlocks, and an ErrOwnerDead error from
// LockContext means held, its previous holder having died. The atomic
// operations never take the lock.
//
// An Int64Array may be used from many goroutines; Close releases the handle
// (never the array: see Unlink).
type Int64Array struct{ a *numArray[int64] }

// OpenInt64Array opens the int64 array name, creating it with length
// elements (all 0) unless it exists (or OpenOnly is given). length 0
// attaches to an existing array whatever its length; another length, or a
// float64 array, is ErrIncompatible. Options: WithMode, Ephemeral,
// CreateOnly, OpenOnly.
func OpenInt64Array(name string, length int, opts ...Option) (*Int64Array, error) {
	a, err := openNumArray[int64]("array", name, length, opts)
	if err != nil {
		return nil, err
	}
	return &Int64Array{a}, nil
}

// Name is the array's name.
func (x *Int64Array) Name() string { return x.a.s.name }

// Len is the number of elements.
func (x *Int64Array) Len() int { return x.a.n }

// Load reads element i.
func (x *Int64Array) Load(i int) (int64, error) { return x.a.load(i) }

// Store writes element i.
func (x *Int64Array) Store(i int, v int64) error { return x.a.store(i, v) }

// Add adds delta to element i and returns the new value (wrapping).
func (x *Int64Array) Add(i int, delta int64) (int64, error) { return x.a.add(i, delta) }

// Swap stores v into element i and returns the old value.
func (x *Int64Array) Swap(i int, v int64) (int64, error) { return x.a.swap(i, v) }

// CompareAndSwap stores new into element i if it holds old.
func (x *Int64Array) CompareAndSwap(i int, old, new int64) (bool, error) { return x.a.cas(i, old, new) }

// Slice reads elements [lo, hi) (each read atomically, not the whole).
func (x *Int64Array) Slice(lo, hi int) ([]int64, error) { return x.a.slice(lo, hi) }

// LockContext acquires the array's lock, as Lock.LockContext.
func (x *Int64Array) LockContext(ctx context.Context) error { return lockContext(x.a.s, ctx) }

// Lock acquires the array's lock (sync.Locker), as Lock.Lock.
func (x *Int64Array) Lock() { mustLock(x.a.s) }

// TryLock acquires the array's lock if it is free now.
func (x *Int64Array) TryLock() bool { return mustTryLock(x.a.s) }

// Unlock releases the array's lock (sync.Locker), as Lock.Unlock.
func (x *Int64Array) Unlock() { mustUnlock(x.a.s) }

// Release is Unlock returning its error instead of panicking.
func (x *Int64Array) Release() error { return unlock(x.a.s) }

// Stat is the array's name, type, length and lock as a JSON object.
func (x *Int64Array) Stat() (json.RawMessage, error) { return x.a.s.stat(native.NativeArray.Stat_json) }

// Close releases this handle. Idempotent.
func (x *Int64Array) Close() error { return x.a.s.Close() }

// Float64Array is a named array of float64 shared by processes (Python's
// multiprocessing.Array('d', n)): as Int64Array. CompareAndSwap compares the
// bits, so a NaN can be replaced and -0.0 is not 0.0.
type Float64Array struct{ a *numArray[float64] }

// OpenFloat64Array opens the float64 array name, as OpenInt64Array.
func OpenFloat64Array(name string, length int, opts ...Option) (*Float64Array, error) {
	a, err := openNumArray[float64]("array", name, length, opts)
	if err != nil {
		return nil, err
	}
	return &Float64Array{a}, nil
}

// Name is the array's name.
func (x *Float64Array) Name() string { return x.a.s.name }

// Len is the number of elements.
func (x *Float64Array) Len() int { return x.a.n }

// Load reads element i.
func (x *Float64Array) Load(i int) (float64, error) { return x.a.load(i) }

// Store writes element i.
func (x *Float64Array) Store(i int, v float64) error { return x.a.store(i, v) }

// Add adds delta to element i atomically and returns the new value.
func (x *Float64Array) Add(i int, delta float64) (float64, error) { return x.a.add(i, delta) }

// Swap stores v into element i and returns the old value.
func (x *Float64Array) Swap(i int, v float64) (float64, error) { return x.a.swap(i, v) }

// CompareAndSwap stores new into element i if its bits are old's.
func (x *Float64Array) CompareAndSwap(i int, old, new float64) (bool, error) {
	return x.a.cas(i, old, new)
}

// Slice reads elements [lo, hi) (each read atomically, not the whole).
func (x *Float64Array) Slice(lo, hi int) ([]float64, error) { return x.a.slice(lo, hi) }

// LockContext acquires the array's lock, as Lock.LockContext.
func (x *Float64Array) LockContext(ctx context.Context) error { return lockContext(x.a.s, ctx) }

// Lock acquires the array's lock (sync.Locker), as Lock.Lock.
func (x *Float64Array) Lock() { mustLock(x.a.s) }

// TryLock acquires the array's lock if it is free now.
func (x *Float64Array) TryLock() bool { return mustTryLock(x.a.s) }

// Unlock releases the array's lock (sync.Locker), as Lock.Unlock.
func (x *Float64Array) Unlock() { mustUnlock(x.a.s) }

// Release is Unlock returning its error instead of panicking.
func (x *Float64Array) Release() error { return unlock(x.a.s) }

// Stat is the array's name, type, length and lock as a JSON object.
func (x *Float64Array) Stat() (json.RawMessage, error) {
	return x.a.s.stat(native.NativeArray.Stat_json)
}

// Close releases this handle. Idempotent.
func (x *Float64Array) Close() error { return x.a.s.Close() }

// Int64Value is a named int64 shared by processes (Python's
// multiprocessing.Value('q')): an Int64Array of length 1, with the same
// atomic operations and optional lock. It starts at 0 (set it with Store,
// or CompareAndSwap(0, v) to set it only when still untouched).
type Int64Value struct{ a *numArray[int64] }

// OpenInt64Value opens the int64 value name, creating it (0) unless it
// exists or OpenOnly is given. The same name opens as an Int64Array of
// length 1. Options: WithMode, Ephemeral, CreateOnly, OpenOnly.
func OpenInt64Value(name string, opts ...Option) (*Int64Value, error) {
	a, err := openNumArray[int64]("value", name, 1, opts)
	if err != nil {
		return nil, err
	}
	return &Int64Value{a}, nil
}

// Name is the value's name.
func (x *Int64Value) Name() string { return x.a.s.name }

// Load reads the value.
func (x *Int64Value) Load() (int64, error) { return x.a.load(0) }

// Store writes the value.
func (x *Int64Value) Store(v int64) error { return x.a.store(0, v) }

// Add adds delta and returns the new value (wrapping).
func (x *Int64Value) Add(delta int64) (int64, error) { return x.a.add(0, delta) }

// Swap stores v and returns the old value.
func (x *Int64Value) Swap(v int64) (int64, error) { return x.a.swap(0, v) }

// CompareAndSwap stores new if the value is old.
func (x *Int64Value) CompareAndSwap(old, new int64) (bool, error) { return x.a.cas(0, old, new) }

// LockContext acquires the value's lock, as Lock.LockContext.
func (x *Int64Value) LockContext(ctx context.Context) error { return lockContext(x.a.s, ctx) }

// Lock acquires the value's lock (sync.Locker), as Lock.Lock.
func (x *Int64Value) Lock() { mustLock(x.a.s) }

// TryLock acquires the value's lock if it is free now.
func (x *Int64Value) TryLock() bool { return mustTryLock(x.a.s) }

// Unlock releases the value's lock (sync.Locker), as Lock.Unlock.
func (x *Int64Value) Unlock() { mustUnlock(x.a.s) }

// Release is Unlock returning its error instead of panicking.
func (x *Int64Value) Release() error { return unlock(x.a.s) }

// Stat is the value's name, type and lock as a JSON object.
func (x *Int64Value) Stat() (json.RawMessage, error) { return x.a.s.stat(native.NativeArray.Stat_json) }

// Close releases this handle. Idempotent.
func (x *Int64Value) Close() error { return x.a.s.Close() }

// Float64Value is a named float64 shared by processes (Python's
// multiprocessing.Value('d')): as Int64Value.
type Float64Value struct{ a *numArray[float64] }

// OpenFloat64Value opens the float64 value name, as OpenInt64Value.
func OpenFloat64Value(name string, opts ...Option) (*Float64Value, error) {
	a, err := openNumArray[float64]("value", name, 1, opts)
	if err != nil {
		return nil, err
	}
	return &Float64Value{a}, nil
}

// Name is the value's name.
func (x *Float64Value) Name() string { return x.a.s.name }

// Load reads the value.
func (x *Float64Value) Load() (float64, error) { return x.a.load(0) }

// Store writes the value.
func (x *Float64Value) Store(v float64) error { return x.a.store(0, v) }

// Add adds delta atomically and returns the new value.
func (x *Float64Value) Add(delta float64) (float64, error) { return x.a.add(0, delta) }

// Swap stores v and returns the old value.
func (x *Float64Value) Swap(v float64) (float64, error) { return x.a.swap(0, v) }

// CompareAndSwap stores new if the value's bits are old's.
func (x *Float64Value) CompareAndSwap(old, new float64) (bool, error) { return x.a.cas(0, old, new) }

// LockContext acquires the value's lock, as Lock.LockContext.
func (x *Float64Value) LockContext(ctx context.Context) error { return lockContext(x.a.s, ctx) }

// Lock acquires the value's lock (sync.Locker), as Lock.Lock.
func (x *Float64Value) Lock() { mustLock(x.a.s) }

// TryLock acquires the value's lock if it is free now.
func (x *Float64Value) TryLock() bool { return mustTryLock(x.a.s) }

// Unlock releases the value's lock (sync.Locker), as Lock.Unlock.
func (x *Float64Value) Unlock() { mustUnlock(x.a.s) }

// Release is Unlock returning its error instead of panicking.
func (x *Float64Value) Release() error { return unlock(x.a.s) }

// Stat is the value's name, type and lock as a JSON object.
func (x *Float64Value) Stat() (json.RawMessage, error) {
	return x.a.s.stat(native.NativeArray.Stat_json)
}

// Close releases this handle. Idempotent.
func (x *Float64Value) Close() error { return x.a.s.Close() }
