namespace Cluster.Client.Tests;

/// <summary>Where the built silo and console live: the same configuration as this test assembly, found from its folder.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>"Debug" or "Release": the folder above net10.0 of this test assembly.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    public static string SiloDll => Built("Silo", "Cluster.Silo.dll");

    public static string ClientDll => Built("Client", "Cluster.Client.dll");

    private static string Built(string project, string assembly)
    {
        string path = Path.Combine(Root, project, "bin", Configuration, "net10.0", assembly);
        return File.Exists(path) ? path
            : throw new FileNotFoundException($"{path} is missing: build the solution ({Configuration}) first; the test project builds it through its project references.", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No Cluster.sln above {AppContext.BaseDirectory}.");
    }
}
