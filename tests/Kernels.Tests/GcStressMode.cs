using System.Runtime.CompilerServices;

namespace Cluster.Kernels.Tests;

/// <summary>
/// <c>CLUSTER_GC_STRESS=1 dotnet test tests/Kernels.Tests</c> runs every kernels test with <see cref="GcStress"/>
/// collecting for the whole run (the stress thread is a background thread: it ends with the test host).
/// <see cref="GcStressTests"/> runs the equivalence claims under stress on every run regardless.
/// </summary>
internal static class GcStressMode
{
    public static GcStress? Running { get; private set; }

    [ModuleInitializer]
    internal static void StartWhenAsked()
    {
        if (Environment.GetEnvironmentVariable("CLUSTER_GC_STRESS") is "1" or "true")
            Running = GcStress.Start();
    }
}
