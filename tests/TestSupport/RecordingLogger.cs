using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Tests;

/// <summary>An <see cref="ILogger{T}"/> that keeps what is logged, so tests can check that a problem was reported.</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

    /// <summary>Whether a message containing <paramref name="fragment"/> was logged.</summary>
    public bool Has(string fragment) => _entries.Any(e => e.Message.Contains(fragment, StringComparison.Ordinal));

    /// <summary>Every message so far, one per line, for a failing assertion to show.</summary>
    public override string ToString() => string.Join(Environment.NewLine, _entries.Select(e => $"{e.Level}: {e.Message}"));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception)));
}
