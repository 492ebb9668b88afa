/* A minimal consumer of an *installed* polyipc, built by install_test.sh once
 * with pkg-config and once with find_package(polyipc). Exits non-zero on any
 * mismatch. It only uses the public header and the shared library. */
#include <polyipc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "consumer: FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

int main(void) {
  const char *version = polyipc_version();
  CHECK(version != NULL && strcmp(version, POLYIPC_VERSION_STRING) == 0,
        "polyipc_version() = \"%s\", header says \"%s\"", version ? version : "(null)",
        POLYIPC_VERSION_STRING);
  CHECK(polyipc_version_number() == POLYIPC_VERSION_NUMBER,
        "polyipc_version_number() = %d, header says %d", polyipc_version_number(), POLYIPC_VERSION_NUMBER);

  /* A name no other run uses: pid + time + a random-ish counter. */
  char name[96];
  snprintf(name, sizeof name, "install-test-%ld-%ld-%ld", (long)getpid(), (long)time(NULL),
           (long)(clock() & 0xffff));

  polyipc_queue_options opts;
  polyipc_queue_options_init(&opts);
  polyipc_error err;
  memset(&err, 0, sizeof err);

  polyipc_queue *q = NULL;
  int rc = polyipc_queue_open(name, POLYIPC_CREATE_ONLY, &opts, &q, &err);
  CHECK(rc == POLYIPC_OK && q != NULL, "polyipc_queue_open(%s) = %d: %s", name, rc, err.message);
  if (rc == POLYIPC_OK && q != NULL) {
    /* Already in the form any JSON serialiser would write it (sorted keys, no
     * spaces), so the check holds even if the library re-serialises. */
    static const char msg[] = "{\"hello\":\"world\",\"n\":42}";
    rc = polyipc_queue_put(q, msg, strlen(msg), 1000000000LL, &err);
    CHECK(rc == POLYIPC_OK, "polyipc_queue_put = %d: %s", rc, err.message);

    void *data = NULL;
    size_t len = 0;
    rc = polyipc_queue_get(q, &data, &len, 1000000000LL, &err);
    CHECK(rc == POLYIPC_OK, "polyipc_queue_get = %d: %s", rc, err.message);
    if (rc == POLYIPC_OK) {
      CHECK(data != NULL && len == strlen(msg) && memcmp(data, msg, len) == 0,
            "got %zu bytes \"%.*s\", expected \"%s\"", len, data ? (int)len : 0,
            data ? (const char *)data : "", msg);
    }
    polyipc_free(data);
    polyipc_queue_close(q);
  }
  if (q != NULL) {
    rc = polyipc_unlink(name, &err);
    CHECK(rc == POLYIPC_OK, "polyipc_unlink(%s) = %d: %s", name, rc, err.message);
  }

  if (failures) {
    fprintf(stderr, "consumer: %d check(s) failed\n", failures);
    return 1;
  }
  printf("consumer: OK (polyipc %s)\n", version);
  return 0;
}
