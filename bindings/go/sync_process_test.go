package polyipc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The child side of the cross-process synchronisation tests (runHelper):
// each works on the object named by POLYIPC_GO_TEST_QUEUE.
var syncHelpers = map[string]func(name string) int{
	"lock-hold":      helperLockHold,
	"sem-hold":       helperSemHold,
	"event-wait":     helperEventWait,
	"barrier-wait":   helperBarrierWait,
	"condition-wait": helperConditionWait,
}

func helperFail(what string, err error) int {
	fmt.Fprintf(os.Stderr, "helper %s: %v\n", what, err)
	return 1
}

func helperCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 60*time.Second)
}

// untilKilled says line and blocks until SIGKILL (stdin reaches EOF if the
// parent goes).
func untilKilled(line string) int {
	fmt.Println(line)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 3
}

func helperLockHold(name string) int {
	l, err := OpenLock(name)
	if err != nil {
		return helperFail("open", err)
	}
	ctx, cancel := helperCtx()
	defer cancel()
	if err := l.LockContext(ctx); err != nil {
		return helperFail("lock", err)
	}
	return untilKilled("holding")
}

func helperSemHold(name string) int {
	s, err := OpenSemaphore(name, 0, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	ctx, cancel := helperCtx()
	defer cancel()
	if err := s.AcquireN(ctx, 2); err != nil {
		return helperFail("acquire", err)
	}
	return untilKilled("holding")
}

func helperEventWait(name string) int {
	e, err := OpenEvent(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	fmt.Println("waiting")
	ctx, cancel := helperCtx()
	defer cancel()
	if err := e.Wait(ctx); err != nil {
		return helperFail("wait", err)
	}
	fmt.Println("woken")
	return 0
}

func helperBarrierWait(name string) int {
	b, err := OpenBarrier(name, 3, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	ctx, cancel := helperCtx()
	defer cancel()
	i, err := b.Wait(ctx)
	if err != nil {
		return helperFail("wait", err)
	}
	fmt.Printf("passed %d\n", i)
	return 0
}

// Waits, holding the condition's lock, until the file POLYIPC_GO_TEST_FILE
// exists.
func helperConditionWait(name string) int {
	c, err := OpenCondition(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	ctx, cancel := helperCtx()
	defer cancel()
	if err := c.LockContext(ctx); err != nil {
		return helperFail("lock", err)
	}
	fmt.Println("waiting")
	file := os.Getenv("POLYIPC_GO_TEST_FILE")
	err = c.WaitFor(ctx, func() bool {
		_, err := os.Stat(file)
		return err == nil
	})
	c.Unlock()
	if err != nil {
		return helperFail("wait_for", err)
	}
	fmt.Println("seen")
	return 0
}

func killChild(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := waitChild(t, cmd, 30*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
}

// A process killed with kill -9 while it holds the lock: the next
// LockContext returns ErrOwnerDead with the lock held.
func TestKilledLockHolderGivesOwnerDead(t *testing.T) {
	name := syncName(t)
	l := openLockT(t, name)
	cmd, out := child(t, "lock-hold", name)
	if line := readLine(t, out, 30*time.Second); line != "holding" {
		t.Fatalf("child said %q", line)
	}
	if l.TryLock() {
		t.Fatal("got the lock the child holds")
	}
	killChild(t, cmd)
	err := l.LockContext(withTimeout(t, 30*time.Second))
	wantStatus(t, err, ErrOwnerDead)
	if held, _ := l.Held(); !held {
		t.Fatal("ErrOwnerDead without the lock held")
	}
	l.Unlock()
	if err := l.LockContext(withTimeout(t, 10*time.Second)); err != nil {
		t.Fatalf("after the repair: %v", err)
	}
	l.Unlock()
}

// The slots of a process killed with kill -9 come back.
func TestKilledSemaphoreHolderSlotsReturn(t *testing.T) {
	name := syncName(t)
	s := must[*Semaphore](t)(OpenSemaphore(name, 2))
	defer s.Close()
	cmd, out := child(t, "sem-hold", name)
	if line := readLine(t, out, 30*time.Second); line != "holding" {
		t.Fatalf("child said %q", line)
	}
	if s.TryAcquire() {
		t.Fatal("a slot while the child holds both")
	}
	killChild(t, cmd)
	if err := s.AcquireN(withTimeout(t, 30*time.Second), 2); err != nil {
		t.Fatalf("the dead child's slots: %v", err)
	}
	if err := s.Release(2); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Value(); v != 2 {
		t.Fatalf("Value = %d, want 2", v)
	}
}

func TestEventWakesChild(t *testing.T) {
	name := syncName(t)
	e := must[*Event](t)(OpenEvent(name))
	defer e.Close()
	cmd, out := child(t, "event-wait", name)
	if line := readLine(t, out, 30*time.Second); line != "waiting" {
		t.Fatalf("child said %q", line)
	}
	if err := e.Set(); err != nil {
		t.Fatal(err)
	}
	if line := readLine(t, out, 30*time.Second); line != "woken" {
		t.Fatalf("child said %q", line)
	}
	if err := waitChild(t, cmd, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

// A party killed with kill -9 while it waits breaks the barrier; a live
// child passes it with the parent.
func TestBarrierAcrossProcesses(t *testing.T) {
	name := syncName(t)
	b := must[*Barrier](t)(OpenBarrier(name, 3))
	defer b.Close()
	waitFor := func(n int) {
		within(t, 30*time.Second, fmt.Sprintf("%d waiting", n), func() bool {
			for w, _ := b.NWaiting(); w < n; w, _ = b.NWaiting() {
				time.Sleep(2 * time.Millisecond)
			}
			return true
		})
	}
	// Two children and the parent pass together.
	c1, out1 := child(t, "barrier-wait", name)
	c2, out2 := child(t, "barrier-wait", name)
	waitFor(2)
	if i, err := b.Wait(withTimeout(t, 30*time.Second)); err != nil || i != 2 {
		t.Fatalf("parent, last to arrive: %d, %v", i, err)
	}
	l1, l2 := readLine(t, out1, 30*time.Second), readLine(t, out2, 30*time.Second)
	if !(l1 == "passed 0" && l2 == "passed 1" || l1 == "passed 1" && l2 == "passed 0") {
		t.Fatalf("children said %q, %q", l1, l2)
	}
	for _, c := range []*exec.Cmd{c1, c2} {
		if err := waitChild(t, c, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// A waiting child dies.
	victim, _ := child(t, "barrier-wait", name)
	waitFor(1)
	done := make(chan error, 1)
	go func() {
		_, err := b.Wait(withTimeout(t, 30*time.Second))
		done <- err
	}()
	waitFor(2)
	killChild(t, victim)
	wantStatus(t, within(t, 30*time.Second, "the parent's Wait", func() error { return <-done }), ErrBroken)
}

func TestConditionNotifiesChild(t *testing.T) {
	name := syncName(t)
	c := must[*Condition](t)(OpenCondition(name))
	defer c.Close()
	file := filepath.Join(t.TempDir(), "ready")
	cmd, out := child(t, "condition-wait", name, "POLYIPC_GO_TEST_FILE="+file)
	if line := readLine(t, out, 30*time.Second); line != "waiting" {
		t.Fatalf("child said %q", line)
	}
	if err := c.LockContext(withTimeout(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.NotifyAll(); err != nil {
		t.Fatal(err)
	}
	c.Unlock()
	if line := readLine(t, out, 30*time.Second); line != "seen" {
		t.Fatalf("child said %q", line)
	}
	if err := waitChild(t, cmd, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}
