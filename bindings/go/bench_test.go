package polyipc

import (
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
