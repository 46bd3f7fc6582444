namespace Cluster.Grains.Interfaces.Stages;

/// <summary>A call carried an epoch other than the one the grain serves: a message from before a failure, fenced out.</summary>
[GenerateSerializer, Alias("cluster.StaleEpochException")]
public sealed class StaleEpochException : Exception
{
    public StaleEpochException(string grain, long callEpoch, long currentEpoch)
        : base($"{grain} rejected a call of epoch {callEpoch}: it serves epoch {currentEpoch}. The call comes from before a recovery or re-placement and is fenced out.")
    {
        CallEpoch = callEpoch;
        CurrentEpoch = currentEpoch;
    }

    [Id(0)] public long CallEpoch { get; private set; }

    [Id(1)] public long CurrentEpoch { get; private set; }
}
