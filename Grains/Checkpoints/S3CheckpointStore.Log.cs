using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Checkpoints;

public sealed partial class S3CheckpointStore
{
    [LoggerMessage(1, LogLevel.Debug, "Uploaded {Object} in {Parts} parts ({Bytes} bytes)")]
    private static partial void LogMultipartUploaded(ILogger logger, string @object, int parts, long bytes);

    [LoggerMessage(2, LogLevel.Information, "Aborted the multipart upload {UploadId} of {Object} after it failed: {Cause}")]
    private static partial void LogMultipartAborted(ILogger logger, string @object, string uploadId, string cause);

    [LoggerMessage(3, LogLevel.Warning,
        "The multipart upload {UploadId} of {Object} failed ({Cause}) and could not be aborted: its parts stay in the bucket, and are billed, " +
        "until a lifecycle rule (AbortIncompleteMultipartUpload) or an AbortMultipartUpload removes them")]
    private static partial void LogMultipartAbortFailed(ILogger logger, Exception e, string @object, string uploadId, string cause);
}
