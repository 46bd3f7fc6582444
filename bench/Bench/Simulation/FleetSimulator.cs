using Cluster.Grains.Interfaces.Scheduling;
using Cluster.Grains.Jobs;
using Cluster.Grains.Scheduling;

namespace Cluster.Bench.Simulation;

/// <summary>
/// Discrete-event simulation of one training job on a fleet under a failure trace. The job steps at a fixed step
/// time, stalling for its snapshots and checkpoints; each interruption is detected (crash or hang), the job is
/// re-placed by the real <see cref="PlacementPolicy"/> (surviving stages keep their hosts through the preferred
/// list; no free host = wait for a repair), and it resumes from the step the real <see cref="RecoveryPoint"/> rule
/// picks — the in-memory snapshots when every stage still has a copy (its own, on a host whose processes survived,
/// or its peer's on the next stage's host), else the last durable checkpoint. Time is accounted to exactly one
/// bucket, so the buckets add up to the horizon.
/// </summary>
internal sealed class FleetSimulator(FleetSetup setup, IReadOnlyList<FailureCause> causes)
{
    private const double Gigaflops = 1000; // every host equally fast: placement decides by rack spread and id

    public SimulationResult Run(RecoveryPolicy policy, FailureTrace trace) => new SimulationRun(setup, causes, policy).Execute(trace);

    private sealed class SimulationRun
    {
        private readonly FleetSetup _setup;
        private readonly IReadOnlyList<FailureCause> _causes;
        private readonly RecoveryPolicy _policy;
        private readonly string[] _hostIds;
        private readonly string[] _racks;
        private readonly Dictionary<string, int> _hostIndex = new(StringComparer.Ordinal);
        private readonly double[] _downUntil;
        private readonly StageDemand[] _stages;
        private readonly int[] _hostOfStage;
        private readonly HashSet<int> _memoryLost = []; // hosts whose processes died since the job last resumed
        private readonly Dictionary<string, LostTime> _lost;
        private readonly int _durableEvery;

        private double _t, _useful, _durableStall, _snapshotStall;
        private long _step;
        private Mark _durable, _memory;
        private bool _memoryTrusted = true;
        private int _fromMemory, _fromDurable, _refusals;
        private long _moved;

        // The recovery in progress: its phases from its start, charged to one category.
        private bool _recovering;
        private double _recoveryStart;
        private (double Detection, double Waiting, double Restart, double Restore) _phases;
        private LostTime? _recoveryCategory;

        public SimulationRun(FleetSetup setup, IReadOnlyList<FailureCause> causes, RecoveryPolicy policy)
        {
            _setup = setup;
            _causes = causes;
            _policy = policy;
            int hosts = setup.JobHosts + policy.SpareHosts;
            _hostIds = new string[hosts];
            _racks = new string[hosts];
            for (int h = 0; h < hosts; h++)
            {
                _hostIds[h] = $"host-{h:D5}";
                _racks[h] = $"rack-{h / setup.HostsPerRack:D4}";
                _hostIndex[_hostIds[h]] = h;
            }
            _downUntil = new double[hosts];
            _stages = [.. Enumerable.Range(0, setup.JobHosts).Select(s => new StageDemand(s, 1, 1))];
            _hostOfStage = new int[setup.JobHosts];
            _lost = FailureCause.Categories.Concat(causes.Select(c => c.Category)).Distinct().ToDictionary(c => c, _ => new LostTime());
            _durableEvery = Math.Max(1, (int)Math.Round(policy.DurableIntervalMinutes * 60 / setup.StepSeconds));
        }

        public SimulationResult Execute(FailureTrace trace)
        {
            var first = Place(0, []);
            if (!first.Placed)
                throw new InvalidOperationException($"The job does not fit its fleet at the start: {first.Reason}");
            Apply(first);
            double horizon = _setup.HorizonSeconds;
            foreach (var failure in trace.Events)
            {
                if (failure.Time >= horizon) break;
                AdvanceTo(failure.Time);
                Interrupt(failure);
            }
            AdvanceTo(horizon);
            return new SimulationResult(_policy, horizon, _step, _useful, _durableStall, _snapshotStall, horizon - _t,
                _lost, _fromMemory, _fromDurable, _moved, _refusals);
        }

        /// <summary>Time passes up to <paramref name="limit"/>: the recovery in progress goes on (and may end), then the job steps.</summary>
        private void AdvanceTo(double limit)
        {
            if (_recovering)
            {
                double end = _recoveryStart + _phases.Detection + _phases.Waiting + _phases.Restart + _phases.Restore;
                if (limit < end)
                {
                    ChargeRecovery(limit - _recoveryStart);
                    _t = limit;
                    return;
                }
                ChargeRecovery(end - _recoveryStart);
                _recovering = false;
                _memoryLost.Clear();
                _memoryTrusted = true;
                _t = end;
            }
            double step = _setup.StepSeconds;
            while (_t + step <= limit)
            {
                _t += step;
                _useful += step;
                _step++;
                if (_policy.InMemoryEverySteps > 0 && _step % _policy.InMemoryEverySteps == 0)
                {
                    if (!Stall(_policy.InMemoryStallSeconds, limit, ref _snapshotStall)) return;
                    _memory = Now();
                }
                if (_step % _durableEvery == 0)
                {
                    if (!Stall(_policy.DurableStallSeconds, limit, ref _durableStall)) return;
                    _durable = Now();
                }
            }
        }

        /// <summary>A snapshot's stall; false when the limit comes first (the snapshot never completes).</summary>
        private bool Stall(double seconds, double limit, ref double bucket)
        {
            if (_t + seconds > limit)
            {
                bucket += limit - _t;
                _t = limit;
                return false;
            }
            _t += seconds;
            bucket += seconds;
            return true;
        }

        private void Interrupt(FailureEvent failure)
        {
            var cause = _causes[failure.Cause];
            var category = _lost[cause.Category];
            category.Interruptions++;
            if (_recovering) _recovering = false; // a new failure restarts the recovery; the time so far is charged already

            int stage = Math.Min(_stages.Length - 1, (int)(failure.HostPick * _stages.Length));
            int host = _hostOfStage[stage];
            if (cause.LosesHost) _downUntil[host] = Math.Max(_downUntil[host], failure.Time + cause.RepairHours * 3600);
            _memoryLost.Add(host); // its processes are gone (crash, hang killed by the watchdog, or host lost)
            if (cause.JobWide)
                foreach (int h in _hostOfStage) _memoryLost.Add(h); // every process of the job: no in-memory copy survives
            if (cause.CorruptsState) _memoryTrusted = false;

            double detection = cause.Hangs ? _policy.HangDetectionSeconds : _policy.CrashDetectionSeconds;
            double placedAt = failure.Time + detection;
            int[] before = [.. _hostOfStage];
            string[] preferred = [.. before.Select(h => _hostIds[h])];
            PlacementDecision decision;
            while (!(decision = Place(placedAt, preferred)).Placed)
            {
                _refusals++;
                double repaired = _downUntil.Where(d => d > placedAt).DefaultIfEmpty(double.NaN).Min();
                if (double.IsNaN(repaired))
                    throw new InvalidOperationException($"No host will come back and the job cannot be placed: {decision.Reason}");
                placedAt = repaired;
            }
            Apply(decision);
            int moved = _hostOfStage.Where((h, s) => h != before[s]).Count();
            _moved += moved;

            // Where to resume: the real rule, given which in-memory copies survived.
            long? fromMemory = null;
            if (_policy.InMemoryEverySteps > 0 && !_policy.RestartWholeJob && _memoryTrusted)
            {
                var copies = new IReadOnlySet<long>[_stages.Length];
                for (int s = 0; s < _stages.Length; s++)
                {
                    var held = new HashSet<long>();
                    if (_hostOfStage[s] == before[s] && !_memoryLost.Contains(before[s])) held.Add(_memory.Step);
                    if (!_memoryLost.Contains(before[(s + 1) % _stages.Length])) held.Add(_memory.Step); // the peer's copy
                    copies[s] = held;
                }
                fromMemory = RecoveryPoint.InMemoryStep(copies, _durable.Step, _step);
            }
            var target = fromMemory is not null ? _memory : _durable;
            if (fromMemory is not null) _fromMemory++; else _fromDurable++;
            category.Recompute += (_useful - target.Useful) + (_durableStall - target.DurableStall) + (_snapshotStall - target.SnapshotStall)
                                  + (failure.Time - _t); // the unfinished step (or recovery remainder) at the failure
            (_step, _useful, _durableStall, _snapshotStall) = (target.Step, target.Useful, target.DurableStall, target.SnapshotStall);
            _memory = target;

            double restore = fromMemory is not null
                ? (moved > 0 || _memoryLost.Count > 0 ? _setup.PeerRestoreSeconds : 0)
                : _setup.DurableRestoreSeconds;
            _phases = (detection, placedAt - failure.Time - detection, _policy.RestartSeconds, restore);
            _recoveryStart = failure.Time;
            _recoveryCategory = category;
            _recovering = true;
            _t = failure.Time;
        }

        /// <summary>Charges the first <paramref name="elapsed"/> seconds of the recovery, phase by phase.</summary>
        private void ChargeRecovery(double elapsed)
        {
            var c = _recoveryCategory!;
            double left = elapsed;
            c.Detection += Take(ref left, _phases.Detection);
            c.WaitingForCapacity += Take(ref left, _phases.Waiting);
            c.Restart += Take(ref left, _phases.Restart);
            c.Restore += Take(ref left, _phases.Restore);

            static double Take(ref double left, double phase)
            {
                double part = Math.Min(left, phase);
                left -= part;
                return part;
            }
        }

        private PlacementDecision Place(double now, IReadOnlyList<string> preferred)
        {
            var candidates = new List<PlacementCandidate>(_hostIds.Length);
            for (int h = 0; h < _hostIds.Length; h++)
                if (_downUntil[h] <= now)
                    candidates.Add(new PlacementCandidate(_hostIds[h], _racks[h], Gigaflops, 1, 0)); // room for one stage
            return PlacementPolicy.Place(_stages, candidates, preferred);
        }

        private void Apply(PlacementDecision decision)
        {
            for (int s = 0; s < _stages.Length; s++)
                _hostOfStage[s] = _hostIndex[decision.NodeByStage[s]];
        }

        private Mark Now() => new(_step, _useful, _durableStall, _snapshotStall);
    }

    /// <summary>The job's state at a snapshot: its step and the time buckets as they stood, to roll back to.</summary>
    private readonly record struct Mark(long Step, double Useful, double DurableStall, double SnapshotStall);
}
