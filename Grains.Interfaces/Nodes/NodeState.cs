namespace Cluster.Grains.Interfaces.Nodes;

/// <summary>Health state of a node. Values are persisted and sent: append new ones, never renumber.</summary>
public enum NodeState
{
    Starting = 0,
    Ready = 1,
    Unhealthy = 2,
    Dead = 3,
}
