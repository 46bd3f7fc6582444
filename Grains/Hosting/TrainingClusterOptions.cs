namespace Cluster.Grains.Hosting;

/// <summary>Per-silo settings of the training cluster: device slots, threads, heartbeats, where data lives.</summary>
public sealed class TrainingClusterOptions
{
    /// <summary>Device slots (node grains) this silo exposes; 0 = the CUDA device count, else 1. <value>0.</value></summary>
    public int DeviceSlots { get; set; }

    /// <summary>libtorch threads per device worker; 0 = processor count ÷ slots (at least 1). <value>0.</value></summary>
    public int ThreadsPerSlot { get; set; }

    /// <summary>Memory a slot offers to stages; 0 = physical memory ÷ slots (CPU). <value>0.</value></summary>
    public long SlotMemoryBytes { get; set; }

    /// <summary>
    /// The speed placement assumes for this silo's devices, in GFLOP/s; 0 measures it when a node starts (a short
    /// matrix-multiply benchmark, noisy on a busy machine). <value>0.</value>
    /// </summary>
    public double DeviceGigaflops { get; set; }

    /// <summary>
    /// The most bytes of tensor data one grain call between stages carries: activations and their gradients between
    /// pipeline stages, and the values of a data-parallel all-reduce (like DDP's <c>bucket_cap_mb</c>). Larger tensors
    /// go in several calls, so no message nears Orleans' <c>MaxMessageBodySize</c> (100 MiB by default) however large
    /// the model. Smaller: more calls; larger: must stay well under <c>MaxMessageBodySize</c>. 1 KiB to 1 GiB.
    /// <value>32 MiB.</value>
    /// </summary>
    public int TensorSegmentBytes { get; set; } = 32 << 20;

    /// <summary>How often node grains send a heartbeat to the scheduler. <value>250 ms.</value></summary>
    public TimeSpan HeartbeatPeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a silo's health aggregator gathers its nodes' heartbeats before it forwards them to the scheduler as one
    /// message; zero = every node calls the scheduler itself. One scheduler then keeps up with tens of thousands of
    /// nodes (bench heartbeats). <value>25 ms.</value>
    /// </summary>
    public TimeSpan HeartbeatBatchWindow { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>A node whose last heartbeat is older than this is not used for placement. <value>1 s.</value></summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A node that fails this many times in a row without a good step between (a step's compute that throws, or any device error: in a restore, a snapshot copy, a device check) reports itself unhealthy. <value>3.</value></summary>
    public int MaxConsecutiveStepErrors { get; set; } = 3;

    /// <summary>
    /// A flaky device: a node whose device threw this many errors of its own (libtorch's, as a CUDA error reaches
    /// .NET; not a step abandoned for another reason) within
    /// <see cref="DeviceErrorWindow"/> reports itself unhealthy even with good steps between them — each error costs its
    /// job a recovery — and stays out until enough of them are older than the window (a device check does not bring it
    /// back sooner: a flaky device passes one). 0: off. <value>5.</value>
    /// </summary>
    public int DeviceErrorBudget { get; set; } = 5;

    /// <summary>The window of <see cref="DeviceErrorBudget"/>. <value>10 min.</value></summary>
    public TimeSpan DeviceErrorWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an unhealthy node stays out before a passing device check lets it back in. <value>30 s.</value></summary>
    public TimeSpan UnhealthyCooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often every silo wakes unfinished jobs whose grain may have died with a silo. <value>1 s.</value></summary>
    public TimeSpan JobWatchdogPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a silo that shuts down waits for each job coordinator it runs to reach a step boundary and hand its job
    /// over (<see cref="CoordinatorHandOverOnShutdown"/>); one that does not is lost with the silo, and its job recovers
    /// from memory. Longer than a step, and within the 30 s a silo's host gives its stop beyond <c>Shutdown:DrainTimeout</c>.
    /// <value>20 s.</value>
    /// </summary>
    public TimeSpan CoordinatorHandOverTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a silo that shuts down waits for the snapshot holders it runs to move to other silos with their copies
    /// (<see cref="SnapshotHolderEvacuationOnShutdown"/>), beside the drain of its nodes; copies not across by then go
    /// with the silo. Within the 30 s a silo's host gives its stop beyond <c>Shutdown:DrainTimeout</c>. <value>20 s.</value>
    /// </summary>
    public TimeSpan HolderEvacuationTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Elastic scale-up: the expected step-time gain (0.1 = 10 % faster) a new placement must promise before a job
    /// moves stages onto nodes that joined. <value>0.1.</value>
    /// </summary>
    public double ScaleUpMinGain { get; set; } = 0.1;

    /// <summary>
    /// A node runs the stages of one job at a time (a job may still pack several of its own stages on a node). Off:
    /// jobs share nodes as far as memory allows. <value>true.</value>
    /// </summary>
    public bool ExclusiveNodes { get; set; } = true;

    /// <summary>
    /// How long a job the scheduler asked to shrink, or to checkpoint and free its nodes for a higher-priority one, has
    /// to do so before the scheduler stops counting on it and makes room elsewhere (its checkpoint may have failed).
    /// <value>2 min.</value>
    /// </summary>
    public TimeSpan SchedulerReleaseTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// After the scheduler restarts (its silo died), how long, at most, it keeps a node out of placement while the node
    /// reports stages of a job that has not yet told the new scheduler what it holds (the job's grain moving, its silo
    /// slow). The job answering, asking to be placed or releasing ends the hold sooner, and so do its stages leaving the
    /// node. Too short and a live job's nodes may be handed to another job (two jobs on one GPU); too long and the nodes
    /// of a job that is really gone stay idle that long. <c>nodes</c> shows a held node and until when. <value>10 min.</value>
    /// </summary>
    public TimeSpan SchedulerSilentJobHold { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a job running fewer replicas than its maximum asks the scheduler for free nodes to grow onto (at a step boundary). <value>2 s.</value></summary>
    public TimeSpan ReplicaGrowthInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A node is a straggler when its step time per unit of work exceeds this many times the median of its job's other nodes… <value>1.5.</value></summary>
    public double StragglerFactor { get; set; } = 1.5;

    /// <summary>…for this many consecutive steps. <value>10.</value></summary>
    public int StragglerSteps { get; set; } = 10;

    /// <summary>Steps over which a node's step-time percentiles are computed. <value>100.</value></summary>
    public int StepTimeWindow { get; set; } = 100;

    /// <summary>
    /// Hung-device detection: an operation on a device (a micro-batch's forward or backward, an optimizer step, a
    /// state export) running longer than max(this × the node's p99 step time, <see cref="DeviceHangFloor"/>) makes the
    /// node Unhealthy, and its jobs recover as after a loss. <value>4.</value>
    /// </summary>
    /// <remarks>
    /// The age compared is one operation's, the p99 a whole step's device time (every micro-batch's forward and
    /// backward plus the update: at least three operations, nine at the default four micro-batches), so 4 × p99 is
    /// already 12–36 times a typical operation — the margin a noisy host needs — while a hang in a job of 0.5 s steps is
    /// seen after 2 s rather than 5 s (the floor still bounds it from below).
    /// </remarks>
    public double DeviceHangStepFactor { get; set; } = 4;

    /// <summary>The least time an operation may run before it counts as hung (also the limit before any step has a time). <value>30 s.</value></summary>
    public TimeSpan DeviceHangFloor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Hung-device warm-up: a new device worker, and a device on which a stage was just configured (its executor built,
    /// its state restored), is in warm-up until it has recorded this many steps; meanwhile
    /// <see cref="DeviceHangWarmupLimit"/> replaces <see cref="DeviceHangFloor"/>, since its first operations (model
    /// build, optimizer state allocation, first kernel compilation) may be slow without being hung, and no step history
    /// says yet what its steps cost. 0: no warm-up. <value>2.</value>
    /// </summary>
    public int DeviceHangWarmupSteps { get; set; } = 2;

    /// <summary>
    /// The least time an operation may run during a warm-up (<see cref="DeviceHangWarmupSteps"/>) before it counts as
    /// hung: a device that hangs while warming up is still caught, after this long. At least <see cref="DeviceHangFloor"/>.
    /// <value>2 min.</value>
    /// </summary>
    public TimeSpan DeviceHangWarmupLimit { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The job's own step watchdog: a step running longer than max(this × the p99 of the job's recent step times,
    /// <see cref="StepWatchdogFloor"/>) is abandoned (the job recovers, naming the stage call it waited for), wherever
    /// the hang is — a device, a lost message, a reduction. <value>10.</value>
    /// </summary>
    public double StepWatchdogFactor { get; set; } = 10;

    /// <summary>
    /// The least time a step may run before the job's watchdog abandons it; keep it above <see cref="DeviceHangFloor"/>
    /// so a hung device is caught first by its node, which names the node. <value>60 s.</value>
    /// </summary>
    public TimeSpan StepWatchdogFloor { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The job watchdog's least bound for the first <see cref="DeviceHangWarmupSteps"/> steps after a stage is
    /// (re)configured: <see cref="DeviceHangWarmupLimit"/> plus the margin the floors keep
    /// (<see cref="StepWatchdogFloor"/> − <see cref="DeviceHangFloor"/>), so a device hung while warming up is still
    /// named by its node first.
    /// </summary>
    public TimeSpan StepWatchdogWarmupBound => DeviceHangWarmupLimit + (StepWatchdogFloor > DeviceHangFloor ? StepWatchdogFloor - DeviceHangFloor : TimeSpan.Zero);

    /// <summary>
    /// Fault injection for drills and tests: a folder in which a file named <c>&lt;node id&gt;.hang</c> ('/' as '_',
    /// e.g. <c>silo-a_cpu0.hang</c>) hangs that node's device at its next operation (<see cref="Compute.ComputeHang"/>),
    /// until the silo stops, and a file <c>&lt;node id&gt;.fail</c> fails every operation of that node's device while it
    /// exists (<see cref="Compute.ComputeFault"/>, a device error). Each operation then checks for the files. Empty: off.
    /// <value>empty.</value>
    /// </summary>
    public string ComputeHangDirectory { get; set; } = "";

    /// <summary>Root of the embedded defaults: file-system checkpoints and grain state. <value>.cluster.</value></summary>
    public string DataRoot { get; set; } = ".cluster";

    /// <summary>
    /// Directories jobs may read data files from (after resolving links and '..'); a job naming any other file is
    /// refused at submit, without the file being read. Empty = <see cref="DataRoot"/> only. <value>empty.</value>
    /// </summary>
    public IList<string> DataRoots { get; set; } = [];

    /// <summary>
    /// Where checkpoints and job state go: "filesystem" (the embedded default, under <see cref="DataRoot"/>; every silo
    /// must see the same path), "azureblob" (fleet mode, see <see cref="AzureBlob"/>) or "s3" (checkpoints in an
    /// S3-compatible bucket, see <see cref="S3"/>; job state stays under <see cref="StatePath"/>).
    /// </summary>
    public string CheckpointStore { get; set; } = "filesystem";

    /// <summary>Azure Blob storage for fleet mode (<see cref="CheckpointStore"/> = "azureblob").</summary>
    public AzureBlobSettings AzureBlob { get; set; } = new();

    /// <summary>S3-compatible object storage for checkpoints (<see cref="CheckpointStore"/> = "s3").</summary>
    public Checkpoints.S3CheckpointStoreOptions S3 { get; set; } = new();

    /// <summary>File-system checkpoint root; empty = DataRoot/checkpoints.</summary>
    public string CheckpointPath { get; set; } = "";

    /// <summary>File-system grain-state root; empty = DataRoot/state.</summary>
    public string StatePath { get; set; } = "";

    public string ResolvedCheckpointPath => string.IsNullOrWhiteSpace(CheckpointPath) ? Path.Combine(DataRoot, "checkpoints") : CheckpointPath;

    public string ResolvedStatePath => string.IsNullOrWhiteSpace(StatePath) ? Path.Combine(DataRoot, "state") : StatePath;

    /// <summary>Every problem, each naming the option and the fix; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (DeviceSlots < 0)
            problems.Add($"{nameof(DeviceSlots)} = {DeviceSlots}: must be 0 (auto) or a positive slot count.");
        if (ThreadsPerSlot < 0)
            problems.Add($"{nameof(ThreadsPerSlot)} = {ThreadsPerSlot}: must be 0 (auto) or a positive thread count.");
        if (SlotMemoryBytes < 0)
            problems.Add($"{nameof(SlotMemoryBytes)} = {SlotMemoryBytes}: must be 0 (auto) or a positive byte count.");
        if (DeviceGigaflops < 0 || double.IsNaN(DeviceGigaflops))
            problems.Add($"{nameof(DeviceGigaflops)} = {DeviceGigaflops}: must be 0 (measure) or the devices' speed in GFLOP/s.");
        if (TensorSegmentBytes is < 1024 or > 1 << 30)
            problems.Add($"{nameof(TensorSegmentBytes)} = {TensorSegmentBytes}: must be 1024 (1 KiB) to 1073741824 (1 GiB), and well under Orleans' MaxMessageBodySize (e.g. 33554432, 32 MiB).");
        if (HeartbeatPeriod <= TimeSpan.Zero)
            problems.Add($"{nameof(HeartbeatPeriod)} = {HeartbeatPeriod}: must be positive (e.g. 00:00:00.250).");
        if (HeartbeatBatchWindow < TimeSpan.Zero || HeartbeatBatchWindow >= HeartbeatPeriod)
            problems.Add($"{nameof(HeartbeatBatchWindow)} = {HeartbeatBatchWindow}: must be 0 (no batching) or shorter than {nameof(HeartbeatPeriod)} = {HeartbeatPeriod} (e.g. 00:00:00.025).");
        if (NodeTimeout <= HeartbeatPeriod)
            problems.Add($"{nameof(NodeTimeout)} = {NodeTimeout} must exceed {nameof(HeartbeatPeriod)} = {HeartbeatPeriod} (e.g. 4 heartbeats).");
        if (MaxConsecutiveStepErrors < 1)
            problems.Add($"{nameof(MaxConsecutiveStepErrors)} = {MaxConsecutiveStepErrors}: must be at least 1.");
        if (DeviceErrorBudget is < 0 or > Compute.DeviceWorker.MaxDeviceErrorTimes)
            problems.Add($"{nameof(DeviceErrorBudget)} = {DeviceErrorBudget}: must be 0 (off) or an error count up to {Compute.DeviceWorker.MaxDeviceErrorTimes} (e.g. 5).");
        if (DeviceErrorWindow <= TimeSpan.Zero)
            problems.Add($"{nameof(DeviceErrorWindow)} = {DeviceErrorWindow}: must be positive (e.g. 00:10:00).");
        if (JobWatchdogPeriod <= TimeSpan.Zero)
            problems.Add($"{nameof(JobWatchdogPeriod)} = {JobWatchdogPeriod}: must be positive (e.g. 00:00:01).");
        if (CoordinatorHandOverTimeout <= TimeSpan.Zero)
            problems.Add($"{nameof(CoordinatorHandOverTimeout)} = {CoordinatorHandOverTimeout}: must be positive and longer than a step (e.g. 00:00:20).");
        if (HolderEvacuationTimeout <= TimeSpan.Zero)
            problems.Add($"{nameof(HolderEvacuationTimeout)} = {HolderEvacuationTimeout}: must be positive (e.g. 00:00:20).");
        if (ReplicaGrowthInterval <= TimeSpan.Zero)
            problems.Add($"{nameof(ReplicaGrowthInterval)} = {ReplicaGrowthInterval}: must be positive (e.g. 00:00:02).");
        if (SchedulerReleaseTimeout <= HeartbeatPeriod)
            problems.Add($"{nameof(SchedulerReleaseTimeout)} = {SchedulerReleaseTimeout} must exceed {nameof(HeartbeatPeriod)} = {HeartbeatPeriod} (e.g. 00:02:00): a job needs a step and a checkpoint to free its nodes.");
        if (SchedulerSilentJobHold <= NodeTimeout)
            problems.Add($"{nameof(SchedulerSilentJobHold)} = {SchedulerSilentJobHold} must exceed {nameof(NodeTimeout)} = {NodeTimeout} (e.g. 00:10:00): " +
                         "a restarted scheduler would hand out the nodes of a running job that has not reported yet, putting two jobs on one node.");
        if (ScaleUpMinGain is < 0 or > 10 || double.IsNaN(ScaleUpMinGain))
            problems.Add($"{nameof(ScaleUpMinGain)} = {ScaleUpMinGain}: must be between 0 and 10 (e.g. 0.1 for 10 %).");
        if (StragglerFactor <= 1 || double.IsNaN(StragglerFactor))
            problems.Add($"{nameof(StragglerFactor)} = {StragglerFactor}: must exceed 1 (e.g. 1.5).");
        if (StragglerSteps < 1)
            problems.Add($"{nameof(StragglerSteps)} = {StragglerSteps}: must be at least 1 step.");
        if (StepTimeWindow < 1)
            problems.Add($"{nameof(StepTimeWindow)} = {StepTimeWindow}: must be at least 1 step.");
        if (DeviceHangStepFactor < 1 || !double.IsFinite(DeviceHangStepFactor))
            problems.Add($"{nameof(DeviceHangStepFactor)} = {DeviceHangStepFactor}: must be a finite number of at least 1 (e.g. 10 × the p99 step time).");
        if (DeviceHangFloor <= HeartbeatPeriod)
            problems.Add($"{nameof(DeviceHangFloor)} = {DeviceHangFloor} must exceed {nameof(HeartbeatPeriod)} = {HeartbeatPeriod} (e.g. 00:00:30): a shorter limit cannot be seen by a heartbeat.");
        if (DeviceHangWarmupSteps < 0)
            problems.Add($"{nameof(DeviceHangWarmupSteps)} = {DeviceHangWarmupSteps}: must be 0 (no warm-up) or a number of steps (e.g. 2).");
        if (DeviceHangWarmupLimit < DeviceHangFloor)
            problems.Add($"{nameof(DeviceHangWarmupLimit)} = {DeviceHangWarmupLimit} must be at least {nameof(DeviceHangFloor)} = {DeviceHangFloor} (e.g. 00:02:00): warm-up is when operations are slowest.");
        if (StepWatchdogFactor < 1 || !double.IsFinite(StepWatchdogFactor))
            problems.Add($"{nameof(StepWatchdogFactor)} = {StepWatchdogFactor}: must be a finite number of at least 1 (e.g. 10 × the p99 step time).");
        if (StepWatchdogFloor <= TimeSpan.Zero)
            problems.Add($"{nameof(StepWatchdogFloor)} = {StepWatchdogFloor}: must be positive (e.g. 00:01:00, above {nameof(DeviceHangFloor)}).");
        if (string.IsNullOrWhiteSpace(DataRoot))
            problems.Add($"{nameof(DataRoot)} is empty: give a directory for checkpoints and grain state.");
        if (DataRoots.Any(string.IsNullOrWhiteSpace))
            problems.Add($"{nameof(DataRoots)} holds an empty entry: give directories data files may come from, or none for {nameof(DataRoot)} only.");
        if (CheckpointStore is not ("filesystem" or "azureblob" or "s3"))
            problems.Add($"{nameof(CheckpointStore)} = '{CheckpointStore}': use 'filesystem', 'azureblob' or 's3'.");
        else if (CheckpointStore == "azureblob")
            problems.AddRange(AzureBlob.Validate().Select(p => $"{nameof(AzureBlob)}:{p}"));
        else if (CheckpointStore == "s3")
            problems.AddRange(S3.Validate().Select(p => $"{nameof(S3)}:{p}"));
        if (FailureDetectionProfile.Normalize(FailureDetection) is null)
            problems.Add(FailureDetectionProfile.Problem(FailureDetection));
        return problems;
    }

    /// <summary>
    /// How Orleans membership declares a silo dead: "fast" (one vote, 1 s probes: local clusters, the demo, tests) or
    /// "fleet" (two votes once there are three silos, 2 s adaptive probes, indirect probes: many machines, where one
    /// overloaded silo must not evict a healthy one). See docs/deploy.md. <value>fast.</value>
    /// </summary>
    public string FailureDetection { get; set; } = FailureDetectionProfile.Fast;
}
