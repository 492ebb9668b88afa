package io.polyipc.examples;

import io.polyipc.ClosedException;
import io.polyipc.Queue;

/**
 * worker [max_jobs]: takes JSON jobs from the joinable queue demo.jobs (opened, or created), prints one
 * line per job and marks it done; stops when the queue is closed for writing and drained, or after
 * max_jobs jobs. The queue lives in the namespace $POLYIPC_NAMESPACE (default "default").
 */
public final class Worker {
  public static void main(String[] args) throws InterruptedException {
    long maxJobs = args.length > 0 ? Long.parseLong(args[0]) : Long.MAX_VALUE;
    long pid = ProcessHandle.current().pid();
    long done = 0;
    try (Queue jobs = Queue.builder("demo.jobs").joinable(true).open()) {
      while (done < maxJobs) {
        Job job;
        try {
          job = jobs.takeObject(Job.class); // a lease: redelivered if this process dies before taskDone
        } catch (ClosedException endOfStream) {
          break;
        }
        System.out.println("worker java pid " + pid + ": job " + job.job() + " done");
        jobs.taskDone();
        ++done;
      }
    }
    System.out.println("worker java pid " + pid + ": exiting after " + done + " jobs");
  }
}
