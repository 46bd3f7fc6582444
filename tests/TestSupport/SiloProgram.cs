using System.Reflection;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Finds the built silo program. A project that starts silo processes references Silo (without its assembly) and
/// records the path in an <c>[assembly: AssemblyMetadata("SiloAssembly", …)]</c> attribute at build time.
/// </summary>
public static class SiloProgram
{
    public const string MetadataKey = "SiloAssembly";

    public static string Locate(Assembly caller)
    {
        string? path = caller.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == MetadataKey)?.Value;
        if (path is null)
            throw new InvalidOperationException($"{caller.GetName().Name} has no [AssemblyMetadata(\"{MetadataKey}\", …)]: add one naming Cluster.Silo.dll (see tests/Processes.Tests).");
        path = Path.GetFullPath(path);
        return File.Exists(path) ? path
            : throw new FileNotFoundException($"The silo program '{path}' is missing: build the solution (or dotnet build Silo) in the same configuration first.", path);
    }
}
