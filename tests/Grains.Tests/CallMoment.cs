using Cluster.Grains.Checkpoints;
using Cluster.Grains.Interfaces.Checkpoints;
using Cluster.Grains.Interfaces.Stages;

namespace Cluster.Grains.Tests;

/// <summary>
/// A moment of a training step, named by the call that starts it: <paramref name="Method"/> of
/// <see cref="IPipelineStageGrain"/> arriving at replica <paramref name="Replica"/>'s stage <paramref name="Stage"/>
/// (its step argument equal to the step), or — when <paramref name="Holder"/> — a call of <paramref name="Method"/> of
/// <see cref="ICheckpointShardGrain"/> at one of stage <paramref name="Stage"/>'s snapshot holders: a copy of the
/// state after that step arriving (<see cref="ICheckpointShardGrain.Accept"/>, whose step argument is the steps
/// completed: one more), or a restoring stage reading the copy it holds (<see cref="ICheckpointShardGrain.GetSnapshot"/>,
/// of whichever step the recovery restores: the step is not matched). <see cref="IMigrationParcelGrain.TakeChunk"/> as
/// the method names a moment of a move instead: replica <paramref name="Replica"/>'s stage <paramref name="Stage"/> —
/// or, when <paramref name="Holder"/>, one of its snapshot holders — migrated, taking its copies from its old silo (at
/// any step); <paramref name="OntoHolder"/> then steers the stage onto the silo of its own holder (which makes room
/// first: a <paramref name="Holder"/> take is that holder's, from the silo the stage moves onto).
/// <paramref name="LoseStageHost"/> says which silo the test loses while the call is held: replica
/// <paramref name="Replica"/>'s stage's, or (false) the silo that runs the held call — unless <paramref name="LoseHostOf"/>
/// names another stage (replica, stage) whose silo is lost: the caller's, say.
/// <paramref name="Checkpoint"/> puts the moment at a durable checkpoint (<see cref="StepFrom"/>).
/// <paramref name="Skip"/> lets that many matching calls run before the trap holds one: a transfer in several calls is
/// then cut in its middle.
/// </summary>
public sealed record CallMoment(string Name, string Method, int Replica, int Stage, bool Holder = false, bool LoseStageHost = false, bool Checkpoint = false,
    int Skip = 0, (int Replica, int Stage)? LoseHostOf = null, bool OntoHolder = false)
{
    /// <summary>
    /// The first step from <paramref name="from"/> on at which to hold the call: any, or with <see cref="Checkpoint"/>,
    /// for a holder's copy the step whose state is checkpointed (the copy is a checkpoint's shard), for a stage's call
    /// the step right after a checkpoint (its commit then runs alongside).
    /// </summary>
    public long StepFrom(long from, int checkpointInterval)
    {
        if (!Checkpoint) return from;
        long step = from;
        while ((Holder ? step + 1 : step) % checkpointInterval != 0) step++;
        return step;
    }

    public bool Matches(IIncomingGrainCallContext context, string jobId, long step)
    {
        if (Method == nameof(IMigrationParcelGrain.TakeChunk)) // a moved grain taking its copies from its old silo: told by the caller (no job or step in the call)
            return context.InterfaceMethod.DeclaringType == typeof(IMigrationParcelGrain) && context.InterfaceMethod.Name == Method
                && context.SourceId?.Key.ToString() is { } taker
                && (Holder ? SnapshotHolders.Parse(taker) is var (takerJob, takerStage, _) && takerJob == jobId && takerStage == Stage : taker == StageKeys.Stage(jobId, Replica, Stage));
        var grain = Holder ? typeof(ICheckpointShardGrain) : typeof(IPipelineStageGrain);
        if (context.InterfaceMethod.DeclaringType != grain || context.InterfaceMethod.Name != Method) return false;
        string key = context.TargetId.Key.ToString()!;
        if (Holder && Method == nameof(ICheckpointShardGrain.GetSnapshot))
            return SnapshotHolders.Parse(key) is var (readJob, readStage, _) && readJob == jobId && readStage == Stage;
        if (context.Request.GetArgumentCount() < 2 || context.Request.GetArgument(1) is not long argument) return false; // (epoch, step, …)
        return Holder
            ? SnapshotHolders.Parse(key) is var (job, stage, _) && job == jobId && stage == Stage && argument == step + 1
            : key == StageKeys.Stage(jobId, Replica, Stage) && argument == step;
    }

    public override string ToString() => Name;
}
