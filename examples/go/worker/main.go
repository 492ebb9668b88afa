// worker: takes JSON jobs from the joinable queue demo.jobs (opening it, or
// creating it if it is not there yet), prints one line per job and calls
// TaskDone for each. It exits when the queue is closed for writing and
// drained, after max_jobs jobs if given, or on Ctrl-C / SIGTERM.
//
// usage: worker [max_jobs]
// The queue lives in the namespace $POLYIPC_NAMESPACE (default "default").
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	polyipc "github.com/polyipc/polyipc/bindings/go"
)

func main() {
	maxJobs := -1
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "usage: %s [max_jobs]\n", os.Args[0])
			os.Exit(2)
		}
		maxJobs = n
	}
	// A blocked Get returns promptly on Ctrl-C: the context is cancelled.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	q, err := polyipc.OpenQueue("demo.jobs", polyipc.Joinable())
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker go:", err)
		os.Exit(1)
	}
	defer q.Close() // releases the handle; the queue stays for the others

	pid := os.Getpid()
	done := 0
	for maxJobs < 0 || done < maxJobs {
		var job struct {
			Job  int    `json:"job"`
			From string `json:"from"`
		}
		err := q.GetJSON(ctx, &job)
		if errors.Is(err, polyipc.ErrClosed) {
			break // end of stream: the producer closed the queue and it is drained
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker go:", err)
			q.Close()
			os.Exit(1)
		}
		fmt.Printf("worker go pid %d: job %d done\n", pid, job.Job)
		if err := q.TaskDone(); err != nil {
			fmt.Fprintln(os.Stderr, "worker go:", err)
			q.Close()
			os.Exit(1)
		}
		done++
	}
	fmt.Printf("worker go pid %d: exiting after %d jobs\n", pid, done)
}
