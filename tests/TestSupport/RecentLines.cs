using System.Collections.Concurrent;

namespace Cluster.Grains.Tests;

/// <summary>The last lines a child process (an emulator, a server) printed, for the message of a failure.</summary>
internal sealed class RecentLines(int capacity = 50)
{
    private readonly ConcurrentQueue<string> _lines = new();

    public bool IsEmpty => _lines.IsEmpty;

    public void Keep(string? line)
    {
        if (line is null) return;
        _lines.Enqueue(line);
        while (_lines.Count > capacity) _lines.TryDequeue(out _);
    }

    public void Clear() => _lines.Clear();

    public override string ToString() => string.Join('\n', _lines);
}
