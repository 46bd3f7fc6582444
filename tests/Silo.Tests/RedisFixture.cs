using System.Diagnostics;
using System.Net.Sockets;
using Cluster.Grains.Tests;

namespace Cluster.Silo.Tests;

/// <summary>
/// A private <c>redis-server</c> on a free loopback port, no persistence, for one test class. When redis-server is
/// not installed and this runs as root on Debian/Ubuntu (CI), installs the distribution's package first; otherwise
/// fails saying how to install it. Disposing kills the server.
/// </summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private static readonly TimeSpan s_installDeadline = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(30);

    private readonly RecentLines _output = new();
    private Process? _process;

    public int Port { get; private set; }

    /// <summary>StackExchange.Redis configuration string of the server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        string server = LocalTools.FindOnPath("redis-server") ?? await InstallAsync();
        Port = SiloProcess.FreePorts(1)[0];
        var start = new ProcessStartInfo(server) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { "--port", $"{Port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" })
            start.ArgumentList.Add(argument);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => _output.Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => _output.Keep(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + s_startDeadline;
        while (!await AcceptsConnectionsAsync(Port))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"redis-server did not start on port {Port}:\n{_output}");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            await LocalTools.StopAsync(process, "redis-server", _ => { }); // already gone, or it would not die within 10 s
        }
    }

    private static async Task<string> InstallAsync()
    {
        if (LocalTools.FindOnPath("apt-get") is not { } apt || Environment.UserName != "root")
        {
            throw new InvalidOperationException("The Redis membership test needs redis-server on PATH. Install it " +
                "(Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`) and run the tests again.");
        }
        if (await RunAsync(apt, ["install", "-y", "--no-install-recommends", "redis-server"]) != 0)
        {
            await RunAsync(apt, ["update"]);
            int code = await RunAsync(apt, ["install", "-y", "--no-install-recommends", "redis-server"]);
            if (code != 0) throw new InvalidOperationException($"apt-get install redis-server failed with exit code {code}; install it by hand and run the tests again.");
        }
        return LocalTools.FindOnPath("redis-server") ?? throw new InvalidOperationException("apt-get installed redis-server, but it is not on PATH.");
    }

    private static async Task<int> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(s_installDeadline);
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

}
