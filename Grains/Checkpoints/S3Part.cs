namespace Cluster.Grains.Checkpoints;

/// <summary>One part of a multipart upload: its number (from 1, S3's order of assembly) and the bytes it carries.</summary>
internal readonly record struct S3Part(int Number, long Offset, long Length);
