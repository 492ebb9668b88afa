// bench/peers/peers.hpp: the peers polyipc_bench compares.
#pragma once
#include "../common.hpp"

namespace bench {
PeerOps peer_bare_ring();       // bare_ring.cpp: SPSC shared-memory ring, busy polling
PeerOps peer_boost_mq();        // boost_mq.cpp: boost::interprocess::message_queue
PeerOps peer_posix_mq();        // posix_mq.cpp: mq_open/mq_send/mq_receive
PeerOps peer_sock_stream();     // socketpair.cpp: AF_UNIX SOCK_STREAM, length-prefixed frames
PeerOps peer_sock_seqpacket();  // socketpair.cpp: AF_UNIX SOCK_SEQPACKET
// polyipc.cpp: the library under test (C API). available() is false when the
// driver was built without the library (POLYIPC_BENCH_NO_LIB).
bool polyipc_available();
PeerOps peer_polyipc();
Result polyipc_idle_getter(const Params& p, int64_t timeout_ns);
}  // namespace bench
