package polyipc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os/exec"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// openDict opens (creating) a fresh dict closed at the end of the test.
func openDict(t testing.TB, opts ...Option) *Dict {
	t.Helper()
	d := must[*Dict](t)(OpenDict(queueName(t), opts...))
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func mustSet(t testing.TB, d *Dict, key string, v any) {
	t.Helper()
	if err := d.Set(key, v); err != nil {
		t.Fatalf("Set(%q, %v): %v", key, v, err)
	}
}

// getText is the JSON text of key, or "<absent>".
func getText(t testing.TB, d *Dict, key string) string {
	t.Helper()
	data, ok, err := d.GetJSON(key)
	if err != nil {
		t.Fatalf("GetJSON(%q): %v", key, err)
	}
	if !ok {
		if data != nil {
			t.Fatalf("GetJSON(%q): absent but %q", key, data)
		}
		return "<absent>"
	}
	return string(data)
}

func wantKeys(t testing.TB, d *Dict, want ...string) {
	t.Helper()
	keys, err := d.Keys()
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		want = []string{}
	}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("Keys = %q, want %q", keys, want)
	}
	if n, err := d.Len(); n != len(want) || err != nil {
		t.Fatalf("Len = %d, %v; want %d", n, err, len(want))
	}
}

func wantSwap(t testing.TB, d *Dict, key string, expected, desired any, want bool) {
	t.Helper()
	swapped, err := d.CompareAndSet(key, expected, desired)
	if err != nil || swapped != want {
		t.Fatalf("CompareAndSet(%q, %v, %v) = %v, %v; want %v", key, expected, desired, swapped, err, want)
	}
}

type point struct {
	X []int  `json:"x"`
	S string `json:"s"`
}

func TestDictSetGetReplaceDeleteLenKeysItems(t *testing.T) {
	d := openDict(t)
	wantKeys(t, d)
	var p point
	if ok, err := d.Get("a", &p); ok || err != nil {
		t.Fatalf("Get of an absent key = %v, %v", ok, err)
	}
	if ok, err := d.Contains("a"); ok || err != nil {
		t.Fatalf("Contains of an absent key = %v, %v", ok, err)
	}

	mustSet(t, d, "a", point{X: []int{1, 2}, S: "one"})
	if err := d.SetJSON("b", []byte(`{ "y" : [2, 3] }`)); err != nil {
		t.Fatal(err)
	}
	mustSet(t, d, "c", nil) // JSON null: present
	mustSet(t, d, "raw", json.RawMessage(`[true, false]`))
	if ok, err := d.Get("a", &p); !ok || err != nil || !reflect.DeepEqual(p, point{X: []int{1, 2}, S: "one"}) {
		t.Fatalf("Get(a) = %v, %v, %+v", ok, err, p)
	}
	if got := getText(t, d, "a"); got != `{"x":[1,2],"s":"one"}` {
		t.Fatalf("a = %s", got)
	}
	if got := getText(t, d, "b"); got != `{ "y" : [2, 3] }` { // the text as set
		t.Fatalf("b = %s", got)
	}
	if got := getText(t, d, "c"); got != "null" {
		t.Fatalf("c = %s", got)
	}
	if ok, err := d.Contains("c"); !ok || err != nil {
		t.Fatalf("Contains(c) = %v, %v", ok, err)
	}
	wantKeys(t, d, "a", "b", "c", "raw")

	mustSet(t, d, "a", 3) // replace: moves to the end of the order
	var n int
	if ok, err := d.Get("a", &n); !ok || err != nil || n != 3 {
		t.Fatalf("Get(a) after replace = %v, %v, %d", ok, err, n)
	}
	wantKeys(t, d, "b", "c", "raw", "a")
	items, err := d.Items()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 || string(items["a"]) != "3" || string(items["c"]) != "null" ||
		string(items["raw"]) != "[true, false]" {
		t.Fatalf("Items = %s", items)
	}
	var y struct{ Y []int }
	if err := json.Unmarshal(items["b"], &y); err != nil || !reflect.DeepEqual(y.Y, []int{2, 3}) {
		t.Fatalf("Items[b] = %s, %v", items["b"], err)
	}
	raw, err := d.ItemsJSON()
	if err != nil || !strings.HasPrefix(string(raw), `{"b":`) || !json.Valid(raw) {
		t.Fatalf("ItemsJSON = %s, %v", raw, err)
	}

	if ok, err := d.Delete("b"); !ok || err != nil {
		t.Fatalf("Delete(b) = %v, %v", ok, err)
	}
	if ok, err := d.Delete("b"); ok || err != nil {
		t.Fatalf("Delete(b) again = %v, %v", ok, err)
	}
	if got := getText(t, d, "b"); got != "<absent>" {
		t.Fatalf("b after Delete = %s", got)
	}
	wantKeys(t, d, "c", "raw", "a")

	if err := d.Clear(); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, d)
	if items, err := d.Items(); err != nil || len(items) != 0 {
		t.Fatalf("Items after Clear = %v, %v", items, err)
	}
	mustSet(t, d, "after-clear", true)
	wantKeys(t, d, "after-clear")

	var st struct {
		Kind  string `json:"kind"`
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	raw, err = d.Stat()
	if err == nil {
		err = json.Unmarshal(raw, &st)
	}
	if err != nil || st.Kind != "dict" || st.Count != 1 || !strings.HasSuffix(st.Name, d.Name()) {
		t.Fatalf("Stat = %s, %v", raw, err)
	}
}

// Keys and values go as UTF-8 bytes: characters outside the BMP (which
// Java's modified UTF-8 would mangle) come back intact, through another
// handle too.
func TestDictUnicodeKeysAndValues(t *testing.T) {
	d := openDict(t)
	keys := []string{"κλειδί", "🔑 key 😀", "", "𝄞"}
	for i, k := range keys {
		mustSet(t, d, k, map[string]any{"i": i, "v": "value " + k + " 🎉"})
	}
	other := must[*Dict](t)(OpenDict(d.Name(), OpenOnly()))
	defer other.Close()
	wantKeys(t, other, keys...)
	for i, k := range keys {
		var v struct {
			I int
			V string
		}
		if ok, err := other.Get(k, &v); !ok || err != nil || v.I != i || v.V != "value "+k+" 🎉" {
			t.Fatalf("Get(%q) = %v, %v, %+v", k, ok, err, v)
		}
	}
	items := must[map[string]json.RawMessage](t)(other.Items())
	if len(items) != len(keys) {
		t.Fatalf("Items = %s", items)
	}
	if _, ok := items["🔑 key 😀"]; !ok {
		t.Fatalf("Items lack the emoji key: %s", items)
	}
	if ok, err := other.Delete("🔑 key 😀"); !ok || err != nil {
		t.Fatalf("Delete(emoji) = %v, %v", ok, err)
	}
	wantKeys(t, d, "κλειδί", "", "𝄞")
}

func TestDictCompareAndSetAndSetIfAbsent(t *testing.T) {
	d := openDict(t)
	wantSwap(t, d, "n", Absent, 1, true) // only if absent
	wantSwap(t, d, "n", Absent, 5, false)
	if got := getText(t, d, "n"); got != "1" {
		t.Fatalf("n = %s", got)
	}
	wantSwap(t, d, "n", 2, 3, false)
	wantSwap(t, d, "n", json.RawMessage("1.0"), 2, true) // JSON equality: 1 == 1.0
	if got := getText(t, d, "n"); got != "2" {
		t.Fatalf("n = %s", got)
	}
	wantSwap(t, d, "n", 2.0, json.RawMessage("2.5"), true)
	var f float64
	if ok, err := d.Get("n", &f); !ok || err != nil || f != 2.5 {
		t.Fatalf("n = %v, %v, %v", ok, err, f)
	}

	// Whitespace and member order do not count; array order and types do.
	if err := d.SetJSON("o", []byte(`{"a":1,"b":[1,2]}`)); err != nil {
		t.Fatal(err)
	}
	wantSwap(t, d, "o", json.RawMessage(`{"b":[2,1],"a":1}`), "x", false)
	wantSwap(t, d, "o", map[string]any{"b": []any{1, 2}, "a": "1"}, "x", false)
	wantSwap(t, d, "o", json.RawMessage(" { \"b\" : [1, 2.0], \"a\" : 1.0 } "), map[string]int{}, true)
	if got := getText(t, d, "o"); got != "{}" {
		t.Fatalf("o = %s", got)
	}

	// desired Absent deletes, only on a match.
	wantSwap(t, d, "o", json.RawMessage("[]"), Absent, false)
	wantSwap(t, d, "o", map[string]int{}, Absent, true)
	if got := getText(t, d, "o"); got != "<absent>" {
		t.Fatalf("o = %s", got)
	}
	wantSwap(t, d, "o", Absent, Absent, true) // absent and stays so: "swapped" to absent
	wantSwap(t, d, "o", 1, 2, false)          // absent is not 1
	if got := getText(t, d, "o"); got != "<absent>" {
		t.Fatalf("o = %s", got)
	}

	// nil is JSON null, not Absent.
	mustSet(t, d, "z", nil)
	wantSwap(t, d, "z", Absent, 1, false)
	wantSwap(t, d, "z", nil, 1, true)

	// SetIfAbsent.
	if ok, err := d.SetIfAbsent("p", "first"); !ok || err != nil {
		t.Fatalf("SetIfAbsent(p) = %v, %v", ok, err)
	}
	if ok, err := d.SetIfAbsent("p", "second"); ok || err != nil {
		t.Fatalf("SetIfAbsent(p) again = %v, %v", ok, err)
	}
	if got := getText(t, d, "p"); got != `"first"` {
		t.Fatalf("p = %s", got)
	}

	// Malformed JSON in either value: an error, nothing changed.
	_, err := d.CompareAndSet("n", json.RawMessage("{bad"), 3)
	wantStatus(t, err, StatusInvalidJSON)
	_, err = d.CompareAndSet("n", 2.5, json.RawMessage("[1,"))
	wantStatus(t, err, StatusInvalidJSON)
	_, err = d.CompareAndSet("n", 2.5, json.RawMessage(""))
	wantStatus(t, err, StatusInvalidJSON) // empty is not JSON (and never means Absent)
	_, err = d.SetIfAbsent("q", json.RawMessage("nope"))
	wantStatus(t, err, StatusInvalidJSON)
	if got := getText(t, d, "n"); got != "2.5" {
		t.Fatalf("n = %s", got)
	}
	wantKeys(t, d, "n", "z", "p")
}

// Compare-and-set increments from goroutines of one process are exact (and
// race-free under -race), while another goroutine closes a second handle.
func TestDictCompareAndSetFromGoroutines(t *testing.T) {
	d := openDict(t)
	mustSet(t, d, "counter", 0)
	const goroutines, incs = 4, 200
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- casIncrement(d, "counter", incs)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := getText(t, d, "counter"); got != strconv.Itoa(goroutines*incs) {
		t.Fatalf("counter = %s, want %d", got, goroutines*incs)
	}
}

// casIncrement adds 1 to the integer at key n times by compare-and-set.
func casIncrement(d *Dict, key string, n int) error {
	_, err := casIncrementCounting(d, key, n)
	return err
}

// casIncrementCounting is casIncrement, counting the compare-and-sets that
// lost a race (and were retried).
func casIncrementCounting(d *Dict, key string, n int) (lost int, err error) {
	for i := 0; i < n; i++ {
		for {
			var v int64
			ok, err := d.Get(key, &v)
			if err != nil {
				return lost, err
			}
			if !ok {
				return lost, fmt.Errorf("%q is absent", key)
			}
			swapped, err := d.CompareAndSet(key, v, v+1)
			if err != nil {
				return lost, err
			}
			if swapped {
				break
			}
			lost++
		}
	}
	return lost, nil
}

func TestDictBadInput(t *testing.T) {
	d := openDict(t)
	mustSet(t, d, "k", 1)
	for _, key := range []string{"nul\x00key", "\xff\xfe", strings.Repeat("k", 4097)} {
		e := wantStatus(t, d.Set(key, 1), StatusInvalidArg)
		if !strings.Contains(e.Message, d.Name()) {
			t.Fatalf("the message %q does not name the dict", e.Message)
		}
		_, _, err := d.GetJSON(key)
		wantStatus(t, err, StatusInvalidArg)
		_, err = d.Delete(key)
		wantStatus(t, err, StatusInvalidArg)
		_, err = d.CompareAndSet(key, Absent, 1)
		wantStatus(t, err, StatusInvalidArg)
	}
	mustSet(t, d, strings.Repeat("k", 4096), 1) // the longest key
	if ok, err := d.Delete(strings.Repeat("k", 4096)); !ok || err != nil {
		t.Fatalf("Delete(long key) = %v, %v", ok, err)
	}

	for _, text := range []string{"{bad", "", "1 2", `{"a":}`, "nul\x00"} {
		wantStatus(t, d.SetJSON("k", []byte(text)), StatusInvalidJSON)
		wantStatus(t, d.Set("k", json.RawMessage(text)), StatusInvalidJSON)
	}
	wantStatus(t, d.SetJSON("k", nil), StatusInvalidJSON)
	wantStatus(t, d.Set("k", json.RawMessage(nil)), StatusInvalidJSON)
	wantStatus(t, d.Set("k", Absent), StatusInvalidArg) // Absent is for CompareAndSet only
	_, err := d.SetIfAbsent("k2", Absent)
	wantStatus(t, err, StatusInvalidArg)
	if err := d.Set("k", make(chan int)); err == nil || !strings.Contains(err.Error(), "unsupported type") {
		t.Fatalf("Set of a channel: %v", err)
	}
	var s string
	if ok, err := d.Get("k", &s); !ok || err == nil {
		t.Fatalf("Get of 1 into a string = %v, %v", ok, err)
	}
	if got := getText(t, d, "k"); got != "1" { // nothing changed
		t.Fatalf("k = %s", got)
	}
	wantKeys(t, d, "k")

	// Options and names.
	_, err = OpenDict(queueName(t), WithOrder(LIFO))
	wantStatus(t, err, StatusInvalidArg)
	_, err = OpenDict(queueName(t), WithMaxTasks(2))
	wantStatus(t, err, StatusInvalidArg)
	_, err = OpenDict(queueName(t), WithCapacity(-1))
	wantStatus(t, err, StatusInvalidArg)
	_, err = OpenDict("bad\x00name")
	wantStatus(t, err, StatusInvalidArg)
	_, err = OpenDict(queueName(t), OpenOnly())
	wantStatus(t, err, StatusNotFound)
	_, err = OpenDict(d.Name(), CreateOnly())
	wantStatus(t, err, StatusExists)

	// Another kind under the name, either way round.
	q := openQueue(t)
	_, err = OpenDict(q.Name())
	wantStatus(t, err, StatusIncompatible)
	_, err = OpenQueue(d.Name())
	wantStatus(t, err, StatusIncompatible)
}

func TestDictFullAndTooLarge(t *testing.T) {
	d := openDict(t, WithMaxItems(3))
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, d, k, k)
	}
	e := wantStatus(t, d.Set("d", "d"), StatusFull)
	if !strings.Contains(e.Message, "max_items") {
		t.Fatalf("message %q", e.Message)
	}
	_, err := d.SetIfAbsent("d", 4)
	wantStatus(t, err, StatusFull)
	mustSet(t, d, "a", "replaced") // replacing needs no new key
	if ok, err := d.Delete("b"); !ok || err != nil {
		t.Fatalf("Delete = %v, %v", ok, err)
	}
	mustSet(t, d, "d", "d")
	wantKeys(t, d, "c", "a", "d")

	small := openDict(t, WithCapacity(4096))
	mustSet(t, small, "x", 1)
	wantStatus(t, small.Set("big", strings.Repeat("b", 10000)), StatusTooLarge)
	wantKeys(t, small, "x")
}

func TestDictUseAfterClose(t *testing.T) {
	d := must[*Dict](t)(OpenDict(queueName(t)))
	mustSet(t, d, "k", 1)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	closed := func(err error) {
		t.Helper()
		wantStatus(t, err, StatusInvalidArg)
		if !errors.Is(err, ErrHandleClosed) {
			t.Fatalf("%v does not match ErrHandleClosed", err)
		}
	}
	closed(d.Set("k", 2))
	closed(d.SetJSON("k", []byte("2")))
	var v int
	_, err := d.Get("k", &v)
	closed(err)
	_, _, err = d.GetJSON("k")
	closed(err)
	_, err = d.Contains("k")
	closed(err)
	_, err = d.Delete("k")
	closed(err)
	_, err = d.CompareAndSet("k", 1, 2)
	closed(err)
	_, err = d.SetIfAbsent("j", 2)
	closed(err)
	_, err = d.Len()
	closed(err)
	_, err = d.Keys()
	closed(err)
	_, err = d.Items()
	closed(err)
	_, err = d.ItemsJSON()
	closed(err)
	closed(d.Clear())
	_, err = d.Stat()
	closed(err)

	// The dict itself is still there.
	other := must[*Dict](t)(OpenDict(d.Name(), OpenOnly()))
	defer other.Close()
	if got := getText(t, other, "k"); got != "1" {
		t.Fatalf("k = %s", got)
	}
}

// ---- across processes --------------------------------------------------------

func init() {
	syncHelpers["dict-increment"] = helperDictIncrement
	syncHelpers["dict-set-loop"] = helperDictSetLoop
}

// Waits for the event "<name>.start", then does COUNT compare-and-set
// increments of "counter" and says how many compare-and-sets lost a race.
func helperDictIncrement(name string) int {
	d, err := OpenDict(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	defer d.Close()
	start, err := OpenEvent(name + ".start")
	if err != nil {
		return helperFail("open event", err)
	}
	defer start.Close()
	fmt.Println("ready")
	ctx, cancel := helperCtx()
	defer cancel()
	if err := start.Wait(ctx); err != nil {
		return helperFail("wait", err)
	}
	lost, err := casIncrementCounting(d, "counter", helperCount())
	if err != nil {
		return helperFail("increment", err)
	}
	fmt.Printf("incremented %d, lost %d\n", helperCount(), lost)
	return 0
}

// dictLoopValue is what the set loop writes under "k<key>" for seq: its pad
// varies the size, so the dict compacts now and then.
type dictLoopValue struct {
	Key int    `json:"key"`
	Seq int    `json:"seq"`
	Pad string `json:"pad"`
}

func newDictLoopValue(key, seq int) dictLoopValue {
	return dictLoopValue{Key: key, Seq: seq, Pad: strings.Repeat("p", (seq*37+key*11)%120)}
}

// From seq COUNT on, sets "k<seq%8>" and then "acked" = seq, until killed.
func helperDictSetLoop(name string) int {
	d, err := OpenDict(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	for seq := helperCount(); ; seq++ {
		key := seq % 8
		if err := d.Set("k"+strconv.Itoa(key), newDictLoopValue(key, seq)); err != nil {
			return helperFail("set", err)
		}
		if err := d.Set("acked", seq); err != nil {
			return helperFail("set acked", err)
		}
	}
}

// Two child processes and the parent each do N compare-and-set increments
// of one counter, all starting at once (an Event): the total is exact.
func TestDictCompareAndSetIncrementsAcrossProcesses(t *testing.T) {
	d := openDict(t)
	mustSet(t, d, "counter", 0)
	start := must[*Event](t)(OpenEvent(d.Name() + ".start"))
	defer start.Close()
	t.Cleanup(func() { _ = Unlink(d.Name() + ".start") })
	const children, incs = 2, 2000
	var cmds []*exec.Cmd
	var outs []*bufio.Reader
	for i := 0; i < children; i++ {
		cmd, out := child(t, "dict-increment", d.Name(), "POLYIPC_GO_TEST_COUNT="+strconv.Itoa(incs))
		if line := readLine(t, out, 30*time.Second); line != "ready" {
			t.Fatalf("child said %q", line)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	if err := start.Set(); err != nil {
		t.Fatal(err)
	}
	lost, err := casIncrementCounting(d, "counter", incs) // meanwhile
	if err != nil {
		t.Fatal(err)
	}
	said := []string{fmt.Sprintf("parent lost %d", lost)}
	for i, cmd := range cmds {
		line := readLine(t, outs[i], 60*time.Second)
		if !strings.HasPrefix(line, fmt.Sprintf("incremented %d, ", incs)) {
			t.Fatalf("child said %q", line)
		}
		said = append(said, line)
		if err := waitChild(t, cmd, 30*time.Second); err != nil {
			t.Fatalf("incrementing child: %v", err)
		}
	}
	if got := getText(t, d, "counter"); got != strconv.Itoa((children+1)*incs) {
		t.Fatalf("counter = %s, want %d", got, (children+1)*incs)
	}
	t.Logf("compare-and-sets that lost a race: %s", strings.Join(said, "; "))
}

// A child setting keys in a loop is killed with SIGKILL at a random moment,
// ten times: afterwards every value is whole and one the child wrote for
// that key, the last acknowledged set stands, and the dict takes reads and
// writes at once.
func TestDictWriterKilledLeavesUsableDict(t *testing.T) {
	d := openDict(t, WithCapacity(4096), WithMaxItems(16))
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	base := 0
	for run := 0; run < 10; run++ {
		killAfter := base + 1 + rng.Intn(300)
		cmd, _ := child(t, "dict-set-loop", d.Name(), "POLYIPC_GO_TEST_COUNT="+strconv.Itoa(base))
		deadline := time.Now().Add(30 * time.Second)
		for {
			var acked int
			ok, err := d.Get("acked", &acked)
			if err != nil {
				t.Fatalf("run %d: Get(acked): %v", run, err)
			}
			if ok && acked >= killAfter {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: the writer acknowledged %d sets in 30 s, want %d", run, acked-base, killAfter-base)
			}
			runtime.Gosched()
		}
		killChild(t, cmd)

		items := must[map[string]json.RawMessage](t)(d.Items()) // every value parses
		var acked int
		if err := json.Unmarshal(items["acked"], &acked); err != nil || acked < killAfter {
			t.Fatalf("run %d: acked = %s, %v (want >= %d)", run, items["acked"], err, killAfter)
		}
		if len(items) > 9 {
			t.Fatalf("run %d: %d entries: %s", run, len(items), items)
		}
		for k, raw := range items {
			if k == "acked" {
				continue
			}
			var v dictLoopValue
			if err := json.Unmarshal(raw, &v); err != nil || k != "k"+strconv.Itoa(v.Key) ||
				v != newDictLoopValue(v.Key, v.Seq) {
				t.Fatalf("run %d: torn or foreign value %s = %s (%v)", run, k, raw, err)
			}
			if v.Key == acked%8 && v.Seq < acked {
				t.Fatalf("run %d: %s = %s is older than the acknowledged set %d", run, k, raw, acked)
			}
		}
		if n := must[int](t)(d.Len()); n != len(items) {
			t.Fatalf("run %d: Len %d, %d items", run, n, len(items))
		}
		// Usable at once: the parent writes, replaces and deletes.
		mustSet(t, d, "parent", run)
		wantSwap(t, d, "parent", run, run+1, true)
		if ok, err := d.Delete("parent"); !ok || err != nil {
			t.Fatalf("run %d: Delete = %v, %v", run, ok, err)
		}
		base = acked + 2 // past a set the child may have made unacknowledged
	}
	for k := 0; k < 8; k++ {
		mustSet(t, d, "k"+strconv.Itoa(k), newDictLoopValue(k, base))
	}
	var st struct {
		Counters struct {
			Sets        int64 `json:"sets"`
			Compactions int64 `json:"compactions"`
			Recoveries  int64 `json:"owner_dead_recoveries"`
		} `json:"counters"`
	}
	if err := json.Unmarshal(must[json.RawMessage](t)(d.Stat()), &st); err != nil || st.Counters.Compactions == 0 {
		t.Fatalf("stat: %+v, %v (want compactions)", st, err)
	}
	t.Logf("after 10 kills: %d sets, %d compactions, %d dead lock holders recovered", st.Counters.Sets,
		st.Counters.Compactions, st.Counters.Recoveries)
}
