using System;
using System.Runtime.CompilerServices;

namespace Polyipc.Native
{
    /// <summary>
    /// Queue's no-wait fast path: two functions of libpolyipc_cs.so registered with mono as raw
    /// internal calls (polyipc_cs_register_fast_calls in bindings/swig/csharp.i), so a call costs
    /// no GC transition and no stack copy, which under mono's hybrid suspension cost as much as the
    /// put or get itself. They never wait and never raise: any status but OK sends the caller to
    /// the P/Invoke path (polyipc_nativePINVOKE.QueuePutUtf16 / QueueGetInto), which waits in
    /// slices and throws the library's exceptions.
    ///
    /// <see cref="Enabled"/> is set by <see cref="Register"/> (from Library.EnsureLoaded, before any
    /// handle exists); the methods that call these are NoInlining, so mono compiles their calls
    /// (and looks the internal calls up) only after that. The names here must match the C side.
    /// </summary>
    internal static class QueueFastCalls
    {
        /// <summary>Whether the internal calls are registered (mono); false: P/Invoke only.</summary>
        internal static bool Enabled;

        /// <summary>Registers the internal calls once; called under Library's lock.</summary>
        internal static void Register()
        {
            Enabled = polyipc_nativePINVOKE.RegisterFastCalls() != 0;
        }

        /// <summary>polyipc_cs_fast_queue_put_utf16: 0 when put; -2 for a lone surrogate; else the status.</summary>
        [MethodImpl(MethodImplOptions.InternalCall)]
        internal static extern unsafe int QueuePutUtf16(IntPtr q, char* text, long n, byte* scratch, long priority);

        /// <summary>
        /// polyipc_cs_fast_queue_get_into: 0 (the message in buf, its length in *len), -1 (larger
        /// than cap, left in the queue), else the status.
        /// </summary>
        [MethodImpl(MethodImplOptions.InternalCall)]
        internal static extern unsafe int QueueGetInto(IntPtr q, byte* buf, long cap, long* len);

        /// <summary>bytes[0..n) widened into chars up to the first non-ASCII byte: the number done.</summary>
        [MethodImpl(MethodImplOptions.InternalCall)]
        internal static extern unsafe long WidenAscii(byte* bytes, long n, char* chars);
    }
}
