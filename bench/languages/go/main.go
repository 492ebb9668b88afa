// bench/languages/go: put+get of a 64-byte JSON text through the Go binding,
// one process or producer/consumer (protocol: ../c/langbench.c).
//
// usage: langbench single|producer|consumer N NAME [WARMUP]
// Put(ctx, []byte) and Get(ctx) with context.Background(): the blocking calls
// of the binding, as a Go program would use them.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	polyipc "github.com/polyipc/polyipc/bindings/go"
)

var message = []byte(`{"id":123456,"kind":"bench","payload":"xxxxxxxxxxxxxxxxxxxxxxx"}`)

const capacity = 4 << 20

func fail(what string, err error) {
	fmt.Printf("{\"lang\":\"go\",\"ok\":false,\"error\":%q}\n", what+": "+err.Error())
	fmt.Fprintf(os.Stderr, "langbench go: %s: %v\n", what, err)
	os.Exit(1)
}

func open(name string) *polyipc.Queue {
	q, err := polyipc.OpenQueue(name, polyipc.WithFormat(polyipc.JSON), polyipc.WithCapacity(capacity))
	if err != nil {
		fail("open", err)
	}
	return q
}

var ctx = context.Background()

func put(q *polyipc.Queue) {
	if err := q.Put(ctx, message); err != nil {
		fail("put", err)
	}
}

func get(q *polyipc.Queue) {
	m, err := q.Get(ctx)
	if err != nil {
		fail("get", err)
	}
	if len(m) != len(message) {
		fail("get", fmt.Errorf("message of %d bytes", len(m)))
	}
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: langbench single|producer|consumer N NAME [WARMUP]")
		os.Exit(2)
	}
	mode, name := os.Args[1], os.Args[3]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fail("N", err)
	}
	warm := 20000
	if len(os.Args) > 4 {
		if warm, err = strconv.Atoi(os.Args[4]); err != nil {
			fail("WARMUP", err)
		}
	}
	ack := name + ".ack"
	var t0, t1 time.Time
	switch mode {
	case "single":
		q := open(name)
		for i := 0; i < warm; i++ {
			put(q)
			get(q)
		}
		t0 = time.Now()
		for i := 0; i < n; i++ {
			put(q)
			get(q)
		}
		t1 = time.Now()
		q.Close()
		polyipc.Unlink(name)
	case "producer":
		q, a := open(name), open(ack)
		for i := 0; i < warm; i++ {
			put(q)
		}
		if _, err := a.Get(ctx); err != nil {
			fail("get ack", err)
		}
		t0 = time.Now()
		for i := 0; i < n; i++ {
			put(q)
		}
		t1 = time.Now()
		a.Close()
		q.Close()
	case "consumer":
		q, a := open(name), open(ack)
		for i := 0; i < warm; i++ {
			get(q)
		}
		t0 = time.Now()
		if err := a.Put(ctx, []byte("1")); err != nil {
			fail("put ack", err)
		}
		for i := 0; i < n; i++ {
			get(q)
		}
		t1 = time.Now()
		a.Close()
		q.Close()
		polyipc.Unlink(name)
		polyipc.Unlink(ack)
	default:
		fmt.Fprintf(os.Stderr, "langbench go: unknown mode %s\n", mode)
		os.Exit(2)
	}
	secs := t1.Sub(t0).Seconds()
	fmt.Printf("{\"lang\":\"go\",\"mode\":%q,\"ok\":true,\"n\":%d,\"seconds\":%.6f,\"rate\":%.1f}\n", mode, n, secs, float64(n)/secs)
}
