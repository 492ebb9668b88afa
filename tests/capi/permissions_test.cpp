// Permissions of the shared-memory object /dev/shm/polyipc.<namespace>.<name>:
// 0600 by default whatever the umask, the `mode` option honoured, and the OS's
// refusal reported as PERMISSION.
#include <sys/stat.h>
#include <unistd.h>

#include "common.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class Permissions : public CapiTest {
 protected:
  void SetUp() override { saved_ = umask(022); }
  void TearDown() override {
    umask(saved_);
    CapiTest::TearDown();
  }
  // Creates `name` under `mask` and returns the object's permission bits.
  unsigned CreateAndMode(const std::string& name, mode_t mask, const polyipc_queue_options* o) {
    umask(mask);
    Queue q;
    Err e;
    int rc = OpenQ(name, POLYIPC_CREATE_ONLY, o, &q, &e);
    umask(022);
    EXPECT_ST(POLYIPC_OK, rc) << e.Msg();
    struct stat st {};
    if (stat(ShmPath(name).c_str(), &st) != 0) {
      ADD_FAILURE() << ShmPath(name) << ": " << std::strerror(errno);
      return 0;
    }
    EXPECT_EQ(geteuid(), st.st_uid);
    return st.st_mode & 07777;
  }
  mode_t saved_ = 022;
};

TEST_F(Permissions, Default0600WhateverTheUmask) {
  for (mode_t mask : {mode_t(0), mode_t(022), mode_t(077), mode_t(0777)}) {
    std::string name = Name("mask" + std::to_string(mask));
    EXPECT_EQ(0600u, CreateAndMode(name, mask, nullptr)) << "umask 0" << std::oct << mask;
    auto o = Opts();
    std::string name2 = Name("opts-mask" + std::to_string(mask));
    EXPECT_EQ(0600u, CreateAndMode(name2, mask, &o)) << "umask 0" << std::oct << mask;
  }
}

TEST_F(Permissions, ModeOptionHonoured) {
  for (unsigned mode : {0640u, 0660u, 0644u, 0666u, 0400u | 0200u}) {
    for (mode_t mask : {mode_t(022), mode_t(077)}) {
      auto o = Opts();
      o.mode = mode;
      std::string name = Name("mode" + std::to_string(mode) + "-mask" + std::to_string(mask));
      EXPECT_EQ(mode, CreateAndMode(name, mask, &o)) << "mode 0" << std::oct << mode << " umask 0" << mask;
    }
  }
}

// Another user (nobody) is refused a 0600 queue with PERMISSION, and admitted
// to a 0666 one.
TEST_F(Permissions, OtherUserRefusedByMode) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  std::string priv = Name("private"), pub = Name("public");
  Queue a, b;
  CAPI_ASSERT_OK(OpenQ(priv, POLYIPC_CREATE_ONLY, nullptr, &a, &e));
  auto o = Opts();
  o.mode = 0666;
  CAPI_ASSERT_OK(OpenQ(pub, POLYIPC_CREATE_ONLY, &o, &b, &e));
  CAPI_ASSERT_OK(Put(a, "\"secret\"", 0, &e));
  pid_t pid = Spawn([&] {
    a.Forget();
    b.Forget();
    CHILD_REQUIRE(setgid(65534) == 0);
    CHILD_REQUIRE(setuid(65534) == 0);
    polyipc_queue* h = nullptr;
    polyipc_error e{};
    int rc = polyipc_queue_open(priv.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, &e);
    if (rc != POLYIPC_ERR_PERMISSION) std::fprintf(stderr, "open private: %s %s\n", St(rc).c_str(), e.message);
    CHILD_REQUIRE(rc == POLYIPC_ERR_PERMISSION);
    CHILD_REQUIRE(std::string(e.message).find(priv) != std::string::npos);
    rc = polyipc_queue_open(priv.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, &h, &e);
    CHILD_REQUIRE(rc == POLYIPC_ERR_PERMISSION);
    rc = polyipc_queue_open(pub.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, &e);
    if (rc != POLYIPC_OK) std::fprintf(stderr, "open public: %s %s\n", St(rc).c_str(), e.message);
    CHILD_REQUIRE(rc == POLYIPC_OK);
    CHILD_REQUIRE(polyipc_queue_put(h, "\"from nobody\"", 13, 0, nullptr) == POLYIPC_OK);
    polyipc_queue_close(h);
    return 0;
  });
  EXPECT_EQ(0, WaitChild(pid, 30s));
  EXPECT_EQ(1u, Size(a));
  std::string m;
  CAPI_EXPECT_OK(Get(b, &m, 0, &e));
  EXPECT_EQ("\"from nobody\"", m);
}

}  // namespace
