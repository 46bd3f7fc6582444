namespace Cluster.Grains.Jobs;

/// <summary>
/// A snapshot holder lost the copies it carried while it made room for its moving stage (the silo it left died in the
/// middle, say): the stage's own copies are the only ones left, and the stage must not leave them for a move now. The
/// job recovers instead (its stage, where it is, still holds them).
/// </summary>
internal sealed class HolderCopiesLostException(string message) : Exception(message);
