namespace Cluster.Client.Tests;

/// <summary>Tiny jobs (d_model 32, 2 layers) that train in seconds on a shared 2-core machine.</summary>
internal static class TinySpecs
{
    /// <summary>The same job as command-line flags of <c>job submit</c>.</summary>
    public static string[] Flags(string jobId, int steps = 6) =>
        ["--id", jobId, "--steps", $"{steps}", "--stages", "2", "--layers", "2", "--d-model", "32", "--heads", "4", "--context", "16",
         "--micro-batches", "2", "--micro-batch-size", "4", "--checkpoint-interval", "3", "--warmup-steps", "1"];

    /// <summary>A spec file's JSON, as an operator would write it.</summary>
    public static string Json(string jobId, int steps = 6) => $$"""
        {
          "jobId": "{{jobId}}",
          "model": { "vocabSize": 256, "contextLength": 16, "dModel": 32, "layers": 2, "heads": 4 },
          "optimizer": { "learningRate": 0.01, "warmupSteps": 1 },
          "stages": 2,
          "microBatches": 2,
          "microBatchSize": 4,
          "steps": {{steps}},
          "checkpointInterval": 3
        }
        """;
}
