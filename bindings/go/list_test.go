package polyipc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openList opens (creating) a fresh list closed at the end of the test.
func openList(t testing.TB, opts ...Option) *List {
	t.Helper()
	l := must[*List](t)(OpenList(queueName(t), opts...))
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// wantList checks the list's items (as compact JSON texts) and Len.
func wantList(t testing.TB, l *List, want ...string) {
	t.Helper()
	items := must[[]json.RawMessage](t)(l.Items())
	got := make([]string, len(items))
	for i, it := range items {
		got[i] = string(it)
	}
	if len(want) == 0 {
		want = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("items = %q, want %q", got, want)
	}
	if n := must[int](t)(l.Len()); n != len(want) {
		t.Fatalf("Len = %d, want %d", n, len(want))
	}
}

func mustAppend(t testing.TB, l *List, vs ...any) {
	t.Helper()
	for _, v := range vs {
		if err := l.Append(v); err != nil {
			t.Fatalf("Append(%v): %v", v, err)
		}
	}
}

func TestListAppendGetSetInsertPopClear(t *testing.T) {
	l := openList(t)
	wantList(t, l)
	mustAppend(t, l, 1, "two", map[string]int{"three": 3})
	if err := l.AppendJSON([]byte(` [4, 5] `)); err != nil {
		t.Fatal(err)
	}
	wantList(t, l, "1", `"two"`, `{"three":3}`, `[4, 5]`) // Items: encoding/json trims around each value

	var n int
	if err := l.Get(0, &n); err != nil || n != 1 {
		t.Fatalf("Get(0) = %d, %v", n, err)
	}
	var s []int
	if err := l.Get(-1, &s); err != nil || !reflect.DeepEqual(s, []int{4, 5}) {
		t.Fatalf("Get(-1) = %v, %v", s, err)
	}
	if text := must[json.RawMessage](t)(l.GetJSON(-3)); string(text) != `"two"` {
		t.Fatalf("GetJSON(-3) = %s", text)
	}
	if text := must[json.RawMessage](t)(l.GetJSON(3)); string(text) != ` [4, 5] ` { // kept as given
		t.Fatalf("GetJSON(3) = %q", text)
	}

	if err := l.Set(1, 2); err != nil {
		t.Fatal(err)
	}
	if err := l.SetJSON(-2, []byte(`null`)); err != nil {
		t.Fatal(err)
	}
	wantList(t, l, "1", "2", "null", `[4, 5]`)

	// Insert at the front, in the middle, at the end, and clamped.
	for _, c := range []struct {
		index int
		v     any
	}{{0, "front"}, {2, "middle"}, {6, "end"}, {100, "far end"}, {-100, "far front"}, {-1, "before last"}} {
		if err := l.Insert(c.index, c.v); err != nil {
			t.Fatalf("Insert(%d): %v", c.index, err)
		}
	}
	wantList(t, l, `"far front"`, `"front"`, "1", `"middle"`, "2", "null", `[4, 5]`, `"end"`, `"before last"`,
		`"far end"`)
	if err := l.InsertJSON(3, []byte(`{"raw":true}`)); err != nil {
		t.Fatal(err)
	}

	// Pop at the end (-1), the front, the middle, by negative index.
	var got string
	if err := l.Pop(-1, &got); err != nil || got != "far end" {
		t.Fatalf("Pop(-1) = %q, %v", got, err)
	}
	if err := l.Pop(0, &got); err != nil || got != "far front" {
		t.Fatalf("Pop(0) = %q, %v", got, err)
	}
	if text := must[json.RawMessage](t)(l.PopJSON(2)); string(text) != `{"raw":true}` {
		t.Fatalf("PopJSON(2) = %s", text)
	}
	if text := must[json.RawMessage](t)(l.PopJSON(-2)); string(text) != `"end"` {
		t.Fatalf("PopJSON(-2) = %s", text)
	}
	wantList(t, l, `"front"`, "1", `"middle"`, "2", "null", `[4, 5]`, `"before last"`)
	if text := must[json.RawMessage](t)(l.ItemsJSON()); !json.Valid(text) || !strings.HasPrefix(string(text), "[") {
		t.Fatalf("ItemsJSON = %s", text)
	}
	var all []any
	if err := json.Unmarshal(must[json.RawMessage](t)(l.ItemsJSON()), &all); err != nil || len(all) != 7 {
		t.Fatalf("ItemsJSON decodes to %v, %v", all, err)
	}

	// Another handle sees the same list.
	other := must[*List](t)(OpenList(l.Name(), OpenOnly()))
	defer other.Close()
	if err := other.Append("from other"); err != nil {
		t.Fatal(err)
	}
	if err := l.Get(-1, &got); err != nil || got != "from other" {
		t.Fatalf("Get(-1) = %q, %v", got, err)
	}

	if err := l.Clear(); err != nil {
		t.Fatal(err)
	}
	wantList(t, other)
	_, err := l.PopJSON(-1)
	wantStatus(t, err, StatusEmpty)
	if !errors.Is(err, ErrEmpty) {
		t.Fatalf("%v does not match ErrEmpty", err)
	}

	var st struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(must[json.RawMessage](t)(l.Stat()), &st); err != nil || st.Kind != "list" ||
		st.Name != l.Name() {
		t.Fatalf("stat: %+v, %v", st, err)
	}
}

// A FIFO: append at the end, pop at the front.
func TestListAsFIFO(t *testing.T) {
	l := openList(t, WithMaxItems(6), WithCapacity(4096))
	for i := 0; i < 2000; i++ { // far more than the capacity holds at once
		mustAppend(t, l, i)
		if i < 5 {
			continue
		}
		var v int
		if err := l.Pop(0, &v); err != nil || v != i-5 {
			t.Fatalf("Pop(0) = %d, %v; want %d", v, err, i-5)
		}
	}
	wantList(t, l, "1995", "1996", "1997", "1998", "1999")
}

func TestListUnicodeValues(t *testing.T) {
	l := openList(t)
	values := []string{"héllo", "日本語", "emoji 😀 non-BMP 𝄞", "nul \x00 inside", "quote \" and \\ slash"}
	for _, v := range values {
		mustAppend(t, l, v)
	}
	for i, want := range values {
		var got string
		if err := l.Get(i, &got); err != nil || got != want {
			t.Fatalf("Get(%d) = %q, %v; want %q", i, got, err, want)
		}
	}
	if err := l.AppendJSON([]byte(`"\ud83d\ude00 escaped"`)); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := l.Pop(-1, &got); err != nil || got != "😀 escaped" {
		t.Fatalf("Pop(-1) = %q, %v", got, err)
	}
	if err := l.Insert(1, map[string]string{"𝄞": "𝄞"}); err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := l.Get(1, &m); err != nil || m["𝄞"] != "𝄞" {
		t.Fatalf("Get(1) = %v, %v", m, err)
	}
}

func TestListBadInput(t *testing.T) {
	l := openList(t)
	mustAppend(t, l, 1)
	for _, text := range []string{"{bad", "", "1 2", `{"a":}`, "nul\x00"} {
		wantStatus(t, l.AppendJSON([]byte(text)), StatusInvalidJSON)
		wantStatus(t, l.Append(json.RawMessage(text)), StatusInvalidJSON)
		wantStatus(t, l.InsertJSON(0, []byte(text)), StatusInvalidJSON)
		wantStatus(t, l.SetJSON(0, []byte(text)), StatusInvalidJSON)
	}
	wantStatus(t, l.AppendJSON(nil), StatusInvalidJSON)
	wantStatus(t, l.Append(json.RawMessage(nil)), StatusInvalidJSON)
	if err := l.Append(make(chan int)); err == nil || !strings.Contains(err.Error(), "unsupported type") {
		t.Fatalf("Append of a channel: %v", err)
	}
	mustAppend(t, l, nil) // nil is JSON null
	wantList(t, l, "1", "null")

	// Out of range.
	for _, i := range []int{2, -3, 1 << 40, -(1 << 40)} {
		_, err := l.GetJSON(i)
		e := wantStatus(t, err, StatusOutOfRange)
		if !strings.Contains(e.Message, l.Name()) {
			t.Fatalf("the message %q does not name the list", e.Message)
		}
		wantStatus(t, l.Set(i, 0), StatusOutOfRange)
		_, err = l.PopJSON(i)
		wantStatus(t, err, ErrOutOfRange)
	}
	var s string
	if err := l.Get(0, &s); err == nil { // 1 into a string
		t.Fatal("Get of 1 into a string: no error")
	}
	wantList(t, l, "1", "null") // nothing changed

	// Options and names.
	_, err := OpenList(queueName(t), WithOrder(LIFO))
	wantStatus(t, err, StatusInvalidArg)
	_, err = OpenList(queueName(t), WithMaxTasks(2))
	wantStatus(t, err, StatusInvalidArg)
	_, err = OpenList(queueName(t), WithMaxItems(-1))
	wantStatus(t, err, StatusInvalidArg)
	_, err = OpenList("bad\x00name")
	wantStatus(t, err, StatusInvalidArg)
	_, err = OpenList(queueName(t), OpenOnly())
	wantStatus(t, err, StatusNotFound)
	_, err = OpenList(l.Name(), CreateOnly())
	wantStatus(t, err, StatusExists)

	// Another kind under the name, either way round.
	d := openDict(t)
	_, err = OpenList(d.Name())
	wantStatus(t, err, StatusIncompatible)
	_, err = OpenDict(l.Name())
	wantStatus(t, err, StatusIncompatible)
	q := openQueue(t)
	_, err = OpenList(q.Name())
	wantStatus(t, err, StatusIncompatible)
}

func TestListFullAndTooLarge(t *testing.T) {
	l := openList(t, WithMaxItems(3))
	mustAppend(t, l, "a", "b", "c")
	e := wantStatus(t, l.Append("d"), StatusFull)
	if !errors.Is(e, ErrFull) {
		t.Fatalf("%v does not match ErrFull", e)
	}
	wantStatus(t, l.Insert(0, "d"), StatusFull)
	if err := l.Set(0, "replaced"); err != nil { // replacing needs no new value
		t.Fatal(err)
	}
	if _, err := l.PopJSON(1); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, "d")
	wantList(t, l, `"replaced"`, `"c"`, `"d"`)

	small := openList(t, WithCapacity(4096))
	mustAppend(t, small, 1)
	wantStatus(t, small.Append(strings.Repeat("b", 10000)), StatusTooLarge)
	wantList(t, small, "1")
	var err error
	for i := 0; i < 1000 && err == nil; i++ { // fills the capacity
		err = small.Append(strings.Repeat("f", 100))
	}
	wantStatus(t, err, StatusFull)
	if err := small.Clear(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, small, strings.Repeat("f", 100))
}

func TestListUseAfterClose(t *testing.T) {
	l := must[*List](t)(OpenList(queueName(t)))
	mustAppend(t, l, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	closed := func(err error) {
		t.Helper()
		wantStatus(t, err, StatusInvalidArg)
		if !errors.Is(err, ErrHandleClosed) {
			t.Fatalf("%v does not match ErrHandleClosed", err)
		}
	}
	closed(l.Append(2))
	closed(l.AppendJSON([]byte("2")))
	closed(l.Insert(0, 2))
	closed(l.InsertJSON(0, []byte("2")))
	var v int
	closed(l.Get(0, &v))
	_, err := l.GetJSON(0)
	closed(err)
	closed(l.Set(0, 2))
	closed(l.SetJSON(0, []byte("2")))
	closed(l.Pop(-1, &v))
	_, err = l.PopJSON(-1)
	closed(err)
	_, err = l.Len()
	closed(err)
	_, err = l.Items()
	closed(err)
	_, err = l.ItemsJSON()
	closed(err)
	closed(l.Clear())
	_, err = l.Stat()
	closed(err)

	other := must[*List](t)(OpenList(l.Name(), OpenOnly())) // the list itself is still there
	defer other.Close()
	wantList(t, other, "1")
}

// ---- across processes --------------------------------------------------------

func init() {
	syncHelpers["list-append"] = helperListAppend
	syncHelpers["list-append-pop-loop"] = helperListAppendPopLoop
}

type listEntry struct {
	From int `json:"from"`
	Seq  int `json:"seq"`
}

// Waits for the event "<name>.start", then appends COUNT {from: ID, seq: i}.
func helperListAppend(name string) int {
	l, err := OpenList(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	defer l.Close()
	start, err := OpenEvent(name + ".start")
	if err != nil {
		return helperFail("open event", err)
	}
	defer start.Close()
	id, _ := strconv.Atoi(os.Getenv("POLYIPC_GO_TEST_ID"))
	fmt.Println("ready")
	ctx, cancel := helperCtx()
	defer cancel()
	if err := start.Wait(ctx); err != nil {
		return helperFail("wait", err)
	}
	for i := 0; i < helperCount(); i++ {
		if err := l.Append(listEntry{From: id, Seq: i}); err != nil {
			return helperFail("append", err)
		}
	}
	fmt.Printf("appended %d\n", helperCount())
	return 0
}

// From seq COUNT on, each round: appends a value at the end and inserts one
// after the marker at index 0, pops both again (end and middle), appends one
// every 5th round (popping after the marker past 40 values), then sets the
// marker {"acked": seq}; until killed. Every value is whole or absent.
func helperListAppendPopLoop(name string) int {
	l, err := OpenList(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	for seq := helperCount(); ; seq++ {
		v := newDictLoopValue(seq%8, seq)
		if err := l.Append(v); err != nil {
			return helperFail("append", err)
		}
		if err := l.Insert(1, v); err != nil {
			return helperFail("insert", err)
		}
		if _, err := l.PopJSON(-1); err != nil {
			return helperFail("pop", err)
		}
		if _, err := l.PopJSON(1); err != nil {
			return helperFail("pop", err)
		}
		if seq%5 == 0 {
			if err := l.Append(v); err != nil {
				return helperFail("append", err)
			}
		}
		if n, err := l.Len(); err != nil {
			return helperFail("len", err)
		} else if n > 40 {
			if _, err := l.PopJSON(1); err != nil {
				return helperFail("pop", err)
			}
		}
		if err := l.Set(0, map[string]int{"acked": seq}); err != nil {
			return helperFail("set acked", err)
		}
	}
}

// Two child processes append N values each at once (an Event): every value
// is there once, and each child's values keep their order.
func TestListAppendsAcrossProcesses(t *testing.T) {
	l := openList(t, WithMaxItems(20000), WithCapacity(4<<20))
	start := must[*Event](t)(OpenEvent(l.Name() + ".start"))
	defer start.Close()
	t.Cleanup(func() { _ = Unlink(l.Name() + ".start") })
	const children, n = 2, 5000
	var cmds []*exec.Cmd
	var outs []*bufio.Reader
	for i := 0; i < children; i++ {
		cmd, out := child(t, "list-append", l.Name(), "POLYIPC_GO_TEST_COUNT="+strconv.Itoa(n),
			"POLYIPC_GO_TEST_ID="+strconv.Itoa(i))
		if line := readLine(t, out, 30*time.Second); line != "ready" {
			t.Fatalf("child said %q", line)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	if err := start.Set(); err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds {
		if line := readLine(t, outs[i], 60*time.Second); line != fmt.Sprintf("appended %d", n) {
			t.Fatalf("child said %q", line)
		}
		if err := waitChild(t, cmd, 30*time.Second); err != nil {
			t.Fatalf("appending child: %v", err)
		}
	}
	var items []listEntry
	if err := json.Unmarshal(must[json.RawMessage](t)(l.ItemsJSON()), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != children*n {
		t.Fatalf("%d values, want %d", len(items), children*n)
	}
	next := make([]int, children)
	interleaved := 0
	for i, it := range items {
		if it.From < 0 || it.From >= children || it.Seq != next[it.From] {
			t.Fatalf("value %d is %+v; child %d's next is %d", i, it, it.From, next[it.From%children])
		}
		next[it.From]++
		if i > 0 && items[i-1].From != it.From {
			interleaved++
		}
	}
	t.Logf("%d switches between the children's appends", interleaved)
}

// A child appending, inserting and popping in a loop is killed with SIGKILL
// at a random moment, ten times: afterwards every value is whole and one the
// child wrote, the acknowledged marker stands, and the list takes reads and
// writes at once.
func TestListWriterKilledLeavesUsableList(t *testing.T) {
	l := openList(t, WithCapacity(8192), WithMaxItems(64))
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	base := 0
	for run := 0; run < 10; run++ {
		if err := l.Clear(); err != nil {
			t.Fatal(err)
		}
		mustAppend(t, l, map[string]int{"acked": base - 1})
		killAfter := base + 1 + rng.Intn(300)
		cmd, _ := child(t, "list-append-pop-loop", l.Name(), "POLYIPC_GO_TEST_COUNT="+strconv.Itoa(base))
		deadline := time.Now().Add(30 * time.Second)
		var marker struct {
			Acked int `json:"acked"`
		}
		for {
			if err := l.Get(0, &marker); err != nil {
				t.Fatalf("run %d: Get(0): %v", run, err)
			}
			if marker.Acked >= killAfter {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: the writer acknowledged %d rounds in 30 s, want %d", run, marker.Acked-base,
					killAfter-base)
			}
			runtime.Gosched()
		}
		killChild(t, cmd)

		items := must[[]json.RawMessage](t)(l.Items()) // every value parses
		if err := json.Unmarshal(items[0], &marker); err != nil || marker.Acked < killAfter {
			t.Fatalf("run %d: marker %s, %v (want >= %d)", run, items[0], err, killAfter)
		}
		for i, raw := range items[1:] {
			var v dictLoopValue
			if err := json.Unmarshal(raw, &v); err != nil || v != newDictLoopValue(v.Key, v.Seq) || v.Seq < base {
				t.Fatalf("run %d: torn or foreign value %d = %s (%v)", run, i+1, raw, err)
			}
		}
		if n := must[int](t)(l.Len()); n != len(items) {
			t.Fatalf("run %d: Len %d, %d items", run, n, len(items))
		}
		// Usable at once: the parent appends, inserts, sets and pops.
		mustAppend(t, l, "parent")
		if err := l.Insert(1, "parent front"); err != nil {
			t.Fatalf("run %d: Insert: %v", run, err)
		}
		if err := l.Set(-1, "parent end"); err != nil {
			t.Fatalf("run %d: Set: %v", run, err)
		}
		var s string
		if err := l.Pop(-1, &s); err != nil || s != "parent end" {
			t.Fatalf("run %d: Pop = %q, %v", run, s, err)
		}
		if err := l.Pop(1, &s); err != nil || s != "parent front" {
			t.Fatalf("run %d: Pop(1) = %q, %v", run, s, err)
		}
		base = marker.Acked + 2 // past a round the child may have made unacknowledged
	}
	t.Logf("after 10 kills: %s", must[json.RawMessage](t)(l.Stat()))
}
