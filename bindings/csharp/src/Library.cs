using System;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>The loaded libpolyipc: its version, and the check that this binding matches it.</summary>
    public static class Library
    {
        private static readonly object Gate = new object();
        private static bool checkedOk;

        /// <summary>The loaded library's version, "MAJOR.MINOR.PATCH".</summary>
        public static string Version
        {
            get { EnsureLoaded(); return polyipc_native.polyipc_version(); }
        }

        /// <summary>The loaded library's version number (MAJOR*1000000 + MINOR*1000 + PATCH).</summary>
        public static int VersionNumber
        {
            get { EnsureLoaded(); return polyipc_native.polyipc_version_number(); }
        }

        /// <summary>The version number of the polyipc.h this binding was generated from.</summary>
        public static int BindingVersionNumber
        {
            get { return polyipc_native.POLYIPC_BINDING_VERSION_NUMBER; }
        }

        /// <summary>The namespace objects live in: $POLYIPC_NAMESPACE, or "default".</summary>
        public static string Namespace
        {
            get
            {
                string ns = Environment.GetEnvironmentVariable("POLYIPC_NAMESPACE");
                return string.IsNullOrEmpty(ns) ? "default" : ns;
            }
        }

        /// <summary>The name of a status code, e.g. "POLYIPC_ERR_TIMEOUT".</summary>
        public static string StatusName(Status status)
        {
            EnsureLoaded();
            return polyipc_native.polyipc_status_name((int)status);
        }

        /// <summary>
        /// Loads the native libraries and checks that libpolyipc is the version this binding was
        /// generated for. Every entry point calls it; a mismatch or a missing library fails here,
        /// clearly, instead of misbehaving later.
        /// </summary>
        public static void EnsureLoaded()
        {
            if (checkedOk) return;
            lock (Gate)
            {
                if (checkedOk) return;
                int loaded;
                try
                {
                    loaded = polyipc_native.polyipc_version_number();
                }
                catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException ||
                                          e is TypeInitializationException)
                {
                    throw new DllNotFoundException(
                        "polyipc: cannot load the native libraries libpolyipc_cs.so and libpolyipc.so.0 " +
                        "(keep them beside Polyipc.dll, or on LD_LIBRARY_PATH): " + Innermost(e).Message, e);
                }
                CheckVersion(polyipc_native.POLYIPC_BINDING_VERSION_NUMBER, loaded);
                QueueFastCalls.Register();
                checkedOk = true;
            }
        }

        internal static void CheckVersion(int binding, int loaded)
        {
            if (binding != loaded)
            {
                throw new IncompatibleException(string.Format(
                    "polyipc: this C# binding was generated for libpolyipc {0} but the loaded libpolyipc is {1}; " +
                    "rebuild the binding against the library it runs with", Describe(binding), Describe(loaded)));
            }
        }

        private static string Describe(int number)
        {
            return string.Format("{0}.{1}.{2} ({3})", number / 1000000, number / 1000 % 1000, number % 1000, number);
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }

        /// <summary>Rejects what the native layer could not pass on faithfully.</summary>
        internal static string CheckName(string name)
        {
            if (name == null) throw new ArgumentNullException("name");
            if (name.IndexOf('\0') >= 0)
                throw new PolyipcArgumentException("polyipc: name contains a NUL character: \"" +
                                                   name.Replace("\0", "\\0") + "\"");
            return name;
        }

        /// <summary>An options size that must not be negative (ArgumentOutOfRangeException on "options").</summary>
        internal static void CheckOptionSize(long value, string what)
        {
            if (value < 0) throw new ArgumentOutOfRangeException("options", what + " < 0");
        }

        /// <summary>An options Mode: permission bits only (ArgumentOutOfRangeException on "options").</summary>
        internal static void CheckOptionMode(int mode)
        {
            if ((mode & ~0x1ff) != 0) throw new ArgumentOutOfRangeException("options", "Mode must be permission bits (0..0777)");
        }
    }
}
