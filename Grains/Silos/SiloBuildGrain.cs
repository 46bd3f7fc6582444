using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Cluster.Grains.Interfaces.Silos;
using Cluster.Grains.Placement;
using Orleans.Placement;

namespace Cluster.Grains.Silos;

/// <summary>
/// Answers with the build of the silo it runs on: placed by its key's silo name like a node grain, so it never answers
/// for another silo. The version and commit come from the cluster code's informational version ("1.2.3+&lt;commit&gt;",
/// which the .NET SDK stamps from git). Immovable, like a node grain: no other silo may answer for this one, so it
/// never migrates when its silo shuts down.
/// </summary>
[NodeSiloPlacement]
[Immovable]
internal sealed class SiloBuildGrain(ILocalSiloDetails silo) : Grain, ISiloBuildGrain
{
    private static readonly string InformationalVersion =
        typeof(SiloBuildGrain).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public Task<SiloBuild> GetBuild()
    {
        int plus = InformationalVersion.IndexOf('+', StringComparison.Ordinal);
        string version = plus < 0 ? InformationalVersion : InformationalVersion[..plus];
        string? commit = plus < 0 ? null : InformationalVersion[(plus + 1)..];
        using var process = Process.GetCurrentProcess();
        DateTimeOffset started = new(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        return Task.FromResult(new SiloBuild(silo.Name, version, commit, RuntimeInformation.FrameworkDescription, started));
    }
}
