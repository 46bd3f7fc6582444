using System.Reflection;

namespace Cluster.Silo.Tests;

/// <summary>Where the built <c>Cluster.Silo.dll</c> is: Silo's own output folder of the configuration the tests were built in.</summary>
internal static class SiloExecutable
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        string path = typeof(SiloExecutable).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "SiloAssembly").Value!;
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"The silo executable '{path}' is missing: build the solution (dotnet build Cluster.sln) before running these tests.", path);
    }
}
