using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("Polyipc")]
[assembly: AssemblyDescription("polyipc: named queues in shared memory, shared by processes in any language")]
[assembly: AssemblyVersion("0.1.0.0")]
[assembly: InternalsVisibleTo("Polyipc.Tests")]
