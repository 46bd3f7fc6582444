using Cluster.Kernels.Data;

namespace Cluster.Bench.Fuzz;

/// <summary>
/// Token files with random content and size under a data root, loaded through the silo's policy and sampled with random
/// shapes. Promise: batches, or a refused file, a vocabulary error or a too-short corpus — never content in a message.
/// </summary>
internal sealed class TokenFileFuzzTarget(string root) : IFuzzTarget
{
    private readonly DataSourcePolicy _policy = new([root], maxBytes: 1 << 16);
    private int _files;

    public string Name => "token-files";

    public bool Run(Random random)
    {
        string path = Path.Combine(root, $"f{_files++ % 64}{(random.Next(2) == 0 ? ".bin" : ".txt")}");
        File.WriteAllBytes(path, HostileBytes.Random(random, random.Next(10) == 0 ? (1 << 16) + 16 : 2048));
        try
        {
            var source = TokenSources.Load(path, _policy).Source;
            var sampler = new BatchSampler(source, 1 + random.Next(128), 1 + random.Next(8), HostileBytes.Edge(random), 1 + random.Next(70_000));
            var batch = sampler.Sample(random.NextInt64(0, long.MaxValue), random.Next(0, 1 << 20));
            return batch.Inputs.Length == sampler.TokensPerMicroBatch ? true : throw new InvalidOperationException("a batch of the wrong size");
        }
        catch (DataSourceRefusedException)
        {
            return false;
        }
        catch (InvalidDataException e) when (e.Message.Contains("outside the model's vocabulary", StringComparison.Ordinal))
        {
            return false;
        }
        catch (ArgumentException e) when (e.Message.Contains("fewer than context length + 1", StringComparison.Ordinal))
        {
            return false;
        }
    }
}
