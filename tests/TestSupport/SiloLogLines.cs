using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace Cluster.Grains.Tests;

/// <summary>
/// What the in-process silos of one fixture log (Information and up, <c>Cluster.*</c> categories), kept in memory with
/// the silo's name and the message's event name, so a test can wait for something a grain said on a given silo, e.g.
/// that a stale activation on a stopped silo ended. The providers it hands out are owned here, never disposed with a
/// silo: a grain still running on a stopped silo keeps logging to it.
/// <para>
/// Lines are told apart by the silo's address (endpoint and generation), not its name: the test cluster names a silo
/// started after one stopped as it named that one, and a test reading the second silo's lines must not get the first's.
/// </para>
/// </summary>
public sealed class SiloLogLines
{
    private readonly ConcurrentQueue<Line> _lines = new();

    /// <summary>One logged message.</summary>
    public sealed record Line(string Silo, string? SiloAddress, string Category, string EventName, LogLevel Level, string Message);

    /// <summary>
    /// Keeps what the silo being built logs: registers a provider for the silo named <paramref name="silo"/>, which takes
    /// the silo's address from its services when it first logs.
    /// </summary>
    public void Add(ISiloBuilder builder, string silo)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ILoggerProvider>(services => new Provider(this, silo, services));
    }

    /// <summary>The lines of <paramref name="silo"/> (this very silo, not an earlier one of its name) whose event is one of <paramref name="eventNames"/>.</summary>
    public IReadOnlyList<Line> Of(InProcessSiloHandle silo, params string[] eventNames) =>
        [.. Lines(silo).Where(l => eventNames.Contains(l.EventName, StringComparer.Ordinal))];

    /// <summary>Every line of <paramref name="silo"/>, one per line, for a failing assertion to show.</summary>
    public string Dump(InProcessSiloHandle silo) => string.Join(Environment.NewLine, Lines(silo).Select(l => $"{l.Level} {l.EventName}: {l.Message}"));

    private IEnumerable<Line> Lines(InProcessSiloHandle silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        string address = silo.SiloAddress.ToString();
        return _lines.Where(l => l.SiloAddress == address);
    }

    private sealed class Provider(SiloLogLines lines, string silo, IServiceProvider services) : ILoggerProvider
    {
        private string? _address;

        /// <summary>The silo's address, once its details can be had (a line logged before that has none).</summary>
        public string? Address => _address ??= services.GetService<ILocalSiloDetails>()?.SiloAddress.ToString();

        public ILogger CreateLogger(string categoryName) => new Logger(lines, this, silo, categoryName);

        public void Dispose()
        {
            // The lines outlive the silo: nothing to release.
        }
    }

    private sealed class Logger(SiloLogLines lines, Provider provider, string silo, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && category.StartsWith("Cluster.", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) lines._lines.Enqueue(new Line(silo, provider.Address, category, eventId.Name ?? "", logLevel, formatter(state, exception)));
        }
    }
}
