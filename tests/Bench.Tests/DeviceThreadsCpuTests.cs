using System.Diagnostics;

namespace Cluster.Bench.Tests;

/// <summary>The device threads' CPU time counts a thread named like a device worker while it computes, and no other.</summary>
public sealed class DeviceThreadsCpuTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public void A_busy_device_thread_is_counted_and_a_busy_thread_of_another_name_is_not()
    {
        if (!OperatingSystem.IsLinux()) return; // /proc is Linux's
        double start = DeviceThreadsCpu.Ms();
        using (Spinning("pool worker"))
        {
            double process = ProcessCpuMs();
            WaitUntil(() => ProcessCpuMs() - process >= 300, "the spinning thread to use 300 ms of CPU");
            double counted = DeviceThreadsCpu.Ms() - start;
            Assert.True(counted < 100, $"a thread not named 'device …' was counted: {counted} ms");
        }
        double before = DeviceThreadsCpu.Ms();
        using (Spinning("device test/cpu0"))
            WaitUntil(() => DeviceThreadsCpu.Ms() - before >= 300, "the device thread's CPU time to count 300 ms");
    }

    private static double ProcessCpuMs()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalMilliseconds;
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Deadline, $"waited {Deadline.TotalSeconds} s for {what}");
            Thread.Sleep(20);
        }
    }

    /// <summary>A thread of that name computing until disposed (its time is in /proc only while it lives).</summary>
    private static Spin Spinning(string name) => new(name);

    private sealed class Spin : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;

        public Spin(string name)
        {
            _thread = new Thread(() =>
            {
                double x = 0;
                while (!_stop)
                    for (int i = 0; i < 10_000; i++) x += Math.Sqrt(i);
                GC.KeepAlive(x);
            }) { Name = name, IsBackground = true };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }
}
