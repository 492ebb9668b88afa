// producer: puts N JSON jobs {"job": i, "from": "go"} into the joinable
// queue demo.jobs, closes it for writing (the workers stop once it is
// drained), waits in Join until every job was TaskDone by some worker, and
// prints a summary. Ctrl-C / SIGTERM ends the wait.
//
// usage: producer N
// The queue lives in the namespace $POLYIPC_NAMESPACE (default "default").
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	polyipc "github.com/polyipc/polyipc/bindings/go"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s N\n", os.Args[0])
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 0 {
		fmt.Fprintf(os.Stderr, "usage: %s N (a number of jobs)\n", os.Args[0])
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, n); err != nil {
		fmt.Fprintln(os.Stderr, "producer go:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int) error {
	q, err := polyipc.OpenQueue("demo.jobs", polyipc.Joinable())
	if err != nil {
		return err
	}
	defer q.Close() // releases the handle; the queue stays until someone unlinks it

	start := time.Now()
	for i := 1; i <= n; i++ {
		if err := q.PutJSON(ctx, map[string]any{"job": i, "from": "go"}); err != nil {
			return err
		}
	}
	if err := q.CloseWrites(); err != nil {
		return err
	}
	if err := q.Join(ctx); err != nil {
		return err
	}
	fmt.Printf("producer go pid %d: %d jobs put into demo.jobs and done by the workers in %v\n",
		os.Getpid(), n, time.Since(start).Round(time.Millisecond))
	return nil
}
