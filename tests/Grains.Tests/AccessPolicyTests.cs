using Cluster.Grains.Interfaces.Security;
using Cluster.Grains.Security;

namespace Cluster.Grains.Tests;

/// <summary>The certificate map and the role/team rules, without a cluster.</summary>
public sealed class AccessPolicyTests
{
    private static readonly OperatorFacingAttribute s_read = new(OperatorRole.Viewer);
    private static readonly OperatorFacingAttribute s_jobRead = new(OperatorRole.Viewer) { Scope = OperatorScope.Job };
    private static readonly OperatorFacingAttribute s_jobAction = new(OperatorRole.Operator) { Scope = OperatorScope.Job };
    private static readonly OperatorFacingAttribute s_fleetAction = new(OperatorRole.Operator);
    private static readonly OperatorFacingAttribute s_adminAction = new(OperatorRole.Admin);

    [Fact]
    public void Roles_include_the_ones_below_and_teams_limit_operators_on_jobs_and_fleet_actions()
    {
        var viewer = new CallerPrincipal("v", OperatorRole.Viewer, []);
        var teamOperator = new CallerPrincipal("o", OperatorRole.Operator, ["a", "c"]);
        var fleetOperator = new CallerPrincipal("f", OperatorRole.Operator, []);
        var teamAdmin = new CallerPrincipal("r", OperatorRole.Admin, ["a"]);

        Assert.Null(AccessPolicy.Refusal(viewer, s_read, "X.Get", ["b"]));
        Assert.Contains("needs the operator role", AccessPolicy.Refusal(viewer, s_jobAction, "X.Cancel", ["a"]));
        Assert.Null(AccessPolicy.Refusal(teamOperator, s_read, "X.Get", ["b"]));
        Assert.Null(AccessPolicy.Refusal(teamOperator, s_jobAction, "X.Cancel", ["a"]));
        Assert.Null(AccessPolicy.Refusal(teamOperator, s_jobAction, "X.Cancel", ["a", "c"]));
        Assert.Contains("team b", AccessPolicy.Refusal(teamOperator, s_jobAction, "X.Cancel", ["a", "b"]));
        Assert.Contains("whole fleet", AccessPolicy.Refusal(teamOperator, s_fleetAction, "X.Drain", []));
        Assert.Null(AccessPolicy.Refusal(fleetOperator, s_fleetAction, "X.Drain", []));
        Assert.Null(AccessPolicy.Refusal(fleetOperator, s_jobAction, "X.Cancel", ["z"]));
        Assert.Contains("needs the admin role", AccessPolicy.Refusal(fleetOperator, s_adminAction, "X.SetQuota", []));
        Assert.Null(AccessPolicy.Refusal(teamAdmin, s_jobAction, "X.Cancel", ["b"])); // admins are never limited
        Assert.Null(AccessPolicy.Refusal(teamAdmin, s_adminAction, "X.SetQuota", []));
    }

    [Fact]
    public void Principals_limited_to_teams_read_only_their_teams_jobs()
    {
        var teamViewer = new CallerPrincipal("vera", OperatorRole.Viewer, ["a"]);
        var teamOperator = new CallerPrincipal("o", OperatorRole.Operator, ["a", "c"]);
        var viewer = new CallerPrincipal("v", OperatorRole.Viewer, []);
        var teamAdmin = new CallerPrincipal("r", OperatorRole.Admin, ["a"]);

        Assert.Null(AccessPolicy.Refusal(teamViewer, s_jobRead, "X.GetStatus", ["a"]));
        Assert.Null(AccessPolicy.Refusal(teamViewer, s_jobRead, "X.GetStatus", [])); // no such job: nothing to read
        Assert.Equal("vera (viewer of a) may not call X.GetStatus on a job of team b: your role covers team a only.",
            AccessPolicy.Refusal(teamViewer, s_jobRead, "X.GetStatus", ["b"]));
        Assert.Contains("team b", AccessPolicy.Refusal(teamOperator, s_jobRead, "X.ListCheckpoints", ["b"]));
        Assert.Null(AccessPolicy.Refusal(teamViewer, s_read, "X.GetNodes", [])); // fleet reads stay open (their job lists are filtered)
        Assert.Null(AccessPolicy.Refusal(viewer, s_jobRead, "X.GetStatus", ["b"]));
        Assert.Null(AccessPolicy.Refusal(teamAdmin, s_jobRead, "X.GetStatus", ["b"]));
    }

    [Fact]
    public void The_certificate_map_matches_thumbprints_before_subjects_and_names_principals()
    {
        const string sha1 = "0123456789ABCDEF0123456789ABCDEF01234567";
        var options = new ClientAuthorizationOptions
        {
            Principals =
            [
                new PrincipalEntry { Subject = "CN=alice, O=Example", Role = "Viewer" },
                new PrincipalEntry { Thumbprint = "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67", Name = "alice-admin", Role = "admin", Teams = ["ops"] },
                new PrincipalEntry { Subject = "CN=bob", Role = "operator", Teams = [" a "] },
            ],
        };
        Assert.Empty(options.Validate());
        Assert.Equal(new CallerPrincipal("alice", OperatorRole.Viewer, []).ToString(), options.Find("CN=alice, O=Example", "FF", "EE")!.ToString());
        var byThumbprint = options.Find("CN=alice, O=Example", sha1, "EE")!;
        Assert.Equal(("alice-admin", OperatorRole.Admin), (byThumbprint.Name, byThumbprint.Role));
        var bob = options.Find("CN=bob", "FF", "EE")!;
        Assert.Equal(["a"], bob.Teams);
        Assert.Equal("bob (operator of a)", bob.ToString());
        Assert.Null(options.Find("CN=Bob", "FF", "EE")); // subjects match exactly
        Assert.Null(options.Find("CN=carol", "FF", "EE"));
    }

    [Fact]
    public void Every_problem_in_the_map_is_named_with_its_key()
    {
        var options = new ClientAuthorizationOptions
        {
            MaxClockSkew = TimeSpan.Zero,
            Principals =
            [
                new PrincipalEntry { Role = "viewer" },
                new PrincipalEntry { Subject = "CN=x", Role = "root" },
                new PrincipalEntry { Thumbprint = "abc", Role = "admin" },
                new PrincipalEntry { Subject = "CN=y", Role = "operator", Teams = [""] },
            ],
        };
        var problems = options.Validate();
        Assert.Equal(5, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("MaxClockSkew", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Principals:0 matches no certificate", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Principals:1:Role = 'root' is not a role", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Principals:2:Thumbprint = 'abc'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Principals:3:Teams", StringComparison.Ordinal));
    }
}
