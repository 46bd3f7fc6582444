namespace Cluster.Grains.Interfaces.Silos;

/// <summary>Keys of <see cref="ISiloBuildGrain"/>: "&lt;silo name&gt;/build", placed like a node of that silo.</summary>
public static class SiloBuildKeys
{
    public static string Of(string siloName) => siloName + "/build";
}
