using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;

namespace Cluster.Client.Tests;

/// <summary>
/// clusterctl as operators install it: <c>dotnet pack Client</c> makes a .NET tool package (with no TorchSharp or
/// libtorch inside), <c>dotnet tool install</c> puts it on a tool path, and the installed <c>clusterctl</c> runs.
/// </summary>
public sealed class ToolPackageTests : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    private readonly string _root = Directory.CreateTempSubdirectory("clusterctl-pack-").FullName;

    [Fact]
    public async Task Pack_install_and_run_clusterctl()
    {
        string feed = Path.Combine(_root, "feed"), tools = Path.Combine(_root, "tools");
        // The test assembly's configuration is already built (the test project references Client): pack it as is.
        var pack = await Run("dotnet", ["pack", Path.Combine(RepoPaths.Root, "Client", "Client.csproj"), "-c", RepoPaths.Configuration, "--no-build", "-o", feed, "-nologo"]);
        Assert.True(pack.Code == 0, pack.Output);
        string package = Assert.Single(Directory.GetFiles(feed, "Cluster.Client.*.nupkg"));
        using (var zip = ZipFile.OpenRead(package))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains(entries, e => e.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal));
            Assert.Contains(entries, e => e.EndsWith("/Cluster.Client.dll", StringComparison.Ordinal));
            Assert.DoesNotContain(entries, e => e.Contains("TorchSharp", StringComparison.OrdinalIgnoreCase) || e.Contains("libtorch", StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain(entries, e => e.EndsWith("/Cluster.Grains.dll", StringComparison.Ordinal) || e.EndsWith("/Cluster.Kernels.dll", StringComparison.Ordinal));
            using var settings = new StreamReader(zip.Entries.First(e => e.FullName.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal)).Open());
            Assert.Contains("Command Name=\"clusterctl\"", await settings.ReadToEndAsync());
        }

        var install = await Run("dotnet", ["tool", "install", "Cluster.Client", "--tool-path", tools, "--add-source", feed, "--ignore-failed-sources"]);
        Assert.True(install.Code == 0, install.Output);
        string clusterctl = Path.Combine(tools, OperatingSystem.IsWindows() ? "clusterctl.exe" : "clusterctl");
        Assert.True(File.Exists(clusterctl), $"{clusterctl} missing after install:\n{install.Output}");

        var version = await Run(clusterctl, ["--version"]);
        Assert.True(version.Code == 0, version.Output);
        Assert.StartsWith("0.2.0", version.Stdout.Trim(), StringComparison.Ordinal);
        Assert.Equal(Commands.VersionCommand.ClientVersion, version.Stdout.Trim()); // this very build (version + commit), not an older package

        var client = await Run(clusterctl, ["version", "--client", "-o", "json"]);
        Assert.True(client.Code == 0, client.Output);
        Assert.StartsWith("0.2.0", JsonDocument.Parse(client.Stdout).RootElement.GetProperty("client").GetProperty("version").GetString(), StringComparison.Ordinal);
    }

    private async Task<(int Code, string Stdout, string Output)> Run(string program, string[] args)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _root,
        };
        foreach (string arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["CLUSTERCTL_CONFIG"] = Path.Combine(_root, "config.json");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StepTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not end within {StepTimeout}.");
        }
        string output = await stdout;
        return (process.ExitCode, output, $"{program} {string.Join(' ', args)} → exit {process.ExitCode}\n{output}\n{await stderr}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp folder
        }
    }
}
