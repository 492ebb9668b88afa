// Pool.Map throughput through the C# binding, as Java's PoolMapBench and Go's
// BenchmarkPoolTasks/Map measure it: N "add" tasks ([i, 1] each, the default
// chunk size) served by two Serve() threads of the same process, every result
// checked. Prints one line per round; not part of ctest or bench/languages/run.
//
// usage: mono PoolMapBench.exe [N [ROUNDS]] (N 1000000, ROUNDS 5; the first
// round is a warm-up for the JIT)
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using Newtonsoft.Json.Linq;
using Polyipc;

public static class PoolMapBench
{
    public static int Main(string[] argv)
    {
        int n = argv.Length > 0 ? int.Parse(argv[0], CultureInfo.InvariantCulture) : 1000000;
        int rounds = argv.Length > 1 ? int.Parse(argv[1], CultureInfo.InvariantCulture) : 5;
        string name = "bench-csharp-poolmap-" + Process.GetCurrentProcess().Id;
        var calls = new List<object>(n);
        for (int i = 0; i < n; i++) calls.Add(new[] { i, 1 });
        var handlers = new Dictionary<string, Func<JToken, object>> {
            { "add", a => (long)a[0] + (long)a[1] },
        };
        try
        {
            using (Pool pool = Pool.Open(name, new PoolOptions { OpenMode = OpenMode.CreateOnly }))
            {
                var workers = new List<Thread>();
                for (int w = 0; w < 2; w++)
                {
                    var t = new Thread(() =>
                    {
                        using (Pool mine = Pool.Open(name, new PoolOptions { OpenMode = OpenMode.OpenOnly }))
                            mine.Serve(handlers);
                    });
                    t.Start();
                    workers.Add(t);
                }
                for (int r = 0; r <= rounds; r++)
                {
                    var clock = Stopwatch.StartNew();
                    List<JToken> results = pool.Map("add", calls);
                    double seconds = clock.Elapsed.TotalSeconds;
                    for (int i = 0; i < n; i++)
                        if ((long)results[i] != i + 1) throw new InvalidOperationException("task " + i + ": " + results[i]);
                    Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0} {1} tasks: {2:F0} tasks/s",
                                                    r == 0 ? "warm-up" : "round " + r, n, n / seconds));
                }
                pool.CloseTasks();
                foreach (Thread t in workers) t.Join(60000);
            }
        }
        finally
        {
            Names.TryUnlink(name);
        }
        return 0;
    }
}
