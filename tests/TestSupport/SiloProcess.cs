using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cluster.Grains.Hosting;

/// <summary>
/// One silo as a child process (<c>dotnet Cluster.Silo.dll --Orleans:… --TrainingCluster:…</c>) with its output in a
/// log file — a real server for failure tests and benchmarks: it can be killed (<c>kill -9</c>), frozen (SIGSTOP) and
/// continued. The silo is told this process's id and exits by itself if this process dies without cleaning up;
/// <see cref="Dispose"/> kills it.
/// </summary>
public sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private bool _suspended;

    private SiloProcess(Process process, string name, int siloPort, int gatewayPort, string logPath)
    {
        _process = process;
        Name = name;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        LogPath = logPath;
    }

    public string Name { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public string LogPath { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts a silo named <paramref name="name"/> that joins the cluster whose first silo listens on
    /// <paramref name="primarySiloPort"/> (its own <paramref name="siloPort"/> for the first one).
    /// </summary>
    public static SiloProcess Start(string siloAssembly, string name, int siloPort, int gatewayPort, int primarySiloPort,
        string logPath, IEnumerable<string> settings)
    {
        if (!File.Exists(siloAssembly))
            throw new FileNotFoundException($"The silo program '{siloAssembly}' does not exist: build it first (dotnet build Silo).", siloAssembly);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        // The shell only redirects and execs: the process id is the silo's, and its output goes straight to the file,
        // so the log survives this process and a slow reader never blocks the silo.
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
        };
        foreach (string argument in new[] { "-c", "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1", "sh", logPath, DotnetHost(), siloAssembly,
                     $"--Orleans:SiloName={name}", $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={gatewayPort}",
                     $"--Orleans:PrimarySiloPort={primarySiloPort}", $"--Silo:ParentProcessId={Environment.ProcessId}" })
            start.ArgumentList.Add(argument);
        foreach (string setting in settings)
            start.ArgumentList.Add(setting);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start silo {name}.");
        return new SiloProcess(process, name, siloPort, gatewayPort, logPath);
    }

    /// <summary>Waits until the silo's gateway accepts connections; fails at once, with its log, if the process exits.</summary>
    public async Task WaitForGatewayAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"Silo {Name} exited with code {_process.ExitCode} before its gateway opened.{Environment.NewLine}{LogTail()}");
            using (var client = new TcpClient())
            {
                try
                {
                    await client.ConnectAsync(IPAddress.Loopback, GatewayPort, cancellationToken);
                    return;
                }
                catch (SocketException)
                {
                    // not listening yet
                }
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Silo {Name}'s gateway (port {GatewayPort}) did not open within {timeout.TotalSeconds:F0} s.{Environment.NewLine}{LogTail()}");
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary><c>kill -9</c>: the process dies at once, mid-whatever, without a word to the cluster.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill();
        _process.WaitForExit(10_000);
    }

    /// <summary>
    /// SIGTERM (systemctl stop, a rolling update's pod deletion): the silo shuts down gracefully. Returns its exit code,
    /// or null when it still runs after <paramref name="timeout"/>.
    /// </summary>
    public async Task<int?> TerminateAsync(TimeSpan timeout)
    {
        try
        {
            if (!_process.HasExited) UnixSignals.Terminate(ProcessId);
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
            // it exited between the check and the signal
        }
        using var waited = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(waited.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>SIGSTOP: the process hangs; its sockets stay open.</summary>
    public void Suspend()
    {
        UnixSignals.Stop(ProcessId);
        _suspended = true;
    }

    /// <summary>SIGCONT after <see cref="Suspend"/>.</summary>
    public void Resume()
    {
        UnixSignals.Continue(ProcessId);
        _suspended = false;
    }

    /// <summary>The last <paramref name="lines"/> lines of the silo's output, headed by its name, for failure messages.</summary>
    public string LogTail(int lines = 40)
    {
        string[] all;
        try
        {
            all = LogSince(0).Split('\n');
        }
        catch (IOException e)
        {
            return $"--- silo {Name}: no log ({e.Message})";
        }
        string state = _process.HasExited ? $"exited {_process.ExitCode}" : _suspended ? "suspended" : "running";
        return $"--- silo {Name} (pid {ProcessId}, {state}), last lines of {LogPath}:{Environment.NewLine}{string.Join(Environment.NewLine, all.TakeLast(lines))}";
    }

    /// <summary>How long the silo's log file is now: where <see cref="LogSince"/> reads from to get what is written next.</summary>
    public long LogLength => new FileInfo(LogPath).Length;

    /// <summary>
    /// What the silo's log says from byte <paramref name="offset"/> on (the file is appended to by every process started
    /// with this log path: a silo restarted under its name too).
    /// </summary>
    public string LogSince(long offset)
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Kills the silo if it still runs (a suspended one too: SIGKILL needs no cooperation).</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // it exited between the check and the kill
        }
        _process.Dispose();
    }

    /// <summary>The dotnet host running this program (a test host, <c>dotnet run</c>), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
    }
}
