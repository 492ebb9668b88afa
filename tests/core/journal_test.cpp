// The undo journal: a process killed in the middle of a transaction leaves
// changes that roll_back() undoes, so the state is the one before it began.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sync/journal.hpp"

using polyipc::Journal;
using polyipc::Transaction;

namespace {

struct Shared {
  Journal journal;
  uint64_t words[64];
};

Shared* map_shared() {
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  return new (p) Shared();
}

}  // namespace

TEST(Journal, CommittedChangesStay) {
  Shared* s = map_shared();
  {
    Transaction tx(s->journal, s);
    tx.set(s->words[0], 7);
    tx.set(s->words[1], 8);
  }
  EXPECT_EQ(polyipc::roll_back(s->journal, s), 0u);
  EXPECT_EQ(s->words[0], 7u);
  EXPECT_EQ(s->words[1], 8u);
  munmap(s, sizeof(Shared));
}

TEST(Journal, KilledMidTransactionRollsBackToTheStateBefore) {
  for (int cut = 0; cut < 64; ++cut) {
    Shared* s = map_shared();
    for (int i = 0; i < 64; ++i) s->words[i] = 1000 + i;
    pid_t child = fork();
    if (child == 0) {
      Transaction tx(s->journal, s);
      for (int i = 0; i < 64; ++i) {
        if (i == cut) raise(SIGKILL);
        tx.set(s->words[i], i);
        tx.set(s->words[(i * 7) % 64], 5000 + i);  // the same word may change twice
      }
      raise(SIGKILL);  // dies before commit
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));
    polyipc::roll_back(s->journal, s);
    for (int i = 0; i < 64; ++i) ASSERT_EQ(s->words[i], 1000u + i) << "cut " << cut << " word " << i;
    munmap(s, sizeof(Shared));
  }
}

// A transaction that outgrows the journal (an internal bug) throws, and
// leaves every word as it was before the transaction began.
TEST(Journal, OverflowThrowsAndUndoesTheTransaction) {
  Shared* s = map_shared();
  for (int i = 0; i < 64; ++i) s->words[i] = 1000u + i;
  bool threw = false;
  try {
    Transaction tx(s->journal, s);
    for (uint32_t n = 0; n <= Journal::kCapacity; ++n) tx.set(s->words[n % 64], n);
  } catch (const polyipc::Error& e) {
    threw = true;
    EXPECT_EQ(e.status(), polyipc::Status::System);
  }
  EXPECT_TRUE(threw);
  EXPECT_EQ(s->journal.count, 0u);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(s->words[i], 1000u + i) << "word " << i;
  munmap(s, sizeof(Shared));
}
