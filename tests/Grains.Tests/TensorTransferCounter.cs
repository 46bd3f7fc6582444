using System.Collections.Concurrent;
using Cluster.Grains.Interfaces.Messages;
using Cluster.Grains.Interfaces.Stages;
using Orleans.Concurrency;

namespace Cluster.Grains.Tests;

/// <summary>
/// Watches the tensor data that calls between stages carry — activations and gradients between pipeline stages, the
/// all-reduce's values between replicas — counting calls per method and the most bytes of tensor data one call
/// carried one way (its request's arguments, or its response). Registered on every silo as an incoming filter.
/// </summary>
public sealed class TensorTransferCounter : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private long _mostBytes;

    /// <summary>Calls per method name of <see cref="IPipelineStageGrain"/>.</summary>
    public IReadOnlyDictionary<string, int> Calls => _calls;

    /// <summary>The most bytes of tensor data one message (a call's request or its response) carried.</summary>
    public long MostBytes => Interlocked.Read(ref _mostBytes);

    public int CallsOf(string method) => _calls.GetValueOrDefault(method);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.Invoke();
        if (context.InterfaceMethod.DeclaringType != typeof(IPipelineStageGrain)) return;
        _calls.AddOrUpdate(context.InterfaceMethod.Name, 1, (_, n) => n + 1);
        long request = 0;
        for (int i = 0; i < context.Request.GetArgumentCount(); i++)
            request += BytesOf(context.Request.GetArgument(i));
        long bytes = Math.Max(request, BytesOf(context.Result)); // two messages: the request and the response
        long most;
        while (bytes > (most = Interlocked.Read(ref _mostBytes)) && Interlocked.CompareExchange(ref _mostBytes, bytes, most) != most)
        {
        }
    }

    private static long BytesOf(object? value) => value switch
    {
        Immutable<float[]> values => values.Value.LongLength * sizeof(float),
        Immutable<byte[]> data => data.Value.LongLength,
        TensorPayload payload => payload.Data.LongLength + payload.MoreChunks.Sum(c => c.LongLength),
        MicroBatchResult { InputGradient: { } gradient } => BytesOf(gradient),
        _ => 0,
    };
}
