using System;
using System.Diagnostics;
using System.Text;

namespace Polyipc.Tests
{
    /// <summary>Put+get of 64-byte JSON strings in one process, one thread.</summary>
    public static class Throughput
    {
        public static double Run(TimeSpan duration, bool print)
        {
            string name = "cs.bench." + Process.GetCurrentProcess().Id;
            var message = new StringBuilder("{\"job\":12345,\"from\":\"csharp\",\"pad\":\"");
            while (message.Length < 64 - 2) message.Append('x');
            message.Append("\"}");
            string json = message.ToString();
            if (json.Length != 64) throw new InvalidOperationException("message is " + json.Length + " bytes");
            try
            {
                using (var q = Queue.Open(name))
                {
                    for (int i = 0; i < 10000; i++)
                    {
                        q.Put(json);
                        q.Take();
                    }
                    long n = 0;
                    var sw = Stopwatch.StartNew();
                    while (sw.Elapsed < duration)
                    {
                        for (int i = 0; i < 1000; i++)
                        {
                            q.Put(json);
                            if (q.Take().Length != 64) throw new InvalidOperationException("wrong message");
                        }
                        n += 1000;
                    }
                    double rate = n / sw.Elapsed.TotalSeconds;
                    if (print)
                        Console.WriteLine("csharp throughput: put+get of 64-byte JSON strings, one process: {0:N0} messages/s ({1:0.00} us per put+get)",
                            rate, 1e6 / rate);
                    return rate;
                }
            }
            finally
            {
                Names.TryUnlink(name);
            }
        }
    }

    public class ThroughputTests : Scratch
    {
        [Test]
        public void PutAndGetOf64ByteJsonIsFast()
        {
            double rate = Throughput.Run(TimeSpan.FromSeconds(1), true);
            Assert.True(rate > 10000, "at least 10,000 messages/s, got " + rate.ToString("N0"));
        }
    }
}
