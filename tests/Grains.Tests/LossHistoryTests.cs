using System.Security.Cryptography;
using Cluster.Grains.Checkpoints;
using Cluster.Grains.Jobs;

namespace Cluster.Grains.Tests;

/// <summary>The running hash of a job's loss history is always the SHA-256 of the losses it holds, whatever was added or cut.</summary>
public sealed class LossHistoryTests
{
    [Fact]
    public void The_running_hash_matches_the_losses_held_after_adds_ranges_and_truncations()
    {
        var history = new LossHistory();
        var expected = new List<double>();
        Assert.Equal(Hash(expected), history.Sha256());
        for (int i = 0; i < 1000; i++)
        {
            double loss = 5.5 / (1 + (i * 1e-3));
            history.Add(loss);
            expected.Add(loss);
        }
        Assert.Equal(Hash(expected), history.Sha256());
        double[] more = [.. Enumerable.Range(0, 1300).Select(i => i % 7 == 0 ? double.NaN : -i * 0.25)];
        history.AddRange(more);
        expected.AddRange(more);
        Assert.Equal(Hash(expected), history.Sha256());
        history.Truncate(1777);
        expected.RemoveRange(1777, expected.Count - 1777);
        Assert.Equal(Hash(expected), history.Sha256());
        history.Add(0.125);
        expected.Add(0.125);
        Assert.Equal(Hash(expected), history.Sha256());
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), history.Select(BitConverter.DoubleToInt64Bits));
        history.Clear();
        Assert.Equal(Hash([]), history.Sha256());
    }

    private static string Hash(IReadOnlyList<double> losses) => Convert.ToHexStringLower(SHA256.HashData(CheckpointLosses.Encode(losses)));
}
