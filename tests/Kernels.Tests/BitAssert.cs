namespace Cluster.Kernels.Tests;

/// <summary>Bit-for-bit comparisons with messages that show the first difference.</summary>
internal static class BitAssert
{
    public static void Equal(IReadOnlyList<double> expected, IReadOnlyList<double> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count} values, got {actual.Count}.");
        for (int i = 0; i < expected.Count; i++)
        {
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
                Assert.Fail($"{what}: first difference at index {i}: expected {expected[i]:R}, got {actual[i]:R} (diff {actual[i] - expected[i]:E3}).");
        }
    }

    public static void Equal(IReadOnlyDictionary<string, float[]> expected, IReadOnlyDictionary<string, float[]> actual, string what)
    {
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, values) in expected)
        {
            var other = actual[name];
            Assert.Equal(values.Length, other.Length);
            for (int i = 0; i < values.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(values[i]) != BitConverter.SingleToInt32Bits(other[i]))
                    Assert.Fail($"{what}: parameter '{name}' differs first at element {i}: expected {values[i]:R}, got {other[i]:R}.");
            }
        }
    }
}
