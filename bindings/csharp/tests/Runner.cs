using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace Polyipc.Tests
{
    /// <summary>Marks a test: a public instance method without parameters in a public class.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class TestAttribute : Attribute { }

    public sealed class AssertionException : Exception
    {
        public AssertionException(string message) : base(message) { }
    }

    public static class Assert
    {
        public static void True(bool condition, string what)
        {
            if (!condition) throw new AssertionException(what);
        }

        public static void Equal<T>(T expected, T actual, string what = "value")
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new AssertionException(string.Format("{0}: expected <{1}>, got <{2}>", what, expected, actual));
        }

        public static TException Throws<TException>(Action action, string what = null) where TException : Exception
        {
            try
            {
                action();
            }
            catch (TException e)
            {
                return e;
            }
            catch (Exception e)
            {
                throw new AssertionException(string.Format("{0}: expected {1}, got {2}: {3}", what ?? "call",
                    typeof(TException).Name, e.GetType().Name, e.Message));
            }
            throw new AssertionException(string.Format("{0}: expected {1}, nothing was thrown", what ?? "call",
                typeof(TException).Name));
        }

        /// <summary>Like Throws, but the exception must be exactly of type TException.</summary>
        public static TException ThrowsExactly<TException>(Action action, string what = null) where TException : Exception
        {
            var e = Throws<TException>(action, what);
            if (e.GetType() != typeof(TException))
                throw new AssertionException(string.Format("{0}: expected exactly {1}, got {2}: {3}", what ?? "call",
                    typeof(TException).Name, e.GetType().Name, e.Message));
            return e;
        }
    }

    /// <summary>
    /// Runs every [Test] (or those whose "Class.Method" contains one of the arguments), prints one
    /// line per test and then "N passed, N failed"; exits 1 when any failed. `--bench` runs the
    /// throughput benchmark instead. Each test has 60 s; one that overruns fails.
    /// </summary>
    public static class Runner
    {
        private static readonly TimeSpan TestLimit = TimeSpan.FromSeconds(60);

        public static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "--bench")
            {
                int seconds = args.Length > 1 ? int.Parse(args[1]) : 3;
                Throughput.Run(TimeSpan.FromSeconds(seconds), true);
                return 0;
            }
            Console.WriteLine("polyipc C# tests: libpolyipc {0}, namespace '{1}'", Library.Version, Library.Namespace);
            var tests = Assembly.GetExecutingAssembly().GetTypes()
                .Where(t => t.IsClass && t.IsPublic)
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance)
                    .Where(m => m.GetCustomAttributes(typeof(TestAttribute), false).Length > 0 && m.GetParameters().Length == 0))
                .Where(m => args.Length == 0 || args.Any(a => (m.DeclaringType.Name + "." + m.Name).Contains(a)))
                .OrderBy(m => m.DeclaringType.Name).ThenBy(m => m.Name)
                .ToList();
            int passed = 0, failed = 0;
            var total = Stopwatch.StartNew();
            foreach (var test in tests)
            {
                string name = test.DeclaringType.Name + "." + test.Name;
                var sw = Stopwatch.StartNew();
                Exception error = null;
                var run = Task.Factory.StartNew(() =>
                {
                    object fixture = Activator.CreateInstance(test.DeclaringType);
                    try
                    {
                        test.Invoke(fixture, null);
                    }
                    finally
                    {
                        var d = fixture as IDisposable;
                        if (d != null) d.Dispose();
                    }
                }, TaskCreationOptions.LongRunning);
                try
                {
                    if (!run.Wait(TestLimit)) error = new TimeoutException("test did not finish within " + TestLimit.TotalSeconds + " s");
                }
                catch (AggregateException e)
                {
                    error = e.InnerException;
                    if (error is TargetInvocationException && error.InnerException != null) error = error.InnerException;
                }
                if (error == null)
                {
                    passed++;
                    Console.WriteLine("PASS {0} ({1} ms)", name, sw.ElapsedMilliseconds);
                }
                else
                {
                    failed++;
                    Console.WriteLine("FAIL {0} ({1} ms): {2}: {3}", name, sw.ElapsedMilliseconds, error.GetType().Name, error.Message);
                    if (!(error is AssertionException)) Console.WriteLine(error.StackTrace);
                }
            }
            Console.WriteLine("({0} tests in {1:0.0} s)", tests.Count, total.Elapsed.TotalSeconds);
            Console.WriteLine("csharp: {0} passed, {1} failed", passed, failed);
            Console.Out.Flush();
            // Exit now even if a timed-out test's thread is still blocked.
            Environment.Exit(failed == 0 && passed > 0 ? 0 : 1);
            return 1;
        }
    }
}
