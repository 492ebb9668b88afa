/*
 * bench/languages/c/langbench.c: the C reference of bench/languages, through
 * the C API only (polyipc_queue_put + polyipc_queue_get_into with a reused
 * buffer, POLYIPC_FOREVER), as bench/peers/polyipc.cpp does.
 *
 *   langbench single   N NAME [WARMUP]  put then get of one 64-byte JSON text, N times
 *   langbench producer N NAME [WARMUP]  WARMUP puts, wait for NAME.ack, N timed puts
 *   langbench consumer N NAME [WARMUP]  WARMUP gets, put NAME.ack, N timed gets
 *
 * Every role prints one JSON line. The protocol (the same in every language):
 * the consumer takes the warm-up messages, reads the clock, puts one message
 * on NAME.ack and takes N messages; its rate is N / (clock after the last get
 * - clock before the ack). The queue is empty when the clock starts.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "polyipc.h"

static const char MESSAGE[] = "{\"id\":123456,\"kind\":\"bench\",\"payload\":\"xxxxxxxxxxxxxxxxxxxxxxx\"}";
#define MESSAGE_LEN (sizeof MESSAGE - 1)
#define CAPACITY (4u << 20)

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, int rc, const polyipc_error *e) {
  printf("{\"lang\":\"c\",\"ok\":false,\"error\":\"%s: %s\"}\n", what, polyipc_status_name(rc));
  fprintf(stderr, "langbench c: %s: %s: %s\n", what, polyipc_status_name(rc), e ? e->message : "");
  exit(1);
}

static polyipc_queue *open_queue(const char *name) {
  polyipc_queue_options o;
  polyipc_queue *q = NULL;
  polyipc_error e;
  int rc;
  polyipc_queue_options_init(&o);
  o.format = POLYIPC_FORMAT_JSON;
  o.capacity_bytes = CAPACITY;
  rc = polyipc_queue_open(name, POLYIPC_OPEN_OR_CREATE, &o, &q, &e);
  if (rc != POLYIPC_OK) die("polyipc_queue_open", rc, &e);
  return q;
}

static void put(polyipc_queue *q) {
  polyipc_error e;
  int rc = polyipc_queue_put(q, MESSAGE, MESSAGE_LEN, POLYIPC_FOREVER, &e);
  if (rc != POLYIPC_OK) die("polyipc_queue_put", rc, &e);
}

static void get(polyipc_queue *q, char *buf, size_t cap) {
  polyipc_error e;
  size_t len = 0;
  int rc = polyipc_queue_get_into(q, buf, cap, &len, POLYIPC_FOREVER, &e);
  if (rc != POLYIPC_OK) die("polyipc_queue_get_into", rc, &e);
  if (len != MESSAGE_LEN) die("wrong message length", 0, NULL);
}

int main(int argc, char **argv) {
  const char *mode, *name;
  long n, warm;
  char buf[256], ack[320];
  polyipc_queue *q, *a;
  double t0, t1;
  if (argc < 4) {
    fprintf(stderr, "usage: langbench single|producer|consumer N NAME [WARMUP]\n");
    return 2;
  }
  mode = argv[1];
  n = atol(argv[2]);
  name = argv[3];
  warm = argc > 4 ? atol(argv[4]) : 20000;
  snprintf(ack, sizeof ack, "%s.ack", name);
  if (strcmp(mode, "single") == 0) {
    q = open_queue(name);
    for (long i = 0; i < warm; ++i) put(q), get(q, buf, sizeof buf);
    t0 = now_s();
    for (long i = 0; i < n; ++i) put(q), get(q, buf, sizeof buf);
    t1 = now_s();
    polyipc_queue_close(q);
    polyipc_unlink(name, NULL);
  } else if (strcmp(mode, "producer") == 0) {
    q = open_queue(name);
    a = open_queue(ack);
    for (long i = 0; i < warm; ++i) put(q);
    {
      polyipc_error e;
      size_t len = 0;
      int rc = polyipc_queue_get_into(a, buf, sizeof buf, &len, POLYIPC_FOREVER, &e);
      if (rc != POLYIPC_OK) die("get ack", rc, &e);
    }
    t0 = now_s();
    for (long i = 0; i < n; ++i) put(q);
    t1 = now_s();
    polyipc_queue_close(a);
    polyipc_queue_close(q);
  } else if (strcmp(mode, "consumer") == 0) {
    polyipc_error e;
    int rc;
    q = open_queue(name);
    a = open_queue(ack);
    for (long i = 0; i < warm; ++i) get(q, buf, sizeof buf);
    t0 = now_s();
    rc = polyipc_queue_put(a, "1", 1, POLYIPC_FOREVER, &e);
    if (rc != POLYIPC_OK) die("put ack", rc, &e);
    for (long i = 0; i < n; ++i) get(q, buf, sizeof buf);
    t1 = now_s();
    polyipc_queue_close(a);
    polyipc_queue_close(q);
    polyipc_unlink(name, NULL);
    polyipc_unlink(ack, NULL);
  } else {
    fprintf(stderr, "langbench c: unknown mode %s\n", mode);
    return 2;
  }
  printf("{\"lang\":\"c\",\"mode\":\"%s\",\"ok\":true,\"n\":%ld,\"seconds\":%.6f,\"rate\":%.1f}\n", mode, n, t1 - t0,
         (double)n / (t1 - t0));
  return 0;
}
