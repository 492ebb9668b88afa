package polyipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// openPool opens (creating) a fresh pool closed at the end of the test.
func openPool(t testing.TB, opts ...Option) *Pool {
	t.Helper()
	p := must[*Pool](t)(OpenPool(queueName(t), opts...))
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// takeNow takes the task that must be there.
func takeNow(t *testing.T, p *Pool) *Task {
	t.Helper()
	task, err := p.TryTake()
	if err != nil {
		t.Fatalf("TryTake: %v", err)
	}
	t.Cleanup(func() { _ = task.Close() })
	return task
}

func submit(t *testing.T, p *Pool, function string, args any) *Future {
	t.Helper()
	f, err := p.Submit(withTimeout(t, 10*time.Second), function, args)
	if err != nil {
		t.Fatalf("Submit(%s, %v): %v", function, args, err)
	}
	return f
}

func waitJSON(t *testing.T, f *Future) string {
	t.Helper()
	r, err := f.Wait(withTimeout(t, 10*time.Second))
	if err != nil {
		t.Fatalf("Wait task %d: %v", f.ID(), err)
	}
	return string(r)
}

func TestPoolTaskGoesToAWorkerAndItsResultBack(t *testing.T) {
	submitter := openPool(t)
	worker := must[*Pool](t)(OpenPool(submitter.Name(), OpenOnly()))
	defer worker.Close()
	f := submit(t, submitter, "square", []int{3})
	if f.ID() == 0 {
		t.Fatal("task id 0")
	}
	task := takeNow(t, worker)
	if task.ID() != f.ID() || task.Function() != "square" || string(task.Args()) != "[3]" || task.Pool() != worker {
		t.Fatalf("took task %d %q %s", task.ID(), task.Function(), task.Args())
	}
	var args []int
	if err := json.Unmarshal(task.Args(), &args); err != nil || args[0] != 3 {
		t.Fatal(args, err)
	}
	if err := task.Finish(args[0] * args[0]); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := f.Decode(withTimeout(t, 10*time.Second), &n); err != nil || n != 9 {
		t.Fatalf("Decode: %d, %v", n, err)
	}
	// Returned once by the library, kept by the Future.
	if r := waitJSON(t, f); r != "9" {
		t.Fatalf("Wait again: %s", r)
	}
	select {
	case <-f.Done():
	default:
		t.Fatal("Done not closed")
	}
	if _, err := submitter.Next(bg); !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("Next with no result to come: %v", err)
	}
}

func TestPoolArgsAndResultsPassAsJSON(t *testing.T) {
	p := openPool(t)
	raw := ` {"a" : [1.50, -0e3, "\u00e9\n", null],"b":{}} `
	cases := []struct {
		args any
		want string
	}{
		{json.RawMessage(raw), raw}, // as it is, byte for byte
		{[]byte(`"bytes"`), `"bytes"`},
		{nil, "null"},
		{map[string]any{"k": "ü😀"}, `{"k":"ü😀"}`},
		{struct {
			X int `json:"x"`
		}{7}, `{"x":7}`},
	}
	for _, c := range cases {
		f := submit(t, p, "r\u00e9size \"big\"", c.args)
		task := takeNow(t, p)
		if string(task.Args()) != c.want || task.Function() != "r\u00e9size \"big\"" {
			t.Fatalf("args %q, function %q; want %q", task.Args(), task.Function(), c.want)
		}
		if err := task.Finish(task.Args()); err != nil { // echoed as it is
			t.Fatal(err)
		}
		var got, want any
		if err := json.Unmarshal([]byte(waitJSON(t, f)), &got); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal([]byte(c.want), &want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("result %v, want %v", got, want)
		}
	}
}

func TestPoolFailedTaskIsATaskError(t *testing.T) {
	p := openPool(t)
	f := submit(t, p, "divide", []int{1, 0})
	task := takeNow(t, p)
	text := "ZeroDivisionError: \"1/0\"\n\tat line 2 \xff"
	if err := task.Fail(text); err != nil {
		t.Fatal(err)
	}
	_, err := f.Wait(withTimeout(t, 10*time.Second))
	var te *TaskError
	if !errors.As(err, &te) {
		t.Fatalf("Wait: %v (%T)", err, err)
	}
	if te.Message != "ZeroDivisionError: \"1/0\"\n\tat line 2 \uFFFD" || te.ID != f.ID() || te.Function != "divide" ||
		te.Pool != p.Name() {
		t.Fatalf("TaskError %+v", te)
	}
	if !strings.Contains(err.Error(), "divide") || !strings.Contains(err.Error(), "ZeroDivisionError") {
		t.Fatal(err)
	}
	var n int
	if err := f.Decode(bg, &n); !errors.As(err, &te) {
		t.Fatalf("Decode: %v", err)
	}
}

func TestPoolResultsComeBackByIDWhateverTheOrder(t *testing.T) {
	p := openPool(t)
	futures := make([]*Future, 5)
	for i := range futures {
		futures[i] = submit(t, p, "id", i)
	}
	tasks := make([]*Task, 5)
	for i := range tasks {
		tasks[i] = takeNow(t, p)
		if tasks[i].ID() != futures[i].ID() {
			t.Fatalf("task %d is %d, want %d (FIFO)", i, tasks[i].ID(), futures[i].ID())
		}
	}
	for i := 4; i >= 0; i-- {
		if err := tasks[i].Finish(tasks[i].Args()); err != nil {
			t.Fatal(err)
		}
	}
	if r := waitJSON(t, futures[2]); r != "2" { // behind two others
		t.Fatalf("task 2: %s", r)
	}
	seen := map[*Future]bool{}
	for k := 0; k < 4; k++ {
		f, err := p.Next(withTimeout(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		r := waitJSON(t, f) // resolved: at once
		i, _ := strconv.Atoi(r)
		if f != futures[i] || i == 2 || seen[f] { // the very Future Submit returned
			t.Fatalf("Next gave task %d with %s", f.ID(), r)
		}
		seen[f] = true
	}
	if _, err := p.Next(bg); !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("Next after all: %v", err)
	}
	for i, f := range futures {
		if r := waitJSON(t, f); r != strconv.Itoa(i) {
			t.Fatalf("task %d again: %s", i, r)
		}
	}
}

func TestPoolWaitTimesOutAndTheTaskGoesOn(t *testing.T) {
	p := openPool(t)
	f := submit(t, p, "slow", nil)
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.Wait(ctx)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait past the deadline: %v", err)
	}
	if d := time.Since(start); d < 45*time.Millisecond || d > 5*time.Second {
		t.Fatalf("Wait returned after %v", d)
	}
	cctx, ccancel := context.WithCancel(bg)
	ccancel()
	if _, err := f.Wait(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait cancelled: %v", err)
	}
	if err := takeNow(t, p).Finish(true); err != nil {
		t.Fatal(err)
	}
	if r := waitJSON(t, f); r != "true" {
		t.Fatal(r)
	}
}

// A Future's Wait and the handle's Next racing for the one result: whichever
// takes it, the Future gets it, and Next gets it only as that Future.
func TestPoolWaitAndNextRaceForOneResult(t *testing.T) {
	p := openPool(t)
	for i := 0; i < 50; i++ {
		f := submit(t, p, "f", i)
		waited := make(chan string, 1)
		go func() {
			r, err := f.Wait(withTimeout(t, 30*time.Second))
			if err != nil {
				t.Error(err)
			}
			waited <- string(r)
		}()
		if err := takeNow(t, p).Finish(i); err != nil {
			t.Fatal(err)
		}
		g, err := p.Next(withTimeout(t, 30*time.Second))
		if (err != nil || g != f) && !errors.Is(err, ErrInvalidArg) {
			t.Fatalf("Next: %v, %v", g, err)
		}
		if r := within(t, 30*time.Second, "Wait", func() string { return <-waited }); r != strconv.Itoa(i) {
			t.Fatalf("Wait: %s, want %d", r, i)
		}
	}
}

func TestPoolResultTooLargeForTheResultQueueIsATaskError(t *testing.T) {
	p := openPool(t, WithResultCapacity(4096))
	f := submit(t, p, "big", 0)
	if err := takeNow(t, p).Finish(strings.Repeat("x", 10000)); err != nil {
		t.Fatal(err)
	}
	var te *TaskError
	if _, err := f.Wait(withTimeout(t, 10*time.Second)); !errors.As(err, &te) || !strings.Contains(te.Message, "exceeds") {
		t.Fatalf("Wait: %v", err)
	}
}

func TestPoolSubmitWaitsForRoom(t *testing.T) {
	p := openPool(t, WithMaxTasks(1))
	submit(t, p, "f", 1)
	ctx, cancel := context.WithTimeout(bg, 120*time.Millisecond)
	defer cancel()
	if _, err := p.Submit(ctx, "f", 2); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Submit to a full pool: %v", err)
	}
	// Room comes when a worker takes the task.
	done := make(chan error, 1)
	go func() {
		_, err := p.Submit(withTimeout(t, 10*time.Second), "f", 3)
		done <- err
	}()
	task := takeNow(t, p)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := task.Finish(1); err != nil {
		t.Fatal(err)
	}
}

// SubmitMany sends chunks (one pool message for several tasks), which Serve
// runs task by task; each task has its own Future and result. A full pool
// makes SubmitMany wait, and a timeout returns the Futures of what went in.
func TestPoolSubmitManySendsChunksThatServeRunsTaskByTask(t *testing.T) {
	p := openPool(t)
	args := make([]any, 100)
	for i := range args {
		args[i] = []int{i, 2 * i}
	}
	puts := func() int {
		var st struct {
			Counters struct {
				Puts int `json:"puts"`
			} `json:"counters"`
		}
		if err := json.Unmarshal(must[json.RawMessage](t)(p.Stat()), &st); err != nil {
			t.Fatal(err)
		}
		return st.Counters.Puts
	}
	futures, err := p.SubmitMany(withTimeout(t, 10*time.Second), "add", args, 8)
	if err != nil || len(futures) != len(args) {
		t.Fatalf("SubmitMany: %d futures, %v", len(futures), err)
	}
	if n := puts(); n != 13 {
		t.Fatalf("100 tasks 8 to a chunk made %d pool messages, want 13", n)
	}
	if ok, err := futures[5].Cancel(); ok || err != nil {
		t.Fatalf("Cancel of a task of a chunk: %v, %v; want false, nil", ok, err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(withTimeout(t, 60*time.Second), testHandlers()) }()
	for i, f := range futures {
		if f.ID() != futures[0].ID()+uint64(i) {
			t.Fatalf("future %d has id %d, want %d", i, f.ID(), futures[0].ID()+uint64(i))
		}
		if got, want := waitJSON(t, f), fmt.Sprint(3*i); got != want {
			t.Fatalf("task %d: %s, want %s", i, got, want)
		}
	}
	if err := p.CloseTasks(); err != nil {
		t.Fatal(err)
	}
	if err := within(t, 30*time.Second, "Serve", func() error { return <-served }); err != nil {
		t.Fatalf("Serve after CloseTasks: %v", err)
	}

	// A pool of at most 2 messages: 5 chunks of 2 wait for room, then time out with 2 in.
	q := openPool(t, WithMaxTasks(2))
	ctx, cancel := context.WithTimeout(bg, 150*time.Millisecond)
	defer cancel()
	futures, err = q.SubmitMany(ctx, "add", args[:10], 2)
	if !errors.Is(err, ErrTimeout) || len(futures) != 4 {
		t.Fatalf("SubmitMany to a full pool: %d futures, %v; want 4 and ErrTimeout", len(futures), err)
	}
	if _, err := q.SubmitMany(bg, "add", []any{make(chan int)}, 2); err == nil ||
		!strings.Contains(err.Error(), "arguments 0") {
		t.Fatalf("SubmitMany of a channel: %v", err)
	}
	if _, err := q.SubmitMany(bg, "", args[:2], 2); !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("SubmitMany of no function: %v", err)
	}
}

// A batch far larger than the pool (2 messages) and the result queue (256
// bytes: a few results) goes through: SubmitMany collects while it submits.
func TestPoolSubmitManyLargerThanThePoolAndTheResultQueue(t *testing.T) {
	p := openPool(t, WithMaxTasks(2), WithResultCapacity(256))
	served := make(chan error, 1)
	go func() { served <- p.Serve(withTimeout(t, 60*time.Second), testHandlers()) }()
	args := make([]any, 600)
	for i := range args {
		args[i] = []int{i, 2 * i}
	}
	for _, chunk := range []int{1, 4} {
		futures, err := p.SubmitMany(withTimeout(t, 30*time.Second), "add", args, chunk)
		if err != nil || len(futures) != len(args) {
			t.Fatalf("chunk %d: %d futures, %v", chunk, len(futures), err)
		}
		for i, f := range futures {
			if got, want := waitJSON(t, f), fmt.Sprint(3*i); got != want {
				t.Fatalf("chunk %d, task %d: %s, want %s", chunk, i, got, want)
			}
		}
	}
	if err := p.CloseTasks(); err != nil {
		t.Fatal(err)
	}
	if err := within(t, 30*time.Second, "Serve", func() error { return <-served }); err != nil {
		t.Fatalf("Serve after CloseTasks: %v", err)
	}
}

// Map: results in order through a pool smaller than the map and a result
// queue smaller than its results; failures reported in order once all ended.
func TestPoolMapReturnsResultsInOrderAndTheFirstFailure(t *testing.T) {
	p := openPool(t, WithMaxTasks(2), WithResultCapacity(4096))
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	served := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() { served <- p.Serve(ctx, testHandlers()) }()
	}
	args := make([]any, 5000)
	for i := range args {
		args[i] = []int{i, 2 * i}
	}
	for _, chunk := range []int{1, 7, 600} {
		out, err := p.Map(withTimeout(t, 60*time.Second), "add", args, chunk)
		if err != nil || len(out) != len(args) {
			t.Fatalf("chunk %d: %d results, %v", chunk, len(out), err)
		}
		for i, r := range out {
			if string(r) != fmt.Sprint(3*i) {
				t.Fatalf("chunk %d, task %d: %s, want %d", chunk, i, r, 3*i)
			}
		}
	}
	echo := []any{"a", map[string]int{"k": 1}, nil, json.RawMessage(`[1, 2]`)}
	out, err := p.Map(withTimeout(t, 30*time.Second), "echo", echo, 3)
	if err != nil || fmt.Sprintf("%s", out) != `["a" {"k":1} null [1, 2]]` {
		t.Fatalf("Map of echo: %s, %v", out, err)
	}
	fails := []any{"x", "first", "second", "y"}
	_, err = p.Map(withTimeout(t, 30*time.Second), "fail", fails, 2)
	var te *TaskError
	if !errors.As(err, &te) || te.Message != "x" || te.Function != "fail" {
		t.Fatalf("Map of failing tasks: %v", err)
	}
	if out, err := p.Map(bg, "add", nil, 4); err != nil || len(out) != 0 {
		t.Fatalf("Map of nothing: %v, %v", out, err)
	}
	var st struct {
		Pending int `json:"results_pending"`
	}
	if err := json.Unmarshal(must[json.RawMessage](t)(p.Stat()), &st); err != nil || st.Pending != 0 {
		t.Fatalf("results left behind: %d, %v", st.Pending, err)
	}
	if _, err := p.Map(bg, "add", []any{make(chan int)}, 2); err == nil || !strings.Contains(err.Error(), "arguments 0") {
		t.Fatalf("Map of a channel: %v", err)
	}
	if _, err := p.Map(bg, "a\x00b", args[:1], 1); !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("Map of a name with NUL: %v", err)
	}
	cancel()
	for i := 0; i < 2; i++ {
		if err := within(t, 30*time.Second, "Serve", func() error { return <-served }); !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve: %v", err)
		}
	}
}

// Serve takes a chunk's tasks together; cancelled mid-chunk, it finishes the
// tasks that ran and the chunk goes back for another worker.
func TestPoolServeCancelledMidChunkFinishesWhatRan(t *testing.T) {
	p := openPool(t)
	futures, err := p.SubmitMany(withTimeout(t, 10*time.Second), "n", []any{0, 1, 2, 3, 4, 5}, 6)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	var ran []int
	handlers := map[string]Handler{"n": func(_ context.Context, args json.RawMessage) (any, error) {
		n, _ := strconv.Atoi(string(args))
		ran = append(ran, n)
		if n == 2 {
			cancel()
		}
		return 10 * n, nil
	}}
	if err := p.Serve(ctx, handlers); !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve cancelled: %v", err)
	}
	if fmt.Sprint(ran) != "[0 1 2]" {
		t.Fatalf("ran %v", ran)
	}
	for i := 0; i < 3; i++ { // finished before the chunk went back
		if r := waitJSON(t, futures[i]); r != fmt.Sprint(10*i) {
			t.Fatalf("task %d: %s", i, r)
		}
	}
	if err := p.CloseTasks(); err != nil {
		t.Fatal(err)
	}
	if err := p.Serve(withTimeout(t, 30*time.Second), handlers); err != nil { // all six again
		t.Fatal(err)
	}
	for i := 3; i < 6; i++ {
		if r := waitJSON(t, futures[i]); r != fmt.Sprint(10*i) {
			t.Fatalf("task %d: %s", i, r)
		}
	}
	if fmt.Sprint(ran) != "[0 1 2 0 1 2 3 4 5]" {
		t.Fatalf("ran %v", ran)
	}
}

func TestPoolTaskClosedUnfinishedGoesBack(t *testing.T) {
	p := openPool(t)
	f := submit(t, p, "f", 1)
	task := takeNow(t, p)
	if _, err := p.TryTake(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryTake of none: %v", err)
	}
	if err := task.Close(); err != nil {
		t.Fatal(err)
	}
	if err := task.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := task.Finish(1); !errors.Is(err, ErrInvalidArg) || !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("Finish after Close: %v", err)
	}
	again := takeNow(t, p)
	if again.ID() != f.ID() || string(again.Args()) != "1" {
		t.Fatalf("took %d %s again", again.ID(), again.Args())
	}
	if err := again.Finish(2); err != nil {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil { // finished: nothing to give back
		t.Fatal(err)
	}
	if err := again.Fail("x"); !errors.Is(err, ErrInvalidArg) || !strings.Contains(err.Error(), "finished already") {
		t.Fatalf("Fail after Finish: %v", err)
	}
	if r := waitJSON(t, f); r != "2" {
		t.Fatal(r)
	}
	if err := p.Join(withTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestPoolResultThatIsNotJSONLeavesTheTaskOpen(t *testing.T) {
	p := openPool(t)
	f := submit(t, p, "f", 1)
	task := takeNow(t, p)
	if err := task.Finish(json.RawMessage(`{"a":`)); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("Finish with bad JSON: %v", err)
	}
	if err := task.Finish(func() {}); err == nil || errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("Finish with what encoding/json refuses: %v", err)
	}
	if err := task.Finish([]int{}); err != nil {
		t.Fatal(err)
	}
	if r := waitJSON(t, f); r != "[]" {
		t.Fatal(r)
	}
}

func TestPoolCloseTasksLetsWorkersDrainThenEnd(t *testing.T) {
	p := openPool(t)
	f := submit(t, p, "f", 1)
	if err := p.CloseTasks(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Submit(bg, "f", 2); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after CloseTasks: %v", err)
	}
	task := takeNow(t, p)
	if _, err := p.TryTake(); !errors.Is(err, ErrEmpty) { // the task may still come back
		t.Fatalf("TryTake with a task out: %v", err)
	}
	if err := task.Finish(1); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Take(withTimeout(t, 10*time.Second)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Take after the last task: %v", err)
	}
	if err := p.Serve(withTimeout(t, 10*time.Second), nil); err != nil {
		t.Fatalf("Serve of a closed pool: %v", err)
	}
	if r := waitJSON(t, f); r != "1" {
		t.Fatal(r)
	}
}

func TestPoolJoinWaitsForEveryTask(t *testing.T) {
	p := openPool(t)
	submit(t, p, "f", 1)
	submit(t, p, "f", 2)
	ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer cancel()
	if err := p.Join(ctx); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Join with tasks to do: %v", err)
	}
	joined := make(chan error, 1)
	go func() { joined <- p.Join(withTimeout(t, 30*time.Second)) }()
	for i := 0; i < 2; i++ {
		task := takeNow(t, p)
		select {
		case err := <-joined:
			t.Fatalf("Join returned with a task unfinished: %v", err)
		default:
		}
		var err error
		if i == 0 {
			err = task.Finish(0)
		} else {
			err = task.Fail("no")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := within(t, 30*time.Second, "Join", func() error { return <-joined }); err != nil {
		t.Fatal(err)
	}
}

func TestPoolCloseRefusedWhileATaskIsOpen(t *testing.T) {
	p := must[*Pool](t)(OpenPool(queueName(t)))
	f := submit(t, p, "f", 1)
	task, err := p.TryTake()
	if err != nil {
		t.Fatal(err)
	}
	err = p.Close()
	if !errors.Is(err, ErrTasksOpen) || !errors.Is(err, ErrInvalidArg) || !strings.Contains(err.Error(), "1 task") {
		t.Fatalf("Close with a task open: %v", err)
	}
	if err := task.Finish(5); err != nil { // still works: nothing changed
		t.Fatal(err)
	}
	if r := waitJSON(t, f); r != "5" {
		t.Fatal(r)
	}
	pending := submit(t, p, "f", 2)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"Submit":     func() error { _, err := p.Submit(bg, "f", 1); return err }(),
		"Wait":       func() error { _, err := pending.Wait(bg); return err }(),
		"Next":       func() error { _, err := p.Next(bg); return err }(),
		"TryTake":    func() error { _, err := p.TryTake(); return err }(),
		"CloseTasks": p.CloseTasks(),
		"Join":       p.Join(bg),
		"Stat":       func() error { _, err := p.Stat(); return err }(),
		"Serve":      p.Serve(bg, nil),
	} {
		if !errors.Is(err, ErrHandleClosed) || !errors.Is(err, ErrInvalidArg) {
			t.Errorf("%s after Close: %v", what, err)
		}
	}
}

func TestPoolBadInputGetsTheRightError(t *testing.T) {
	p := openPool(t)
	q := openQueue(t)
	cases := []struct {
		what string
		err  error
		want Status
		says string
	}{
		{"empty function", func() error { _, err := p.Submit(bg, "", 1); return err }(), StatusInvalidArg, "function name is empty"},
		{"NUL in function", func() error { _, err := p.Submit(bg, "a\x00b", 1); return err }(), StatusInvalidArg, "NUL"},
		{"malformed args", func() error { _, err := p.Submit(bg, "f", json.RawMessage("[1,]")); return err }(), StatusInvalidJSON, "at byte 3"},
		{"empty args", func() error { _, err := p.Submit(bg, "f", []byte{}); return err }(), StatusInvalidJSON, "arguments of 'f'"},
		{"result of no task", func() error { _, err := p.Next(bg); return err }(), StatusInvalidArg, "no task"},
		{"name too long", func() error { _, err := OpenPool(strings.Repeat("p", 161)); return err }(), StatusInvalidArg, "at most 160"},
		{"a queue's name", func() error { _, err := OpenPool(q.Name()); return err }(), StatusIncompatible, "not a pool"},
		{"a pool opened as a queue", func() error { _, err := OpenQueue(p.Name()); return err }(), StatusIncompatible, "not a queue"},
		{"no such pool", func() error { _, err := OpenPool(p.Name()+".none", OpenOnly()); return err }(), StatusNotFound, "pool '"},
		{"exists", func() error { _, err := OpenPool(p.Name(), CreateOnly()); return err }(), StatusExists, ""},
		{"a queue option", func() error { _, err := OpenPool(p.Name(), Joinable()); return err }(), StatusInvalidArg, "do not apply to a pool"},
		{"Ephemeral", func() error { _, err := OpenPool(p.Name(), Ephemeral()); return err }(), StatusInvalidArg, "do not apply to a pool"},
		{"negative", func() error { _, err := OpenPool(p.Name(), WithMaxTasks(-1)); return err }(), StatusInvalidArg, "negative"},
		{"a pool option on a queue", func() error { _, err := OpenQueue(q.Name(), WithMaxTasks(1)); return err }(), StatusInvalidArg, "WithMaxTasks"},
		{"a pool option on a lock", func() error { _, err := OpenLock(q.Name()+".l", WithResultCapacity(1)); return err }(), StatusInvalidArg, "pools only"},
		{"a pool option on a pipe", func() error { _, _, err := OpenPipe(q.Name()+".p", WithResultCapacity(1)); return err }(), StatusInvalidArg, "WithResultCapacity"},
	}
	for _, c := range cases {
		var e *Error
		if !errors.As(c.err, &e) || e.Status != c.want || !strings.Contains(e.Error(), c.says) {
			t.Errorf("%s: %v, want %v saying %q", c.what, c.err, c.want, c.says)
		}
	}
	if _, err := p.Submit(bg, "f", make(chan int)); err == nil {
		t.Error("Submit of what encoding/json refuses: no error")
	}
	if _, err := p.TryTake(); !errors.Is(err, ErrEmpty) { // nothing was submitted
		t.Fatalf("TryTake: %v", err)
	}
}

func TestPoolStat(t *testing.T) {
	p := openPool(t, WithCapacity(1<<16), WithMaxTasks(10), WithResultCapacity(1<<16), WithMode(0o640))
	submit(t, p, "f", 1)
	raw := must[json.RawMessage](t)(p.Stat())
	var st struct {
		Kind           string `json:"kind"`
		ResultsPending int    `json:"results_pending"`
		ResultQueue    string `json:"result_queue"`
	}
	if err := json.Unmarshal(raw, &st); err != nil || st.Kind != "pool" || st.ResultsPending != 1 ||
		!strings.HasPrefix(st.ResultQueue, p.Name()+".results.") {
		t.Fatalf("Stat: %s", raw)
	}
	if err := takeNow(t, p).Finish(1); err != nil {
		t.Fatal(err)
	}
}

// The handlers of the Serve tests, in this process and in child workers.
func testHandlers() map[string]Handler {
	return map[string]Handler{
		"add": func(_ context.Context, args json.RawMessage) (any, error) {
			var ab [2]int64
			if err := json.Unmarshal(args, &ab); err != nil {
				return nil, err
			}
			return ab[0] + ab[1], nil
		},
		"echo": func(_ context.Context, args json.RawMessage) (any, error) { return args, nil },
		"fail": func(_ context.Context, args json.RawMessage) (any, error) {
			var s string
			_ = json.Unmarshal(args, &s)
			return nil, errors.New(s)
		},
		"panic": func(context.Context, json.RawMessage) (any, error) { panic("oops") },
		"bad":   func(context.Context, json.RawMessage) (any, error) { return json.RawMessage("{"), nil },
		"pid":   func(context.Context, json.RawMessage) (any, error) { return os.Getpid(), nil },
	}
}

func TestPoolServeRunsHandlers(t *testing.T) {
	p := openPool(t)
	served := make(chan error, 1)
	go func() { served <- p.Serve(withTimeout(t, 60*time.Second), testHandlers()) }()
	type want struct {
		fn     string
		args   any
		result string
		err    string
	}
	cases := []want{
		{"add", []int{2, 40}, "42", ""},
		{"echo", json.RawMessage(`{"v":[1,"x",null,true,1.5,{"k":"ü"}]}`), `{"v":[1,"x",null,true,1.5,{"k":"ü"}]}`, ""},
		{"fail", "boom 3", "", "boom 3"},
		{"add", "not a pair", "", "json: cannot unmarshal"},
		{"panic", nil, "", "panic: oops"},
		{"bad", nil, "", "the result of 'bad' is not JSON"},
		{"nope", nil, "", "no function 'nope' in this worker"},
	}
	futures := make([]*Future, len(cases))
	for i, c := range cases {
		futures[i] = submit(t, p, c.fn, c.args)
	}
	for i, c := range cases {
		r, err := futures[i].Wait(withTimeout(t, 30*time.Second))
		var te *TaskError
		switch {
		case c.err == "" && (err != nil || string(r) != c.result):
			t.Errorf("%s: %s, %v; want %s", c.fn, r, err, c.result)
		case c.err != "" && (!errors.As(err, &te) || !strings.HasPrefix(te.Message, c.err)):
			t.Errorf("%s: %s, %v; want the error %q", c.fn, r, err, c.err)
		}
	}
	var te *TaskError
	if _, err := futures[6].Wait(bg); !errors.As(err, &te) || te.Message != "no function 'nope' in this worker" {
		t.Errorf("unknown function: %v", err)
	}
	if err := p.CloseTasks(); err != nil {
		t.Fatal(err)
	}
	if err := within(t, 30*time.Second, "Serve", func() error { return <-served }); err != nil {
		t.Fatalf("Serve after CloseTasks: %v", err)
	}
}

// Cancelling Serve's context ends it within a bound; a handler that gives up
// with the context has its task given back, for another worker.
func TestPoolServeCancelledGivesTheTaskBack(t *testing.T) {
	p := openPool(t)
	running := make(chan struct{})
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- p.Serve(ctx, map[string]Handler{
			"wait": func(ctx context.Context, _ json.RawMessage) (any, error) {
				close(running)
				<-ctx.Done()
				return nil, ctx.Err()
			},
		})
	}()
	f := submit(t, p, "wait", 1)
	within(t, 30*time.Second, "the handler", func() struct{} { <-running; return struct{}{} })
	cancel()
	if err := within(t, 30*time.Second, "Serve", func() error { return <-served }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve cancelled: %v", err)
	}
	task := takeNow(t, p) // back in the pool
	if task.ID() != f.ID() {
		t.Fatalf("took %d, want %d", task.ID(), f.ID())
	}
	if err := task.Finish("later"); err != nil {
		t.Fatal(err)
	}
	if r := waitJSON(t, f); r != `"later"` {
		t.Fatal(r)
	}

	// An idle Serve notices the cancellation too.
	ctx2, cancel2 := context.WithCancel(bg)
	go func() { served <- p.Serve(ctx2, nil) }()
	cancel2()
	if err := within(t, 30*time.Second, "Serve", func() error { return <-served }); !errors.Is(err, context.Canceled) {
		t.Fatalf("idle Serve cancelled: %v", err)
	}
	dctx, dcancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer dcancel()
	if err := p.Serve(dctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Serve past its deadline: %v", err)
	}
}

// Goroutines submitting and waiting each for their own results, Next racing
// them, and several Serve goroutines: every task's result reaches its Future
// exactly once.
func TestPoolConcurrentSubmittersAndWorkers(t *testing.T) {
	p := openPool(t)
	worker := must[*Pool](t)(OpenPool(p.Name(), OpenOnly()))
	defer worker.Close()
	ctx := withTimeout(t, 60*time.Second)
	var serving sync.WaitGroup
	for i := 0; i < 3; i++ {
		serving.Add(1)
		go func() {
			defer serving.Done()
			if err := worker.Serve(ctx, testHandlers()); err != nil {
				t.Errorf("Serve: %v", err)
			}
		}()
	}
	const goroutines, each = 4, 50
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				v := g*1000 + i
				f, err := p.Submit(ctx, "add", []int{v, 1})
				if err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 { // someone else's result may come first: Next hands it over
					if _, err := p.Next(ctx); err != nil && !errors.Is(err, ErrInvalidArg) {
						t.Error(err)
						return
					}
				}
				var n int
				if err := f.Decode(ctx, &n); err != nil || n != v+1 {
					t.Errorf("task %d: %d, %v", v, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := p.CloseTasks(); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "the workers", func() struct{} { serving.Wait(); return struct{}{} })
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

// ---- a worker in another process ------------------------------------------

func init() {
	syncHelpers["pool-serve"] = helperPoolServe
}

// Serves testHandlers plus "work" until the pool is closed, then says
// "served N". With POLYIPC_GO_TEST_HANG=1, "work" says "hanging" and
// blocks until the process is killed.
func helperPoolServe(name string) int {
	p, err := OpenPool(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	defer p.Close()
	ctx, cancel := helperCtx()
	defer cancel()
	handlers := testHandlers()
	var n int
	for fn, h := range handlers {
		handlers[fn] = func(ctx context.Context, args json.RawMessage) (any, error) {
			n++
			return h(ctx, args)
		}
	}
	handlers["work"] = func(ctx context.Context, args json.RawMessage) (any, error) {
		if os.Getenv("POLYIPC_GO_TEST_HANG") == "1" {
			fmt.Println("hanging")
			select {} // until SIGKILL
		}
		n++
		return map[string]any{"args": args, "pid": os.Getpid()}, nil
	}
	if err := p.Serve(ctx, handlers); err != nil {
		return helperFail("serve", err)
	}
	fmt.Printf("served %d\n", n)
	return 0
}

// A worker process killed with SIGKILL mid-task loses nothing: its task goes
// to a second worker process, and the submitter gets exactly one result per
// task.
func TestPoolWorkerKilledMidTaskHandsItToAnother(t *testing.T) {
	p := openPool(t)
	ctx := withTimeout(t, 60*time.Second)
	var futures []*Future
	for i := 0; i < 10; i++ {
		futures = append(futures, submit(t, p, "add", []int{i, i}))
	}
	hung := submit(t, p, "work", map[string]int{"n": 7})
	for i := 10; i < 20; i++ {
		futures = append(futures, submit(t, p, "add", []int{i, i}))
	}
	first, out := child(t, "pool-serve", p.Name(), "POLYIPC_GO_TEST_HANG=1")
	if line := readLine(t, out, 30*time.Second); line != "hanging" {
		t.Fatalf("first worker said %q", line)
	}
	for i := 0; i < 10; i++ { // served before the hang
		if r := waitJSON(t, futures[i]); r != strconv.Itoa(2*i) {
			t.Fatalf("task %d: %s", i, r)
		}
	}
	killChild(t, first)

	second, out2 := child(t, "pool-serve", p.Name())
	var r struct {
		Args struct{ N int }
		Pid  int
	}
	if err := hung.Decode(ctx, &r); err != nil || r.Args.N != 7 || r.Pid != second.Process.Pid {
		t.Fatalf("the killed worker's task: %+v, %v (second worker %d)", r, err, second.Process.Pid)
	}
	for i := 10; i < 20; i++ {
		if r := waitJSON(t, futures[i]); r != strconv.Itoa(2*i) {
			t.Fatalf("task %d: %s", i, r)
		}
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.CloseTasks(); err != nil {
		t.Fatal(err)
	}
	if line := readLine(t, out2, 30*time.Second); line != "served 11" {
		t.Fatalf("second worker said %q", line)
	}
	if err := waitChild(t, second, 30*time.Second); err != nil {
		t.Fatalf("second worker: %v", err)
	}
	// Exactly one result per task: none is left to come.
	if _, err := p.Next(bg); !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("Next after every result: %v", err)
	}
	wantRedeliveries(t, p.Stat, 1)
}

// ---- cancelling -------------------------------------------------------------

func cancelNow(t *testing.T, f *Future) bool {
	t.Helper()
	ok, err := f.Cancel()
	if err != nil {
		t.Fatalf("Cancel task %d: %v", f.ID(), err)
	}
	return ok
}

// wantCancelled checks that f is done and cancelled, in every way it says so.
func wantCancelled(t *testing.T, f *Future) {
	t.Helper()
	if !isDone(f.done) || !f.Cancelled() {
		t.Fatalf("task %d: done %v, Cancelled %v", f.ID(), isDone(f.done), f.Cancelled())
	}
	_, err := f.Wait(withTimeout(t, 10*time.Second))
	var te *TaskError
	if !errors.Is(err, ErrCancelled) || errors.As(err, &te) || errors.Is(err, context.Canceled) ||
		!strings.Contains(err.Error(), fmt.Sprintf("task %d", f.ID())) {
		t.Fatalf("Wait of cancelled task %d: %v", f.ID(), err)
	}
	var v any
	if err := f.Decode(bg, &v); !errors.Is(err, ErrCancelled) {
		t.Fatalf("Decode of cancelled task %d: %v", f.ID(), err)
	}
}

func TestPoolCancelOfATaskNoWorkerTookWithdrawsIt(t *testing.T) {
	p := openPool(t)
	worker := must[*Pool](t)(OpenPool(p.Name(), OpenOnly()))
	defer worker.Close()
	f := submit(t, p, "f", 1)
	next := submit(t, p, "f", 2)
	if !cancelNow(t, f) {
		t.Fatal("Cancel of a waiting task: false")
	}
	wantCancelled(t, f)
	if next.Cancelled() {
		t.Fatal("the other task is cancelled too")
	}
	// A worker takes the next task, never the cancelled one.
	task := takeNow(t, worker)
	if task.ID() != next.ID() || string(task.Args()) != "2" {
		t.Fatalf("took task %d %s, want %d", task.ID(), task.Args(), next.ID())
	}
	if _, err := worker.TryTake(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryTake after the last task: %v", err)
	}
	if err := task.Finish(20); err != nil {
		t.Fatal(err)
	}
	if err := p.Join(withTimeout(t, 10*time.Second)); err != nil { // not waiting for the cancelled one
		t.Fatalf("Join: %v", err)
	}
	if r := waitJSON(t, next); r != "20" {
		t.Fatal(r)
	}
	// Its cancelled result was collected: none is left to come, nor pending.
	if _, err := p.Next(bg); !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("Next after every result: %v", err)
	}
	var st struct {
		ResultsPending int `json:"results_pending"`
	}
	if raw := must[json.RawMessage](t)(p.Stat()); json.Unmarshal(raw, &st) != nil || st.ResultsPending != 0 {
		t.Fatalf("Stat: %s", raw)
	}
	// Again, and after its result: false, no error.
	if cancelNow(t, f) || cancelNow(t, next) {
		t.Fatal("Cancel of a done task: true")
	}
	wantCancelled(t, f)
	if r := waitJSON(t, next); r != "20" {
		t.Fatal(r)
	}
}

func TestPoolCancelOfATakenTaskLetsItRun(t *testing.T) {
	p := openPool(t)
	f := submit(t, p, "f", 1)
	task := takeNow(t, p)
	if cancelNow(t, f) {
		t.Fatal("Cancel of a task a worker holds: true")
	}
	if f.Cancelled() || isDone(f.done) {
		t.Fatal("a running task's Future is done")
	}
	if err := task.Finish(7); err != nil {
		t.Fatal(err)
	}
	if r := waitJSON(t, f); r != "7" || f.Cancelled() {
		t.Fatalf("result %s, Cancelled %v", r, f.Cancelled())
	}
	if cancelNow(t, f) {
		t.Fatal("Cancel after the result: true")
	}
	if err := p.Join(withTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}

	// Finished but not yet collected: the result is what counts.
	g := submit(t, p, "f", 2)
	if err := takeNow(t, p).Fail("no"); err != nil {
		t.Fatal(err)
	}
	if cancelNow(t, g) {
		t.Fatal("Cancel of a finished task: true")
	}
	var te *TaskError
	if _, err := g.Wait(withTimeout(t, 10*time.Second)); !errors.As(err, &te) || errors.Is(err, ErrCancelled) {
		t.Fatalf("Wait: %v", err)
	}
}

// Goroutines already waiting, on the Future and on the handle's Next, are
// answered with the cancellation (Next with the cancelled Future itself, or,
// when Cancel collected the result first, ErrInvalidArg: nothing else is to
// come). Repeated, so that the waiters are inside the native wait in most
// rounds; the outcome checked is the same whichever comes first.
func TestPoolCancelAnswersTheGoroutinesWaiting(t *testing.T) {
	p := openPool(t)
	for i := 0; i < 20; i++ {
		f := submit(t, p, "f", i)
		waited, nexted := make(chan error, 1), make(chan error, 1)
		started := make(chan struct{}, 2)
		go func() {
			started <- struct{}{}
			_, err := f.Wait(withTimeout(t, 30*time.Second))
			waited <- err
		}()
		go func() {
			started <- struct{}{}
			g, err := p.Next(withTimeout(t, 30*time.Second))
			switch {
			case err == nil && (g != f || !g.Cancelled()):
				err = fmt.Errorf("Next gave task %d, Cancelled %v", g.ID(), g.Cancelled())
			case errors.Is(err, ErrInvalidArg) && !errors.Is(err, ErrHandleClosed):
				err = nil
			}
			nexted <- err
		}()
		<-started
		<-started
		if !cancelNow(t, f) {
			t.Fatal("Cancel of a waiting task: false")
		}
		if err := within(t, 30*time.Second, "Wait", func() error { return <-waited }); !errors.Is(err, ErrCancelled) {
			t.Fatalf("the waiting Wait: %v", err)
		}
		if err := within(t, 30*time.Second, "Next", func() error { return <-nexted }); err != nil {
			t.Fatalf("the waiting Next: %v", err)
		}
		wantCancelled(t, f)
	}
	if _, err := p.TryTake(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryTake: %v", err)
	}
	if err := p.Join(withTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// Every path that parses a result (by id and any) reads "cancelled".
func TestPoolCancelledResultMessageIsTheCancellation(t *testing.T) {
	p := openPool(t)
	f, err := p.deliver([]byte(`{"id":99,"ok":false,"cancelled":true,"error":"cancelled"}`))
	if err != nil {
		t.Fatal(err)
	}
	wantCancelled(t, f)
	if ok, err := f.Cancel(); ok || err != nil {
		t.Fatalf("Cancel of a cancelled task: %v, %v", ok, err)
	}
}

func TestPoolCancelAfterCloseIsHandleClosed(t *testing.T) {
	p := must[*Pool](t)(OpenPool(queueName(t)))
	done := submit(t, p, "f", 1)
	if err := takeNow(t, p).Finish(1); err != nil {
		t.Fatal(err)
	}
	waitJSON(t, done)
	pending := submit(t, p, "f", 2)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if ok, err := pending.Cancel(); ok || !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("Cancel after Close: %v, %v", ok, err)
	}
	if ok, err := done.Cancel(); ok || err != nil { // done: false, as ever
		t.Fatalf("Cancel of a done task after Close: %v, %v", ok, err)
	}
}

// A chunk is served into one array of results: a task whose result cannot be
// encoded, or is not JSON, fails alone, and the others keep their places.
func TestPoolChunkResultsKeepTheirPlacesAroundBadOnes(t *testing.T) {
	p := openPool(t)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- p.Serve(ctx, map[string]Handler{"mixed": func(_ context.Context, args json.RawMessage) (any, error) {
			var x int
			if err := json.Unmarshal(args, &x); err != nil {
				return nil, err
			}
			switch x {
			case 1:
				return json.RawMessage(`{"open":`), nil
			case 2:
				return math.Inf(1), nil
			case 3:
				return json.RawMessage(`{"raw":[3]}`), nil
			case 4:
				return nil, nil
			}
			return []int{x, x}, nil
		}})
	}()
	args := []any{0, 1, 2, 3, 4, 5}
	futures, err := p.SubmitMany(withTimeout(t, 30*time.Second), "mixed", args, len(args))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`[0,0]`, "is not JSON", "does not encode as JSON", `{"raw":[3]}`, `null`, `[5,5]`}
	for i, f := range futures {
		r, err := f.Wait(withTimeout(t, 30*time.Second))
		var te *TaskError
		switch {
		case strings.HasPrefix(want[i], "[") || strings.HasPrefix(want[i], "{") || want[i] == "null":
			if err != nil || string(r) != want[i] {
				t.Errorf("task %d: %s, %v; want %s", i, r, err, want[i])
			}
		case !errors.As(err, &te) || !strings.Contains(te.Message, want[i]):
			t.Errorf("task %d: %s, %v; want an error saying %q", i, r, err, want[i])
		}
	}
	cancel()
	<-served
}
