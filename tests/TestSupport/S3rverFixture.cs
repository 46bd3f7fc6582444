using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Cluster.Grains.Tests;

/// <summary>
/// A private s3rver (a local S3 API server, npm <c>s3rver</c>) for one test run, on a free loopback port with its data
/// in a temporary folder. The package comes from <c>&lt;repo&gt;/.tmp/s3rver</c>, where build/setup-test-deps.sh
/// installs it (test.sh runs the script; this fixture runs it too when the package is missing). Needs Node.js.
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string Version = "3.7.1";

    /// <summary>s3rver's fixed development credentials (public, documented; not a secret).</summary>
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private const string Host = "127.0.0.1";
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_installDeadline = TimeSpan.FromMinutes(10);

    private readonly IMessageSink _diagnostics;
    private readonly RecentLines _output = new();
    private Process? _process;
    private string? _dataDirectory;

    public S3rverFixture(IMessageSink diagnostics) => _diagnostics = diagnostics;

    public int Port { get; private set; }

    public Uri ServiceUrl => new($"http://{Host}:{Port}");

    public async Task InitializeAsync()
    {
        string node = LocalTools.FindOnPath("node") ?? throw new InvalidOperationException(
            "The S3 tests run s3rver, which needs Node.js (18 or newer) on PATH. Install it (Debian/Ubuntu: `sudo apt-get install nodejs npm`) and run the tests again.");
        string script = await EnsureInstalledAsync();
        _dataDirectory = Path.Combine(Path.GetTempPath(), $"s3rver-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dataDirectory);
        Port = FreePort();
        var start = new ProcessStartInfo(node) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { script, "--directory", _dataDirectory, "--address", Host, "--port", $"{Port}", "--silent" })
            start.ArgumentList.Add(argument);
        var clock = Stopwatch.StartNew();
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => _output.Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => _output.Keep(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        while (!await AcceptsConnectionsAsync(Port))
        {
            if (_process.HasExited || clock.Elapsed > s_startDeadline)
            {
                string output = _output.ToString();
                await DisposeAsync();
                throw new InvalidOperationException($"s3rver did not start on port {Port} within {s_startDeadline.TotalSeconds:F0} s:\n{output}");
            }
            await Task.Delay(100);
        }
        Report($"s3rver {Version} ready on port {Port} in {clock.Elapsed.TotalSeconds:F1} s.");
    }

    public async Task DisposeAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            await LocalTools.StopAsync(process, "s3rver", Report);
        }
        LocalTools.DeleteData(_dataDirectory, "s3rver", Report);
    }

    /// <summary>The path of s3rver.js, running build/setup-test-deps.sh first when it is not installed yet.</summary>
    private static async Task<string> EnsureInstalledAsync()
    {
        string root = LocalTools.RepositoryRoot("find s3rver");
        string script = Path.Combine(root, ".tmp", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js");
        if (File.Exists(script)) return script;
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(root, "build", "setup-test-deps.sh"));
        start.ArgumentList.Add("s3rver");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(s_installDeadline);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0 || !File.Exists(script))
            throw new InvalidOperationException($"build/setup-test-deps.sh s3rver failed (exit {process.ExitCode}):\n{await output}\n{await errors}");
        return script;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(Host, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private void Report(string message) => _diagnostics.OnMessage(new DiagnosticMessage(message));
}
