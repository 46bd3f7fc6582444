using static TorchSharp.torch;

namespace Cluster.Kernels.Training;

/// <summary>
/// Sums per-micro-batch gradients in a canonical binary tree (a binary counter over micro-batch indices): for 4
/// micro-batches the result is (g0 + g1) + (g2 + g3). Float addition is not associative, so fixing the tree is what
/// makes every partition — and, later, every replica split along subtrees — produce the same bits. Micro-batches must
/// arrive in index order. Holds at most log2(M) + 1 partial sums.
/// </summary>
internal sealed class GradientAccumulator : IDisposable
{
    private readonly List<(int Level, Tensor[] Sums)> _stack = [];
    private int _next;

    public int Count => _next;

    /// <summary>Takes ownership of <paramref name="gradients"/> (detached from any dispose scope by the caller).</summary>
    public void Add(int microBatch, Tensor[] gradients)
    {
        if (microBatch != _next)
            throw new InvalidOperationException($"Gradients of micro-batch {microBatch} arrived, but micro-batch {_next} was expected next: backward passes must run in micro-batch order.");
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
            left[p].add_(right[p]);
            right[p].Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var (_, sums) in _stack)
            foreach (var t in sums) t.Dispose();
        _stack.Clear();
        _next = 0;
    }
}
