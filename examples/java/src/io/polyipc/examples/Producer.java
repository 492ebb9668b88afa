package io.polyipc.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.polyipc.ClosedException;
import io.polyipc.Polyipc;
import io.polyipc.Queue;

/**
 * producer N: puts N jobs {"job": i, "from": "java"} on the joinable queue demo.jobs, closes it for writing
 * (the workers stop once it is drained), waits in join() until every job was marked done, prints a summary
 * and removes the name so the next run starts afresh (it also replaces a demo.jobs that an earlier run
 * left closed with nothing pending). The queue lives in the namespace $POLYIPC_NAMESPACE.
 */
public final class Producer {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    if (n < 1) {
      System.err.println("usage: producer N (N >= 1)");
      System.exit(2);
    }
    long start = System.nanoTime();
    Queue jobs = Queue.builder("demo.jobs").joinable(true).open();
    try {
      jobs.putObject(new Job(1, "java"));
    } catch (ClosedException e) {
      // An earlier run closed demo.jobs for writing and left it there: start afresh if nothing is pending.
      String stat = jobs.statJson();
      jobs.close();
      if (new ObjectMapper().readTree(stat).path("unfinished_tasks").asLong() != 0) {
        System.err.println("producer java: demo.jobs is closed and still has work in progress; try again later");
        System.exit(1);
      }
      Polyipc.unlinkIfExists("demo.jobs");
      jobs = Queue.builder("demo.jobs").joinable(true).open();
      jobs.putObject(new Job(1, "java"));
    }
    try (Queue q = jobs) {
      for (int i = 2; i <= n; ++i) q.putObject(new Job(i, "java"));
      q.closeWrites();
      System.out.println("producer java: put " + n + " jobs on demo.jobs and closed it for writing; waiting in join()");
      q.join();
      long ms = (System.nanoTime() - start) / 1_000_000;
      System.out.println("producer java: all " + n + " jobs done in " + ms + " ms");
      q.unlink(); // end of the run: the next producer creates demo.jobs afresh
    }
  }
}
