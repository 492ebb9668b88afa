using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("Polyipc")]
[assembly: AssemblyDescription("polyipc: named queues and synchronisation primitives in shared memory, shared by processes in any language")]
[assembly: AssemblyVersion("0.9.8.0")]
[assembly: InternalsVisibleTo("Polyipc.Tests")]
