package polyipc

import (
	"encoding/json"
	"strconv"
)

// Helpers for the JSON texts a pool moves in bulk. encoding/json checks every
// byte of a text again and copies each element it hands out; the arrays of
// arguments and results below were built by the library out of texts it
// validated, so following their strings and brackets is enough.

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonElements is the elements of text, a JSON array the library built, as
// sub-slices of text (capacity cut at each element, so an append copies).
// hint is the expected count. ok is false when text is not an array of
// non-empty elements with balanced strings and brackets; it is not a
// validator.
func jsonElements(text []byte, hint int) (elems []json.RawMessage, ok bool) {
	i, n := 0, len(text)
	for i < n && isJSONSpace(text[i]) {
		i++
	}
	if i == n || text[i] != '[' {
		return nil, false
	}
	i++
	elems = make([]json.RawMessage, 0, hint)
	for {
		for i < n && isJSONSpace(text[i]) {
			i++
		}
		if i < n && text[i] == ']' && len(elems) == 0 { // []
			i++
			break
		}
		start, depth := i, 0
	scan:
		for ; i < n; i++ {
			switch text[i] {
			case '"':
				for i++; i < n && text[i] != '"'; i++ {
					if text[i] == '\\' {
						i++
					}
				}
			case '[', '{':
				depth++
			case ']', '}':
				if depth == 0 {
					break scan
				}
				depth--
			case ',':
				if depth == 0 {
					break scan
				}
			}
		}
		if i >= n { // (an open string or escape may have run past the end)
			return nil, false
		}
		end := i
		for end > start && isJSONSpace(text[end-1]) {
			end--
		}
		if end == start {
			return nil, false
		}
		elems = append(elems, text[start:end:end])
		if text[i] == ']' {
			i++
			break
		}
		if text[i] != ',' {
			return nil, false
		}
		i++
	}
	for i < n && isJSONSpace(text[i]) {
		i++
	}
	return elems, i == n
}

// appendJSON appends v's JSON text to dst, as marshalJSON gives it: the
// integers, bools and nil that handlers return most are appended directly
// (the same text as encoding/json's, without its reflection and allocation).
// raw is true when v was taken as JSON text as it is (json.RawMessage,
// []byte), which the caller must check.
func appendJSON(dst []byte, v any) (out []byte, raw bool, err error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), false, nil
	case bool:
		return strconv.AppendBool(dst, x), false, nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), false, nil
	case int64:
		return strconv.AppendInt(dst, x, 10), false, nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), false, nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), false, nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), false, nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), false, nil
	}
	text, err := marshalJSON(v)
	if err != nil {
		return dst, false, err
	}
	return append(dst, text...), isRawJSON(v), nil
}
