using Polyipc.Native;

namespace Polyipc
{
    /// <summary>The objects of the namespace ($POLYIPC_NAMESPACE), by name.</summary>
    public static class Names
    {
        /// <summary>
        /// Removes name <paramref name="name"/>; handles already open keep working. NotFoundException if
        /// there is no such name. Nothing else in this binding ever unlinks: not Dispose, not a finalizer.
        /// </summary>
        public static void Unlink(string name)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            polyipc_native.polyipc_unlink(name);
        }

        /// <summary>Unlinks <paramref name="name"/> if it exists; false if there was no such name.</summary>
        public static bool TryUnlink(string name)
        {
            try
            {
                Unlink(name);
                return true;
            }
            catch (NotFoundException)
            {
                return false;
            }
        }

        /// <summary>Every object of the namespace, as a JSON array of stat objects.</summary>
        public static string ListJson()
        {
            Library.EnsureLoaded();
            return polyipc_native.polyipc_native_list_json();
        }

        /// <summary>One object's options and counters as a JSON object, without attaching to it.</summary>
        public static string StatJson(string name)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            return polyipc_native.polyipc_native_stat_json(name);
        }

        /// <summary>Up to <paramref name="maxCount"/> messages of queue <paramref name="name"/>, without
        /// taking them: a JSON array of {"message": ..., "priority": n} (bytes under "base64").</summary>
        public static string PeekJson(string name, int maxCount)
        {
            Library.CheckName(name);
            if (maxCount < 0) throw new System.ArgumentOutOfRangeException("maxCount");
            Library.EnsureLoaded();
            return polyipc_native.polyipc_native_peek_json(name, (uint)maxCount);
        }

        /// <summary>Removes ephemeral objects whose processes are all dead: {"removed": [...], "stale": [...]}.</summary>
        public static string GcJson()
        {
            Library.EnsureLoaded();
            return polyipc_native.polyipc_native_gc_json();
        }
    }
}
