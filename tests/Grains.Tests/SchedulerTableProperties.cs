using Cluster.Grains.Interfaces.Scheduling;
using CsCheck;

namespace Cluster.Grains.Tests;

/// <summary>
/// Issue 13's invariant over random interleavings of submit, finish, recovery (placing again), node loss, node join,
/// drain, cordon and uncordon, preemption releases, time passing, scheduler restarts (every placed job unreported, its
/// stages still running and reported by the nodes) and silent jobs answering, on the scheduler's pure decision core —
/// a job that let go of its nodes asks for them again when it comes back (as a paused job resuming does): after every
/// step, with exclusive nodes no node holds stages of two jobs, and no node holds more stage memory than it has; no
/// placement takes a node that runs stages of a job that has not reported (within the hold), nor a node closed to new
/// stages that the job did not hold; and a refusal never changes the asking job's row.
/// </summary>
public sealed class SchedulerTableProperties
{
    private static readonly long[] StageMemory = [100L << 20, 300L << 20, 600L << 20];

    private static readonly Gen<(int Kind, int Target, int Size, int Priority)> s_step =
        Gen.Select(Gen.Int[0, 12], Gen.Int[0, 7], Gen.Int[1, 3], Gen.Int[0, 3]);

    [Fact]
    public void The_table_invariant_holds_after_every_decision_of_any_interleaving() =>
        Gen.Select(Gen.Bool, s_step.Array[1, 80]).Sample(t => Run(t.Item1, t.Item2), iter: 400);

    private static void Run(bool exclusive, (int Kind, int Target, int Size, int Priority)[] steps)
    {
        var h = new SchedulerTableHarness(exclusive, releaseTimeout: TimeSpan.FromSeconds(20), silentJobHold: TimeSpan.FromSeconds(40));
        var shapes = new Dictionary<string, (int Stages, long Memory, int[] Counts)>(StringComparer.Ordinal);
        var lastHeld = new Dictionary<string, IReadOnlyList<ReplicaNodes>>(StringComparer.Ordinal); // a released job asks for its old nodes again (a paused job resuming)
        for (int i = 0; i < 4; i++) h.Join(Node(i), Memory(i));
        foreach (var (kind, target, size, priority) in steps)
        {
            string job = $"j{target}";
            var nodes = h.Table.Nodes.Keys.Order(StringComparer.Ordinal).ToArray();
            string someNode = nodes[target % nodes.Length];
            switch (kind)
            {
                case 0:
                    h.Join(Node(target), Memory(target)); // a new node, or a lost one back
                    break;
                case 1:
                    h.Lose(someNode);
                    break;
                case 2:
                    h.Drain(someNode);
                    break;
                case 3 or 4:
                    if (!h.Table.Jobs.ContainsKey(job))
                    {
                        shapes[job] = (size, StageMemory[(target + priority) % StageMemory.Length], priority == 3 ? [1, 2] : [1]);
                        h.Enqueue(job, priority);
                        Ask(job);
                    }
                    break;
                case 5:
                    lastHeld[job] = h.Current(job);
                    h.Release(job);
                    break;
                case 6:
                    if (h.Table.Jobs.ContainsKey(job)) Ask(job); // recovery or a move: placing again where it runs
                    break;
                case 7:
                    if (h.Table.Pending.Keys.FirstOrDefault() is { } asked)
                    {
                        lastHeld[asked] = h.Current(asked);
                        h.Release(asked); // a preempted job checkpointed and let go
                    }
                    break;
                case 10:
                    h.Restart(); // the scheduler's silo died: a new activation that knows no placement
                    break;
                case 11:
                    h.Answer(job); // a silent job answers the rebuild (a no-op for one that is not silent)
                    break;
                case 12:
                    h.Cordon(someNode, !h.Table.Nodes[someNode].Cordoned); // an operator's cordon, or its lifting
                    break;
                default:
                    h.Advance(TimeSpan.FromSeconds(7));
                    foreach (string waiting in h.Table.Waiting.Keys.ToArray()) Ask(waiting);
                    break;
            }
            h.AssertInvariant();
        }

        void Ask(string job)
        {
            h.Answer(job); // a job that never answered is reconciled before its ask is decided
            var (stages, memory, counts) = shapes[job];
            h.Table.Jobs.TryGetValue(job, out var before);
            var (placement, _) = h.Place(job, stages, memory, counts, before is null ? lastHeld.GetValueOrDefault(job) : null);
            if (!placement.Placed)
                Assert.Same(before, h.Table.Jobs.GetValueOrDefault(job)); // a refusal changes nothing
        }
    }

    private static string Node(int i) => $"silo{i % 3}/cpu{i}";

    private static long Memory(int i) => i % 2 == 0 ? 1L << 30 : 512L << 20;
}
