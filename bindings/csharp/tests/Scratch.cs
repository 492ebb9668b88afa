using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace Polyipc.Tests
{
    /// <summary>
    /// The base of every test class: unique queue names (pid + counter, in the namespace ctest
    /// gives) that are unlinked when the test ends, whatever happened; and child processes that
    /// are killed if still running.
    /// </summary>
    public abstract class Scratch : IDisposable
    {
        private static int counter;
        private readonly List<string> names = new List<string>();
        private readonly List<Process> children = new List<Process>();

        protected string NewName(string label)
        {
            string name = string.Format("cs.{0}.{1}.{2}", Process.GetCurrentProcess().Id,
                Interlocked.Increment(ref counter), label);
            lock (names) names.Add(name);
            return name;
        }

        /// <summary>Another name to unlink when the test ends (e.g. a condition's NAME.lock).</summary>
        protected string Track(string name)
        {
            lock (names) names.Add(name);
            return name;
        }

        /// <summary>How soon after its token is cancelled a blocked call must end (waits run in 50 ms slices).</summary>
        protected static readonly TimeSpan Promptly = TimeSpan.FromMilliseconds(200);

        /// <summary>Cancels `blocked`'s token after 300 ms (from a timer) and checks that it ends with
        /// OperationCanceledException carrying that token, within <see cref="Promptly"/> of the cancellation.</summary>
        protected static void CancelsPromptly(Action<CancellationToken> blocked, string what)
        {
            using (var cts = new CancellationTokenSource())
            {
                long cancelledAt = 0;
                cts.Token.Register(() => Interlocked.Exchange(ref cancelledAt, Stopwatch.GetTimestamp()));
                cts.CancelAfter(300);
                var e = Assert.Throws<OperationCanceledException>(() => blocked(cts.Token), what);
                long end = Stopwatch.GetTimestamp();
                Assert.True(e.CancellationToken == cts.Token, what + ": the exception carries the token");
                // Cancel() marks the token before it runs the callbacks: a wait that ended
                // before the callback recorded the time ended at once.
                long at = Interlocked.Read(ref cancelledAt);
                double ms = at == 0 ? 0 : (end - at) * 1000.0 / Stopwatch.Frequency;
                Assert.True(ms < Promptly.TotalMilliseconds, what + ": ended " + ms.ToString("0") + " ms after the cancellation");
            }
        }

        private readonly List<Exception> threadErrors = new List<Exception>();

        /// <summary>A background thread whose exception fails the test (in JoinThread) instead of the process.</summary>
        protected Thread Spawn(Action body)
        {
            var t = new Thread(() =>
            {
                try
                {
                    body();
                }
                catch (Exception e)
                {
                    lock (threadErrors) threadErrors.Add(e);
                }
            }) { IsBackground = true };
            t.Start();
            return t;
        }

        protected void JoinThread(Thread t, TimeSpan limit)
        {
            if (!t.Join(limit)) throw new AssertionException("a thread did not finish within " + limit.TotalSeconds + " s");
            lock (threadErrors)
                if (threadErrors.Count > 0)
                    throw new AssertionException("a thread failed: " + threadErrors[0].GetType().Name + ": " + threadErrors[0].Message);
        }

        protected Queue NewQueue(string label, QueueOptions options = null)
        {
            return Queue.Open(NewName(label), options);
        }

        /// <summary>Starts PolyipcTestChild.exe (beside this runner) under mono, stdout redirected.</summary>
        protected Process StartChild(params string[] args)
        {
            string dir = AppDomain.CurrentDomain.BaseDirectory;
            return StartMono(Path.Combine(dir, "PolyipcTestChild.exe"), null, args);
        }

        protected Process StartMono(string exe, IDictionary<string, string> env, params string[] args)
        {
            var info = new ProcessStartInfo(MonoPath, "--debug " + Quote(exe) + " " + string.Join(" ", Array.ConvertAll(args, Quote)))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = false,
                CreateNoWindow = true,
            };
            if (env != null)
                foreach (var kv in env) info.EnvironmentVariables[kv.Key] = kv.Value;
            var p = Process.Start(info);
            lock (children) children.Add(p);
            return p;
        }

        /// <summary>The next line the child prints, waiting at most `limit`.</summary>
        protected static string ReadLine(Process p, TimeSpan limit)
        {
            var line = p.StandardOutput.ReadLineAsync();
            if (!line.Wait(limit)) throw new AssertionException("child printed nothing within " + limit.TotalSeconds + " s");
            return line.Result;
        }

        /// <summary>Kills the child with SIGKILL (no cleanup of any kind runs) and waits for it to be gone.</summary>
        protected static void Kill9(Process p, TimeSpan limit)
        {
            p.Kill();
            Assert.True(p.WaitForExit((int)limit.TotalMilliseconds), "the child died");
        }

        protected static void WaitExit(Process p, TimeSpan limit, int expectedCode = 0)
        {
            if (!p.WaitForExit((int)limit.TotalMilliseconds))
                throw new AssertionException("child did not exit within " + limit.TotalSeconds + " s");
            p.WaitForExit(); // the stdout reader too
            Assert.Equal(expectedCode, p.ExitCode, "child exit code");
        }

        private static string monoPath;

        private static string MonoPath
        {
            get
            {
                if (monoPath == null)
                {
                    string self = Process.GetCurrentProcess().MainModule.FileName; // the mono binary running us
                    monoPath = File.Exists(self) && Path.GetFileName(self).StartsWith("mono") ? self : "mono";
                }
                return monoPath;
            }
        }

        private static string Quote(string s)
        {
            return "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        }

        public void Dispose()
        {
            lock (children)
            {
                foreach (var p in children)
                {
                    try
                    {
                        if (!p.HasExited) p.Kill();
                        p.WaitForExit(5000);
                    }
                    catch (InvalidOperationException)
                    {
                    }
                    p.Dispose();
                }
            }
            lock (names)
            {
                foreach (var n in names) Names.TryUnlink(n);
            }
        }
    }
}
