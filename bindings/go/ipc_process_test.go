package polyipc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// The child side of the cross-process pipe, shared memory and Value tests:
// registered with the synchronisation helpers that runHelper dispatches to.
func init() {
	syncHelpers["pipe-send-hang"] = helperPipeSendHang
	syncHelpers["pipe-echo"] = helperPipeEcho
	syncHelpers["value-add"] = helperValueAdd
	syncHelpers["shm-write"] = helperShmWrite
}

func helperCount() int {
	n, _ := strconv.Atoi(os.Getenv("POLYIPC_GO_TEST_COUNT"))
	return n
}

// Opens end A, sends COUNT messages, says so and waits to be killed.
func helperPipeSendHang(name string) int {
	c, err := OpenConn(name, EndA, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	ctx, cancel := helperCtx()
	defer cancel()
	for i := 0; i < helperCount(); i++ {
		if err := c.SendJSON(ctx, ping{Seq: i, Ping: "child"}); err != nil {
			return helperFail("send", err)
		}
	}
	return untilKilled("holding")
}

// Opens end B and echoes every message until the end of stream.
func helperPipeEcho(name string) int {
	c, err := OpenConn(name, EndB, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	defer c.Close()
	ctx, cancel := helperCtx()
	defer cancel()
	n := 0
	for {
		data, err := c.Recv(ctx)
		if errors.Is(err, io.EOF) {
			fmt.Printf("echoed %d\n", n)
			return 0
		}
		if err != nil {
			return helperFail("recv", err)
		}
		if err := c.Send(ctx, data); err != nil {
			return helperFail("send", err)
		}
		n++
	}
}

func helperValueAdd(name string) int {
	v, err := OpenInt64Value(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	defer v.Close()
	for i := 0; i < helperCount(); i++ {
		if _, err := v.Add(1); err != nil {
			return helperFail("add", err)
		}
	}
	return 0
}

func shmByte(i int) byte { return byte(i*131 + 7) }

func helperShmWrite(name string) int {
	m, err := OpenSharedMemory(name, 0, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	b := m.Bytes()
	for i := range b {
		b[i] = shmByte(i)
	}
	fmt.Printf("wrote %d\n", len(b))
	m.ReleaseBytes()
	if err := m.Close(); err != nil {
		return helperFail("close", err)
	}
	return 0
}

// A pipe peer killed with kill -9: what it sent is received, then io.EOF
// within a bound (the library notices a dead holder within about 100 ms).
func TestKilledPipePeerGivesEOF(t *testing.T) {
	name := queueName(t)
	b := must[*Conn](t)(OpenConn(name, EndB))
	defer b.Close()
	const k = 3
	cmd, out := child(t, "pipe-send-hang", name, "POLYIPC_GO_TEST_COUNT="+strconv.Itoa(k))
	if line := readLine(t, out, 30*time.Second); line != "holding" {
		t.Fatalf("child said %q", line)
	}
	killChild(t, cmd)
	killed := time.Now()
	ctx := withTimeout(t, 30*time.Second)
	for i := 0; i < k; i++ {
		var p ping
		if err := b.RecvJSON(ctx, &p); err != nil || p.Seq != i {
			t.Fatalf("message %d after the kill: %+v, %v", i, p, err)
		}
	}
	_, err := b.Recv(ctx)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after the peer died: %v", err)
	}
	if d := time.Since(killed); d > 5*time.Second {
		t.Fatalf("io.EOF came %v after the kill", d)
	}
	if err := b.Send(ctx, []byte(`1`)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send to the dead peer: %v", err)
	}
}

// Round trips with a child that holds end B; closing end A ends its loop.
func TestPipeEchoAcrossProcesses(t *testing.T) {
	name := queueName(t)
	a := must[*Conn](t)(OpenConn(name, EndA, WithFormat(Bytes)))
	defer a.Close()
	cmd, out := child(t, "pipe-echo", name)
	ctx := withTimeout(t, 30*time.Second)
	const n = 200
	for i := 0; i < n; i++ {
		msg := []byte(fmt.Sprintf("message %d", i))
		if err := a.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		got, err := a.Recv(ctx)
		if err != nil || string(got) != string(msg) {
			t.Fatalf("reply %d: %q, %v", i, got, err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if line := readLine(t, out, 30*time.Second); line != fmt.Sprintf("echoed %d", n) {
		t.Fatalf("child said %q", line)
	}
	if err := waitChild(t, cmd, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

// A Value incremented by several processes at once ends exact.
func TestValueAddedByChildren(t *testing.T) {
	name := queueName(t)
	v := must[*Int64Value](t)(OpenInt64Value(name))
	defer v.Close()
	const children, adds = 4, 20000
	var cmds []*exec.Cmd
	for i := 0; i < children; i++ {
		cmd, _ := child(t, "value-add", name, "POLYIPC_GO_TEST_COUNT="+strconv.Itoa(adds))
		cmds = append(cmds, cmd)
	}
	for i := 0; i < adds; i++ { // the parent adds too, meanwhile
		if _, err := v.Add(1); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range cmds {
		if err := waitChild(t, cmd, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if x, err := v.Load(); x != (children+1)*adds || err != nil {
		t.Fatalf("Value = %d, %v; want %d", x, err, (children+1)*adds)
	}
}

// The child writes through its Bytes, the parent sees it in its own.
func TestSharedMemoryAcrossProcesses(t *testing.T) {
	name := queueName(t)
	m := must[*SharedMemory](t)(OpenSharedMemory(name, 65536))
	cmd, out := child(t, "shm-write", name)
	if line := readLine(t, out, 30*time.Second); line != "wrote 65536" {
		t.Fatalf("child said %q", line)
	}
	if err := waitChild(t, cmd, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	b := m.Bytes()
	for i := range b {
		if b[i] != shmByte(i) {
			t.Fatalf("byte %d: %d, want %d", i, b[i], shmByte(i))
		}
	}
	m.ReleaseBytes()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}
