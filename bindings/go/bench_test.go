package polyipc

import (
	"context"
	"strings"
	"testing"
)

// One put and one get of a 64-byte JSON message, in one goroutine:
// go test -run '^$' -bench PutGet .
func BenchmarkPutGet64ByteJSON(b *testing.B) {
	q := openQueue(b)
	msg := []byte(`{"job":1,"from":"go","pad":"` + strings.Repeat("x", 64-30) + `"}`)
	if len(msg) != 64 {
		b.Fatalf("message is %d bytes", len(msg))
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := q.Put(bg, msg); err != nil {
			b.Fatal(err)
		}
		if _, err := q.Get(bg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// The same through TryPut/TryGet (no context, no slicing).
func BenchmarkTryPutTryGet64ByteJSON(b *testing.B) {
	q := openQueue(b)
	msg := []byte(`{"job":1,"from":"go","pad":"` + strings.Repeat("x", 64-30) + `"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := q.TryPut(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := q.TryGet(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// A 64 KiB message through Put/Get (one copy in, one copy and an allocation
// out), to compare with the zero-copy benchmark below:
// go test -run '^$' -bench 64KiB .
func BenchmarkPutGet64KiB(b *testing.B) {
	q := openQueue(b, WithFormat(Bytes), WithCapacity(4<<20))
	msg := make([]byte, 64<<10)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := q.Put(bg, msg); err != nil {
			b.Fatal(err)
		}
		if _, err := q.Get(bg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// The same message written in place (Reserve, one copy from msg, Commit)
// and read in place (Borrow, Release): the message is filled as a producer
// would fill it, and read as a consumer would (here: its last byte).
func BenchmarkReserveBorrow64KiB(b *testing.B) {
	q := openQueue(b, WithFormat(Bytes), WithCapacity(4<<20))
	msg := make([]byte, 64<<10)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := q.Reserve(bg, len(msg))
		if err != nil {
			b.Fatal(err)
		}
		copy(r.Bytes(), msg)
		if err := r.Commit(); err != nil {
			b.Fatal(err)
		}
		br, err := q.Borrow(bg)
		if err != nil {
			b.Fatal(err)
		}
		_ = br.Bytes()[br.Len()-1]
		if err := br.Release(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// Pool throughput: b.N tasks adding two integers, served by two Serve
// goroutines of the same process, submitted task by task (Submit, Wait), in
// one SubmitMany of chunk 64, or in one Map of chunk 64:
// go test -run '^$' -bench PoolTasks .
func BenchmarkPoolTasks(b *testing.B) {
	for _, how := range []string{"Submit", "SubmitDone", "SubmitMany", "Map"} {
		b.Run(how, func(b *testing.B) {
			p := openPool(b)
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			for i := 0; i < 2; i++ {
				go func() { _ = p.Serve(ctx, testHandlers()) }()
			}
			args := make([]any, b.N)
			for i := range args {
				args[i] = []int{i, 1}
			}
			b.ResetTimer()
			switch how {
			case "Submit", "SubmitDone": // SubmitDone: collected by a select on Done (the handle's receiver)
				futures := make([]*Future, 0, 256)
				for i := 0; i < b.N; i++ {
					f, err := p.Submit(bg, "add", args[i])
					if err != nil {
						b.Fatal(err)
					}
					if futures = append(futures, f); len(futures) == cap(futures) || i == b.N-1 {
						for _, f := range futures {
							if how == "SubmitDone" {
								<-f.Done()
							} else if _, err := f.Wait(bg); err != nil {
								b.Fatal(err)
							}
						}
						futures = futures[:0]
					}
				}
			case "SubmitMany":
				futures, err := p.SubmitMany(bg, "add", args, 64)
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range futures {
					if _, err := f.Wait(bg); err != nil {
						b.Fatal(err)
					}
				}
			case "Map":
				if _, err := p.Map(bg, "add", args, 64); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
	}
}
