using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Tests;

/// <summary>
/// What the in-process silos of one fixture log (Information and up, <c>Cluster.*</c> categories), kept in memory with
/// the silo's name and the message's event name, so a test can wait for something a grain said on a given silo, e.g.
/// that a stale activation on a stopped silo ended. The providers it hands out are owned here, never disposed with a
/// silo: a grain still running on a stopped silo keeps logging to it.
/// </summary>
public sealed class SiloLogLines
{
    private readonly ConcurrentQueue<Line> _lines = new();

    /// <summary>One logged message.</summary>
    public sealed record Line(string Silo, string Category, string EventName, LogLevel Level, string Message);

    /// <summary>A provider for the silo named <paramref name="silo"/>.</summary>
    public ILoggerProvider For(string silo) => new Provider(this, silo);

    /// <summary>The lines of <paramref name="silo"/> whose event is one of <paramref name="eventNames"/>.</summary>
    public IReadOnlyList<Line> Of(string silo, params string[] eventNames) =>
        [.. _lines.Where(l => l.Silo == silo && eventNames.Contains(l.EventName, StringComparer.Ordinal))];

    /// <summary>Every line of <paramref name="silo"/>, one per line, for a failing assertion to show.</summary>
    public string Dump(string silo) => string.Join(Environment.NewLine, _lines.Where(l => l.Silo == silo).Select(l => $"{l.Level} {l.EventName}: {l.Message}"));

    private sealed class Provider(SiloLogLines lines, string silo) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(lines, silo, categoryName);

        public void Dispose()
        {
            // The lines outlive the silo: nothing to release.
        }
    }

    private sealed class Logger(SiloLogLines lines, string silo, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && category.StartsWith("Cluster.", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) lines._lines.Enqueue(new Line(silo, category, eventId.Name ?? "", logLevel, formatter(state, exception)));
        }
    }
}
