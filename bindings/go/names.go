package polyipc

import (
	"encoding/json"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Version is the loaded library's "MAJOR.MINOR.PATCH".
func Version() string { return native.Polyipc_version() }

// VersionNumber is the loaded library's MAJOR*1000000 + MINOR*1000 + PATCH.
func VersionNumber() int { return native.Polyipc_version_number() }

// Unlink removes name from the namespace; handles that are open keep working.
func Unlink(name string) (err error) {
	if loadErr != nil {
		return loadErr
	}
	if err := checkName("object", name); err != nil {
		return err
	}
	defer recoverInto(&err)
	native.Polyipc_unlink(name)
	return nil
}

// ListObjects describes every object of the namespace: a JSON array of stat
// objects (the CLI's `polyipc list`). It was named List before the List type
// (a shared list, see OpenList) took the name.
func ListObjects() (json.RawMessage, error) {
	return jsonCall(func() string { return native.Polyipc_native_list_json() })
}

// Stat describes object name, without attaching to it, as a JSON object.
func Stat(name string) (json.RawMessage, error) {
	if err := checkName("object", name); err != nil {
		return nil, err
	}
	return jsonCall(func() string { return native.Polyipc_native_stat_json(name) })
}

// Peek reads at most max messages of queue name without taking them: a JSON
// array of {"message": ..., "priority": n} (bytes messages under "base64").
func Peek(name string, max int) (json.RawMessage, error) {
	if err := checkName("queue", name); err != nil {
		return nil, err
	}
	if max < 0 {
		return nil, newError(StatusInvalidArg, nil, "queue '%s': peek: max must not be negative", name)
	}
	return jsonCall(func() string { return native.Polyipc_native_peek_json(name, int64(max)) })
}

// GC removes ephemeral objects whose attached processes are all dead:
// {"removed": [...], "stale": [...]}.
func GC() (json.RawMessage, error) {
	return jsonCall(func() string { return native.Polyipc_native_gc_json() })
}

func jsonCall(f func() string) (out json.RawMessage, err error) {
	if loadErr != nil {
		return nil, loadErr
	}
	defer recoverInto(&err)
	return json.RawMessage(f()), nil
}
