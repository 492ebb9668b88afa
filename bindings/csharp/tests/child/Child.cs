using System;
using System.Collections.Generic;
using System.Threading;
using Newtonsoft.Json.Linq;
using Polyipc;
using Semaphore = Polyipc.Semaphore;
using Barrier = Polyipc.Barrier;
using Lock = Polyipc.Lock;
using List = Polyipc.List; // beside System.Collections.Generic (mcs would take List<T>)

/// <summary>
/// The other process of the C# multi-process tests. Every mode ends by itself within 60 s,
/// so a lost parent never leaves it behind.
///   produce NAME N [--close]   puts {"i":k,"from":"csharp-child"} for k = 0..N-1, prints
///                    "produced N"; with --close then closes the queue for writing (end of stream)
///   consume NAME     takes until end of stream, prints "consumed COUNT SUM" (SUM of the "i" fields)
///   hold NAME        takes one message of joinable queue NAME, prints "holding <message>" and
///                    waits without TaskDone until it is killed
///   done-out-of-order NAME   takes three messages of the existing joinable queue NAME, marks the
///                    3rd and then the 2nd done by message (TaskDone(string)), prints "holding
///                    <1st> done <3rd> <2nd>" and waits, holding the 1st, until it is killed
///   unlink NAME      unlinks NAME if it exists
///   lock-hold NAME   acquires Lock NAME, prints "holding" and waits until it is killed
///   sem-hold NAME N  takes N slots of the existing semaphore NAME, prints "holding N" and waits
///                    until it is killed
///   event-wait NAME  opens Event NAME, prints "waiting", waits for it (60 s): prints "woken", or
///                    "timed out" and exits 1
///   barrier NAME PARTIES   prints "arriving", waits at Barrier NAME, prints "index I" (or
///                    "broken", exit 1)
///   pipe-send NAME K [--hang]   opens end A of pipe NAME, sends {"seq":i} for i in 0..K-1, prints
///                    "sent K"; with --hang then "holding" and waits until it is killed
///   pipe-echo NAME   opens end B of pipe NAME, sends back every message until end of stream,
///                    prints "eof after N"
///   value-add NAME N adds 1 to the LongValue NAME N times, prints "added N"
///   value-lock-hold NAME   acquires the lock of LongValue NAME, prints "holding" and waits until
///                    it is killed
///   shm-fill NAME SEED     attaches to shared memory NAME, sets byte i to (i * 131 + SEED) mod 256,
///                    prints "filled SIZE"
///   borrow NAME      borrows the next message of the existing queue NAME (zero copy), prints
///                    "borrowed LENGTH SUM" (SUM of its bytes) and waits without releasing it
///                    until it is killed
///   reserve NAME N   reserves N bytes in the existing queue NAME, writes half of them, prints
///                    "reserved N" and waits without committing until it is killed
///   pool-serve NAME [--hang-after K]   serves pool NAME ("add" [a, b], "echo" any, "fail" text,
///                    "whoami" -> "csharp-child") until it is closed, prints "served N"; with
///                    --hang-after K: finishes K tasks, takes one more, prints "took task ID" and
///                    waits without finishing it until it is killed
///   dict-increment NAME N [BARRIER PARTIES]  (after waiting at Barrier BARRIER of PARTIES) adds 1
///                    to key "counter" of Dict NAME N times, each by compare-and-set (AddOrUpdate),
///                    prints "incremented N"
///   dict-set-loop NAME     sets key "k-\U0001F600-(i % 16)" of Dict NAME to {"i":i,"pad":"p" x (i % 97)}
///                    for i = 0, 1, ... (tens of bytes to a few hundred), prints "set I" after every
///                    100th set, until it is killed (or 60 s)
///   list-append NAME N TAG [BARRIER PARTIES]  (after waiting at Barrier BARRIER of PARTIES) appends
///                    {"from":TAG,"seq":i} for i = 0..N-1 to List NAME, prints "appended N"
///   list-loop NAME   appends {"i":i,"pad":"p" x (i % 97)} to the existing List NAME, and pops the
///                    first value every other round (at the front, the middle or the end in turn),
///                    prints "round I" after every 100th round, until it is killed (or 60 s)
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
                        if (args.Length > 3 && args[3] == "--close") q.CloseWrites();
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
                case "done-out-of-order":
                    using (var q = Queue.Open(name, new QueueOptions { OpenMode = OpenMode.OpenOnly }))
                    {
                        string first = q.Take(Limit), second = q.Take(Limit), third = q.Take(Limit);
                        q.TaskDone(third);
                        q.TaskDone(second);
                        try
                        {
                            q.TaskDone(second);
                            Console.WriteLine("ended " + second + " twice");
                            return 1;
                        }
                        catch (PolyipcArgumentException)
                        {
                        }
                        Console.WriteLine("holding " + first + " done " + third + " " + second);
                        Console.Out.Flush();
                        Thread.Sleep(Limit); // holds the 1st until the parent kills this process
                    }
                    return 3;
                case "unlink":
                    Names.TryUnlink(name);
                    return 0;
                case "lock-hold":
                    using (var l = Lock.Open(name))
                    {
                        l.Acquire(Limit);
                        Console.WriteLine("holding");
                        Console.Out.Flush();
                        Thread.Sleep(Limit); // holds the lock until the parent kills this process
                    }
                    return 3;
                case "sem-hold":
                    using (var sem = Semaphore.Open(name, options: new SyncOptions { OpenMode = OpenMode.OpenOnly }))
                    {
                        long n = long.Parse(args[2]);
                        sem.Acquire(n, Limit);
                        Console.WriteLine("holding " + n);
                        Console.Out.Flush();
                        Thread.Sleep(Limit); // holds the slots until the parent kills this process
                    }
                    return 3;
                case "event-wait":
                    using (var ev = Event.Open(name))
                    {
                        Console.WriteLine("waiting");
                        Console.Out.Flush();
                        bool woken = ev.Wait(Limit);
                        Console.WriteLine(woken ? "woken" : "timed out");
                        return woken ? 0 : 1;
                    }
                case "barrier":
                    using (var b = Barrier.Open(name, int.Parse(args[2])))
                    {
                        Console.WriteLine("arriving");
                        Console.Out.Flush();
                        try
                        {
                            Console.WriteLine("index " + b.SignalAndWait(Limit));
                            return 0;
                        }
                        catch (BrokenBarrierException)
                        {
                            Console.WriteLine("broken");
                            return 1;
                        }
                    }
                case "pipe-send":
                    using (var conn = Connection.Open(name, PipeEnd.A))
                    {
                        int k = int.Parse(args[2]);
                        for (int i = 0; i < k; i++) conn.SendObject(new { seq = i }, Limit);
                        Console.WriteLine("sent " + k);
                        if (args.Length > 3 && args[3] == "--hang")
                        {
                            Console.WriteLine("holding");
                            Console.Out.Flush();
                            Thread.Sleep(Limit); // holds end A until the parent kills this process
                            return 3;
                        }
                    }
                    return 0;
                case "pipe-echo":
                    using (var conn = Connection.Open(name, PipeEnd.B))
                    {
                        long n = 0;
                        try
                        {
                            for (;;)
                            {
                                byte[] m = conn.ReceiveBytes(Limit);
                                conn.SendBytes(m, Limit);
                                n++;
                            }
                        }
                        catch (System.IO.EndOfStreamException)
                        {
                        }
                        Console.WriteLine("eof after " + n);
                    }
                    return 0;
                case "value-add":
                    using (var v = LongValue.Open(name))
                    {
                        int n = int.Parse(args[2]);
                        for (int i = 0; i < n; i++) v.Increment();
                        Console.WriteLine("added " + n);
                    }
                    return 0;
                case "value-lock-hold":
                    using (var v = LongValue.Open(name))
                    {
                        v.Acquire(Limit);
                        v.Value = -1; // a half-done update the next holder repairs
                        Console.WriteLine("holding");
                        Console.Out.Flush();
                        Thread.Sleep(Limit); // holds the lock until the parent kills this process
                    }
                    return 3;
                case "shm-fill":
                    using (var shm = SharedMemory.Attach(name))
                    {
                        int seed = int.Parse(args[2]);
                        Span<byte> bytes = shm.Span;
                        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)((i * 131 + seed) & 0xff);
                        Console.WriteLine("filled " + bytes.Length);
                    }
                    return 0;
                case "borrow":
                    using (var q = Queue.Open(name, new QueueOptions { OpenMode = OpenMode.OpenOnly }))
                    {
                        Borrowed m = q.Borrow(Limit);
                        ReadOnlySpan<byte> bytes = m.Span;
                        long sum = 0;
                        for (int i = 0; i < bytes.Length; i++) sum += bytes[i];
                        Console.WriteLine("borrowed " + bytes.Length + " " + sum);
                        Console.Out.Flush();
                        Thread.Sleep(Limit); // holds the message until the parent kills this process
                        GC.KeepAlive(m);
                    }
                    return 3;
                case "reserve":
                    using (var q = Queue.Open(name, new QueueOptions { OpenMode = OpenMode.OpenOnly }))
                    {
                        int n = int.Parse(args[2]);
                        Reservation r = q.Reserve(n, Limit);
                        Span<byte> bytes = r.Span;
                        bytes.Slice(0, n / 2).Fill((byte)'x'); // half written
                        Console.WriteLine("reserved " + n);
                        Console.Out.Flush();
                        Thread.Sleep(Limit); // holds the reservation until the parent kills this process
                        GC.KeepAlive(r);
                    }
                    return 3;
                case "dict-increment":
                    using (var d = Dict.Open(name))
                    {
                        int n = int.Parse(args[2]);
                        if (args.Length == 5)
                            using (var start = Barrier.Open(args[3], int.Parse(args[4]))) start.SignalAndWait(Limit);
                        for (int i = 0; i < n; i++) d.AddOrUpdate("counter", 1L, c => c + 1);
                        Console.WriteLine("incremented " + n);
                    }
                    return 0;
                case "dict-set-loop":
                    using (var d = Dict.Open(name, new DictOptions { OpenMode = OpenMode.OpenOnly }))
                    {
                        var until = System.Diagnostics.Stopwatch.StartNew();
                        for (long i = 0; until.Elapsed < Limit; i++)
                        {
                            d.Set("k-\U0001F600-" + (i % 16), new { i = i, pad = new string('p', (int)(i % 97)) });
                            if (i % 100 == 99)
                            {
                                Console.WriteLine("set " + (i + 1));
                                Console.Out.Flush();
                            }
                        }
                    }
                    return 3;
                case "list-append":
                    using (var l = List.Open(name))
                    {
                        int n = int.Parse(args[2]);
                        if (args.Length == 6)
                            using (var start = Barrier.Open(args[4], int.Parse(args[5]))) start.SignalAndWait(Limit);
                        for (int i = 0; i < n; i++) l.Add(new { from = args[3], seq = i });
                        Console.WriteLine("appended " + n);
                    }
                    return 0;
                case "list-loop":
                    using (var l = List.Open(name, new ListOptions { OpenMode = OpenMode.OpenOnly }))
                    {
                        var until = System.Diagnostics.Stopwatch.StartNew();
                        for (long i = 0; until.Elapsed < Limit; i++)
                        {
                            l.Add(new { i = i, pad = new string('p', (int)(i % 97)) });
                            if (i % 2 == 1)
                            {
                                long at = i % 3 == 0 ? 0 : i % 3 == 1 ? l.Count / 2 : -1;
                                try
                                {
                                    l.PopJson(at);
                                }
                                catch (PolyipcException)
                                {
                                    // the parent may have emptied or shortened it in between
                                }
                            }
                            if (i % 100 == 99)
                            {
                                Console.WriteLine("round " + (i + 1));
                                Console.Out.Flush();
                            }
                        }
                    }
                    return 3;
                case "pool-serve":
                    return PoolServe(name, args.Length == 4 && args[2] == "--hang-after" ? int.Parse(args[3]) : -1);
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

    private static readonly Dictionary<string, Func<JToken, object>> PoolHandlers = new Dictionary<string, Func<JToken, object>>
    {
        { "add", a => (long)a[0] + (long)a[1] },
        { "echo", a => a },
        { "fail", a => { throw new Exception((string)a); } },
        { "whoami", a => "csharp-child" },
    };

    private static int PoolServe(string name, int hangAfter)
    {
        using (var pool = Pool.Open(name))
        {
            if (hangAfter < 0)
            {
                long served;
                using (var stop = new CancellationTokenSource(Limit)) served = pool.Serve(PoolHandlers, stop.Token);
                Console.WriteLine("served " + served);
                return 0;
            }
            for (int k = 0; k < hangAfter; k++)
            {
                using (PoolTask t = pool.Take(Limit))
                {
                    try
                    {
                        t.Complete(PoolHandlers[t.Function](t.Args));
                    }
                    catch (Exception e) when (!(e is PolyipcException))
                    {
                        t.Fail(e.Message);
                    }
                }
            }
            PoolTask held = pool.Take(Limit);
            Console.WriteLine("took task " + held.Id);
            Console.Out.Flush();
            Thread.Sleep(Limit); // holds the task until the parent kills this process
            GC.KeepAlive(held);
        }
        return 3;
    }

    private class Message
    {
        public long i = 0;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: PolyipcTestChild.exe produce NAME N | consume NAME | hold NAME | done-out-of-order NAME | unlink NAME | lock-hold NAME | sem-hold NAME N | event-wait NAME | barrier NAME PARTIES | " +
                                "pipe-send NAME K [--hang] | pipe-echo NAME | value-add NAME N | value-lock-hold NAME | shm-fill NAME SEED | " +
                                "borrow NAME | reserve NAME N | pool-serve NAME [--hang-after K] | dict-increment NAME N [BARRIER PARTIES] | dict-set-loop NAME | list-append NAME N TAG [BARRIER PARTIES] | list-loop NAME");
        return 2;
    }
}
