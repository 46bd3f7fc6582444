using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Tests;

/// <summary>
/// The in-process silos' log, for finding out why a random test failed: when <see cref="Variable"/> names a file, every
/// silo of a <see cref="ClusterFixture"/> appends its <c>Cluster.*</c> log lines (Information and up) and Orleans'
/// warnings to it, each with the time, the silo and the category, and a logged exception whole (its stack too). Off without the variable (the default, and in CI).
/// </summary>
public sealed class TestLogFile(string path, string silo) : ILoggerProvider
{
    /// <summary>Environment variable naming the file (appended to; created when missing).</summary>
    public const string Variable = "CLUSTER_TEST_LOG";

    private static readonly ConcurrentDictionary<string, StreamWriter> Writers = new(StringComparer.Ordinal);

    /// <summary>The file the variable names, or null.</summary>
    public static string? Path => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? path : null;

    public ILogger CreateLogger(string categoryName) => new FileLogger(Writers.GetOrAdd(path, Open), silo, categoryName);

    public void Dispose()
    {
        // The writer is shared by every silo of the process and flushed per line: nothing to release per silo.
    }

    private static StreamWriter Open(string path) => new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };

    private sealed class FileLogger(StreamWriter writer, string silo, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) =>
            logLevel >= (category.StartsWith("Cluster.", StringComparison.Ordinal) ? LogLevel.Information : LogLevel.Warning);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            string line = $"{DateTime.UtcNow:HH:mm:ss.fff} {silo} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception)}";
            lock (writer) writer.WriteLine(line);
        }
    }
}
