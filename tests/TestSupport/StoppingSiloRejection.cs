using System.Reflection;

namespace Cluster.Grains.Tests;

/// <summary>Orleans' rejection of a call, as a stopping silo sends it back unrun (its constructors are Orleans' own).</summary>
public static class StoppingSiloRejection
{
    public static OrleansMessageRejectionException Create() =>
        (OrleansMessageRejectionException)Activator.CreateInstance(typeof(OrleansMessageRejectionException),
            BindingFlags.Instance | BindingFlags.NonPublic, null, ["Silo stopping"], null)!;
}
