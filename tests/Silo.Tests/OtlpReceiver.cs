using System.Collections.Concurrent;
using System.Net;

namespace Cluster.Silo.Tests;

/// <summary>
/// The receiving end of OTLP over HTTP (what a collector listens on at port 4318): accepts every POST, keeps its body
/// by path (/v1/metrics, /v1/traces, /v1/logs) and answers 200 with an empty body. Protobuf keeps names as plain UTF-8,
/// so a test can look for metric and span names in the bytes.
/// </summary>
internal sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<byte[]>> _received = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public OtlpReceiver()
    {
        Port = SiloProcess.FreePorts(1)[0];
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>Every body posted to <paramref name="path"/> so far, as one string (bytes read as Latin-1: names survive).</summary>
    public string Received(string path) =>
        _received.TryGetValue(path, out var bodies) ? string.Concat(bodies.Select(b => System.Text.Encoding.Latin1.GetString(b))) : "";

    public IReadOnlyCollection<string> Paths => _received.Keys.ToList();

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // the listener was closed under a pending GetContext
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _received.GetOrAdd(context.Request.Url!.AbsolutePath, _ => new ConcurrentQueue<byte[]>()).Enqueue(body.ToArray());
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }
}
