using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cluster.Grains.Security;

/// <summary>
/// How a silo proves that a grain call comes from a silo, not from a client posing as a grain: Orleans writes a call's
/// sender into the message, and its gateway passes a client's message on without checking that sender (Orleans 10.4,
/// <c>GatewayInboundConnection</c>), so a client that builds its own messages can name any grain. Every silo stamps its
/// outgoing calls with an HMAC-SHA256, under a secret only the silos hold, over the call's target, interface, method
/// and time (<see cref="SiloCallStampFilter"/>); <see cref="OperatorSurfaceFilter"/> treats a call without a valid
/// stamp as a client's, whatever sender it names.
/// </summary>
public sealed class SiloCallProof
{
    /// <summary>Request-context key of the stamp (bytes).</summary>
    public const string ProofKey = "cluster.silo.proof";

    /// <summary>Request-context key of the stamp's time, Unix milliseconds.</summary>
    public const string TimeKey = "cluster.silo.at";

    /// <summary>The shortest secret accepted, in characters.</summary>
    public const int MinSecretLength = 32;

    private readonly byte[] _key;

    /// <param name="secret">Shared by every silo of the cluster and by nothing else (at least <see cref="MinSecretLength"/> characters).</param>
    /// <param name="maxClockSkew">How far a stamp's time may be from the checking silo's clock.</param>
    public SiloCallProof(string secret, TimeSpan maxClockSkew, TimeProvider time)
    {
        if (secret.Length < MinSecretLength)
            throw new ArgumentException($"The silos' secret must have at least {MinSecretLength} characters.", nameof(secret));
        _key = SHA256.HashData(Encoding.UTF8.GetBytes("cluster-silo-proof-v1\n" + secret));
        MaxClockSkew = maxClockSkew;
        Time = time;
    }

    /// <summary>A proof with a fresh random secret: for silos that all run in one process (the in-process demo, tests).</summary>
    public static SiloCallProof ForThisProcess(TimeProvider time) =>
        new(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), TimeSpan.FromMinutes(5), time);

    public TimeSpan MaxClockSkew { get; }

    public TimeProvider Time { get; }

    /// <summary>Puts a stamp for this call into the request context.</summary>
    public void Stamp(string target, string interfaceName, string method)
    {
        long at = Time.GetUtcNow().ToUnixTimeMilliseconds();
        RequestContext.Set(TimeKey, at);
        RequestContext.Set(ProofKey, Mac(target, interfaceName, method, at));
    }

    /// <summary>Removes any stamp from the request context (before a call to a client, which must never see one).</summary>
    public static void Remove()
    {
        RequestContext.Remove(ProofKey);
        RequestContext.Remove(TimeKey);
    }

    /// <summary>Whether <paramref name="proof"/> and <paramref name="at"/> (as the request context carried them) are a valid, current stamp of this call.</summary>
    public bool Verify(string target, string interfaceName, string method, object? proof, object? at)
    {
        if (proof is not byte[] mac || at is not long when) return false;
        var signed = DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(when, -62135596800000L, 253402300799999L));
        if ((Time.GetUtcNow() - signed).Duration() > MaxClockSkew) return false;
        return CryptographicOperations.FixedTimeEquals(mac, Mac(target, interfaceName, method, when));
    }

    private byte[] Mac(string target, string interfaceName, string method, long at) =>
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Join('\n', target, interfaceName, method, at.ToString(CultureInfo.InvariantCulture))));
}
