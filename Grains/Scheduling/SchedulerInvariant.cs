namespace Cluster.Grains.Scheduling;

/// <summary>
/// The table's invariant (issue 13): with exclusive nodes a node holds stages of at most one job, and no node holds more
/// stage memory than it has. Checked after every decision — by the grain in debug builds, and by the tests after every
/// step of random interleavings of submit, finish, node loss, node join and drain.
/// </summary>
internal static class SchedulerInvariant
{
    /// <summary>Every breach of the invariant, in words; empty when it holds.</summary>
    public static IReadOnlyList<string> Problems(SchedulerTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var problems = new List<string>();
        var stages = table.Jobs.SelectMany(j => j.Value.Nodes.Select((node, s) => (Job: j.Key, Node: node, Memory: j.Value.Memory[s])))
            .GroupBy(x => x.Node, StringComparer.Ordinal);
        foreach (var node in stages)
        {
            string[] jobs = [.. node.Select(x => x.Job).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
            if (table.Rules.ExclusiveNodes && jobs.Length > 1)
                problems.Add($"node {node.Key} holds stages of {jobs.Length} jobs ({string.Join(", ", jobs)}) with exclusive nodes");
            long used = node.Sum(x => x.Memory);
            if (table.Nodes.TryGetValue(node.Key, out var record) && used > record.Capabilities.MemoryBytes)
                problems.Add($"node {node.Key} holds {used} bytes of stages but has {record.Capabilities.MemoryBytes}");
        }
        return problems;
    }

    /// <summary>
    /// A decision's breach of the rule that no node held back for a job that has not reported since a restart (see
    /// <see cref="SchedulerTable.HeldBack"/>) is given to another job: call before applying it. Empty when it holds.
    /// </summary>
    public static IReadOnlyList<string> PlacedOnHeldBack(SchedulerTable table, Admission admission, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(admission);
        if (admission.Placement is not { } row) return [];
        var held = table.HeldBack(now, new HashSet<string>(StringComparer.Ordinal) { admission.JobId });
        return [.. row.Nodes.Distinct(StringComparer.Ordinal).Where(held.ContainsKey)
            .Select(node => $"node {node} given to job {admission.JobId} runs stages of job(s) {string.Join(", ", held[node])}, which have not reported")];
    }

    /// <summary>
    /// A decision's breach of the rule that a node taking no new stages (cordoned, draining, a straggler) keeps only the
    /// stages a job already has on it: it is given to a job only if the job held it before. Call before applying the
    /// decision. Empty when it holds.
    /// </summary>
    public static IReadOnlyList<string> PlacedOnClosed(SchedulerTable table, Admission admission)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(admission);
        if (admission.Placement is not { } row) return [];
        var had = table.Jobs.TryGetValue(admission.JobId, out var before) ? before.Nodes.ToHashSet(StringComparer.Ordinal) : [];
        return [.. row.Nodes.Distinct(StringComparer.Ordinal)
            .Where(node => table.Nodes.TryGetValue(node, out var n) && !n.AcceptsNewStages && !had.Contains(node))
            .Select(node => $"node {node}, which takes no new stages, given to job {admission.JobId}, which did not hold it")];
    }
}
