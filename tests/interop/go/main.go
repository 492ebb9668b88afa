// The Go interop agent: the Go binding and encoding/json. Messages and
// command lines: see ../README.md; the synchronisation scenarios are in
// sync.go, the pipe and shared-memory ones in ipc.go, the dict and list ones
// in manager.go, the worker pool ones in pool.go.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	polyipc "github.com/polyipc/polyipc/bindings/go"
)

const lang = "go"

var timeout = func() time.Duration {
	if s := os.Getenv("POLYIPC_INTEROP_TIMEOUT"); s != "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return time.Duration(f * float64(time.Second))
		}
	}
	return 60 * time.Second
}()

const fixed = "héllo wörld — 漢字かな한글 😀🎉 👩\u200d💻 e\u0301 𝄞 \U0010FFFF"
const escapes = "quote\" backslash\\ slash/ bs\b ff\f nl\n cr\r tab\t nul\x00 us\x1f del\x7f ls\u2028 ps\u2029 <&>"

// f64 is a double that stays a JSON floating point number: encoding/json
// writes float64(-0) as `-0` and integral values without a fraction, which
// other languages' decoders read as integers.
type f64 float64

func (f f64) MarshalJSON() ([]byte, error) {
	b := strconv.AppendFloat(nil, float64(f), 'g', -1, 64)
	if !bytes.ContainsAny(b, ".eEnI") {
		b = append(b, '.', '0')
	}
	return b, nil
}

func message(producer string, i int64) map[string]any {
	d := float64(i)
	list := make([]any, 0, 10)
	for k := int64(0); k < i%10; k++ {
		list = append(list, k)
	}
	m := map[string]any{
		"seq":      i,
		"producer": producer,
		"ints":     []any{int64(math.MinInt64), int64(math.MaxInt64), math.MaxInt64 - i, math.MinInt64 + i, i * 1000000007, -i, int64(0)},
		"doubles": []any{f64(1.7976931348623157e308), f64(5e-324), f64(math.Copysign(0, -1)), f64(2.2250738585072014e-308),
			f64((d + 0.5) / 7.0), f64(-((d + 1) * 1e-300)), f64((d + 1) * 1e21), f64(d + 0.25)},
		"flags": []any{true, false, nil},
		"strings": map[string]any{
			"fixed":   fixed,
			"escapes": escapes,
			"computed": string(rune(0x4E00+i%20902)) + string(rune(0x1F600+i%80)) + "a" + string(rune(0x0301)) +
				string(rune(0xAC00+i%11172)) + string(rune(0x10000+(i*7919)%0x100000)),
			"empty": "",
		},
		"ключ🔑": i,
		"nested": map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{"d": []any{
			i, map[string]any{"e": []any{[]any{}, map[string]any{}, nil, true, false}}, []any{[]any{[]any{"deep"}}}}}}}},
		"list": list,
	}
	if i%1000 == 999 {
		m["big"] = strings.Repeat("ü", 20000) + "|" + strconv.FormatInt(i, 10)
	}
	return m
}

func show(v any) string {
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprintf("%v", v)
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func kind(v any) string {
	switch x := v.(type) {
	case nil, bool:
		return "literal"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "double"
		}
		return "integer"
	case int64:
		return "integer"
	case f64:
		return "double"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// diff: "" when got (decoded with UseNumber) equals want, else the first difference.
func diff(got, want any, path string) string {
	same := false
	switch w := want.(type) {
	case nil:
		same = got == nil
	case bool:
		g, ok := got.(bool)
		same = ok && g == w
	case int64:
		if g, ok := got.(json.Number); ok && !strings.ContainsAny(string(g), ".eE") {
			n, err := strconv.ParseInt(string(g), 10, 64)
			same = err == nil && n == w
		}
	case f64:
		if g, ok := got.(json.Number); ok && strings.ContainsAny(string(g), ".eE") {
			f, err := strconv.ParseFloat(string(g), 64)
			same = err == nil && math.Float64bits(f) == math.Float64bits(float64(w))
		}
	case string:
		g, ok := got.(string)
		same = ok && g == w
	case []any:
		if g, ok := got.([]any); ok {
			if len(g) != len(w) {
				return fmt.Sprintf("%s: array of %d elements, want %d", path, len(g), len(w))
			}
			for k := range w {
				if d := diff(g[k], w[k], fmt.Sprintf("%s[%d]", path, k)); d != "" {
					return d
				}
			}
			return ""
		}
	case map[string]any:
		if g, ok := got.(map[string]any); ok {
			keys := make([]string, 0, len(w))
			for k := range w {
				if _, ok := g[k]; !ok {
					return fmt.Sprintf("%s: key %q missing", path, k)
				}
				keys = append(keys, k)
			}
			for k := range g {
				if _, ok := w[k]; !ok {
					return fmt.Sprintf("%s: unexpected key %q", path, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				if d := diff(g[k], w[k], path+"."+k); d != "" {
					return d
				}
			}
			return ""
		}
	}
	if same {
		return ""
	}
	return fmt.Sprintf("%s: got %s (%s), want %s (%s)", path, show(got), kind(got), show(want), kind(want))
}

type failure struct{ msg string }

func (f failure) Error() string { return f.msg }

func failf(format string, a ...any) error { return failure{fmt.Sprintf(format, a...)} }

func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func check(msg any, producer string, seq int64) error {
	if d := diff(msg, message(producer, seq), "$"); d != "" {
		return failf("message %s#%d: %s", producer, seq, d)
	}
	return nil
}

// get takes one message within the timeout and decodes it; ErrClosed passes through.
func get(ctx context.Context, q *polyipc.Queue, what string) (map[string]any, error) {
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	data, err := q.Get(c)
	if errors.Is(err, polyipc.ErrClosed) {
		return nil, err
	}
	if errors.Is(err, polyipc.ErrTimeout) {
		return nil, failf("%s: nothing came within %v", what, timeout)
	}
	if err != nil {
		return nil, failf("%s: %v", what, err)
	}
	v, err := decode(data)
	if err != nil {
		return nil, failf("%s: encoding/json cannot decode it: %v", what, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, failf("%s: not an object: %s", what, show(v))
	}
	return m, nil
}

func seqOf(m map[string]any) (string, int64, bool) {
	p, ok1 := m["producer"].(string)
	n, ok2 := m["seq"].(json.Number)
	if !ok1 || !ok2 {
		return "", 0, false
	}
	s, err := strconv.ParseInt(string(n), 10, 64)
	return p, s, err == nil
}

func produce(ctx context.Context, queue string, n int64, id string, jobs bool) error {
	var opts []polyipc.Option
	if jobs {
		opts = append(opts, polyipc.Joinable())
	}
	q, err := polyipc.OpenQueue(queue, opts...)
	if err != nil {
		return err
	}
	defer q.Close()
	for i := int64(0); i < n; i++ {
		c, cancel := context.WithTimeout(ctx, timeout)
		err := q.PutJSON(c, message(id, i))
		cancel()
		if err != nil {
			return failf("put #%d: %v", i, err)
		}
	}
	if !jobs {
		fmt.Printf("go: produced %d messages on %s\n", n, queue)
		return nil
	}
	if err := q.CloseWrites(); err != nil {
		return err
	}
	c, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	start := time.Now()
	if err := q.Join(c); err != nil {
		return failf("join: %v", err)
	}
	fmt.Printf("go: put %d jobs, join returned after %v\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

func consume(ctx context.Context, queue string, n int64, id string) error {
	q, err := polyipc.OpenQueue(queue)
	if err != nil {
		return err
	}
	defer q.Close()
	for k := int64(0); k < n; k++ {
		m, err := get(ctx, q, fmt.Sprintf("waiting for message #%d", k))
		if errors.Is(err, polyipc.ErrClosed) {
			return failf("end of stream after %d messages", k)
		}
		if err != nil {
			return err
		}
		if p, s, ok := seqOf(m); !ok || s != k || p != id {
			return failf("message #%d: got seq %s from %s, want seq %d from %q", k, show(m["seq"]), show(m["producer"]), k, id)
		}
		if err := check(m, id, k); err != nil {
			return err
		}
	}
	if extra, err := q.TryGet(); err == nil {
		return failf("after %d messages the queue still holds one: %.120s", n, extra)
	}
	fmt.Printf("go: ok %d messages from %s\n", n, id)
	return nil
}

func consumeUntilClosed(ctx context.Context, queue, out string, joinable bool, hangAfter int) (err error) {
	var opts []polyipc.Option
	if joinable {
		opts = append(opts, polyipc.Joinable())
	}
	q, err := polyipc.OpenQueue(queue, opts...)
	if err != nil {
		return err
	}
	defer q.Close()
	var got []string
	defer func() {
		f, e := os.Create(out)
		if e != nil {
			if err == nil {
				err = e
			}
			return
		}
		w := bufio.NewWriter(f)
		for _, line := range got {
			w.WriteString(line)
		}
		w.Flush()
		f.Close()
	}()
	last := map[string]int64{}
	for {
		m, err := get(ctx, q, fmt.Sprintf("waiting for message #%d", len(got)))
		if errors.Is(err, polyipc.ErrClosed) {
			break
		}
		if err != nil {
			return err
		}
		p, s, ok := seqOf(m)
		if hangAfter >= 0 && len(got) == hangAfter {
			fmt.Printf("took job %s %d\n", p, s)
			os.Stdout.Sync()
			select {} // holds the lease until killed
		}
		if !ok {
			return failf("message #%d: no producer/seq: %s", len(got), show(m))
		}
		if err := check(m, p, s); err != nil {
			return err
		}
		if l, seen := last[p]; seen && s <= l {
			return failf("message %s#%d came after %s#%d", p, s, p, l)
		}
		last[p] = s
		got = append(got, fmt.Sprintf("%s %d\n", p, s))
		if joinable {
			if err := q.TaskDone(); err != nil {
				return err
			}
		}
	}
	fmt.Printf("go: ok %d messages, end of stream\n", len(got))
	return nil
}

func closeWrites(queue string) error {
	q, err := polyipc.OpenQueue(queue, polyipc.OpenOnly())
	if err != nil {
		return err
	}
	defer q.Close()
	return q.CloseWrites()
}

func run(ctx context.Context, a []string) error {
	num := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "go agent: not a number: %s\n", s)
			os.Exit(2)
		}
		return n
	}
	switch {
	case len(a) == 4 && a[0] == "produce":
		return produce(ctx, a[1], num(a[2]), a[3], false)
	case len(a) == 4 && a[0] == "jobs-produce":
		return produce(ctx, a[1], num(a[2]), a[3], true)
	case len(a) == 4 && a[0] == "consume":
		return consume(ctx, a[1], num(a[2]), a[3])
	case len(a) == 3 && a[0] == "many-consume":
		return consumeUntilClosed(ctx, a[1], a[2], false, -1)
	case len(a) == 3 && a[0] == "jobs-consume":
		return consumeUntilClosed(ctx, a[1], a[2], true, -1)
	case len(a) == 5 && a[0] == "jobs-consume" && a[3] == "--hang-after":
		return consumeUntilClosed(ctx, a[1], a[2], true, int(num(a[4])))
	case len(a) == 2 && a[0] == "close-writes":
		return closeWrites(a[1])
	case len(a) == 2 && a[0] == "pool-work":
		return poolWork(ctx, a[1], -1)
	case len(a) == 4 && a[0] == "pool-work" && a[2] == "--hang-after":
		return poolWork(ctx, a[1], int(num(a[3])))
	case len(a) == 3 && a[0] == "pool-submit":
		return poolSubmit(ctx, a[1], num(a[2]))
	case len(a) == 4 && a[0] == "pool-map":
		return poolMap(ctx, a[1], num(a[2]), int(num(a[3])))
	case len(a) == 3 && a[0] == "pool-complete":
		return poolComplete(ctx, a[1], num(a[2]))
	case len(a) == 3 && a[0] == "dump":
		b, err := json.Marshal(message(a[2], num(a[1])))
		if err == nil {
			fmt.Println(string(b))
		}
		return err
	}
	if handled, err := runSync(ctx, a, num); handled {
		return err
	}
	if handled, err := runIPC(ctx, a, num); handled {
		return err
	}
	if handled, err := runManager(a, num); handled {
		return err
	}
	fmt.Fprintln(os.Stderr, "usage: agent produce|consume|jobs-produce QUEUE N ID | many-consume|jobs-consume QUEUE OUT [--hang-after K] | close-writes QUEUE\n"+
		"       agent tickets LOCK FILE ID [--hang] | semaphore SEM LOG ID ITERATIONS [--hang] | event-wait EVENT READY ID | event-set EVENT ID\n"+
		"       agent barrier BARRIER PARTIES ROUNDS OUT ID | barrier-timeout BARRIER PARTIES TIMEOUT_MS ID | condition-produce|condition-consume COND FILE N ID\n"+
		"       agent pipe-ping|pipe-pong PIPE N ID | pipe-send PIPE K ID [--hang] | pipe-eof PIPE ID | shm-write|shm-check SHM SIZE SEED ID | counter ARRAY N ID\n"+
		"       agent dict-write DICT N ID | dict-check DICT LANGS ID | list-append LIST N ID | list-check LIST LANGS N ID\n"+
		"       agent dict-relay DICT INDEX COUNT ROUNDS ID\n"+
		"       agent pool-work POOL [--hang-after K] | pool-submit POOL N | pool-map POOL N CHUNK | pool-complete POOL N")
	os.Exit(2)
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: FAIL: %v\n", lang, err)
		os.Exit(1)
	}
}
