// bench/languages/csharp: put+take of a 64-byte JSON string through the C#
// binding (Polyipc.Queue.Put(string) / Take()), one process or
// producer/consumer (protocol: ../c/langbench.c).
//
// usage: mono LangBench.exe single|producer|consumer N NAME [WARMUP]
using System;
using System.Diagnostics;
using System.Globalization;
using Polyipc;

public static class LangBench
{
    const string Message = "{\"id\":123456,\"kind\":\"bench\",\"payload\":\"xxxxxxxxxxxxxxxxxxxxxxx\"}";
    const long Capacity = 4L << 20;

    static Queue Open(string name)
    {
        return Queue.Open(name, new QueueOptions { Format = MessageFormat.Json, CapacityBytes = Capacity });
    }

    static void Take(Queue q)
    {
        string m = q.Take();
        if (m.Length != 64) throw new InvalidOperationException("message of " + m.Length + " chars");
    }

    public static int Main(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: LangBench.exe single|producer|consumer N NAME [WARMUP]");
            return 2;
        }
        if (Message.Length != 64) throw new InvalidOperationException("message is not 64 bytes");
        string mode = args[0];
        long n = long.Parse(args[1], CultureInfo.InvariantCulture);
        string name = args[2];
        long warm = args.Length > 3 ? long.Parse(args[3], CultureInfo.InvariantCulture) : 20000;
        string ack = name + ".ack";
        var sw = new Stopwatch();
        try
        {
            switch (mode)
            {
                case "single":
                    using (var q = Open(name))
                    {
                        for (long i = 0; i < warm; i++)
                        {
                            q.Put(Message);
                            Take(q);
                        }
                        sw.Start();
                        for (long i = 0; i < n; i++)
                        {
                            q.Put(Message);
                            Take(q);
                        }
                        sw.Stop();
                    }
                    Names.TryUnlink(name);
                    break;
                case "producer":
                    using (var q = Open(name))
                    using (var a = Open(ack))
                    {
                        for (long i = 0; i < warm; i++) q.Put(Message);
                        a.Take();
                        sw.Start();
                        for (long i = 0; i < n; i++) q.Put(Message);
                        sw.Stop();
                    }
                    break;
                case "consumer":
                    using (var q = Open(name))
                    using (var a = Open(ack))
                    {
                        for (long i = 0; i < warm; i++) Take(q);
                        sw.Start();
                        a.Put("1");
                        for (long i = 0; i < n; i++) Take(q);
                        sw.Stop();
                    }
                    Names.TryUnlink(name);
                    Names.TryUnlink(ack);
                    break;
                default:
                    Console.Error.WriteLine("LangBench: unknown mode " + mode);
                    return 2;
            }
        }
        catch (Exception e)
        {
            Console.WriteLine("{\"lang\":\"csharp\",\"ok\":false,\"error\":\"" + e.GetType().Name + "\"}");
            Console.Error.WriteLine(e);
            return 1;
        }
        double secs = sw.Elapsed.TotalSeconds;
        // (not one format string: "{3:F1}}}" reads the braces as part of the format)
        Console.WriteLine("{\"lang\":\"csharp\",\"mode\":\"" + mode + "\",\"ok\":true,\"n\":" + n +
            ",\"seconds\":" + secs.ToString("F6", CultureInfo.InvariantCulture) +
            ",\"rate\":" + (n / secs).ToString("F1", CultureInfo.InvariantCulture) + "}");
        return 0;
    }
}
