using Cluster.Grains.Jobs;
using CsCheck;

namespace Cluster.Grains.Tests;

/// <summary>
/// Where a recovery resumes (<see cref="RecoveryPoint.InMemoryStep"/>), over random copies per stage, durable steps and
/// completed steps. Properties: a step it returns is held by every stage, newer than the durable checkpoint and not past
/// the completed steps, and it is the newest such step; it returns null exactly when there is none (or no stage); the
/// order of the stages does not matter; and losing a copy or a newer durable checkpoint never moves the point forward.
/// </summary>
public sealed class RecoveryPointProperties
{
    private static readonly Gen<(long[][] Stages, long Durable, long Completed)> s_case =
        Gen.Select(Gen.Long[0, 24].Array[0, 8].Array[0, 5], Gen.Long[0, 24], Gen.Long[0, 24]);

    [Fact]
    public void The_point_is_the_newest_step_every_stage_holds_between_the_durable_and_the_completed_step() =>
        s_case.Sample(c =>
        {
            var copies = Copies(c.Stages);
            long? point = RecoveryPoint.InMemoryStep(copies, c.Durable, c.Completed);
            bool Usable(long step) => copies.Length > 0 && step > c.Durable && step <= c.Completed && copies.All(s => s.Contains(step));
            var usable = c.Stages.SelectMany(s => s).Distinct().Where(Usable).ToArray();
            if (point is not { } step)
            {
                Assert.Empty(usable);
                return;
            }
            Assert.True(Usable(step), $"step {step} is not held by every stage within ({c.Durable}, {c.Completed}]");
            Assert.Equal(usable.Max(), step);
        }, iter: 3000);

    [Fact]
    public void The_point_ignores_stage_order_and_never_moves_forward_with_fewer_copies_or_a_newer_checkpoint() =>
        Gen.Select(s_case, Gen.Int[0, 1000], Gen.Long[0, 24]).Sample(x =>
        {
            var ((stages, durable, completed), pick, newer) = x;
            long? point = RecoveryPoint.InMemoryStep(Copies(stages), durable, completed);
            Assert.Equal(point, RecoveryPoint.InMemoryStep(Copies([.. stages.Reverse()]), durable, completed));
            Assert.True(Before(RecoveryPoint.InMemoryStep(Copies(stages), Math.Max(durable, newer), completed), point));
            if (stages.Length == 0 || stages[pick % stages.Length].Length == 0) return;
            var fewer = stages.Select(s => s.ToArray()).ToArray();
            var stage = fewer[pick % fewer.Length];
            fewer[pick % fewer.Length] = [.. stage.Where(step => step != stage[pick % stage.Length])]; // a copy lost with its silo
            Assert.True(Before(RecoveryPoint.InMemoryStep(Copies(fewer), durable, completed), point));
        }, iter: 3000);

    /// <summary>Whether <paramref name="a"/> is no later than <paramref name="b"/> (null: the durable checkpoint, before any in-memory step).</summary>
    private static bool Before(long? a, long? b) => a is null || (b is not null && a <= b);

    private static IReadOnlySet<long>[] Copies(long[][] perStage) => [.. perStage.Select(s => (IReadOnlySet<long>)s.ToHashSet())];
}
