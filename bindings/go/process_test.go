package polyipc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

type job struct {
	Job  int    `json:"job"`
	From string `json:"from"`
	Pid  int    `json:"pid"`
}

// runHelper is the child side of the cross-process tests (see TestMain).
// The queue name comes in POLYIPC_GO_TEST_QUEUE.
func runHelper(which string) int {
	if h, ok := syncHelpers[which]; ok { // sync_process_test.go
		return h(os.Getenv("POLYIPC_GO_TEST_QUEUE"))
	}
	name := os.Getenv("POLYIPC_GO_TEST_QUEUE")
	q, err := OpenQueue(name, OpenOnly())
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	switch which {
	case "produce": // puts N jobs, then ends the stream
		n, _ := strconv.Atoi(os.Getenv("POLYIPC_GO_TEST_COUNT"))
		for i := 0; i < n; i++ {
			if err := q.PutJSON(ctx, job{Job: i, From: "go", Pid: os.Getpid()}); err != nil {
				fmt.Fprintln(os.Stderr, "helper put:", err)
				return 1
			}
		}
		if err := q.CloseWrites(); err != nil {
			fmt.Fprintln(os.Stderr, "helper close_writes:", err)
			return 1
		}
		return 0
	case "consume": // takes jobs until the stream ends, task_done each
		n := 0
		for {
			var j job
			err := q.GetJSON(ctx, &j)
			if errors.Is(err, ErrClosed) {
				fmt.Printf("consumed %d\n", n)
				return 0
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "helper get:", err)
				return 1
			}
			n++
			if err := q.TaskDone(); err != nil {
				fmt.Fprintln(os.Stderr, "helper task_done:", err)
				return 1
			}
		}
	case "lease": // takes one job, says so, and holds it until killed
		data, err := q.Get(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper get:", err)
			return 1
		}
		fmt.Printf("leased %s\n", data)
		// Hold the lease until SIGKILL; stdin reaches EOF if the parent goes.
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 3
	case "finish-out-of-order": // takes three, ends the 3rd and the 2nd by message, holds the 1st until killed
		var got [3][]byte
		for i := range got {
			if got[i], err = q.Get(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "helper get:", err)
				return 1
			}
		}
		for _, i := range []int{2, 1} {
			if err := q.TaskDoneMessage(got[i]); err != nil {
				fmt.Fprintf(os.Stderr, "helper task_done_message(%s): %v\n", got[i], err)
				return 1
			}
		}
		fmt.Printf("ended %s %s, holding %s\n", got[2], got[1], got[0])
		_, _ = io.Copy(io.Discard, os.Stdin) // until SIGKILL; EOF if the parent goes
		return 3
	}
	fmt.Fprintln(os.Stderr, "helper: unknown", which)
	return 2
}

// child starts this test binary as helper `which` on queue (or object) name.
func child(t *testing.T, which, name string, env ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+which, "POLYIPC_GO_TEST_QUEUE="+name)
	if os.Getenv("GORACE") == "" {
		// Under -race a child that exits sleeps 1 s first (atexit_sleep_ms).
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		if cmd.ProcessState == nil { // still ours to reap: end it
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, bufio.NewReader(stdout)
}

func readLine(t *testing.T, r *bufio.Reader, d time.Duration) string {
	t.Helper()
	line := within(t, d, "the child's line", func() string {
		s, _ := r.ReadString('\n')
		return s
	})
	return strings.TrimSpace(line)
}

func waitChild(t *testing.T, cmd *exec.Cmd, d time.Duration) error {
	t.Helper()
	return within(t, d, "the child", cmd.Wait)
}

// wantRedeliveries checks the "redeliveries" counter of an object's stat.
func wantRedeliveries(t *testing.T, stat func() (json.RawMessage, error), want int) {
	t.Helper()
	var st struct {
		Counters struct {
			Redeliveries int `json:"redeliveries"`
		} `json:"counters"`
	}
	raw, err := stat()
	if err == nil {
		err = json.Unmarshal(raw, &st)
	}
	if err != nil || st.Counters.Redeliveries != want {
		t.Fatalf("stat after the redelivery: %s, %v (want %d redeliveries)", raw, err, want)
	}
}

func TestChildProcessProducesParentConsumes(t *testing.T) {
	q := openQueue(t)
	const n = 500
	cmd, _ := child(t, "produce", q.Name(), "POLYIPC_GO_TEST_COUNT="+strconv.Itoa(n))
	ctx, cancel := context.WithTimeout(bg, 60*time.Second)
	defer cancel()
	for i := 0; ; i++ {
		var j job
		err := q.GetJSON(ctx, &j)
		if errors.Is(err, ErrClosed) {
			if i != n {
				t.Fatalf("stream ended after %d jobs, want %d", i, n)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if j.Job != i || j.From != "go" || j.Pid != cmd.Process.Pid {
			t.Fatalf("job %d: got %+v from pid %d", i, j, cmd.Process.Pid)
		}
	}
	if err := waitChild(t, cmd, 30*time.Second); err != nil {
		t.Fatalf("producer child: %v", err)
	}
}

func TestParentProducesChildConsumesAndJoinReturns(t *testing.T) {
	q := openQueue(t, Joinable())
	cmd, out := child(t, "consume", q.Name())
	const n = 200
	for i := 0; i < n; i++ {
		if err := q.PutJSON(bg, job{Job: i, From: "go"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(bg, 60*time.Second)
	defer cancel()
	if err := q.Join(ctx); err != nil { // returns once the child task_done'd all
		t.Fatalf("Join: %v", err)
	}
	if err := q.CloseWrites(); err != nil {
		t.Fatal(err)
	}
	if line := readLine(t, out, 30*time.Second); line != fmt.Sprintf("consumed %d", n) {
		t.Fatalf("child said %q", line)
	}
	if err := waitChild(t, cmd, 30*time.Second); err != nil {
		t.Fatalf("consumer child: %v", err)
	}
}

// A consumer killed with SIGKILL while it holds a joinable lease loses no
// work: the message comes back, and Join still returns.
func TestKilledLeaseHolderMessageIsRedelivered(t *testing.T) {
	q := openQueue(t, Joinable())
	if err := q.PutJSON(bg, job{Job: 7, From: "go"}); err != nil {
		t.Fatal(err)
	}
	if err := q.PutJSON(bg, job{Job: 8, From: "go"}); err != nil {
		t.Fatal(err)
	}
	cmd, out := child(t, "lease", q.Name())
	line := readLine(t, out, 30*time.Second)
	if !strings.HasPrefix(line, "leased ") || !strings.Contains(line, `"job":7`) {
		t.Fatalf("child said %q", line)
	}
	killChild(t, cmd)

	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	got := map[int]bool{}
	for len(got) < 2 {
		var j job
		if err := q.GetJSON(ctx, &j); err != nil {
			t.Fatalf("after the kill, with %v taken: %v", got, err)
		}
		got[j.Job] = true
		if err := q.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
	if !got[7] || !got[8] {
		t.Fatalf("got jobs %v, want 7 (redelivered) and 8", got)
	}
	if err := q.Join(ctx); err != nil {
		t.Fatalf("Join after the redelivery: %v", err)
	}
	wantRedeliveries(t, q.Stat, 1)
}

// A consumer whose goroutines finish out of order ends each message by
// TaskDoneMessage; killed with SIGKILL, it leaves exactly its unfinished one
// ("a", the oldest) to be handed out again, not a finished one.
func TestKilledConsumerLeavesOnlyItsUnfinishedMessage(t *testing.T) {
	q := openQueue(t, Joinable())
	for _, m := range []string{`"a"`, `"b"`, `"c"`} {
		mustPut(t, q, m)
	}
	cmd, out := child(t, "finish-out-of-order", q.Name())
	if line := readLine(t, out, 30*time.Second); line != `ended "c" "b", holding "a"` {
		t.Fatalf("child said %q", line)
	}
	killChild(t, cmd)

	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	data, err := q.Get(ctx) // handed out again once the death is noticed
	if err != nil {
		t.Fatalf("Get after the kill: %v", err)
	}
	if string(data) != `"a"` {
		t.Fatalf("after the kill got %s, want \"a\"", data)
	}
	short, cancelShort := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancelShort()
	if more, err := q.Get(short); !errors.Is(err, ErrTimeout) {
		t.Fatalf("after \"a\", Get gave %q, %v; want nothing (ErrTimeout)", more, err)
	}
	if err := q.TaskDoneMessage(data); err != nil {
		t.Fatalf("TaskDoneMessage(%s): %v", data, err)
	}
	if err := q.Join(ctx); err != nil {
		t.Fatalf("Join after \"a\" was done: %v", err)
	}
	wantRedeliveries(t, q.Stat, 1)
}
