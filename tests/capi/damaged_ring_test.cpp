// A queue whose shared memory was written by something other than the library
// (a stray write through a stale zero-copy buffer, a bug in another process):
// a record whose length claims more than the ring holds is reported as
// INCOMPATIBLE naming the queue and the record, and never copied from outside
// the ring. The records before it are delivered; nothing else is touched.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common.hpp"

using namespace capitest;

namespace {

class DamagedRing : public CapiTest {
 protected:
  // Overwrites the length word of the record carrying `payload` (the header,
  // five 8-byte words with the length first, sits right before the payload).
  void SetLengthOf(const std::string& tag, const std::string& payload, uint64_t len) {
    const std::string path = ShmPath(Name(tag));
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << path;
    struct stat st {};
    ASSERT_EQ(0, ::fstat(fd, &st));
    void* m = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    ASSERT_NE(MAP_FAILED, m);
    char* base = static_cast<char*>(m);
    char* at = static_cast<char*>(::memmem(base, static_cast<size_t>(st.st_size), payload.data(), payload.size()));
    ASSERT_NE(nullptr, at) << "payload not found in " << path;
    ASSERT_GE(at - base, 40);
    std::memcpy(at - 40, &len, sizeof len);
    ::munmap(m, static_cast<size_t>(st.st_size));
  }

  Queue Open(const std::string& tag) {
    polyipc_queue_options o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_BYTES);
    o.capacity_bytes = 64 << 10;
    Queue q;
    Err e;
    EXPECT_ST(POLYIPC_OK, OpenQ(Name(tag), POLYIPC_OPEN_OR_CREATE, &o, &q, &e)) << e.Msg();
    return q;
  }
};

TEST_F(DamagedRing, GetReportsTheRecordInsteadOfCopyingPastTheRing) {
  Queue q = Open("get");
  ASSERT_ST(POLYIPC_OK, Put(q, "first-message"));
  ASSERT_ST(POLYIPC_OK, Put(q, "second-message-to-damage"));
  ASSERT_ST(POLYIPC_OK, Put(q, "third"));
  SetLengthOf("get", "second-message-to-damage", uint64_t{1} << 40);

  std::string m;
  ASSERT_ST(POLYIPC_OK, Get(q, &m));
  EXPECT_EQ("first-message", m);
  for (int i = 0; i < 2; ++i) {  // reported every time, not skipped
    Err e;
    EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, Get(q, &m, 0, &e));
    EXPECT_TRUE(ContainsI(e.Msg(), Name("get")) && ContainsI(e.Msg(), "damaged")) << e.Msg();
  }
  // get_many, borrow and peek meet it too.
  char buf[256];
  size_t lens[4], done = 0;
  Err e;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_queue_get_many(q, buf, sizeof buf, lens, 4, &done, 0, &e));
  const void* data = nullptr;
  size_t len = 0;
  uint64_t ticket = 0;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_queue_borrow(q, &data, &len, &ticket, 0, &e));
  char* text = nullptr;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_peek_json(Name("get").c_str(), 10, &text, &e));
  polyipc_free(text);
}

TEST_F(DamagedRing, ALengthThatCrossesTheRingsEndIsCaughtToo) {
  Queue q = Open("end");
  ASSERT_ST(POLYIPC_OK, Put(q, "crossing"));
  SetLengthOf("end", "crossing", (64 << 10) - 16);  // fits the ring, not before its end from here
  std::string m;
  Err e;
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, Get(q, &m, 0, &e));
  EXPECT_TRUE(ContainsI(e.Msg(), "damaged")) << e.Msg();
}

TEST_F(DamagedRing, GetManyDeliversWhatCameBeforeTheDamagedRecord) {
  Queue q = Open("many");
  ASSERT_ST(POLYIPC_OK, Put(q, "one"));
  ASSERT_ST(POLYIPC_OK, Put(q, "two"));
  ASSERT_ST(POLYIPC_OK, Put(q, "three-to-damage"));
  SetLengthOf("many", "three-to-damage", ~uint64_t{0});
  char buf[256];
  size_t lens[8], done = 0;
  Err e;
  ASSERT_ST(POLYIPC_OK, polyipc_queue_get_many(q, buf, sizeof buf, lens, 8, &done, 0, &e)) << e.Msg();
  ASSERT_EQ(2u, done);
  EXPECT_EQ("onetwo", std::string(buf, lens[0] + lens[1]));
  EXPECT_ST(POLYIPC_ERR_INCOMPATIBLE, polyipc_queue_get_many(q, buf, sizeof buf, lens, 8, &done, 0, &e));
}

}  // namespace
