// The Go agent's pipe and shared-memory scenarios (see ../README.md, "Pipe
// and shared-memory scenarios"), on the binding's Conn, SharedMemory and
// Int64Value.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	polyipc "github.com/polyipc/polyipc/bindings/go"
)

// pipeMsg is every message of the pipe scenarios; a missing "seq" is -1.
type pipeMsg struct {
	Seq  int64  `json:"seq"`
	Ping string `json:"ping,omitempty"`
	Pong string `json:"pong,omitempty"`
	From string `json:"from,omitempty"`
}

// recvMsg receives one message within syncWait: io.EOF (wrapped) at the end of stream.
func recvMsg(ctx context.Context, c *polyipc.Conn) (pipeMsg, error) {
	rc, cancel := bounded(ctx)
	defer cancel()
	m := pipeMsg{Seq: -1}
	err := c.RecvJSON(rc, &m)
	return m, err
}

func sendMsg(ctx context.Context, c *polyipc.Conn, m pipeMsg) error {
	sc, cancel := bounded(ctx)
	defer cancel()
	if err := c.SendJSON(sc, m); err != nil {
		return failf("send seq %d: %v", m.Seq, err)
	}
	return nil
}

// pipePing is pipe-ping (end A) or pipe-pong (end B).
func pipePing(ctx context.Context, name string, n int64, id string, pong bool) error {
	end := polyipc.EndA
	if pong {
		end = polyipc.EndB
	}
	c, err := polyipc.OpenConn(name, end)
	if err != nil {
		return err
	}
	defer c.Close()
	for i := int64(0); i < n; i++ {
		if !pong {
			if err := sendMsg(ctx, c, pipeMsg{Seq: i, Ping: id}); err != nil {
				return err
			}
		}
		m, err := recvMsg(ctx, c)
		if errors.Is(err, io.EOF) {
			return failf("end of stream after %d messages", i)
		}
		if err != nil {
			return failf("recv #%d: %v", i, err)
		}
		if m.Seq != i {
			return failf("expected seq %d, got %+v", i, m)
		}
		if pong {
			if err := sendMsg(ctx, c, pipeMsg{Seq: i, Pong: id}); err != nil {
				return err
			}
		}
	}
	if pong {
		fmt.Printf("pipe %s: %d replies\n", id, n)
	} else {
		fmt.Printf("pipe %s: %d round trips\n", id, n)
	}
	return nil
}

func pipeSend(ctx context.Context, name string, k int64, id string, hangAfter bool) error {
	c, err := polyipc.OpenConn(name, polyipc.EndA)
	if err != nil {
		return err
	}
	defer c.Close()
	for i := int64(0); i < k; i++ {
		if err := sendMsg(ctx, c, pipeMsg{Seq: i, From: id}); err != nil {
			return err
		}
	}
	fmt.Printf("pipe %s: sent %d\n", id, k)
	if hangAfter {
		hang()
	}
	return nil
}

func pipeEOF(ctx context.Context, name, id string) error {
	c, err := polyipc.OpenConn(name, polyipc.EndB)
	if err != nil {
		return err
	}
	defer c.Close()
	k := int64(0)
	for ; ; k++ {
		m, err := recvMsg(ctx, c)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return failf("recv #%d: %v", k, err)
		}
		if m.Seq != k {
			return failf("expected seq %d, got %+v", k, m)
		}
	}
	fmt.Printf("pipe %s: eof after %d messages\n", id, k)
	return nil
}

func shmByte(i, seed int64) byte { return byte((i*131 + seed) % 256) }

// shm is shm-write (creating SIZE bytes) or shm-check (attaching whatever
// the size), through the binding's zero-copy Bytes.
func shm(name string, size, seed int64, id string, write bool) error {
	var m *polyipc.SharedMemory
	var err error
	if write {
		m, err = polyipc.OpenSharedMemory(name, int(size))
	} else {
		m, err = polyipc.OpenSharedMemory(name, 0, polyipc.OpenOnly())
	}
	if err != nil {
		return err
	}
	defer m.Close()
	if int64(m.Size()) != size {
		return failf("size %d, expected %d", m.Size(), size)
	}
	b := m.Bytes()
	defer m.ReleaseBytes() // before the Close
	for i := range b {
		want := shmByte(int64(i), seed)
		if write {
			b[i] = want
		} else if b[i] != want {
			return failf("byte %d is %d, expected %d", i, b[i], want)
		}
	}
	verb := "checked"
	if write {
		verb = "wrote"
	}
	fmt.Printf("shm %s: %s %d\n", id, verb, size)
	return nil
}

func counter(name string, n int64, id string) error {
	v, err := polyipc.OpenInt64Value(name)
	if err != nil {
		return err
	}
	defer v.Close()
	for i := int64(0); i < n; i++ {
		if _, err := v.Add(1); err != nil {
			return failf("add #%d: %v", i, err)
		}
	}
	fmt.Printf("counter %s: added %d\n", id, n)
	return nil
}

// runIPC runs a pipe or shared-memory scenario; handled is false when a is not one.
func runIPC(ctx context.Context, a []string, num func(string) int64) (handled bool, err error) {
	n := len(a)
	switch {
	case n == 4 && a[0] == "pipe-ping":
		return true, pipePing(ctx, a[1], num(a[2]), a[3], false)
	case n == 4 && a[0] == "pipe-pong":
		return true, pipePing(ctx, a[1], num(a[2]), a[3], true)
	case (n == 4 || n == 5 && a[4] == "--hang") && a[0] == "pipe-send":
		return true, pipeSend(ctx, a[1], num(a[2]), a[3], n == 5)
	case n == 3 && a[0] == "pipe-eof":
		return true, pipeEOF(ctx, a[1], a[2])
	case n == 5 && a[0] == "shm-write":
		return true, shm(a[1], num(a[2]), num(a[3]), a[4], true)
	case n == 5 && a[0] == "shm-check":
		return true, shm(a[1], num(a[2]), num(a[3]), a[4], false)
	case n == 4 && a[0] == "counter":
		return true, counter(a[1], num(a[2]), a[3])
	}
	return false, nil
}
