// The dict and list scenarios (../README.md, "Dict" and "List").
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	polyipc "github.com/polyipc/polyipc/bindings/go"
)

// dictKey is K(L): a key outside the BMP (U+1F511).
func dictKey(l string) string { return "ключ🔑." + l }

// dictValue is V(L), typed for diff: int64 for integers, f64 for doubles.
func dictValue(l string) map[string]any {
	return map[string]any{
		"lang":    l,
		"text":    "héllo wörld 😀 漢字 quote\" backslash\\ nl\n nul\x00",
		"ints":    []any{int64(math.MinInt64), int64(math.MaxInt64), int64(0), int64(-1)},
		"doubles": []any{f64(0.5), f64(1e300), f64(-2.25)},
		"flags":   []any{true, false, nil},
		"nested":  map[string]any{"a": []any{[]any{}, map[string]any{}, []any{[]any{"deep"}}}},
	}
}

func dictWrite(name string, n int64, id string) error {
	d, err := polyipc.OpenDict(name)
	if err != nil {
		return failf("open dict %s: %v", name, err)
	}
	defer d.Close()
	if err := d.Set(dictKey(id), dictValue(id)); err != nil {
		return failf("set %s: %v", dictKey(id), err)
	}
	for i := int64(0); i < n; i++ {
		for {
			var cur int64
			ok, err := d.Get("counter", &cur)
			if err != nil {
				return failf("get counter: %v", err)
			}
			var expected any = polyipc.Absent
			if ok {
				expected = cur
			}
			swapped, err := d.CompareAndSet("counter", expected, cur+1)
			if err != nil {
				return failf("compare-and-set counter: %v", err)
			}
			if swapped {
				break
			}
		}
	}
	fmt.Printf("dict %s: wrote, %d increments\n", id, n)
	return nil
}

func dictCheck(name, langs, id string) error {
	d, err := polyipc.OpenDict(name, polyipc.OpenOnly())
	if err != nil {
		return failf("open dict %s: %v", name, err)
	}
	defer d.Close()
	checked := 0
	for _, l := range strings.Split(langs, ",") {
		text, ok, err := d.GetJSON(dictKey(l))
		if err != nil {
			return failf("get %s: %v", dictKey(l), err)
		}
		if !ok {
			return failf("the entry of %s is missing", l)
		}
		got, err := decode(text)
		if err != nil {
			return failf("the entry of %s: encoding/json cannot decode it: %v", l, err)
		}
		if d := diff(got, dictValue(l), "$"); d != "" {
			return failf("the entry of %s differs: %s", l, d)
		}
		checked++
	}
	fmt.Printf("dict %s: checked %d entries\n", id, checked)
	return nil
}

func listAppend(name string, n int64, id string) error {
	l, err := polyipc.OpenList(name)
	if err != nil {
		return failf("open list %s: %v", name, err)
	}
	defer l.Close()
	for i := int64(0); i < n; i++ {
		if err := l.Append(map[string]any{"from": id, "seq": i}); err != nil {
			return failf("append #%d: %v", i, err)
		}
	}
	fmt.Printf("list %s: appended %d\n", id, n)
	return nil
}

func listCheck(name, langs string, n int64, id string) error {
	l, err := polyipc.OpenList(name, polyipc.OpenOnly())
	if err != nil {
		return failf("open list %s: %v", name, err)
	}
	defer l.Close()
	items, err := l.Items() // one snapshot
	if err != nil {
		return failf("items: %v", err)
	}
	next := map[string]int64{} // language -> the seq its next value must have
	for _, lang := range strings.Split(langs, ",") {
		next[lang] = 0
	}
	for k, raw := range items {
		v, err := decode(raw)
		if err != nil {
			return failf("value %d: encoding/json cannot decode it: %v", k, err)
		}
		m, ok := v.(map[string]any)
		from, ok1 := m["from"].(string)
		seq, ok2 := m["seq"].(json.Number)
		if !ok || !ok1 || !ok2 || len(m) != 2 {
			return failf("value %d is not {from, seq}: %s", k, raw)
		}
		want, known := next[from]
		if !known {
			return failf("value %d is from an unknown language: %s", k, raw)
		}
		if s, err := strconv.ParseInt(string(seq), 10, 64); err != nil || s != want {
			return failf("value %d: out of order or lost: %s (expected seq %d)", k, raw, want)
		}
		next[from] = want + 1
	}
	for lang, count := range next {
		if count != n {
			return failf("%s has %d values, expected %d", lang, count, n)
		}
	}
	fmt.Printf("list %s: checked %d values\n", id, len(items))
	return nil
}

// dictRelay is the watch scenario: a token round the languages through one
// dict; each turn waits in WaitChange from the version read before the token.
func dictRelay(name string, index, count, rounds int64, id string) error {
	d, err := polyipc.OpenDict(name)
	if err != nil {
		return failf("open dict %s: %v", name, err)
	}
	defer d.Close()
	for r := int64(0); r < rounds; r++ {
		turn := r*count + index
		for {
			version, err := d.Version()
			if err != nil {
				return failf("version: %v", err)
			}
			var token int64
			if _, err := d.Get("token", &token); err != nil {
				return failf("get token: %v", err)
			}
			if token == turn {
				break
			}
			if token > turn {
				return failf("the token passed turn %d: %d", turn, token)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			_, err = d.WaitChange(ctx, version)
			cancel()
			if err != nil {
				return failf("wait for turn %d: %v", turn, err)
			}
		}
		if err := d.Set("token", turn+1); err != nil {
			return failf("set token: %v", err)
		}
	}
	fmt.Printf("relay %s: %d turns\n", id, rounds)
	return nil
}

// runManager runs a dict or list scenario; handled is false when a is not one.
func runManager(a []string, num func(string) int64) (handled bool, err error) {
	n := len(a)
	switch {
	case n == 4 && a[0] == "dict-write":
		return true, dictWrite(a[1], num(a[2]), a[3])
	case n == 4 && a[0] == "dict-check":
		return true, dictCheck(a[1], a[2], a[3])
	case n == 4 && a[0] == "list-append":
		return true, listAppend(a[1], num(a[2]), a[3])
	case n == 5 && a[0] == "list-check":
		return true, listCheck(a[1], a[2], num(a[3]), a[4])
	case n == 6 && a[0] == "dict-relay":
		return true, dictRelay(a[1], num(a[2]), num(a[3]), num(a[4]), a[5])
	}
	return false, nil
}
