using System.Diagnostics;
using System.Globalization;

namespace Cluster.Bench.Fuzz;

/// <summary>
/// <c>fuzz</c>: feeds generated hostile inputs — checkpoint files, token files, data source strings, job specs — to the
/// code that reads them, round-robin, for a fixed time. A crash is any exception other than the reader's one clear
/// error; a hang is one input that takes more than 1 s (a watchdog ends the run if one never returns).
/// </summary>
internal static class FuzzCommand
{
    private static readonly TimeSpan s_hang = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_stuck = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(BenchArguments args)
    {
        int seconds = args.Int("seconds", 20), seed = args.Int("seed", 1), minCases = args.Int("min-cases", 10_000);
        args.EnsureAllUsed();
        string root = Path.Combine(Path.GetTempPath(), "cluster-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "tokens"));
        Directory.CreateDirectory(Path.Combine(root, "sources"));
        try
        {
            IFuzzTarget[] targets =
            [
                new SafeTensorsFuzzTarget(),
                new TokenFileFuzzTarget(Path.Combine(root, "tokens")),
                new DataSourceFuzzTarget(Path.Combine(root, "sources")),
                new JobSpecFuzzTarget(),
            ];
            var tallies = targets.ToDictionary(t => t.Name, _ => new FuzzTally());
            long caseStarted = Stopwatch.GetTimestamp();
            string current = "";
            using var stop = new CancellationTokenSource();
            var watchdog = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await Task.Delay(100, CancellationToken.None);
                    if (Stopwatch.GetElapsedTime(Interlocked.Read(ref caseStarted)) > s_stuck)
                    {
                        Console.WriteLine($"RESULT cases={tallies.Values.Sum(t => t.Cases)} crashes={tallies.Values.Sum(t => t.Crashes)} hangs={tallies.Values.Sum(t => t.Hangs) + 1} stuck={current}");
                        Environment.Exit(1);
                    }
                }
            });

            var random = new Random(seed);
            var clock = Stopwatch.StartNew();
            long cases = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds) || cases < minCases)
            {
                var target = targets[cases % targets.Length];
                var tally = tallies[target.Name];
                int caseSeed = random.Next();
                current = $"{target.Name}#{caseSeed}";
                Interlocked.Exchange(ref caseStarted, Stopwatch.GetTimestamp());
                try
                {
                    if (target.Run(new Random(caseSeed))) tally.Accepted++;
                    else tally.Refused++;
                }
                catch (Exception e)
                {
                    tally.Crashes++;
                    if (tally.Crashes <= 3)
                        Console.WriteLine($"CRASH {target.Name} case seed {caseSeed}: {e.GetType().Name}: {e.Message.Split('\n')[0]} {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}");
                }
                var elapsed = Stopwatch.GetElapsedTime(caseStarted);
                tally.Slowest = elapsed > tally.Slowest ? elapsed : tally.Slowest;
                if (elapsed > s_hang)
                {
                    tally.Hangs++;
                    Console.WriteLine($"HANG {target.Name} case seed {caseSeed}: {elapsed.TotalMilliseconds:F0} ms");
                }
                cases++;
            }
            stop.Cancel();
            await watchdog;

            Console.WriteLine($"{"target",-13} {"cases",8} {"accepted",9} {"refused",8} {"crashes",8} {"hangs",6} {"slowest ms",11}");
            foreach (var (name, t) in tallies)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-13} {t.Cases,8} {t.Accepted,9} {t.Refused,8} {t.Crashes,8} {t.Hangs,6} {t.Slowest.TotalMilliseconds,11:F1}"));
            long crashes = tallies.Values.Sum(t => t.Crashes), hangs = tallies.Values.Sum(t => t.Hangs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT cases={cases} crashes={crashes} hangs={hangs} seconds={clock.Elapsed.TotalSeconds:F1} seed={seed} slowest_ms={tallies.Values.Max(t => t.Slowest.TotalMilliseconds):F1}"));
            return crashes == 0 && hangs == 0 && cases >= minCases ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
