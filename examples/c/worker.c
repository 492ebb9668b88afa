/* worker: takes jobs from the joinable queue demo.jobs, "works" on each,
 * prints what it did and calls task_done. Stops when the queue is closed for
 * writing and drained.
 *
 * usage: polyipc_example_worker NAME [--hang]
 *   --hang   take one job, print "NAME: took job N ..." and then stop mid-job
 *            (pause() before task_done) so a demo can kill -9 it right there;
 *            the library hands the job to another worker.
 * The queue lives in the namespace $POLYIPC_NAMESPACE (default "default").
 */
#define _POSIX_C_SOURCE 200809L
#include <polyipc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUEUE_NAME "demo.jobs"

/* The job number of {"job":N,...}: enough parsing for a demo. */
static long job_number(const char *msg, size_t len) {
  char text[256];
  size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
  memcpy(text, msg, n);
  text[n] = '\0';
  const char *p = strstr(text, "\"job\"");
  if (!p) return -1;
  p = strchr(p + 5, ':');
  return p ? strtol(p + 1, NULL, 10) : -1;
}

/* The "work": a checksum (FNV-1a) of the message. */
static unsigned work_on(const char *msg, size_t len) {
  unsigned h = 2166136261u;
  for (size_t i = 0; i < len; ++i) h = (h ^ (unsigned char)msg[i]) * 16777619u;
  return h;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s NAME [--hang]\n", argv[0]);
    return 2;
  }
  const char *name = argv[1];
  int hang = argc > 2 && strcmp(argv[2], "--hang") == 0;

  polyipc_queue_options opts;
  polyipc_queue_options_init(&opts);
  opts.joinable = 1;
  polyipc_queue *q = NULL;
  polyipc_error err = {0};
  if (polyipc_queue_open(QUEUE_NAME, POLYIPC_OPEN_OR_CREATE, &opts, &q, &err) != POLYIPC_OK) {
    fprintf(stderr, "%s: open failed: %s\n", name, err.message);
    return 1;
  }
  printf("%s: started (pid %ld), waiting for jobs\n", name, (long)getpid());
  fflush(stdout);

  long done = 0;
  for (;;) {
    void *data = NULL;
    size_t len = 0;
    int rc = polyipc_queue_get(q, &data, &len, POLYIPC_FOREVER, &err);
    if (rc == POLYIPC_ERR_CLOSED) break;
    if (rc != POLYIPC_OK) {
      fprintf(stderr, "%s: get failed (%s): %s\n", name, polyipc_status_name(rc), err.message);
      polyipc_queue_close(q);
      return 1;
    }
    long job = job_number(data, len);
    if (hang) {
      printf("%s: took job %ld and stops mid-job, before task_done (pid %ld)\n", name, job, (long)getpid());
      fflush(stdout);
      for (;;) pause(); /* holds the lease until someone kills it */
    }
    unsigned result = work_on(data, len);
    printf("%s: did job %ld: %.*s -> checksum %08x\n", name, job, (int)len, (const char *)data, result);
    fflush(stdout);
    polyipc_free(data);
    if (polyipc_queue_task_done(q, &err) != POLYIPC_OK) {
      fprintf(stderr, "%s: task_done failed: %s\n", name, err.message);
      polyipc_queue_close(q);
      return 1;
    }
    ++done;
  }
  printf("%s: queue closed and drained after %ld jobs, exiting\n", name, done);
  polyipc_queue_close(q);
  return 0;
}
