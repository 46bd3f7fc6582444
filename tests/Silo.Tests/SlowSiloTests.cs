using Orleans.Runtime;

namespace Cluster.Silo.Tests;

/// <summary>
/// Three real silo processes; one is frozen with SIGSTOP (a GC pause, swapping, an overloaded machine) for
/// <see cref="s_freeze"/> and resumed. On the fleet profile that is shorter than the suspicion window (three missed
/// probes of at least 2 s, then two votes) and the silo stays a member; on the fast profile (one vote after two missed
/// 1 s probes) the same freeze gets it declared dead, which shows the test can see an eviction.
/// </summary>
public sealed class SlowSiloTests
{
    private static readonly TimeSpan s_freeze = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task On_the_fleet_profile_a_silo_frozen_for_less_than_the_suspicion_window_is_not_declared_dead()
    {
        await using var cluster = new ProcessCluster();
        var (management, frozen, address) = await StartThreeSilosAsync(cluster, "fleet");

        await frozen.SignalAsync("STOP");
        try
        {
            await Task.Delay(s_freeze); // the stimulus: how long the silo is stopped, not a wait for a result
        }
        finally
        {
            await frozen.SignalAsync("CONT");
        }
        var resumed = DateTime.UtcNow;

        // Back: it answers a call addressed to it, and it writes its heartbeat to the membership table again — a silo
        // declared dead does neither (it stops itself when it reads its own death).
        await cluster.WaitAsync(async () => (await management.GetRuntimeStatistics([address])).Length == 1, TimeSpan.FromMinutes(1), "silo-c to answer after it resumed");
        await cluster.WaitAsync(async () => (await management.GetDetailedHosts(onlyActive: false)).Single(h => h.SiloAddress.Equals(address)).IAmAliveTime > resumed,
            TimeSpan.FromMinutes(2), "silo-c to write its heartbeat after it resumed");

        var hosts = await management.GetDetailedHosts(onlyActive: false);
        Assert.True(hosts.Length == 3 && hosts.All(h => h.Status == SiloStatus.Active),
            $"Expected 3 active silos, saw: {string.Join(", ", hosts.Select(h => $"{h.SiloName} {h.Status} (suspected at {string.Join(", ", h.SuspectTimes?.Select(s => s.Item2) ?? [])})"))}\n{cluster.Outputs()}");
        cluster.AssertSilosRunning();
    }

    [Fact]
    public async Task On_the_fast_profile_the_same_freeze_gets_the_silo_declared_dead()
    {
        await using var cluster = new ProcessCluster();
        var (management, frozen, address) = await StartThreeSilosAsync(cluster, "fast");

        await frozen.SignalAsync("STOP");
        try
        {
            await cluster.WaitAsync(async () => (await management.GetDetailedHosts(onlyActive: false)).Single(h => h.SiloAddress.Equals(address)).Status == SiloStatus.Dead,
                TimeSpan.FromMinutes(1), "the frozen silo-c declared dead", silosMustRun: false);
        }
        finally
        {
            await frozen.SignalAsync("CONT");
        }
    }

    /// <summary>silo-a (primary), silo-b and silo-c on <paramref name="profile"/>, all active; returns silo-c, the one to freeze.</summary>
    internal static async Task<(IManagementGrain Management, SiloProcess Frozen, SiloAddress Address)> StartThreeSilosAsync(ProcessCluster cluster, string profile)
    {
        int[] ports = SiloProcess.FreePorts(6);
        string[] common = ["--TrainingCluster:DeviceSlots=1", "--TrainingCluster:ThreadsPerSlot=1", "--TrainingCluster:DeviceGigaflops=1",
                           $"--TrainingCluster:DataRoot={Path.Combine(cluster.WorkRoot, "data")}", $"--TrainingCluster:FailureDetection={profile}",
                           "--Logging:LogLevel:Default=Warning"];
        cluster.StartSilo("silo-a", ["--Orleans:SiloName=silo-a", $"--Orleans:SiloPort={ports[0]}", $"--Orleans:GatewayPort={ports[1]}", .. common]);
        cluster.StartSilo("silo-b", ["--Orleans:SiloName=silo-b", $"--Orleans:SiloPort={ports[2]}", $"--Orleans:GatewayPort={ports[3]}", $"--Orleans:PrimarySiloPort={ports[0]}", .. common]);
        var frozen = cluster.StartSilo("silo-c", ["--Orleans:SiloName=silo-c", $"--Orleans:SiloPort={ports[4]}", $"--Orleans:GatewayPort={ports[5]}", $"--Orleans:PrimarySiloPort={ports[0]}", .. common]);
        // The client's only gateway is silo-a, which is never frozen.
        var client = await cluster.ConnectAsync(c => c.UseLocalhostClustering(ports[1]), TimeSpan.FromMinutes(2));
        var management = client.GetGrain<IManagementGrain>(0);
        await cluster.WaitAsync(async () => (await management.GetDetailedHosts(onlyActive: true)).Length == 3, TimeSpan.FromMinutes(2), "three active silos");
        var address = (await management.GetDetailedHosts(onlyActive: true)).Single(h => h.SiloName == "silo-c").SiloAddress;
        return (management, frozen, address);
    }
}
