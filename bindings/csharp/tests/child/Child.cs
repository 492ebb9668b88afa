using System;
using System.Threading;
using Polyipc;

/// <summary>
/// The other process of the C# multi-process tests. Every mode ends by itself within 60 s,
/// so a lost parent never leaves it behind.
///   produce NAME N   puts {"i":k,"from":"csharp-child"} for k = 0..N-1, prints "produced N"
///   consume NAME     takes until end of stream, prints "consumed COUNT SUM" (SUM of the "i" fields)
///   hold NAME        takes one message of joinable queue NAME, prints "holding <message>" and
///                    waits without TaskDone until it is killed
///   unlink NAME      unlinks NAME if it exists
/// </summary>
public static class Child
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static int Main(string[] args)
    {
        if (args.Length < 2) return Usage();
        string name = args[1];
        try
        {
            switch (args[0])
            {
                case "produce":
                    using (var q = Queue.Open(name))
                    {
                        int n = int.Parse(args[2]);
                        for (int k = 0; k < n; k++) q.PutObject(new { i = k, from = "csharp-child" }, Limit);
                        Console.WriteLine("produced " + n);
                    }
                    return 0;
                case "consume":
                    using (var q = Queue.Open(name))
                    {
                        long count = 0, sum = 0;
                        try
                        {
                            for (;;)
                            {
                                var m = q.Take<Message>(Limit);
                                count++;
                                sum += m.i;
                            }
                        }
                        catch (QueueClosedException)
                        {
                        }
                        Console.WriteLine("consumed " + count + " " + sum);
                    }
                    return 0;
                case "hold":
                    using (var q = Queue.Open(name, new QueueOptions { OpenMode = OpenMode.OpenOnly }))
                    {
                        string m = q.Take(Limit);
                        Console.WriteLine("holding " + m);
                        Console.Out.Flush();
                        Thread.Sleep(Limit); // holds the lease until the parent kills this process
                    }
                    return 3;
                case "unlink":
                    Names.TryUnlink(name);
                    return 0;
                default:
                    return Usage();
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("child: " + e);
            return 1;
        }
    }

    private class Message
    {
        public long i = 0;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: PolyipcTestChild.exe produce NAME N | consume NAME | hold NAME | unlink NAME");
        return 2;
    }
}
