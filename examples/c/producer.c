/* producer: puts N JSON jobs on the joinable queue demo.jobs, waits in join()
 * until every job was task_done by some worker, then closes the queue for
 * writing so the workers stop.
 *
 * usage: polyipc_example_producer [JOBS (default 8)] [JOIN_TIMEOUT_SECONDS (default: forever)]
 * The queue lives in the namespace $POLYIPC_NAMESPACE (default "default").
 */
#include <polyipc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_NAME "demo.jobs"

static int fail(const char *what, const polyipc_error *err) {
  fprintf(stderr, "producer: %s failed: %s\n", what, err->message);
  return 1;
}

int main(int argc, char **argv) {
  long jobs = argc > 1 ? strtol(argv[1], NULL, 10) : 8;
  double join_timeout_s = argc > 2 ? strtod(argv[2], NULL) : -1;
  int64_t join_timeout = join_timeout_s < 0 ? POLYIPC_FOREVER : (int64_t)(join_timeout_s * 1e9);
  if (jobs < 1) {
    fprintf(stderr, "usage: %s [JOBS] [JOIN_TIMEOUT_SECONDS]\n", argv[0]);
    return 2;
  }
  const char *ns = getenv("POLYIPC_NAMESPACE");

  polyipc_queue_options opts;
  polyipc_queue_options_init(&opts);
  opts.joinable = 1; /* a get is a lease until task_done: a killed worker loses no job */
  polyipc_queue *q = NULL;
  polyipc_error err = {0};
  if (polyipc_queue_open(QUEUE_NAME, POLYIPC_OPEN_OR_CREATE, &opts, &q, &err) != POLYIPC_OK)
    return fail("open " QUEUE_NAME, &err);
  printf("producer: opened joinable queue '%s' in namespace '%s'\n", QUEUE_NAME, ns ? ns : "default");

  for (long i = 1; i <= jobs; ++i) {
    char job[128];
    int len = snprintf(job, sizeof job, "{\"job\":%ld,\"payload\":\"resize image-%03ld.png\"}", i, i);
    if (polyipc_queue_put(q, job, (size_t)len, POLYIPC_FOREVER, &err) != POLYIPC_OK) {
      polyipc_queue_close(q);
      return fail("put", &err);
    }
    printf("producer: put %s\n", job);
  }
  printf("producer: put %ld jobs; waiting in join() until every job is task_done\n", jobs);
  fflush(stdout);

  int rc = polyipc_queue_join(q, join_timeout, &err);
  if (rc == POLYIPC_OK)
    printf("producer: join returned: all %ld jobs were done\n", jobs);
  else
    fprintf(stderr, "producer: join failed (%s): %s\n", polyipc_status_name(rc), err.message);

  /* End of stream either way, so the workers drain and stop instead of waiting forever. */
  polyipc_error close_err = {0};
  if (polyipc_queue_close_writes(q, &close_err) != POLYIPC_OK) {
    polyipc_queue_close(q);
    return fail("close_writes", &close_err);
  }
  printf("producer: closed the queue for writing; workers stop once it is drained\n");
  polyipc_queue_close(q);
  return rc == POLYIPC_OK ? 0 : 1;
}
