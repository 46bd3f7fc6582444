using Cluster.Kernels.Compute;

namespace Cluster.Kernels.Tests;

/// <summary>
/// The host allocator's set-up (<see cref="HostAllocator"/>): glibc takes both thresholds on this machine (a value it
/// refuses — over 32 MiB for the mmap threshold — would leave the allocator untuned); one refused beside one taken is
/// reported as such, not as untouched; an operator's own allocator settings, or <c>CLUSTER_HOST_ALLOCATOR=default</c>,
/// are left alone; a value of that variable it does not know is a clear error.
/// </summary>
public sealed class HostAllocatorTests
{
    [Fact]
    public void On_this_machine_glibc_takes_both_thresholds_and_the_process_keeps_the_first_outcome()
    {
        var outcome = HostAllocator.Tune();
        Assert.Same(outcome, HostAllocator.Tune());
        if (!OperatingSystem.IsLinux() || HostAllocator.OperatorVariables.Append(HostAllocator.ChoiceVariable).Any(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v))))
            return; // the operator's choice stands, whatever it is
        Assert.Equal(HostAllocatorChoice.Tuned, outcome.Choice);
        Assert.Contains("32 MiB", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_thresholds_are_set_when_nothing_else_is_configured()
    {
        var set = new List<(int, int)>();
        var outcome = HostAllocator.Decide(_ => null, isLinux: true, (option, value) => { set.Add((option, value)); return true; });
        Assert.Equal(HostAllocatorChoice.Tuned, outcome.Choice);
        Assert.Equal([(HostAllocator.MallocMmapThreshold, 32 << 20), (HostAllocator.MallocTrimThreshold, 256 << 20)], set);
    }

    [Theory]
    [InlineData("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")]
    [InlineData("MALLOC_TRIM_THRESHOLD_", "131072")]
    [InlineData("MALLOC_MMAP_THRESHOLD_", "131072")]
    [InlineData("MALLOC_TOP_PAD_", "0")]
    [InlineData("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")]
    [InlineData("CLUSTER_HOST_ALLOCATOR", "default")]
    [InlineData("CLUSTER_HOST_ALLOCATOR", " Default ")]
    public void An_operators_own_allocator_settings_are_left_alone(string name, string value)
    {
        var outcome = HostAllocator.Decide(v => v == name ? value : null, isLinux: true, (_, _) => throw new InvalidOperationException("nothing may be set"));
        Assert.Equal(HostAllocatorChoice.OperatorChoice, outcome.Choice);
        Assert.Contains(name, outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Tuned_is_the_default_spelled_out_and_anything_else_is_a_clear_error()
    {
        Assert.Equal(HostAllocatorChoice.Tuned, HostAllocator.Decide(v => v == HostAllocator.ChoiceVariable ? "tuned" : null, isLinux: true, (_, _) => true).Choice);
        var e = Assert.Throws<ArgumentException>(() => HostAllocator.Decide(v => v == HostAllocator.ChoiceVariable ? "jemalloc" : null, isLinux: true, (_, _) => true));
        Assert.Contains("CLUSTER_HOST_ALLOCATOR='jemalloc' is not recognised", e.Message, StringComparison.Ordinal);
        Assert.Contains("'tuned'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'default'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HostAllocator.MallocMmapThreshold, "mmap threshold 32 MiB", "trim threshold 256 MiB")]
    [InlineData(HostAllocator.MallocTrimThreshold, "trim threshold 256 MiB", "mmap threshold 32 MiB")]
    public void A_threshold_the_c_library_refuses_is_reported_beside_the_one_it_took(int taken, string takenText, string refusedText)
    {
        var outcome = HostAllocator.Decide(_ => null, isLinux: true, (option, _) => option == taken);
        Assert.Equal(HostAllocatorChoice.PartlyTuned, outcome.Choice);
        Assert.Contains($"took the {takenText} but refused the {refusedText}", outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_c_library_that_refuses_the_thresholds_and_another_os_are_left_as_they_are()
    {
        var tried = new List<int>();
        Assert.Equal(HostAllocatorChoice.NotGlibc, HostAllocator.Decide(_ => null, isLinux: true, (option, _) => { tried.Add(option); return false; }).Choice);
        Assert.Equal([HostAllocator.MallocMmapThreshold, HostAllocator.MallocTrimThreshold], tried);
        Assert.Equal(HostAllocatorChoice.NotGlibc, HostAllocator.Decide(_ => null, isLinux: false, (_, _) => throw new InvalidOperationException("nothing may be set")).Choice);
    }
}
