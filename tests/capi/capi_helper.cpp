// capi_helper: a separate program the C API tests exec, so that some tests run
// in processes that share nothing with the test process but the namespace.
//
//   capi_helper produce <queue> <producer-id> <count> <batch>
//       puts <count> messages {"p":id,"seq":i,"pad":"..."} (put_many of up to
//       <batch> messages when batch > 1; put_priority with assorted priorities
//       when batch = 0), blocking while the queue is full.
//   capi_helper consume <queue> <outfile> <batch>
//       gets (get_many of up to <batch> when batch > 1) until CLOSED; checks
//       every message is the JSON a producer made; writes (producer, seq) pairs
//       as uint32 in the order received to <outfile>.
//   capi_helper put <queue> <json>      OPEN_OR_CREATE then put
//   capi_helper open-status <queue>     exit status = status of OPEN_OR_CREATE
//   capi_helper unlink <queue>
// Exit 0 on success, non-zero (with a line on stderr) otherwise.
#include <polyipc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

int Fail(const char* what, int rc, const polyipc_error& e) {
  std::fprintf(stderr, "capi_helper: %s: %s (%d): %s\n", what, polyipc_status_name(rc), rc, e.message);
  return 2;
}

std::string Pad(uint64_t p, uint64_t seq) {
  size_t n = (seq * 7 + p * 3) % 48;
  std::string s(n, 'a');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (seq + i + p) % 26);
  return s;
}

std::string Message(uint64_t p, uint64_t seq) {
  return "{\"p\":" + std::to_string(p) + ",\"seq\":" + std::to_string(seq) + ",\"pad\":\"" + Pad(p, seq) + "\"}";
}

int Produce(const char* name, uint64_t id, uint64_t count, size_t batch) {
  polyipc_error e{};
  polyipc_queue* q = nullptr;
  int rc = polyipc_queue_open(name, POLYIPC_OPEN_ONLY, nullptr, &q, &e);
  if (rc) return Fail("open", rc, e);
  uint64_t seq = 0;
  std::vector<std::string> msgs;
  std::vector<const void*> ptrs;
  std::vector<size_t> lens;
  while (seq < count) {
    if (batch == 0) {  // put_priority with assorted priorities
      std::string m = Message(id, seq);
      rc = polyipc_queue_put_priority(q, m.data(), m.size(), static_cast<int64_t>((seq * 2654435761u) % 11) - 5,
                                      POLYIPC_FOREVER, &e);
      if (rc) return Fail("put_priority", rc, e);
      ++seq;
      continue;
    }
    if (batch <= 1) {
      std::string m = Message(id, seq);
      rc = polyipc_queue_put(q, m.data(), m.size(), POLYIPC_FOREVER, &e);
      if (rc) return Fail("put", rc, e);
      ++seq;
      continue;
    }
    msgs.clear();
    for (uint64_t s = seq; s < count && msgs.size() < batch; ++s) msgs.push_back(Message(id, s));
    ptrs.clear();
    lens.clear();
    for (auto& m : msgs) {
      ptrs.push_back(m.data());
      lens.push_back(m.size());
    }
    size_t done = 0;
    rc = polyipc_queue_put_many(q, ptrs.data(), lens.data(), msgs.size(), &done, POLYIPC_FOREVER, &e);
    if (rc == POLYIPC_ERR_FULL || rc == POLYIPC_ERR_TIMEOUT) {
      if (done == 0) return Fail("put_many put nothing after a FOREVER wait", rc, e);
    } else if (rc) {
      return Fail("put_many", rc, e);
    } else if (done != msgs.size()) {
      std::fprintf(stderr, "capi_helper: put_many OK but done=%zu of %zu\n", done, msgs.size());
      return 3;
    }
    seq += done;
  }
  polyipc_queue_close(q);
  return 0;
}

bool Check(const char* data, size_t len, std::vector<uint32_t>* out) {
  nlohmann::json j = nlohmann::json::parse(data, data + len, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  uint64_t p = j.value("p", uint64_t(999)), seq = j.value("seq", uint64_t(0));
  if (j.value("pad", std::string("?")) != Pad(p, seq)) return false;
  if (std::string(data, len) != Message(p, seq)) return false;
  out->push_back(static_cast<uint32_t>(p));
  out->push_back(static_cast<uint32_t>(seq));
  return true;
}

int Consume(const char* name, const char* outfile, size_t batch) {
  polyipc_error e{};
  polyipc_queue* q = nullptr;
  int rc = polyipc_queue_open(name, POLYIPC_OPEN_ONLY, nullptr, &q, &e);
  if (rc) return Fail("open", rc, e);
  std::vector<uint32_t> got;
  std::vector<char> buf(64 * 1024);
  std::vector<size_t> lens(batch > 1 ? batch : 1);
  for (;;) {
    if (batch <= 1) {
      void* data = nullptr;
      size_t len = 0;
      rc = polyipc_queue_get(q, &data, &len, POLYIPC_FOREVER, &e);
      if (rc == POLYIPC_ERR_CLOSED) break;
      if (rc) return Fail("get", rc, e);
      bool ok = Check(static_cast<const char*>(data), len, &got);
      polyipc_free(data);
      if (!ok) {
        std::fprintf(stderr, "capi_helper: bad message\n");
        return 4;
      }
    } else {
      size_t done = 0;
      rc = polyipc_queue_get_many(q, buf.data(), buf.size(), lens.data(), batch, &done, POLYIPC_FOREVER, &e);
      if (rc == POLYIPC_ERR_CLOSED && done == 0) break;
      if (rc) return Fail("get_many", rc, e);
      if (done == 0) {
        std::fprintf(stderr, "capi_helper: get_many OK with done=0\n");
        return 5;
      }
      size_t off = 0;
      for (size_t i = 0; i < done; ++i) {
        if (!Check(buf.data() + off, lens[i], &got)) {
          std::fprintf(stderr, "capi_helper: bad message in batch\n");
          return 4;
        }
        off += lens[i];
      }
    }
  }
  polyipc_queue_close(q);
  FILE* f = std::fopen(outfile, "wb");
  if (!f) return 6;
  if (!got.empty() && std::fwrite(got.data(), sizeof(uint32_t), got.size(), f) != got.size()) return 7;
  if (std::fclose(f) != 0) return 8;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 64;
  std::string cmd = argv[1];
  if (cmd == "produce" && argc == 6) {
    return Produce(argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoull(argv[4], nullptr, 10),
                   std::strtoul(argv[5], nullptr, 10));
  }
  if (cmd == "consume" && argc == 5) return Consume(argv[2], argv[3], std::strtoul(argv[4], nullptr, 10));
  if (cmd == "put" && argc == 4) {
    polyipc_error e{};
    polyipc_queue* q = nullptr;
    int rc = polyipc_queue_open(argv[2], POLYIPC_OPEN_OR_CREATE, nullptr, &q, &e);
    if (rc) return Fail("open", rc, e);
    rc = polyipc_queue_put(q, argv[3], std::strlen(argv[3]), 0, &e);
    if (rc) return Fail("put", rc, e);
    polyipc_queue_close(q);
    return 0;
  }
  if (cmd == "open-status" && argc == 3) {  // exit status = the status of OPEN_OR_CREATE
    polyipc_error e{};
    polyipc_queue* q = nullptr;
    int rc = polyipc_queue_open(argv[2], POLYIPC_OPEN_OR_CREATE, nullptr, &q, &e);
    if (rc) std::fprintf(stderr, "capi_helper: open: %s: %s\n", polyipc_status_name(rc), e.message);
    polyipc_queue_close(q);
    return rc;
  }
  if (cmd == "unlink" && argc == 3) {
    polyipc_error e{};
    int rc = polyipc_unlink(argv[2], &e);
    return rc ? Fail("unlink", rc, e) : 0;
  }
  std::fprintf(stderr, "capi_helper: bad arguments\n");
  return 64;
}
