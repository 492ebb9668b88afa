// The worker pool scenarios of the Go interop agent (see ../README.md):
//
//	agent pool-work POOL [--hang-after K]
//	agent pool-submit POOL N
//	agent pool-map POOL N CHUNK
//	agent pool-complete POOL N
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	polyipc "github.com/polyipc/polyipc/bindings/go"
)

// poolHandlers are the five functions every interop worker registers.
func poolHandlers() map[string]polyipc.Handler {
	return map[string]polyipc.Handler{
		"add": func(_ context.Context, args json.RawMessage) (any, error) {
			var ab []int64
			if err := json.Unmarshal(args, &ab); err != nil || len(ab) != 2 {
				return nil, fmt.Errorf("add: want [a, b] (integers), got %s", args)
			}
			return ab[0] + ab[1], nil
		},
		"concat": func(_ context.Context, args json.RawMessage) (any, error) {
			var a struct {
				Parts []string `json:"parts"`
			}
			if err := json.Unmarshal(args, &a); err != nil {
				return nil, fmt.Errorf("concat: want {\"parts\": [strings]}, got %s", args)
			}
			return strings.Join(a.Parts, ""), nil
		},
		"echo": func(_ context.Context, args json.RawMessage) (any, error) { return args, nil },
		"fail": func(_ context.Context, args json.RawMessage) (any, error) {
			var s string
			if err := json.Unmarshal(args, &s); err != nil {
				return nil, fmt.Errorf("fail: want a string, got %s", args)
			}
			return nil, errors.New(s)
		},
		"whoami": func(context.Context, json.RawMessage) (any, error) { return lang, nil },
	}
}

// runTask runs one task as Serve does (the --hang-after mode takes tasks
// itself, to know when to stop).
func runTask(ctx context.Context, t *polyipc.Task, handlers map[string]polyipc.Handler) error {
	h, ok := handlers[t.Function()]
	if !ok {
		return t.Fail(fmt.Sprintf("no function '%s' in this worker", t.Function()))
	}
	result, err := h(ctx, t.Args())
	if err != nil {
		return t.Fail(err.Error())
	}
	return t.Finish(result)
}

func poolWork(ctx context.Context, name string, hangAfter int) error {
	p, err := polyipc.OpenPool(name)
	if err != nil {
		return err
	}
	defer p.Close()
	handlers := poolHandlers()
	served := 0
	if hangAfter < 0 {
		for fn, h := range handlers {
			handlers[fn] = func(ctx context.Context, args json.RawMessage) (any, error) {
				served++ // Serve runs one task at a time
				return h(ctx, args)
			}
		}
		if err := p.Serve(ctx, handlers); err != nil {
			return failf("serve after %d tasks: %v", served, err)
		}
		fmt.Printf("served %d\n", served)
		return nil
	}
	for {
		t, err := p.Take(ctx)
		if errors.Is(err, polyipc.ErrClosed) {
			fmt.Printf("served %d\n", served)
			return nil
		}
		if err != nil {
			return failf("take after %d tasks: %v", served, err)
		}
		if served == hangAfter {
			fmt.Printf("took task %d\n", t.ID())
			os.Stdout.Sync()
			select {} // holds the task until killed
		}
		err = runTask(ctx, t, handlers)
		t.Close()
		if err != nil {
			return failf("task %d: %v", t.ID(), err)
		}
		served++
	}
}

// poolTask is task i of pool-submit: its function, arguments, and the
// expected result (ok) or error text.
func poolTask(i int64) (fn string, args any, ok bool, want any) {
	s := strconv.FormatInt(i, 10)
	switch i % 4 {
	case 0:
		return "add", []int64{i, 2 * i}, true, 3 * i
	case 1:
		return "concat", map[string]any{"parts": []any{"p", s, "é😀"}}, true, "p" + s + "é😀"
	case 2:
		v := map[string]any{"i": i, "v": []any{i, "x", nil, true, f64(1.5), map[string]any{"k": "ü"}}}
		return "echo", v, true, v
	}
	return "fail", boom(i), false, boom(i)
}

// boom is the error text of fail task i: a named escape two characters in,
// then a \u one (Json.NET 6's JsonConvert.ToString threw on that), quotes, a
// backslash, a line separator.
func boom(i int64) string {
	return "nl\nctl\u0001 boom " + strconv.FormatInt(i, 10) + " \"q\" \\ ls\u2028"
}

const poolOutstanding = 64

func poolSubmit(ctx context.Context, name string, n int64) error {
	p, err := polyipc.OpenPool(name)
	if err != nil {
		return err
	}
	defer p.Close()
	index := map[*polyipc.Future]int64{}
	next, checked := int64(0), int64(0)
	for checked < n {
		for next < n && len(index) < poolOutstanding {
			fn, args, _, _ := poolTask(next)
			c, cancel := context.WithTimeout(ctx, timeout)
			f, err := p.Submit(c, fn, args)
			cancel()
			if err != nil {
				return failf("submit task %d (%s): %v", next, fn, err)
			}
			index[f] = next
			next++
		}
		c, cancel := context.WithTimeout(ctx, timeout)
		f, err := p.Next(c) // any task's result
		cancel()
		if err != nil {
			return failf("waiting for a result (%d of %d checked): %v", checked, n, err)
		}
		i, known := index[f]
		if !known {
			return failf("a result of no task submitted: task id %d", f.ID())
		}
		delete(index, f)
		if err := checkPoolResult(ctx, f, i); err != nil {
			return err
		}
		checked++
	}
	fmt.Printf("results ok %d\n", n)
	return nil
}

// poolComplete submits the tasks of pool-submit all at once and waits for
// each by a select on its Future's Done, with no goroutine in Wait: the
// handle's receiver takes the results; then checks each.
func poolComplete(ctx context.Context, name string, n int64) error {
	p, err := polyipc.OpenPool(name)
	if err != nil {
		return err
	}
	defer p.Close()
	futures := make([]*polyipc.Future, n)
	for i := range futures {
		fn, args, _, _ := poolTask(int64(i))
		c, cancel := context.WithTimeout(ctx, timeout)
		futures[i], err = p.Submit(c, fn, args)
		cancel()
		if err != nil {
			return failf("submit task %d (%s): %v", i, fn, err)
		}
	}
	deadline := time.After(timeout)
	for i, f := range futures {
		select {
		case <-f.Done():
		case <-deadline:
			return failf("task %d: Done did not close within %v", i, timeout)
		}
	}
	for i, f := range futures {
		if err := checkPoolResult(ctx, f, int64(i)); err != nil {
			return err
		}
	}
	fmt.Printf("results ok %d\n", n)
	return nil
}

// poolMap is Pool.Map of add over n tasks [i, 2i], chunk to a pool message:
// workers in any language serve them; the results come back in order.
func poolMap(ctx context.Context, name string, n int64, chunk int) error {
	p, err := polyipc.OpenPool(name)
	if err != nil {
		return err
	}
	defer p.Close()
	args := make([]any, n)
	for i := range args {
		args[i] = []int64{int64(i), 2 * int64(i)}
	}
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	got, err := p.Map(c, "add", args, chunk)
	if err != nil {
		return failf("map of %d tasks: %v", n, err)
	}
	if int64(len(got)) != n {
		return failf("%d results for %d tasks", len(got), n)
	}
	for i, r := range got {
		if string(r) != strconv.Itoa(3*i) {
			return failf("task %d (add [%d, %d]): result %s, expected %d", i, i, 2*i, r, 3*i)
		}
	}
	fmt.Printf("results ok %d\n", n)
	return nil
}

func checkPoolResult(ctx context.Context, f *polyipc.Future, i int64) error {
	fn, _, wantOK, want := poolTask(i)
	raw, err := f.Wait(ctx) // resolved already
	var te *polyipc.TaskError
	switch {
	case err != nil && !errors.As(err, &te):
		return failf("task %d (%s): %v", i, fn, err)
	case wantOK && te != nil:
		return failf("task %d (%s): expected the result %s, came the error %q", i, fn, show(want), te.Message)
	case !wantOK && te == nil:
		return failf("task %d (%s): expected the error %q, came the result %s", i, fn, want, raw)
	case !wantOK:
		if te.Message != want {
			return failf("task %d (%s): expected the error %q, came the error %q", i, fn, want, te.Message)
		}
		return nil
	}
	got, err := decode(raw)
	if err != nil {
		return failf("task %d (%s): the result %s does not decode: %v", i, fn, raw, err)
	}
	if d := diff(got, want, "$"); d != "" {
		return failf("task %d (%s): expected the result %s, came %s: %s", i, fn, show(want), raw, d)
	}
	return nil
}
