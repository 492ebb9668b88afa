// producer N: puts N JSON jobs {"job": i, "from": "csharp"} on the joinable
// queue demo.jobs (opened or created), closes it for writing (end of stream),
// waits in Join until workers in any language have TaskDone'd every job, and
// prints a summary. Ctrl-C ends the wait. The queue lives in the namespace
// $POLYIPC_NAMESPACE (default "default").
//
// usage: mono producer.exe N
using System;
using System.Diagnostics;
using System.Threading;
using Polyipc;

public static class Producer
{
    public static int Main(string[] args)
    {
        long jobs;
        if (args.Length != 1 || !long.TryParse(args[0], out jobs) || jobs < 1)
        {
            Console.Error.WriteLine("usage: producer.exe N");
            return 2;
        }
        using (var stop = new CancellationTokenSource())
        {
            Console.CancelKeyPress += (sender, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            int pid = Process.GetCurrentProcess().Id;
            try
            {
                using (var q = Queue.Open("demo.jobs", QueueOptions.JoinableQueue()))
                {
                    var clock = Stopwatch.StartNew();
                    for (long i = 1; i <= jobs; i++) q.PutObject(new { job = i, from = "csharp" }, null, stop.Token);
                    q.CloseWrites(); // workers drain what is left, then stop
                    Console.WriteLine("producer csharp pid {0}: put {1} jobs on demo.jobs in namespace '{2}', " +
                                      "closed it for writing; waiting for the workers", pid, jobs, Library.Namespace);
                    q.Join(null, stop.Token);
                    Console.WriteLine("producer csharp pid {0}: all {1} jobs done in {2:0.000} s", pid, jobs,
                                      clock.Elapsed.TotalSeconds);
                }
            }
            catch (OperationCanceledException)
            {
                return 130;
            }
            catch (PolyipcException e)
            {
                Console.Error.WriteLine("producer csharp: " + e.Message);
                return 1;
            }
            return 0;
        }
    }
}
