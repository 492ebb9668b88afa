// The Go agent's synchronisation scenarios (see ../README.md,
// "Synchronisation scenarios"), on the binding's Lock, Semaphore, Event,
// Barrier and Condition.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"strconv"
	"time"

	polyipc "github.com/polyipc/polyipc/bindings/go"
)

// syncWait is the bound of every wait of these scenarios.
const syncWait = 60 * time.Second

func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, syncWait)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return failf("read %s: %v", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return failf("%s is not the JSON expected: %v", path, err)
	}
	return nil
}

// writeJSON rewrites path atomically: a temporary file, then a rename.
func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp." + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return failf("write %s: %v", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return failf("rename %s: %v", tmp, err)
	}
	return nil
}

// hang says "holding" and sleeps until killed.
func hang() {
	fmt.Println("holding") // os.Stdout is not buffered
	for {
		time.Sleep(time.Hour)
	}
}

type ticketSale struct {
	Remaining int64            `json:"remaining"`
	Sold      int64            `json:"sold"`
	Buyers    map[string]int64 `json:"buyers"`
}

type ticketOffice struct {
	ticketSale
	Repairs int64       `json:"repairs"`
	Pending *ticketSale `json:"pending"`
}

func tickets(ctx context.Context, lockName, file, id string, hangMidSale bool) error {
	l, err := polyipc.OpenLock(lockName)
	if err != nil {
		return err
	}
	defer l.Close()
	bought := 0
	for {
		c, cancel := bounded(ctx)
		err := l.LockContext(c)
		cancel()
		ownerDied := errors.Is(err, polyipc.ErrOwnerDead) // held all the same
		if err != nil && !ownerDied {
			return failf("acquire %s: %v", lockName, err)
		}
		done, err := sellOne(file, id, ownerDied, hangMidSale)
		if rerr := l.Release(); err == nil && rerr != nil {
			err = failf("release %s: %v", lockName, rerr)
		}
		if err != nil {
			return err
		}
		if done {
			break
		}
		bought++
	}
	fmt.Printf("tickets %s: bought %d\n", id, bought)
	return nil
}

// sellOne is one turn of the ticket office, the lock held: done when no
// ticket is left.
func sellOne(file, id string, ownerDied, hangMidSale bool) (done bool, err error) {
	var t ticketOffice
	if err := readJSON(file, &t); err != nil {
		return false, err
	}
	if t.Pending != nil {
		if !ownerDied {
			return false, failf("a torn sale in %s without a dead holder", file)
		}
		t.ticketSale = *t.Pending
		t.Repairs++
		t.Pending = nil
		if err := writeJSON(file, t); err != nil {
			return false, err
		}
	}
	if t.Remaining == 0 {
		return true, nil
	}
	if t.Buyers == nil {
		t.Buyers = map[string]int64{}
	}
	before := ticketSale{Remaining: t.Remaining, Sold: t.Sold, Buyers: maps.Clone(t.Buyers)}
	t.Pending = &before
	t.Remaining--
	t.Sold++
	t.Buyers[id]++
	if err := writeJSON(file, t); err != nil {
		return false, err
	}
	if hangMidSale {
		hang()
	}
	t.Pending = nil
	return false, writeJSON(file, t)
}

func semaphore(ctx context.Context, semName, logName, id string, iterations int64, hangInside bool) error {
	s, err := polyipc.OpenSemaphore(semName, 3)
	if err != nil {
		return err
	}
	defer s.Close()
	q, err := polyipc.OpenQueue(logName)
	if err != nil {
		return err
	}
	defer q.Close()
	event := func(ev string) error {
		c, cancel := bounded(ctx)
		defer cancel()
		if err := q.PutJSON(c, map[string]any{"id": id, "pid": os.Getpid(), "ev": ev}); err != nil {
			return failf("put %s: %v", ev, err)
		}
		return nil
	}
	for i := int64(0); i < iterations || hangInside; i++ {
		c, cancel := bounded(ctx)
		err := s.Acquire(c)
		cancel()
		if err != nil {
			return failf("acquire %s: %v", semName, err)
		}
		if err := event("enter"); err != nil {
			return err
		}
		if hangInside {
			hang()
		}
		for k := 0; k < 20; k++ {
			runtime.Gosched()
		}
		if err := event("exit"); err != nil {
			return err
		}
		if err := s.Release(1); err != nil {
			return failf("release %s: %v", semName, err)
		}
	}
	fmt.Printf("semaphore %s: %d iterations\n", id, iterations)
	return nil
}

func eventWait(ctx context.Context, eventName, ready, id string) error {
	e, err := polyipc.OpenEvent(eventName)
	if err != nil {
		return err
	}
	defer e.Close()
	q, err := polyipc.OpenQueue(ready)
	if err != nil {
		return err
	}
	defer q.Close()
	c, cancel := bounded(ctx)
	defer cancel()
	if err := q.PutJSON(c, map[string]any{"id": id}); err != nil {
		return failf("put on %s: %v", ready, err)
	}
	if err := e.Wait(c); err != nil {
		return failf("wait for %s: %v", eventName, err)
	}
	fmt.Printf("event %s: woken\n", id)
	return nil
}

func eventSet(eventName, id string) error {
	e, err := polyipc.OpenEvent(eventName)
	if err != nil {
		return err
	}
	defer e.Close()
	if err := e.Set(); err != nil {
		return err
	}
	fmt.Printf("event %s: set\n", id)
	return nil
}

func barrier(ctx context.Context, name string, parties, rounds int64, out, id string) error {
	b, err := polyipc.OpenBarrier(name, int(parties))
	if err != nil {
		return err
	}
	defer b.Close()
	indexes := make([]int, 0, rounds)
	for r := int64(0); r < rounds; r++ {
		c, cancel := bounded(ctx)
		i, err := b.Wait(c)
		cancel()
		if err != nil {
			return failf("wait, round %d: %v", r, err)
		}
		indexes = append(indexes, i)
	}
	q, err := polyipc.OpenQueue(out)
	if err != nil {
		return err
	}
	defer q.Close()
	c, cancel := bounded(ctx)
	defer cancel()
	if err := q.PutJSON(c, map[string]any{"id": id, "indexes": indexes}); err != nil {
		return failf("put on %s: %v", out, err)
	}
	fmt.Printf("barrier %s: %d rounds\n", id, rounds)
	return nil
}

// barrierTimeout waits once; passing is a failure (exit 1).
func barrierTimeout(ctx context.Context, name string, parties, timeoutMs int64, id string) error {
	b, err := polyipc.OpenBarrier(name, int(parties))
	if err != nil {
		return err
	}
	defer b.Close()
	c, cancel := context.WithTimeout(ctx, time.Duration(timeoutMs)*time.Millisecond)
	defer cancel()
	_, err = b.Wait(c)
	switch {
	case errors.Is(err, polyipc.ErrTimeout):
		fmt.Printf("barrier %s: timeout\n", id)
	case errors.Is(err, polyipc.ErrBroken):
		fmt.Printf("barrier %s: broken\n", id)
	case err == nil:
		fmt.Printf("barrier %s: passed\n", id)
		b.Close()
		os.Exit(1)
	default:
		return failf("wait: %v", err)
	}
	return nil
}

type boundedBuffer struct {
	Items    []int64 `json:"items"`
	Capacity int     `json:"capacity"`
}

func condition(ctx context.Context, produce bool, name, file string, n int64, id string) error {
	c, err := polyipc.OpenCondition(name)
	if err != nil {
		return err
	}
	defer c.Close()
	for i := int64(0); i < n; i++ {
		if err := conditionStep(ctx, c, produce, file, i); err != nil {
			return err
		}
	}
	verb := "consumed"
	if produce {
		verb = "produced"
	}
	fmt.Printf("condition %s: %s %d\n", id, verb, n)
	return nil
}

// conditionStep produces or consumes item i, holding the condition's lock.
func conditionStep(ctx context.Context, c *polyipc.Condition, produce bool, file string, i int64) (err error) {
	lc, cancel := bounded(ctx)
	err = c.LockContext(lc)
	cancel()
	if err != nil {
		return failf("acquire: %v", err)
	}
	defer func() {
		if rerr := c.Release(); err == nil && rerr != nil {
			err = failf("release: %v", rerr)
		}
	}()
	var buf boundedBuffer
	if err := readJSON(file, &buf); err != nil {
		return err
	}
	blocked := func() bool {
		if produce {
			return len(buf.Items) >= buf.Capacity
		}
		return len(buf.Items) == 0
	}
	for blocked() {
		wc, cancel := bounded(ctx)
		err := c.Wait(wc)
		cancel()
		if err != nil {
			return failf("wait: %v", err)
		}
		buf = boundedBuffer{}
		if err := readJSON(file, &buf); err != nil {
			return err
		}
	}
	if produce {
		buf.Items = append(buf.Items, i)
	} else {
		if buf.Items[0] != i {
			return failf("expected item %d, got %d", i, buf.Items[0])
		}
		buf.Items = buf.Items[1:]
	}
	if buf.Items == nil {
		buf.Items = []int64{}
	}
	if err := writeJSON(file, buf); err != nil {
		return err
	}
	if err := c.NotifyAll(); err != nil {
		return failf("notify_all: %v", err)
	}
	return nil
}

// runSync runs a synchronisation scenario; handled is false when a is not one.
func runSync(ctx context.Context, a []string, num func(string) int64) (handled bool, err error) {
	n := len(a)
	switch {
	case (n == 4 || n == 5 && a[4] == "--hang") && a[0] == "tickets":
		return true, tickets(ctx, a[1], a[2], a[3], n == 5)
	case (n == 5 || n == 6 && a[5] == "--hang") && a[0] == "semaphore":
		return true, semaphore(ctx, a[1], a[2], a[3], num(a[4]), n == 6)
	case n == 4 && a[0] == "event-wait":
		return true, eventWait(ctx, a[1], a[2], a[3])
	case n == 3 && a[0] == "event-set":
		return true, eventSet(a[1], a[2])
	case n == 6 && a[0] == "barrier":
		return true, barrier(ctx, a[1], num(a[2]), num(a[3]), a[4], a[5])
	case n == 5 && a[0] == "barrier-timeout":
		return true, barrierTimeout(ctx, a[1], num(a[2]), num(a[3]), a[4])
	case n == 5 && a[0] == "condition-produce":
		return true, condition(ctx, true, a[1], a[2], num(a[3]), a[4])
	case n == 5 && a[0] == "condition-consume":
		return true, condition(ctx, false, a[1], a[2], num(a[3]), a[4])
	}
	return false, nil
}
