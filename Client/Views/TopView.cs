namespace Cluster.Client.Views;

/// <summary><c>top</c>: every node with the jobs whose stages it runs, and the jobs that are not finished.</summary>
internal sealed record TopView(DateTimeOffset At, IReadOnlyList<TopNodeView> Nodes, IReadOnlyList<JobView> Jobs);

/// <summary>One node of <c>top</c>: its heartbeat and the jobs (ids) whose stages it runs.</summary>
internal sealed record TopNodeView(NodeView Node, IReadOnlyList<string> Jobs);
