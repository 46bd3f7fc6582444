using System.Text;
using Cluster.Kernels.Model;

namespace Cluster.Kernels.Data;

/// <summary>
/// Builds the demo corpus deterministically instead of shipping one: English-like prose from a small grammar mixed
/// with arithmetic facts, so a byte-level model has both local structure (spelling, grammar) and exact rules (sums)
/// to learn. The same seed and size give the same bytes on every machine and .NET version (own PRNG, invariant
/// formatting). Everything in it is generated here, so it is free of any licence.
/// </summary>
public static class SyntheticCorpus
{
    public const int DefaultBytes = 1 << 20;

    private static readonly string[] s_nouns =
    [
        "river", "garden", "lantern", "village", "sailor", "engine", "mountain", "letter", "horse", "teacher",
        "market", "forest", "window", "captain", "bridge", "candle", "island", "soldier", "kettle", "meadow",
        "harbor", "clock", "farmer", "storm", "library", "wagon", "queen", "miller", "tower", "shepherd",
        "orchard", "painter", "ship", "valley", "baker", "road", "castle", "child", "wolf", "star",
    ];

    private static readonly string[] s_verbs =
    [
        "watched", "followed", "carried", "found", "painted", "remembered", "crossed", "opened", "built", "visited",
        "praised", "mended", "guarded", "lost", "counted", "answered", "greeted", "described", "heard", "chose",
    ];

    private static readonly string[] s_adjectives =
    [
        "old", "quiet", "bright", "narrow", "patient", "golden", "cold", "gentle", "distant", "small",
        "proud", "silver", "wooden", "hidden", "early", "tired", "clever", "broad", "simple", "green",
    ];

    private static readonly string[] s_names =
    [
        "Anna", "Tomas", "Clara", "Hugo", "Mira", "Jonas", "Elena", "Felix", "Ada", "Oskar", "Lena", "Peter",
    ];

    private static readonly string[] s_adverbs =
    [
        "slowly", "carefully", "at dawn", "in the evening", "without a word", "again", "at last", "twice", "happily",
    ];

    /// <summary>Generates <paramref name="bytes"/> bytes of text from <paramref name="seed"/>.</summary>
    public static byte[] Generate(long seed = 7, int bytes = DefaultBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1);
        var rng = new Rng(seed);
        var text = new StringBuilder(bytes + 256);
        while (text.Length < bytes)
        {
            int sentences = 3 + rng.Next(5);
            for (int s = 0; s < sentences; s++)
            {
                if (s > 0) text.Append(' ');
                AppendSentence(text, ref rng);
            }
            text.Append("\n\n");
        }
        var result = Encoding.ASCII.GetBytes(text.ToString(0, bytes));
        return result;
    }

    /// <summary>The default demo corpus as a token source.</summary>
    public static ByteTokenSource Source(long seed = 7, int bytes = DefaultBytes) =>
        new(Generate(seed, bytes), $"synthetic(seed={seed}, bytes={bytes})");

    private static void AppendSentence(StringBuilder text, ref Rng rng)
    {
        switch (rng.Next(7))
        {
            case 0:
                text.Append("The ").Append(Pick(s_adjectives, ref rng)).Append(' ').Append(Pick(s_nouns, ref rng))
                    .Append(' ').Append(Pick(s_verbs, ref rng)).Append(" the ").Append(Pick(s_nouns, ref rng)).Append('.');
                break;
            case 1:
                text.Append(Pick(s_names, ref rng)).Append(' ').Append(Pick(s_verbs, ref rng)).Append(" a ")
                    .Append(Pick(s_adjectives, ref rng)).Append(' ').Append(Pick(s_nouns, ref rng)).Append(' ')
                    .Append(Pick(s_adverbs, ref rng)).Append('.');
                break;
            case 2:
                text.Append("Near the ").Append(Pick(s_nouns, ref rng)).Append(", ").Append(Pick(s_names, ref rng))
                    .Append(" and ").Append(Pick(s_names, ref rng)).Append(' ').Append(Pick(s_verbs, ref rng))
                    .Append(" the ").Append(Pick(s_adjectives, ref rng)).Append(' ').Append(Pick(s_nouns, ref rng)).Append('.');
                break;
            case 3:
            {
                int a = rng.Next(100), b = rng.Next(100);
                text.Append(Invariant(a)).Append(" plus ").Append(Invariant(b)).Append(" is ").Append(Invariant(a + b)).Append('.');
                break;
            }
            case 4:
            {
                int a = 2 + rng.Next(11), b = 2 + rng.Next(11);
                text.Append("Q: what is ").Append(Invariant(a)).Append(" times ").Append(Invariant(b))
                    .Append("? A: ").Append(Invariant(a * b)).Append('.');
                break;
            }
            case 5:
                text.Append("Was the ").Append(Pick(s_nouns, ref rng)).Append(' ').Append(Pick(s_adjectives, ref rng))
                    .Append("? ").Append(rng.Next(2) == 0 ? "Yes, it was." : "No, it was not.");
                break;
            default:
            {
                int start = rng.Next(50), count = 3 + rng.Next(4);
                text.Append("Count: ");
                for (int i = 0; i < count; i++) text.Append(i > 0 ? ", " : "").Append(Invariant(start + i));
                text.Append('.');
                break;
            }
        }
    }

    private static string Pick(string[] words, ref Rng rng) => words[rng.Next(words.Length)];

    private static string Invariant(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private struct Rng(long seed)
    {
        private ulong _state = SeedMixer.Mix((ulong)seed);

        public int Next(int bound)
        {
            _state = SeedMixer.Mix(_state);
            return (int)(_state % (ulong)bound);
        }
    }
}
