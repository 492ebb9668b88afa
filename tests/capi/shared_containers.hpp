// The dict and list tests' handles and helpers.
#pragma once
#include <polyipc.h>

#include <cstring>
#include <string>

#include "common.hpp"

namespace capitest {

// Owns a polyipc_dict handle.
class Dict {
 public:
  Dict() = default;
  Dict(const Dict&) = delete;
  ~Dict() { polyipc_dict_close(d_); }
  polyipc_dict** out() {
    polyipc_dict_close(d_);
    d_ = nullptr;
    return &d_;
  }
  operator polyipc_dict*() const { return d_; }

 private:
  polyipc_dict* d_ = nullptr;
};

inline polyipc_dict_options DictOpts(uint64_t capacity = 1 << 20, uint64_t max_items = 4096) {
  polyipc_dict_options o;
  polyipc_dict_options_init(&o);
  o.capacity_bytes = capacity;
  o.max_items = max_items;
  return o;
}

// The value of key as text; "<absent>" when missing, "<error ...>" on failure.
inline std::string GetS(polyipc_dict* d, const std::string& key) {
  Err e;
  char* json = nullptr;
  size_t len = 7;
  int found = -1;
  int rc = polyipc_dict_get(d, key.c_str(), &json, &len, &found, &e);
  if (rc != POLYIPC_OK) return "<error " + St(rc) + " " + e.Msg() + ">";
  if (!found) return json == nullptr && len == 0 ? "<absent>" : "<absent, but out values set>";
  std::string s(json, len);
  if (std::strlen(json) != len) s += "<len mismatch>";
  polyipc_free(json);
  return s;
}

inline uint64_t Len(polyipc_dict* d) {
  uint64_t n = UINT64_MAX;
  Err e;
  EXPECT_EQ(polyipc_dict_len(d, &n, &e), POLYIPC_OK) << e.Msg();
  return n;
}

// Owns a polyipc_list handle.
class List {
 public:
  List() = default;
  List(const List&) = delete;
  ~List() { polyipc_list_close(l_); }
  polyipc_list** out() {
    polyipc_list_close(l_);
    l_ = nullptr;
    return &l_;
  }
  operator polyipc_list*() const { return l_; }

 private:
  polyipc_list* l_ = nullptr;
};

inline polyipc_list_options ListOpts(uint64_t capacity = 1 << 20, uint64_t max_items = 4096) {
  polyipc_list_options o;
  polyipc_list_options_init(&o);
  o.capacity_bytes = capacity;
  o.max_items = max_items;
  return o;
}

// The list's values as one JSON array ("<error ...>" text on failure).
inline std::string ListItems(polyipc_list* l) {
  char* text = nullptr;
  Err e;
  int rc = polyipc_list_items(l, &text, &e);
  if (rc != POLYIPC_OK) return "<error " + St(rc) + " " + e.Msg() + ">";
  std::string s(text);
  polyipc_free(text);
  return s;
}

}  // namespace capitest
