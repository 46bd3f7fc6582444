using System.Runtime.InteropServices;

namespace Cluster.Grains.Hosting;

/// <summary>
/// Stops and continues a process (SIGSTOP / SIGCONT): a hung server — the process is frozen but its sockets stay open,
/// which is what failure detection finds hardest — and asks one to exit (SIGTERM). (<see cref="System.Diagnostics.Process.Kill()"/>
/// is SIGKILL.)
/// </summary>
internal static partial class UnixSignals
{
    private const int SigCont = 18;
    private const int SigStop = 19;
    private const int SigTerm = 15;

    public static void Stop(int pid) => Send(pid, SigStop, "SIGSTOP");

    public static void Continue(int pid) => Send(pid, SigCont, "SIGCONT");

    public static void Terminate(int pid) => Send(pid, SigTerm, "SIGTERM");

    private static void Send(int pid, int signal, string name)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException($"{name} is sent with Linux signal numbers; this machine runs {RuntimeInformation.OSDescription}.");
        if (NativeMethods.Kill(pid, signal) != 0)
            throw new InvalidOperationException($"{name} to process {pid} failed (errno {Marshal.GetLastPInvokeError()}): it may have exited.");
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
