using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Web;

namespace Cluster.Grains.Tests;

/// <summary>
/// The network between a store and its S3 server, failing on purpose: it passes requests on, records each one
/// (method, object, query), and fails the upload of a chosen part — refused with a status (as many times as asked),
/// delivered but its answer lost (the server has the part, the client does not know), or hung until the caller gives up.
/// </summary>
public sealed class FaultyS3Transport() : DelegatingHandler(new SocketsHttpHandler())
{
    private readonly ConcurrentQueue<(string Method, string Path, string Query)> _requests = new();
    private readonly ConcurrentDictionary<int, (HttpStatusCode Status, int Times)> _refusals = new();
    private readonly ConcurrentDictionary<int, int> _lostAnswers = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _hangs = new();

    /// <summary>Every request so far, in order of sending.</summary>
    public IReadOnlyList<(string Method, string Path, string Query)> Requests => [.. _requests];

    /// <summary>The part numbers of the UploadPart requests sent (a retried part appears again).</summary>
    public IReadOnlyList<int> PartsSent => [.. Requests.Where(r => r.Method == "PUT" && PartNumber(r.Query) is not null).Select(r => PartNumber(r.Query)!.Value)];

    /// <summary>Whether an AbortMultipartUpload was sent (DELETE with an upload id).</summary>
    public bool AbortSent => Requests.Any(r => r.Method == "DELETE" && HttpUtility.ParseQueryString(r.Query)["uploadId"] is not null);

    /// <summary>Answers the upload of part <paramref name="part"/> with <paramref name="status"/>, <paramref name="times"/> times, without sending it.</summary>
    public void Refuse(int part, HttpStatusCode status, int times = int.MaxValue) => _refusals[part] = (status, times);

    /// <summary>Sends part <paramref name="part"/> on, then loses the server's answer (a connection reset), <paramref name="times"/> times.</summary>
    public void LoseAnswer(int part, int times = 1) => _lostAnswers[part] = times;

    /// <summary>Holds the upload of part <paramref name="part"/> until its caller cancels; the returned task completes once it is held.</summary>
    public Task Hang(int part) => _hangs.GetOrAdd(part, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string query = request.RequestUri?.Query ?? "";
        _requests.Enqueue((request.Method.Method, request.RequestUri?.AbsolutePath ?? "", query));
        if (request.Method == HttpMethod.Put && PartNumber(query) is { } part)
        {
            if (_hangs.TryGetValue(part, out var held))
            {
                held.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            if (Take(_refusals, part) is { } status)
                return Refusal(request, status);
            if (_lostAnswers.TryGetValue(part, out int lost) && lost > 0 && _lostAnswers.TryUpdate(part, lost - 1, lost))
            {
                using var delivered = await base.SendAsync(request, cancellationToken);
                throw new HttpRequestException($"injected: the answer to part {part} was lost after the server took it");
            }
        }
        return await base.SendAsync(request, cancellationToken);
    }

    private static HttpStatusCode? Take(ConcurrentDictionary<int, (HttpStatusCode Status, int Times)> refusals, int part)
    {
        while (refusals.TryGetValue(part, out var refusal) && refusal.Times > 0)
            if (refusals.TryUpdate(part, (refusal.Status, refusal.Times - 1), refusal)) return refusal.Status;
        return null;
    }

    private static HttpResponseMessage Refusal(HttpRequestMessage request, HttpStatusCode status) => new(status)
    {
        RequestMessage = request,
        Content = new StringContent(
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{(status == HttpStatusCode.Forbidden ? "AccessDenied" : "SlowDown")}</Code>" +
            "<Message>injected by FaultyS3Transport</Message><RequestId>injected</RequestId></Error>", Encoding.UTF8, "application/xml"),
    };

    private static int? PartNumber(string query) => int.TryParse(HttpUtility.ParseQueryString(query)["partNumber"], out int n) ? n : null;
}
