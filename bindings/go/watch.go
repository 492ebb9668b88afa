package polyipc

import "context"

// Watching a Dict or a List for a change: both keep a version, +1 per
// change, and a waiter blocked on it wakes (in any process) when a change
// commits.

// nativeWatched is a native handle with a version (NativeDict, NativeList).
type nativeWatched interface {
	Version() uint64
	Wait_change(seen uint64, timeoutNs int64) uint64
}

func versionOf[H nativeWatched](s *syncHandle[H]) (uint64, error) {
	var v uint64
	if err := s.do(func(h H) { v = h.Version() }); err != nil {
		return 0, err
	}
	return v, nil
}

// waitChange waits, in 50 ms native slices as every wait does, each from
// the same seen version (so a change between slices is not missed), until
// the version differs from seen: the version then, or seen and the error.
func waitChange[H nativeWatched](s *syncHandle[H], ctx context.Context, seen uint64) (uint64, error) {
	var v uint64
	err := s.wait(ctx, "wait for a change", func(h H, timeoutNs int64) { v = h.Wait_change(seen, timeoutNs) })
	if err != nil {
		return seen, err
	}
	return v, nil
}
