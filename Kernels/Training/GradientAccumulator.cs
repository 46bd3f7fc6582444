using Cluster.Kernels.Compute;
using static TorchSharp.torch;

namespace Cluster.Kernels.Training;

/// <summary>
/// Sums per-micro-batch gradients in a canonical binary tree (a binary counter over micro-batch indices): for 4
/// micro-batches the result is (g0 + g1) + (g2 + g3). Float addition is not associative, so fixing the tree is what
/// makes every partition — and, later, every replica split along subtrees — produce the same bits. Micro-batches may
/// arrive in any order (concurrent pipelines deliver backward passes as they finish): an early one waits until every
/// lower index has been added, so the tree never depends on timing. Holds log2(M) + 1 partial sums plus early arrivals.
/// </summary>
internal sealed class GradientAccumulator : IDisposable
{
    private readonly List<(int Level, Tensor[] Sums)> _stack = [];
    private readonly Dictionary<int, Tensor[]> _early = [];
    private int _next;

    /// <summary>Micro-batches added so far, early arrivals included.</summary>
    public int Count => _next + _early.Count;

    /// <summary>Takes ownership of <paramref name="gradients"/> (detached from any dispose scope by the caller).</summary>
    public void Add(int microBatch, Tensor[] gradients)
    {
        if (microBatch < _next || _early.ContainsKey(microBatch))
            throw new InvalidOperationException($"Gradients of micro-batch {microBatch} arrived twice in one step.");
        if (microBatch > _next)
        {
            _early[microBatch] = gradients;
            return;
        }
        Push(gradients);
        while (_early.Remove(_next, out var waiting)) Push(waiting);
    }

    private void Push(Tensor[] gradients)
    {
        _next++;
        _stack.Add((0, gradients));
        while (_stack.Count >= 2 && _stack[^1].Level == _stack[^2].Level)
        {
            var right = _stack[^1];
            var left = _stack[^2];
            _stack.RemoveAt(_stack.Count - 1);
            AddInto(left.Sums, right.Sums);
            _stack[^1] = (left.Level + 1, left.Sums);
        }
    }

    /// <summary>Returns the total (ownership passes to the caller) and resets the accumulator.</summary>
    public Tensor[] TakeTotal()
    {
        if (_early.Count > 0)
            throw new InvalidOperationException($"Gradients of micro-batch {_next} never arrived, but later ones did ({string.Join(", ", _early.Keys.Order())}).");
        if (_stack.Count == 0)
            throw new InvalidOperationException("No gradients were accumulated: run at least one backward pass before the optimizer step.");
        var total = _stack[^1].Sums;
        for (int i = _stack.Count - 2; i >= 0; i--)
        {
            var left = _stack[i].Sums;
            AddInto(left, total);
            total = left;
        }
        _stack.Clear();
        _next = 0;
        return total;
    }

    private static void AddInto(Tensor[] left, Tensor[] right)
    {
        for (int p = 0; p < left.Length; p++)
        {
            left[p].add_(right[p], KeptScalars.One);
            right[p].Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var (_, sums) in _stack)
            foreach (var t in sums) t.Dispose();
        foreach (var sums in _early.Values)
            foreach (var t in sums) t.Dispose();
        _stack.Clear();
        _early.Clear();
        _next = 0;
    }
}
