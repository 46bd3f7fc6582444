using Cluster.Kernels.Checkpoint;
using Cluster.Kernels.Config;
using Cluster.Kernels.Model;
using Cluster.Kernels.Wire;
using static TorchSharp.torch;

namespace Cluster.Kernels.Training;

/// <summary>Moves the state of a run of units (parameters + AdamW moments) to and from per-unit safetensors images.</summary>
internal static class UnitStateTransfer
{
    public static IReadOnlyList<UnitStateImage> Export(ModelConfig config, IReadOnlyList<ModelUnit> units, AdamW optimizer) =>
        [.. Copy(units, optimizer).Select(c => c.Encode(config))];

    /// <summary>The device-side half of <see cref="Export"/>: copies every unit's tensors to host buffers, encodes nothing.</summary>
    public static IReadOnlyList<UnitStateCopy> Copy(IReadOnlyList<ModelUnit> units, AdamW optimizer) => Copy(units, optimizer, null);

    /// <summary>
    /// <see cref="Copy(IReadOnlyList{ModelUnit}, AdamW)"/> into <paramref name="buffers"/> (reused; see its invariant)
    /// when given, else into new arrays.
    /// </summary>
    public static IReadOnlyList<UnitStateCopy> Copy(IReadOnlyList<ModelUnit> units, AdamW optimizer, UnitStateBuffers? buffers)
    {
        var copies = new List<UnitStateCopy>(units.Count);
        int flat = 0;
        foreach (var unit in units)
        {
            var parameters = new List<(string, WireTensor, WireTensor, WireTensor)>(unit.Parameters.Count);
            foreach (var slot in unit.Parameters)
            {
                parameters.Add((slot.GlobalName, Out(slot.GlobalName, 0, slot.Parameter),
                    Out(slot.GlobalName, 1, optimizer.ExpAvg[flat]), Out(slot.GlobalName, 2, optimizer.ExpAvgSq[flat])));
                flat++;
            }
            copies.Add(new UnitStateCopy(unit.Index, unit.Name, optimizer.Steps, parameters));
        }
        return copies;

        WireTensor Out(string name, int kind, Tensor tensor) =>
            buffers is null ? TensorWire.ToWire(tensor) : buffers.Keep(name, kind, TensorWire.ToWire(tensor, buffers.Get(name, kind)));
    }

    public static void Import(ModelConfig config, IReadOnlyList<ModelUnit> units, AdamW optimizer, Func<string, (ChunkedBytes Image, string Source)> readUnit)
    {
        ArgumentNullException.ThrowIfNull(readUnit);
        long? steps = null;
        string? firstSource = null;
        int flat = 0;
        using var noGrad = no_grad();
        foreach (var unit in units)
        {
            var (image, source) = readUnit(unit.Name);
            var (content, unitSteps) = UnitStateCodec.Decode(config, unit.Name, image, source);
            if (steps is not null && unitSteps != steps)
                throw new CheckpointCorruptException(source, $"it is at optimizer step {unitSteps} but '{firstSource}' is at step {steps}: the files come from different checkpoints.");
            steps = unitSteps;
            firstSource ??= source;
            foreach (var slot in unit.Parameters)
            {
                CopyInto(slot.Parameter, content.Get(slot.GlobalName), source, slot.GlobalName);
                CopyInto(optimizer.ExpAvg[flat], content.Get(UnitStateCodec.ExpAvgPrefix + slot.GlobalName), source, slot.GlobalName);
                CopyInto(optimizer.ExpAvgSq[flat], content.Get(UnitStateCodec.ExpAvgSqPrefix + slot.GlobalName), source, slot.GlobalName);
                flat++;
            }
        }
        optimizer.Steps = steps ?? 0;
    }

    public static void Save(string directory, IReadOnlyList<UnitStateImage> images)
    {
        foreach (var image in images)
            AtomicFile.Write(Path.Combine(directory, image.FileName), image.Image);
    }

    public static Func<string, (ChunkedBytes Image, string Source)> FileReader(string directory) => unit =>
    {
        string path = Path.Combine(directory, UnitStateImage.FileNameOf(unit));
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return (ChunkedBytes.Read(file, file.Length), path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointCorruptException(path, "the file does not exist.", e);
        }
    };

    private static void CopyInto(Tensor target, WireTensor source, string file, string name)
    {
        if (!source.Shape.AsSpan().SequenceEqual(target.shape) || source.DType != WireDType.Float32)
            throw new CheckpointCorruptException(file, $"tensor '{name}' is {source.DType}[{string.Join(", ", source.Shape)}], expected Float32[{string.Join(", ", target.shape)}].");
        using var value = TensorWire.FromWire(source, target.device);
        target.copy_(value);
    }
}
