package polyipc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"sync"
	"testing"
	"time"
)

var (
	_ io.ReaderAt = (*SharedMemory)(nil)
	_ io.WriterAt = (*SharedMemory)(nil)
	_ sync.Locker = (*Int64Array)(nil)
	_ sync.Locker = (*Float64Array)(nil)
	_ sync.Locker = (*Int64Value)(nil)
	_ sync.Locker = (*Float64Value)(nil)
)

func TestSharedMemoryBytesAcrossHandles(t *testing.T) {
	name := queueName(t)
	m := must[*SharedMemory](t)(OpenSharedMemory(name, 10000))
	if m.Size() != 10000 || m.Name() != name {
		t.Fatalf("size %d, name %q", m.Size(), m.Name())
	}
	b := m.Bytes()
	if len(b) != 10000 || !bytes.Equal(b, make([]byte, 10000)) {
		t.Fatal("the bytes do not start zeroed")
	}
	for i := range b {
		b[i] = byte(i * 7)
	}
	// Another handle (size 0: whatever the size) sees the same bytes.
	m2 := must[*SharedMemory](t)(OpenSharedMemory(name, 0, OpenOnly()))
	got := make([]byte, 10000)
	if n, err := m2.ReadAt(got, 0); n != 10000 || err != nil || !bytes.Equal(got, b) {
		t.Fatalf("ReadAt: %d, %v", n, err)
	}
	if _, err := m2.WriteAt([]byte("hello"), 9998); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("WriteAt past the end: %v", err)
	}
	if string(b[9998:]) != "he" {
		t.Fatalf("the write did not show: %q", b[9998:])
	}
	if n, err := m2.ReadAt(got[:10], 9995); n != 5 || err != io.EOF {
		t.Fatalf("ReadAt past the end: %d, %v", n, err)
	}
	if _, err := m2.ReadAt(got, -1); !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("ReadAt(-1): %v", err)
	}
	// Unlinked, both mappings stay valid.
	if err := Unlink(name); err != nil {
		t.Fatal(err)
	}
	b[0] = 42
	if _, err := m2.ReadAt(got[:1], 0); err != nil || got[0] != 42 {
		t.Fatalf("after Unlink: %d, %v", got[0], err)
	}
	if raw, err := m2.Stat(); err != nil || len(raw) == 0 {
		t.Fatalf("Stat: %s, %v", raw, err)
	}
	// Close refuses while the slice is handed out, and the bytes stay.
	err := m.Close()
	if !errors.Is(err, ErrBytesInUse) || !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("Close with the bytes handed out: %v", err)
	}
	b[1] = 43
	m.ReleaseBytes()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if m.Bytes() != nil {
		t.Fatal("Bytes after Close")
	}
	if _, err := m.ReadAt(got, 0); !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("ReadAt after Close: %v", err)
	}
	if _, err := m.Stat(); !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("Stat after Close: %v", err)
	}
	if m.Size() != 10000 {
		t.Fatal("Size after Close")
	}
	// A handle that never handed out its bytes closes at once.
	if _, err := m2.ReadAt(got[:2], 0); err != nil || got[0] != 42 || got[1] != 43 {
		t.Fatalf("the other handle after Close: %v %v", got[:2], err)
	}
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSharedMemoryOpenErrors(t *testing.T) {
	name := queueName(t)
	_, err := OpenSharedMemory(name, 0)
	wantStatus(t, err, ErrNotFound)
	_, err = OpenSharedMemory(name, 4096, OpenOnly())
	wantStatus(t, err, ErrNotFound)
	_, err = OpenSharedMemory(name, -1)
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenSharedMemory(name, 0, CreateOnly())
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenSharedMemory(name, 4096, WithCapacity(1))
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenSharedMemory(queueName(t), 1<<42)
	wantStatus(t, err, ErrNoMemory)
	m := must[*SharedMemory](t)(OpenSharedMemory(name, 4096, CreateOnly()))
	defer m.Close()
	_, err = OpenSharedMemory(name, 4096, CreateOnly())
	wantStatus(t, err, ErrExists)
	_, err = OpenSharedMemory(name, 8192)
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenInt64Array(name, 1)
	wantStatus(t, err, ErrIncompatible)
}

func TestInt64ArrayAtomics(t *testing.T) {
	name := queueName(t)
	a := must[*Int64Array](t)(OpenInt64Array(name, 5))
	defer a.Close()
	if a.Len() != 5 || a.Name() != name {
		t.Fatalf("Len %d", a.Len())
	}
	if err := a.Store(4, 40); err != nil {
		t.Fatal(err)
	}
	if v, err := a.Add(4, 2); v != 42 || err != nil {
		t.Fatalf("Add: %d, %v", v, err)
	}
	if ok, err := a.CompareAndSwap(4, 41, 0); ok || err != nil {
		t.Fatalf("CompareAndSwap of a wrong old value: %v, %v", ok, err)
	}
	if ok, err := a.CompareAndSwap(4, 42, 7); !ok || err != nil {
		t.Fatalf("CompareAndSwap: %v, %v", ok, err)
	}
	if old, err := a.Swap(4, 8); old != 7 || err != nil {
		t.Fatalf("Swap: %d, %v", old, err)
	}
	if err := a.Store(0, math.MaxInt64); err != nil {
		t.Fatal(err)
	}
	if v, err := a.Add(0, 1); v != math.MinInt64 || err != nil {
		t.Fatalf("Add wraps: %d, %v", v, err)
	}
	if s, err := a.Slice(0, 5); err != nil || len(s) != 5 || s[0] != math.MinInt64 || s[4] != 8 || s[1] != 0 {
		t.Fatalf("Slice: %v, %v", s, err)
	}
	// Out of range: an error, never a panic.
	for _, i := range []int{-1, 5, math.MaxInt} {
		_, err := a.Load(i)
		wantStatus(t, err, ErrOutOfRange)
		wantStatus(t, a.Store(i, 1), ErrOutOfRange)
		_, err = a.Add(i, 1)
		wantStatus(t, err, ErrOutOfRange)
		_, err = a.CompareAndSwap(i, 0, 1)
		wantStatus(t, err, ErrOutOfRange)
	}
	for _, r := range [][2]int{{-1, 2}, {0, 6}, {3, 2}} {
		_, err := a.Slice(r[0], r[1])
		wantStatus(t, err, ErrOutOfRange)
	}
	// Attach whatever the length; another length or type is incompatible.
	b := must[*Int64Array](t)(OpenInt64Array(name, 0, OpenOnly()))
	defer b.Close()
	if v, err := b.Load(4); b.Len() != 5 || v != 8 || err != nil {
		t.Fatalf("the other handle: len %d, %d, %v", b.Len(), v, err)
	}
	_, err := OpenInt64Array(name, 6)
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenFloat64Array(name, 5)
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenInt64Value(name)
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenInt64Array(name, -1)
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenInt64Array(queueName(t), 0)
	if err == nil {
		t.Fatal("OpenInt64Array of a missing name with length 0")
	}
	// After Close.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Load(0); !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("Load after Close: %v", err)
	}
}

func TestFloat64ArrayAndValue(t *testing.T) {
	a := must[*Float64Array](t)(OpenFloat64Array(queueName(t), 3))
	defer a.Close()
	if v, err := a.Add(1, 0.5); v != 0.5 || err != nil {
		t.Fatalf("Add: %v, %v", v, err)
	}
	nan := math.NaN()
	if err := a.Store(2, nan); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.CompareAndSwap(2, nan, 1.5); !ok || err != nil { // bits compared: NaN is replaced
		t.Fatalf("CompareAndSwap of NaN: %v, %v", ok, err)
	}
	if ok, _ := a.CompareAndSwap(0, math.Copysign(0, -1), 1); ok { // -0.0 is not 0.0
		t.Fatal("-0.0 matched 0.0")
	}
	if s, err := a.Slice(0, 3); err != nil || s[0] != 0 || s[1] != 0.5 || s[2] != 1.5 {
		t.Fatalf("Slice: %v, %v", s, err)
	}
	_, err := a.Load(3)
	wantStatus(t, err, ErrOutOfRange)

	name := queueName(t)
	v := must[*Float64Value](t)(OpenFloat64Value(name))
	defer v.Close()
	if err := v.Store(2.25); err != nil {
		t.Fatal(err)
	}
	if x, err := v.Add(0.5); x != 2.75 || err != nil {
		t.Fatalf("Add: %v, %v", x, err)
	}
	if old, err := v.Swap(-1); old != 2.75 || err != nil {
		t.Fatalf("Swap: %v, %v", old, err)
	}
	// A Value is an array of length 1.
	same := must[*Float64Array](t)(OpenFloat64Array(name, 0))
	defer same.Close()
	if x, err := same.Load(0); same.Len() != 1 || x != -1 || err != nil {
		t.Fatalf("as an array: %d, %v, %v", same.Len(), x, err)
	}
	_, err = OpenInt64Value(name)
	wantStatus(t, err, ErrIncompatible)
}

// Goroutines adding to one Value end exact; the lock guards a compound
// update (two elements kept equal) and pins like Lock.
func TestValueAddsAndLock(t *testing.T) {
	name := queueName(t)
	v := must[*Int64Value](t)(OpenInt64Value(name, CreateOnly()))
	defer v.Close()
	arr := must[*Int64Array](t)(OpenInt64Array(queueName(t), 2))
	defer arr.Close()
	var wg sync.WaitGroup
	const goroutines, adds = 8, 500
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < adds; i++ {
				if _, err := v.Add(1); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					arr.Lock()
					x, _ := arr.Load(0)
					y, _ := arr.Load(1)
					if x != y {
						t.Errorf("torn: %d != %d", x, y)
					}
					_ = arr.Store(0, x+1)
					_ = arr.Store(1, y+1)
					arr.Unlock()
				}
			}
		}()
	}
	within(t, 30*time.Second, "the goroutines", func() bool { wg.Wait(); return true })
	if x, err := v.Load(); x != goroutines*adds || err != nil {
		t.Fatalf("Value = %d, %v; want %d", x, err, goroutines*adds)
	}
	if s, _ := arr.Slice(0, 2); s[0] != goroutines*adds/50 || s[1] != s[0] {
		t.Fatalf("guarded pair: %v", s)
	}
	if err := v.LockContext(withTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if inGoroutine(t, func() bool { return v.TryLock() }) {
		t.Fatal("TryLock from another goroutine got the held lock")
	}
	wantStatus(t, inGoroutine(t, func() error { return v.Release() }), ErrNotOwner)
	ctx, cancel := context.WithTimeout(bg, 80*time.Millisecond)
	defer cancel()
	wantStatus(t, inGoroutine(t, func() error { return v.LockContext(ctx) }), ErrTimeout)
	v.Unlock()
	if err := v.Release(); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Release of a free lock: %v", err)
	}
	if ok, err := v.CompareAndSwap(goroutines*adds, 0); !ok || err != nil {
		t.Fatalf("CompareAndSwap: %v, %v", ok, err)
	}
	if raw, err := v.Stat(); err != nil || len(raw) == 0 {
		t.Fatalf("Stat: %s, %v", raw, err)
	}
}
