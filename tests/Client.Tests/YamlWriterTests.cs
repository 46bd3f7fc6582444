using System.Text.Json;
using Cluster.Client.Rendering;

namespace Cluster.Client.Tests;

public sealed class YamlWriterTests
{
    [Fact]
    public void Writes_nested_objects_and_lists_as_block_yaml()
    {
        var json = JsonDocument.Parse("""
            {"jobId":"j1","state":"Running","loss":1.5,"error":null,"ok":true,"tags":[],"meta":{},
             "placement":[{"stage":0,"nodeId":"Silo_0/cpu0"},{"stage":1,"nodeId":"Silo_1/cpu0"}],"recent":[3.1,2.9],
             "spec":{"model":{"layers":2}}}
            """).RootElement;

        Assert.Equal("""
            jobId: j1
            state: Running
            loss: 1.5
            error: null
            ok: true
            tags: []
            meta: {}
            placement:
            - stage: 0
              nodeId: Silo_0/cpu0
            - stage: 1
              nodeId: Silo_1/cpu0
            recent:
            - 3.1
            - 2.9
            spec:
              model:
                layers: 2

            """.Replace("\r\n", "\n", StringComparison.Ordinal), YamlWriter.Write(json));
    }

    [Theory]
    [InlineData("demo-1", "demo-1")]
    [InlineData("true", "\"true\"")]
    [InlineData("null", "\"null\"")]
    [InlineData("12", "\"12\"")]
    [InlineData("2026-12-02T05:00:00+00:00", "\"2026-12-02T05:00:00+00:00\"")]
    [InlineData("a: b", "\"a: b\"")]
    [InlineData("-dash", "\"-dash\"")]
    [InlineData("", "\"\"")]
    [InlineData("line\nbreak", "\"line\\nbreak\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    public void Quotes_strings_a_yaml_reader_would_take_for_something_else(string value, string expected)
    {
        var json = JsonDocument.Parse(JsonSerializer.Serialize(new { v = value })).RootElement;
        Assert.Equal($"v: {expected}\n", YamlWriter.Write(json));
    }

    [Fact]
    public void An_empty_list_is_a_flow_sequence() =>
        Assert.Equal("[]\n", YamlWriter.Write(JsonDocument.Parse("[]").RootElement));
}
