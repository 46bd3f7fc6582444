using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Cluster.Grains.Hosting;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Cluster.Grains.Tests;

/// <summary>
/// A private Azurite (Azure Storage emulator: blobs, tables, queues) for one test run. Installs the pinned npm package
/// into <c>&lt;repo&gt;/.tmp/azurite</c> the first time (git ignores it), starts it on free loopback ports with its data in
/// a temporary folder, and removes both the process tree and the data when disposed. Needs Node.js and npm on PATH.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public const string AzuriteVersion = "3.37.0";

    /// <summary>The emulator's well-known development account (public, documented; not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string Host = "127.0.0.1";
    private const int StartAttempts = 3;
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_installDeadline = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(100);

    private readonly Action<string> _report;
    private readonly RecentLines _output = new();
    private Process? _process;
    private string? _dataDirectory;
    private string? _node;
    private string? _script;

    public AzuriteFixture(IMessageSink diagnostics) => _report = message => diagnostics.OnMessage(new DiagnosticMessage(message));

    private AzuriteFixture(Action<string> report) => _report = report;

    /// <summary>
    /// An emulator of one test's own (not the shared collection fixture), for tests that stop and restart it; the
    /// caller initialises and disposes it.
    /// </summary>
    public static AzuriteFixture Private(ITestOutputHelper output) => new(output.WriteLine);

    public int BlobPort { get; private set; }
    public int TablePort { get; private set; }
    public int QueuePort { get; private set; }

    public string BlobEndpoint => $"http://{Host}:{BlobPort}/{AccountName}";
    public string TableEndpoint => $"http://{Host}:{TablePort}/{AccountName}";
    public string QueueEndpoint => $"http://{Host}:{QueuePort}/{AccountName}";

    public string BlobConnectionString => $"{AccountPart};BlobEndpoint={BlobEndpoint};";
    public string TableConnectionString => $"{AccountPart};TableEndpoint={TableEndpoint};";
    public string ConnectionString => $"{AccountPart};BlobEndpoint={BlobEndpoint};TableEndpoint={TableEndpoint};QueueEndpoint={QueueEndpoint};";

    /// <summary>How long the npm install took (zero when the cached one was used).</summary>
    public TimeSpan InstallTime { get; private set; }

    /// <summary>From starting node until every port accepted connections.</summary>
    public TimeSpan StartTime { get; private set; }

    private static string AccountPart => $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey}";

    public async Task InitializeAsync()
    {
        string node = _node = LocalTools.FindOnPath("node") ?? throw MissingTool("node");
        string script = _script = await EnsureInstalledAsync();
        _dataDirectory = Path.Combine(Path.GetTempPath(), $"azurite-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dataDirectory);
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await StartAsync(node, script, FreePorts());
                    break;
                }
                catch (AzuriteExitedException) when (attempt < StartAttempts)
                {
                    // Another process may have taken a port between our probe and Azurite's bind: try new ports.
                    Report($"Azurite exited during start-up (attempt {attempt}); retrying on other ports.");
                }
            }
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            await LocalTools.StopAsync(process, "Azurite", Report);
        }
        LocalTools.DeleteData(_dataDirectory, "Azurite", Report);
    }

    /// <summary>
    /// A storage outage: stops the emulator gracefully (SIGTERM, so it saves its metadata as a real service keeps its
    /// data) and keeps its data folder and ports for <see cref="RestartAsync"/>.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException("Azurite is not running: start it (InitializeAsync) before stopping it.");
        UnixSignals.Terminate(process.Id);
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
        _process = null;
        process.Dispose();
        _report($"Azurite stopped (blob {BlobPort}, table {TablePort}); its data stays in '{_dataDirectory}'.");
    }

    /// <summary>Starts the emulator again on the same ports over the same data, after <see cref="StopAsync"/>.</summary>
    public Task RestartAsync()
    {
        if (_process is not null) throw new InvalidOperationException("Azurite is still running: stop it (StopAsync) before restarting it.");
        if (_node is null || _script is null) throw new InvalidOperationException("Azurite was never started: call InitializeAsync first.");
        return StartAsync(_node, _script, (BlobPort, TablePort, QueuePort));
    }

    private async Task StartAsync(string node, string script, (int Blob, int Table, int Queue) ports)
    {
        (BlobPort, TablePort, QueuePort) = ports;
        _output.Clear();
        var start = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
                 {
                     script,
                     "--blobHost", Host, "--blobPort", $"{BlobPort}",
                     "--tableHost", Host, "--tablePort", $"{TablePort}",
                     "--queueHost", Host, "--queuePort", $"{QueuePort}",
                     "--location", _dataDirectory!,
                     "--disableTelemetry", // no internet here, and tests should not phone home
                     "--silent",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => _output.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => _output.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        foreach (int port in new[] { BlobPort, TablePort, QueuePort })
        {
            while (!await AcceptsConnectionsAsync(port))
            {
                if (process.HasExited)
                {
                    _process = null;
                    process.Dispose();
                    throw new AzuriteExitedException($"Azurite exited while starting.\n{RecentOutput()}");
                }
                if (clock.Elapsed > s_startDeadline)
                    throw new TimeoutException($"Azurite did not accept connections on port {port} within {s_startDeadline.TotalSeconds:F0} s.\n{RecentOutput()}");
                await Task.Delay(s_pollInterval);
            }
        }
        StartTime = clock.Elapsed;
        Report($"Azurite {AzuriteVersion} ready in {StartTime.TotalSeconds:F1} s (blob {BlobPort}, table {TablePort}, queue {QueuePort}).");
    }

    /// <summary>Returns the path of azurite.js, installing the pinned version into the repository's cache first if needed.</summary>
    private async Task<string> EnsureInstalledAsync()
    {
        string cache = Path.Combine(LocalTools.RepositoryRoot("place the Azurite cache"), ".tmp", "azurite");
        string script = ScriptPath(cache);
        if (File.Exists(script)) return script;

        string npm = LocalTools.FindOnPath("npm") ?? throw MissingTool("npm");
        Directory.CreateDirectory(cache);
        // Test processes started side by side must not install into the same folder at once.
        using var installLock = await LockAsync(Path.Combine(cache, ".install.lock"));
        if (File.Exists(script)) return script;

        // Install into a staging folder and move node_modules into place only when complete, so an interrupted
        // install never leaves an azurite.js whose dependencies are missing.
        string staging = Path.Combine(cache, $".staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        var clock = Stopwatch.StartNew();
        try
        {
            await RunAsync(npm, ["install", $"azurite@{AzuriteVersion}", "--prefix", staging, "--no-save", "--no-audit", "--no-fund", "--loglevel=error"],
                s_installDeadline);
            if (!File.Exists(ScriptPath(staging)))
                throw new InvalidOperationException($"npm install azurite@{AzuriteVersion} finished but '{ScriptPath(staging)}' is not there.");
            string modules = Path.Combine(cache, "node_modules");
            if (Directory.Exists(modules)) Directory.Delete(modules, recursive: true); // a broken or other version
            Directory.Move(Path.Combine(staging, "node_modules"), modules);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
        InstallTime = clock.Elapsed;
        Report($"Installed azurite@{AzuriteVersion} into '{cache}' in {InstallTime.TotalSeconds:F1} s.");
        return script;
    }

    private static string ScriptPath(string prefix) => Path.Combine(prefix, "node_modules", "azurite", "dist", "src", "azurite.js");

    private static async Task RunAsync(string program, IEnumerable<string> arguments, TimeSpan deadline)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        var output = new ConcurrentQueue<string>();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{program} {string.Join(' ', arguments)}' did not finish within {deadline.TotalMinutes:F0} min.\n{string.Join('\n', output.TakeLast(40))}");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{program} {string.Join(' ', arguments)}' failed with exit code {process.ExitCode}:\n{string.Join('\n', output.TakeLast(40))}");
        }
    }

    /// <summary>An exclusive lock held by an open file; waits (polling) while another process holds it.</summary>
    private static async Task<FileStream> LockAsync(string path)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < s_installDeadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    /// <summary>Three distinct free loopback ports: all are bound at once, so they cannot coincide.</summary>
    private static (int Blob, int Table, int Queue) FreePorts()
    {
        var listeners = Enumerable.Range(0, 3).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners) listener.Start();
            int[] ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
            return (ports[0], ports[1], ports[2]);
        }
        finally
        {
            foreach (var listener in listeners) listener.Stop();
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

    private static InvalidOperationException MissingTool(string tool) => new(
        $"The Azure Blob tests run Azurite, which needs Node.js (18 or newer) and npm, but '{tool}' is not on PATH. " +
        "Install them (Debian/Ubuntu: `sudo apt-get install nodejs npm`; or https://nodejs.org) and run the tests again.");

    private string RecentOutput() => _output.IsEmpty ? "(Azurite printed nothing)" : "Azurite output:\n" + _output;

    private void Report(string message) => _report(message);
}
