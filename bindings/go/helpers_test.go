package polyipc

import (
	"fmt"
	"os"
	"regexp"
	"sync/atomic"
	"testing"
	"time"
)

// The cross-process tests re-run this test binary as a child: with
// helperEnv set, TestMain runs the helper it names instead of the tests.
const helperEnv = "POLYIPC_GO_TEST_HELPER"

func TestMain(m *testing.M) {
	// Never the shared "default" namespace: ctest sets a unique one, a
	// plain `go test` gets one of its own (children inherit it).
	if os.Getenv("POLYIPC_NAMESPACE") == "" {
		os.Setenv("POLYIPC_NAMESPACE", fmt.Sprintf("gotest-%d", os.Getpid()))
	}
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(runHelper(h))
	}
	os.Exit(m.Run())
}

var nameSeq atomic.Int64
var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// queueName is a name no other test (or test run) uses; the queue is
// unlinked when the test ends.
func queueName(t testing.TB) string {
	t.Helper()
	base := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(base) > 120 {
		base = base[:120]
	}
	name := fmt.Sprintf("go.%s.%d.%d", base, os.Getpid(), nameSeq.Add(1))
	t.Cleanup(func() { _ = Unlink(name) })
	return name
}

// openQueue opens (creating) a fresh queue closed at the end of the test.
func openQueue(t testing.TB, opts ...Option) *Queue {
	t.Helper()
	q, err := OpenQueue(queueName(t), opts...)
	if err != nil {
		t.Fatalf("OpenQueue: %v", err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

// within fails the test when f does not return within d; it gives f's result.
func within[T any](t *testing.T, d time.Duration, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
		panic("unreachable")
	}
}

// raiseTo makes *most at least n (the most of a count seen at once, from
// many goroutines).
func raiseTo(most *atomic.Int32, n int32) {
	for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
	}
}
