namespace Cluster.Kernels.Tests;

/// <summary>
/// A background thread that forces blocking collections and runs finalizers back to back while it lives: young-generation
/// collections (where a temporary lives: cheap, so the loop is tight) with a full one every
/// <see cref="FullCollectionEvery"/>. Any TorchSharp object whose only reference is a native handle in flight (an implicit
/// Scalar temporary, a tensor outside every dispose scope) is then finalized mid-call, so compute that survives this
/// bit-identically keeps every native argument alive. Linked into bench/Bench for <c>bench kernels --gc-stress</c>.
/// </summary>
public sealed class GcStress : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stopping;
    private long _collections;

    /// <summary>One full (all generations) collection per this many young ones.</summary>
    public const int FullCollectionEvery = 64;

    private GcStress()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "gc-stress", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Collections (each followed by the finalizers it queued) started so far.</summary>
    public long Collections => Interlocked.Read(ref _collections);

    public static GcStress Start() => new();

    private void Loop()
    {
        while (!_stopping)
        {
            long done = Interlocked.Increment(ref _collections);
            GC.Collect(done % FullCollectionEvery == 0 ? GC.MaxGeneration : 0, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _thread.Join();
    }
}
