
namespace Cluster.Silo.Tests;

/// <summary><c>demo --verify</c> trains its reference on the device kind the stages ran on (issue 15 §3).</summary>
public sealed class ReferenceDeviceTests
{
    [Fact]
    public void Cpu_stages_are_checked_against_a_cpu_reference() =>
        Assert.Equal("cpu", ReferenceDevice.For(["cpu", "cpu", "cpu"]));

    [Fact]
    public void Cuda_stages_are_checked_against_a_cuda_reference_not_a_cpu_one() =>
        Assert.Equal("cuda:1", ReferenceDevice.For(["cuda:1", "cuda:0"]));

    [Fact]
    public void Stages_on_two_kinds_have_no_bit_identical_reference()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ReferenceDevice.For(["cpu", "cuda:0"]));
        Assert.Contains("cpu and cuda", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_stages_or_unstated_devices_are_errors()
    {
        Assert.Throws<ArgumentException>(() => ReferenceDevice.For([]));
        Assert.Throws<InvalidOperationException>(() => ReferenceDevice.For([""]));
    }
}
