// Version, status names and memory: the parts of the C API shared by all families.
#include <cstdlib>

#include "capi/src/internal.hpp"

static_assert(POLYIPC_ERR_SYSTEM == static_cast<int>(polyipc::Status::System), "status numbers must agree");
static_assert(POLYIPC_ERR_OWNER_DEAD == static_cast<int>(polyipc::Status::OwnerDead), "status numbers must agree");

extern "C" {

const char* polyipc_version(void) { return POLYIPC_VERSION_STRING; }

int polyipc_version_number(void) { return POLYIPC_VERSION_NUMBER; }

const char* polyipc_status_name(int status) {
  switch (status) {
    case POLYIPC_OK: return "POLYIPC_OK";
    case POLYIPC_ERR_TIMEOUT: return "POLYIPC_ERR_TIMEOUT";
    case POLYIPC_ERR_EMPTY: return "POLYIPC_ERR_EMPTY";
    case POLYIPC_ERR_FULL: return "POLYIPC_ERR_FULL";
    case POLYIPC_ERR_CLOSED: return "POLYIPC_ERR_CLOSED";
    case POLYIPC_ERR_NOT_FOUND: return "POLYIPC_ERR_NOT_FOUND";
    case POLYIPC_ERR_EXISTS: return "POLYIPC_ERR_EXISTS";
    case POLYIPC_ERR_INVALID_ARG: return "POLYIPC_ERR_INVALID_ARG";
    case POLYIPC_ERR_INVALID_JSON: return "POLYIPC_ERR_INVALID_JSON";
    case POLYIPC_ERR_TOO_LARGE: return "POLYIPC_ERR_TOO_LARGE";
    case POLYIPC_ERR_PERMISSION: return "POLYIPC_ERR_PERMISSION";
    case POLYIPC_ERR_OWNER_DEAD: return "POLYIPC_ERR_OWNER_DEAD";
    case POLYIPC_ERR_INCOMPATIBLE: return "POLYIPC_ERR_INCOMPATIBLE";
    case POLYIPC_ERR_NO_MEMORY: return "POLYIPC_ERR_NO_MEMORY";
    case POLYIPC_ERR_NOT_OWNER: return "POLYIPC_ERR_NOT_OWNER";
    case POLYIPC_ERR_BROKEN: return "POLYIPC_ERR_BROKEN";
    case POLYIPC_ERR_SYSTEM: return "POLYIPC_ERR_SYSTEM";
    case POLYIPC_ERR_OUT_OF_RANGE: return "POLYIPC_ERR_OUT_OF_RANGE";
    default: return "POLYIPC_ERR_UNKNOWN";
  }
}

void polyipc_free(void* p) { std::free(p); }

}  // extern "C"
