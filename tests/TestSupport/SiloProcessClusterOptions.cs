namespace Cluster.Grains.Hosting;

/// <summary>How <see cref="SiloProcessCluster"/> starts its silo processes.</summary>
public sealed class SiloProcessClusterOptions
{
    /// <summary>Path of the built silo program, Cluster.Silo.dll (see <see cref="SiloProgram.Locate"/>).</summary>
    public string SiloAssembly { get; set; } = "";

    /// <summary>Silo processes; the first is the primary (localhost clustering keeps membership there). <value>3.</value></summary>
    public int Silos { get; set; } = 3;

    /// <summary>CPU device slots (node grains) per silo. <value>2.</value></summary>
    public int SlotsPerSilo { get; set; } = 2;

    /// <summary>libtorch threads per slot. <value>1.</value></summary>
    public int ThreadsPerSlot { get; set; } = 1;

    /// <summary>Data root every silo shares (grain state and file-system checkpoints), like machines sharing a store.</summary>
    public string DataRoot { get; set; } = "";

    /// <summary>Where each silo's output goes (<c>&lt;name&gt;.log</c>); empty = DataRoot/logs.</summary>
    public string LogDirectory { get; set; } = "";

    /// <summary>Prefix of silo names: &lt;prefix&gt;0, &lt;prefix&gt;1, … <value>proc-.</value></summary>
    public string NamePrefix { get; set; } = "proc-";

    /// <summary>More <c>--Key=Value</c> settings for every silo (e.g. log levels, TrainingCluster options).</summary>
    public IReadOnlyList<string> Settings { get; set; } = [];

    /// <summary>How long a silo may take to open its gateway. <value>2 min.</value></summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public string ResolvedLogDirectory => string.IsNullOrWhiteSpace(LogDirectory) ? Path.Combine(DataRoot, "logs") : LogDirectory;

    /// <summary>Every problem, each naming the option and the fix; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(SiloAssembly) || !File.Exists(SiloAssembly))
            problems.Add($"{nameof(SiloAssembly)} '{SiloAssembly}' is not a file: build the silo (dotnet build Silo) and pass the path of Cluster.Silo.dll.");
        if (Silos < 1)
            problems.Add($"{nameof(Silos)} = {Silos}: must be at least 1.");
        if (SlotsPerSilo < 1)
            problems.Add($"{nameof(SlotsPerSilo)} = {SlotsPerSilo}: must be at least 1.");
        if (ThreadsPerSlot < 1)
            problems.Add($"{nameof(ThreadsPerSlot)} = {ThreadsPerSlot}: must be at least 1.");
        if (string.IsNullOrWhiteSpace(DataRoot))
            problems.Add($"{nameof(DataRoot)} is empty: give a directory every silo shares.");
        if (StartTimeout <= TimeSpan.Zero)
            problems.Add($"{nameof(StartTimeout)} = {StartTimeout}: must be positive.");
        return problems;
    }
}
