using System.Diagnostics;
using Cluster.Grains.Nodes;

namespace Cluster.Grains.Tests;

public sealed class ResidentMemoryTests
{
    [Fact]
    public void Reads_the_resident_pages_of_a_statm_line()
    {
        Assert.Equal(2_500L * Environment.SystemPageSize, ResidentMemory.FromStatm("1000000 2500 300 10 0 40000 0\n"));
        Assert.Null(ResidentMemory.FromStatm(null));
        Assert.Null(ResidentMemory.FromStatm("1000000"));
        Assert.Null(ResidentMemory.FromStatm("1000000 many 300"));
    }

    [Fact]
    public void Agrees_with_the_process_working_set()
    {
        using var self = Process.GetCurrentProcess();
        long before = self.WorkingSet64;
        long resident = ResidentMemory.Bytes();
        self.Refresh();
        long after = self.WorkingSet64;
        // Both are the process's resident set, read moments apart: the heap may grow or shrink a little in between.
        Assert.InRange(resident, Math.Min(before, after) / 2, Math.Max(before, after) * 2);
    }
}
