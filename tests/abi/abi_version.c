/* Checks that the library's run-time version is the one of polyipc.h, and
 * that the header's version macros agree with each other and with the CMake
 * PROJECT_VERSION (which names the .so file and the pkg-config/CMake
 * packages). Built as strict C99 with -Werror to also prove the header is
 * clean C. Linked to the polyipc target. */
#include <polyipc.h>

#include <stdio.h>
#include <string.h>

#ifndef POLYIPC_EXPECTED_PROJECT_VERSION
#error "POLYIPC_EXPECTED_PROJECT_VERSION must be defined by CMake"
#endif

int main(void) {
  int failures = 0;
  const char *version = polyipc_version();
  char composed[64];

  if (version == NULL || strcmp(version, POLYIPC_VERSION_STRING) != 0) {
    fprintf(stderr, "FAILED: polyipc_version() = \"%s\", polyipc.h says \"%s\"\n",
            version ? version : "(null)", POLYIPC_VERSION_STRING);
    ++failures;
  }
  if (polyipc_version_number() != POLYIPC_VERSION_NUMBER) {
    fprintf(stderr, "FAILED: polyipc_version_number() = %d, polyipc.h says %d\n", polyipc_version_number(),
            POLYIPC_VERSION_NUMBER);
    ++failures;
  }
  if (POLYIPC_VERSION_NUMBER !=
      POLYIPC_VERSION_MAJOR * 1000000 + POLYIPC_VERSION_MINOR * 1000 + POLYIPC_VERSION_PATCH) {
    fprintf(stderr, "FAILED: POLYIPC_VERSION_NUMBER %d != MAJOR*1000000 + MINOR*1000 + PATCH (%d.%d.%d)\n",
            POLYIPC_VERSION_NUMBER, POLYIPC_VERSION_MAJOR, POLYIPC_VERSION_MINOR, POLYIPC_VERSION_PATCH);
    ++failures;
  }
  snprintf(composed, sizeof composed, "%d.%d.%d", POLYIPC_VERSION_MAJOR, POLYIPC_VERSION_MINOR,
           POLYIPC_VERSION_PATCH);
  if (strcmp(composed, POLYIPC_VERSION_STRING) != 0) {
    fprintf(stderr, "FAILED: POLYIPC_VERSION_STRING \"%s\" != MAJOR.MINOR.PATCH \"%s\"\n",
            POLYIPC_VERSION_STRING, composed);
    ++failures;
  }
  if (strcmp(POLYIPC_EXPECTED_PROJECT_VERSION, POLYIPC_VERSION_STRING) != 0) {
    fprintf(stderr, "FAILED: polyipc.h says \"%s\" but CMake's PROJECT_VERSION is \"%s\"\n",
            POLYIPC_VERSION_STRING, POLYIPC_EXPECTED_PROJECT_VERSION);
    ++failures;
  }
  if (failures) return 1;
  printf("abi_version: OK (%s, %d)\n", version, polyipc_version_number());
  return 0;
}
