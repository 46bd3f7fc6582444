using Cluster.Grains.Hosting;
using Cluster.Grains.Interfaces.Nodes;
using Cluster.Kernels.Compute;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using TorchSharp;

namespace Cluster.Grains.Compute;

/// <summary>
/// The device workers of this silo, one per slot: CUDA devices when present, else CPU slots. Node ids are
/// "&lt;silo name&gt;/cuda&lt;i&gt;" or "&lt;silo name&gt;/cpu&lt;i&gt;". A CUDA slot's memory is its device's free memory
/// at start (<see cref="CudaMemory"/>); a CPU slot's is host memory ÷ slots.
/// </summary>
public sealed class DeviceWorkerPool : IDisposable
{
    private readonly Dictionary<string, DeviceWorker> _workers;

    public DeviceWorkerPool(ILocalSiloDetails silo, IOptions<TrainingClusterOptions> options, TimeProvider time, ComputeHang hang, ComputeFault fault)
    {
        var settings = options.Value;
        SiloName = silo.Name;
        int cuda = ComputeDevice.CudaDeviceCount();
        int slots = settings.DeviceSlots > 0 ? settings.DeviceSlots : Math.Max(1, cuda);
        int threads = settings.ThreadsPerSlot > 0 ? settings.ThreadsPerSlot : Math.Max(1, Environment.ProcessorCount / slots);
        long memory = settings.SlotMemoryBytes > 0 ? settings.SlotMemoryBytes : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / slots;
        _workers = new Dictionary<string, DeviceWorker>(StringComparer.Ordinal);
        for (int i = 0; i < slots; i++)
        {
            // Slots beyond the CUDA device count (or all, without CUDA) are CPU slots.
            var device = i < cuda ? new torch.Device(DeviceType.CUDA, i) : torch.CPU;
            string label = i < cuda ? $"cuda{i}" : $"cpu{i - cuda}";
            string nodeId = Interfaces.Nodes.NodeIds.Create(SiloName, label);
            // A CUDA slot offers what its device has free now (other processes may hold some), not host RAM.
            long slotMemory = i < cuda && settings.SlotMemoryBytes == 0 && CudaMemory.TryGetInfo(i, out long free, out _) ? free : memory;
            _workers[nodeId] = new DeviceWorker(nodeId, device, threads, slotMemory, settings.StepTimeWindow, time, hang, fault);
        }
    }

    public string SiloName { get; }

    public IReadOnlyCollection<DeviceWorker> Workers => _workers.Values;

    public IEnumerable<string> NodeIds => _workers.Keys;

    public DeviceWorker? Find(string nodeId) => _workers.GetValueOrDefault(nodeId);

    public void Dispose()
    {
        foreach (var worker in _workers.Values) worker.Dispose();
    }
}
