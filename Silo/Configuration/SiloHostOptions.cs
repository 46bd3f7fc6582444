using System.Net;

namespace Cluster.Silo.Configuration;

/// <summary>
/// Who this silo is and how it joins the cluster (section <c>Orleans</c>). The keys SiloName, SiloPort, GatewayPort and
/// PrimarySiloPort keep the meaning they had before fleet mode. Orleans itself also reads this section (ClusterId,
/// ServiceId, Endpoints, Messaging…), which is why the provider choice lives under <c>Membership</c> and not
/// <c>Clustering</c> (Orleans' own provider-by-configuration key).
/// </summary>
public sealed class SiloHostOptions
{
    public const string Section = "Orleans";

    /// <summary>Silo name; node ids are "&lt;silo name&gt;/&lt;device&gt;", so it must be unique and stable per machine. Empty: Orleans picks one.</summary>
    public string SiloName { get; set; } = "";

    /// <summary>Silos of one cluster share it; a redeployment may change it. <value>dev (Orleans' default).</value></summary>
    public string ClusterId { get; set; } = "dev";

    /// <summary>Stays the same across redeployments (it keys persisted state). <value>dev (Orleans' default).</value></summary>
    public string ServiceId { get; set; } = "dev";

    /// <summary>Silo-to-silo port. <value>11111.</value></summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients (the console) connect to. <value>30000.</value></summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Localhost membership only: the first silo's port, for more silo processes on one machine. Unset: this silo is the first.</summary>
    public int? PrimarySiloPort { get; set; }

    /// <summary>Address other silos and clients reach this one at (AzureTable/Redis). Empty: the host name's first address.</summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>AzureTable/Redis: listen on every interface rather than only the advertised address (e.g. behind NAT). <value>false.</value></summary>
    public bool ListenOnAnyHostAddress { get; set; }

    public MembershipOptions Membership { get; set; } = new();

    /// <summary>Every problem, each naming the key (relative to <c>Orleans</c>) and the fix.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        Port(nameof(SiloPort), SiloPort, problems);
        Port(nameof(GatewayPort), GatewayPort, problems);
        if (SiloPort == GatewayPort)
            problems.Add($"{nameof(GatewayPort)} = {GatewayPort} equals {nameof(SiloPort)}: give the gateway its own port (default 30000).");
        if (string.IsNullOrWhiteSpace(ClusterId))
            problems.Add($"{nameof(ClusterId)} is empty: every silo of a cluster needs the same ClusterId (e.g. training-prod).");
        if (string.IsNullOrWhiteSpace(ServiceId))
            problems.Add($"{nameof(ServiceId)} is empty: give a ServiceId that stays the same across deployments (e.g. training).");
        if (SiloName.Contains('/', StringComparison.Ordinal))
            problems.Add($"{nameof(SiloName)} = '{SiloName}' contains '/', which separates silo and device in node ids: use e.g. gpu-01.");
        if (!string.IsNullOrWhiteSpace(AdvertisedIPAddress) && !IPAddress.TryParse(AdvertisedIPAddress, out _))
            problems.Add($"{nameof(AdvertisedIPAddress)} = '{AdvertisedIPAddress}' is not an IP address: give this machine's address on the cluster network, e.g. 10.0.0.5.");
        bool localhost = Membership.NormalizedProvider == MembershipOptions.Localhost;
        if (PrimarySiloPort is { } primary)
        {
            if (!localhost)
                problems.Add($"{nameof(PrimarySiloPort)} only applies to {MembershipOptions.Localhost} membership; remove it (the {Membership.Provider} table tells silos where the others are).");
            else
                Port(nameof(PrimarySiloPort), primary, problems);
        }
        problems.AddRange(Membership.Validate().Select(p => $"{nameof(Membership)}:{p}"));
        return problems;
    }

    private static void Port(string name, int value, List<string> problems)
    {
        if (value is < 1 or > 65535)
            problems.Add($"{name} = {value} is not a TCP port: use a free port between 1 and 65535.");
    }
}
