using Cluster.Grains.Scheduling;

namespace Cluster.Silo;

/// <summary>
/// Where <c>demo --verify</c> trains its reference: on the device kind the job's stages ran on (CPU stages against a
/// CPU reference, CUDA stages against a CUDA one), because CPU and CUDA compute the same step to different bits.
/// </summary>
public static class ReferenceDevice
{
    /// <summary>
    /// The torch device for the reference, from the devices of the nodes the stages ran on (as the nodes report them:
    /// "cpu", "cuda:0", …): "cpu" for CPU stages, the first stage's device for CUDA stages. Stages on several kinds have
    /// no bit-identical reference: that is an error that names the kinds.
    /// </summary>
    public static string For(IReadOnlyList<string> stageDevices)
    {
        ArgumentNullException.ThrowIfNull(stageDevices);
        if (stageDevices.Count == 0)
            throw new ArgumentException("The job ran no stages: there is nothing to verify.", nameof(stageDevices));
        string[] kinds = [.. stageDevices.Select(DeviceKinds.KindOf).Distinct(StringComparer.Ordinal)];
        if (kinds.Length > 1)
            throw new InvalidOperationException(
                $"The stages ran on {string.Join(" and ", kinds)} devices ({string.Join(", ", stageDevices)}): a run across device kinds is not bit-identical to any reference.");
        return kinds[0] switch
        {
            "" => throw new InvalidOperationException("The stages' nodes do not say which device they have."),
            "cpu" => "cpu",
            _ => stageDevices[0].Trim().ToLowerInvariant(),
        };
    }
}
