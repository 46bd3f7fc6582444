namespace Cluster.Grains.Jobs;

/// <summary>
/// Where an operator's pause stands in the job's mailbox (<see cref="BoundaryMailbox"/>). Transitions:
/// None ──pause──▶ Asked ──loop takes it──▶ Taken ──paused──▶ Paused ──loop resumes──▶ None;
/// Asked ──resume──▶ None (withdrawn); Taken ──checkpoint deferred──▶ Asked, or None when a resume came meanwhile.
/// A resume in Taken or Paused is granted (the job pauses, then places again at once); a pause after that grant
/// withdraws it again (in Paused, whose grant the loop may already have acted on, the pause is served once the job runs
/// again — unless a resume follows it): the last of the two an operator asked wins. Property-tested against a model of
/// the job's loop over random interleavings (<c>PauseProtocolProperties</c>).
/// </summary>
internal enum PauseProgress
{
    /// <summary>No pause asked (or the last one was withdrawn or resumed from).</summary>
    None,

    /// <summary>Asked, not yet served: a resume withdraws it.</summary>
    Asked,

    /// <summary>The loop is serving it (checkpoint, freeing the nodes): a resume is granted, not a withdrawal.</summary>
    Taken,

    /// <summary>Paused: the nodes are freed; a resume is granted.</summary>
    Paused,
}
