// worker [max_jobs]: takes JSON jobs from the joinable queue demo.jobs (opening
// it, or creating it if it is not there yet), prints one line per job and calls
// TaskDone for each. It exits when the queue is closed for writing and drained,
// after max_jobs jobs if given, or on Ctrl-C (the blocked Take is cancelled).
// A worker killed before TaskDone loses nothing: its job goes to another worker.
// The queue lives in the namespace $POLYIPC_NAMESPACE (default "default").
//
// usage: mono worker.exe [max_jobs]
using System;
using System.Diagnostics;
using System.Threading;
using Newtonsoft.Json;
using Polyipc;

public static class Worker
{
    private class Job
    {
        [JsonProperty("job")] public long Number = 0;
        [JsonProperty("from")] public string From = null;
    }

    public static int Main(string[] args)
    {
        long maxJobs = -1;
        if (args.Length > 1 || (args.Length == 1 && (!long.TryParse(args[0], out maxJobs) || maxJobs < 0)))
        {
            Console.Error.WriteLine("usage: worker.exe [max_jobs]");
            return 2;
        }
        using (var stop = new CancellationTokenSource())
        {
            Console.CancelKeyPress += (sender, e) =>
            {
                e.Cancel = true; // end the wait, then exit normally
                stop.Cancel();
            };
            int pid = Process.GetCurrentProcess().Id;
            long done = 0;
            try
            {
                using (var q = Queue.Open("demo.jobs", QueueOptions.JoinableQueue()))
                {
                    while (maxJobs < 0 || done < maxJobs)
                    {
                        Job job;
                        try
                        {
                            job = q.Take<Job>(null, stop.Token);
                        }
                        catch (QueueClosedException)
                        {
                            break; // end of stream: the producer closed the queue and it is drained
                        }
                        Console.WriteLine("worker csharp pid {0}: job {1} done", pid, job.Number);
                        q.TaskDone();
                        done++;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return 130;
            }
            catch (PolyipcException e)
            {
                Console.Error.WriteLine("worker csharp: " + e.Message);
                return 1;
            }
            Console.WriteLine("worker csharp pid {0}: exiting after {1} jobs", pid, done);
            return 0;
        }
    }
}
