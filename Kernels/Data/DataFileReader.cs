using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Cluster.Kernels.Data;

/// <summary>
/// Reads an allowed data file into memory exactly once, hashing the very bytes it keeps. A copy in memory cannot be
/// rewritten under a running job (a memory-mapped file rewritten in place kills the process with SIGBUS).
/// </summary>
internal static class DataFileReader
{
    /// <summary>Fills <paramref name="destination"/> (exactly the file's size) and returns the identity of those bytes.</summary>
    public static DataIdentity ReadInto(DataFile file, Span<byte> destination)
    {
        try
        {
            using var stream = new FileStream(file.RealPath, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 0 });
            if (stream.Length != file.Bytes)
                throw new DataSourceRefusedException(file.Source, "the file changed size while it was opened; try again once it is written.");
            int filled = 0;
            while (filled < destination.Length)
            {
                int read = stream.Read(destination[filled..]);
                if (read == 0)
                    throw new DataSourceRefusedException(file.Source, "the file shrank while it was read; try again once it is written.");
                filled += read;
            }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DataSourceRefusedException(file.Source, "the silo may not read the file (permissions).", e);
        }
        return new DataIdentity(destination.Length, Convert.ToHexStringLower(SHA256.HashData(destination)));
    }

    public static (byte[] Bytes, DataIdentity Identity) ReadBytes(DataFile file)
    {
        var bytes = new byte[file.Bytes];
        return (bytes, ReadInto(file, bytes));
    }

    public static (ushort[] Tokens, DataIdentity Identity) ReadUInt16(DataFile file)
    {
        if (file.Bytes % 2 != 0)
            throw new DataSourceRefusedException(file.Source, $"the file is {file.Bytes} bytes: a uint16 token file holds an even number of bytes (2 per token). Is it a text file? Give text files a .txt extension to read them as bytes.");
        var tokens = new ushort[file.Bytes / 2];
        var identity = ReadInto(file, MemoryMarshal.AsBytes(tokens.AsSpan()));
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < tokens.Length; i++) tokens[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(tokens[i]);
        return (tokens, identity);
    }
}
