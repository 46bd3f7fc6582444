using Cluster.Grains.Interfaces.Scheduling;

namespace Cluster.Grains.Scheduling;

/// <summary>The queue of jobs waiting for nodes and the teams' node quotas.</summary>
internal sealed partial class SchedulerGrain
{
    public Task Enqueue(JobTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        _table.Tickets[ticket.JobId] = ticket;
        // A waiting job's new priority (an operator's update) reorders the queue at once, not at its next ask.
        if (_table.Waiting.TryGetValue(ticket.JobId, out var waiting)) _table.Waiting[ticket.JobId] = waiting with { Ticket = ticket };
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<QueuedJob>> GetQueue()
    {
        IReadOnlyList<QueuedJob> queue = [.. Queue().Select((w, i) => new QueuedJob(w.Ticket, i + 1, w.Since, w.Reason, w.Demands.Count))];
        return Task.FromResult(queue);
    }

    public async Task<TeamQuota> SetQuota(string team, int? maxNodes)
    {
        if (string.IsNullOrWhiteSpace(team))
            throw new ArgumentException("The team name is empty: give the team whose quota to set.", nameof(team));
        if (maxNodes is < 0)
            throw new ArgumentOutOfRangeException(nameof(maxNodes), maxNodes, "A quota is a node count of 0 or more (none to lift it).");
        if (maxNodes is { } max) persisted.State.Quotas[team] = max;
        else persisted.State.Quotas.Remove(team);
        await persisted.WriteStateAsync();
        LogQuota(logger, team, maxNodes?.ToString() ?? "none");
        return Quota(team);
    }

    public Task<IReadOnlyList<TeamQuota>> GetQuotas()
    {
        var teams = persisted.State.Quotas.Keys.Concat(_jobs.Keys.Select(j => Ticket(j).Team)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        IReadOnlyList<TeamQuota> quotas = [.. teams.Select(Quota)];
        return Task.FromResult(quotas);
    }

    private TeamQuota Quota(string team) => new(team,
        persisted.State.Quotas.TryGetValue(team, out int max) ? max : null,
        TeamNodes().GetValueOrDefault(team),
        _jobs.Keys.Count(j => Ticket(j).Team == team));
}
