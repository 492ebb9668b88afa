package polyipc

import (
	"encoding/json"
	"math"
	"testing"
)

func TestJSONElementsSplitsWhatTheLibraryBuilds(t *testing.T) {
	good := map[string][]string{
		`[]`:    {},
		` [ ] `: {},
		`[1]`:   {`1`},
		`[[1,2],{"a":[3,{"b":"]}"}]},"x,\"]y",null,true,-1.5e3]`: {
			`[1,2]`, `{"a":[3,{"b":"]}"}]}`, `"x,\"]y"`, `null`, `true`, `-1.5e3`},
		" [ 1 ,\n\"\\\\\" , [ ] ]\t": {`1`, `"\\"`, `[ ]`},
	}
	for text, want := range good {
		got, ok := jsonElements([]byte(text), 0)
		if !ok || len(got) != len(want) {
			t.Fatalf("%q: got %q, %v; want %q", text, got, ok, want)
		}
		for i := range want {
			if string(got[i]) != want[i] || cap(got[i]) != len(got[i]) {
				t.Fatalf("%q: element %d is %q (cap %d); want %q", text, i, got[i], cap(got[i]), want[i])
			}
		}
	}
	for _, text := range []string{``, `1`, `{}`, `[`, `[1`, `[1,]`, `[,1]`, `[1 2`, `[1}`, `["a]`, `["a\`, `[1] x`, `[[1]`} {
		if got, ok := jsonElements([]byte(text), 0); ok {
			t.Fatalf("%q: split into %q, want not ok", text, got)
		}
	}
}

func TestAppendJSONGivesEncodingJSONsText(t *testing.T) {
	type myInt int
	for _, v := range []any{nil, true, false, 0, -7, math.MaxInt64, int64(math.MinInt64), int32(-3), uint(5),
		uint64(math.MaxUint64), uint32(9), myInt(4), 1.5, "a<b>&\xff", []int{1, 2}, map[string]int{"k": 1}} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, raw, err := appendJSON([]byte("x"), v)
		if err != nil || raw || string(got) != "x"+string(want) {
			t.Fatalf("%#v: got %q, %v, %v; want x%s", v, got, raw, err, want)
		}
	}
	if got, raw, err := appendJSON(nil, json.RawMessage(`{"a":1}`)); err != nil || !raw || string(got) != `{"a":1}` {
		t.Fatalf("raw: got %q, %v, %v", got, raw, err)
	}
	if _, _, err := appendJSON(nil, math.NaN()); err == nil {
		t.Fatal("NaN encoded")
	}
}
