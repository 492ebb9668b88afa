// Names and the namespace: unlink, list, stat, peek, gc.
#include "capi/src/internal.hpp"
#include "core/objects.hpp"
#include "core/segment/segment.hpp"

using polyipc::ErrorText;
using polyipc::Status;
using polyipc::capi::dup_string;
using polyipc::capi::guard;

extern "C" {

int polyipc_unlink(const char* name, polyipc_error* err) {
  POLYIPC_REQUIRE(name, err, "polyipc_unlink: name is NULL");
  return guard(err, "polyipc_unlink", [&](ErrorText&) {
    polyipc::unlink_object(name);
    return Status::Ok;
  });
}

int polyipc_list_json(char** json, polyipc_error* err) {
  POLYIPC_REQUIRE(json, err, "polyipc_list_json: json is NULL");
  return guard(err, "polyipc_list_json", [&](ErrorText&) {
    *json = dup_string(polyipc::list_objects_json());
    return Status::Ok;
  });
}

int polyipc_stat_json(const char* name, char** json, polyipc_error* err) {
  POLYIPC_REQUIRE(name, err, "polyipc_stat_json: name is NULL");
  POLYIPC_REQUIRE(json, err, "object '%.200s': stat: json is NULL", name);
  return guard(err, "polyipc_stat_json", [&](ErrorText&) {
    *json = dup_string(polyipc::describe_object(name));
    return Status::Ok;
  });
}

int polyipc_peek_json(const char* name, size_t max_count, char** json, polyipc_error* err) {
  POLYIPC_REQUIRE(name, err, "polyipc_peek_json: name is NULL");
  POLYIPC_REQUIRE(json, err, "queue '%.200s': peek: json is NULL", name);
  return guard(err, "polyipc_peek_json", [&](ErrorText&) {
    polyipc::QueueOptions any;
    any.check_existing = false;
    const polyipc::ObjectView v = polyipc::view_object(name);  // a pool is a queue of tasks: peek at those
    const bool pool = v.header && v.header->kind == static_cast<uint32_t>(polyipc::Kind::Pool);
    auto q = polyipc::Queue::open(name, polyipc::OpenMode::OpenOnly, any, pool ? polyipc::Kind::Pool : polyipc::Kind::Queue);
    *json = dup_string(q->peek_json(max_count));
    return Status::Ok;
  });
}

int polyipc_gc_json(char** json, polyipc_error* err) {
  POLYIPC_REQUIRE(json, err, "polyipc_gc_json: json is NULL");
  return guard(err, "polyipc_gc_json", [&](ErrorText&) {
    *json = dup_string(polyipc::collect_garbage_json());
    return Status::Ok;
  });
}

}  // extern "C"
