using System.Buffers.Binary;
using System.IO.Compression;
using Cluster.Bench.Charts;

namespace Cluster.Bench.Tests;

public sealed class PngWriterTests
{
    [Fact]
    public void The_crc_is_the_one_png_uses()
    {
        // Every PNG ends with the IEND chunk, whose CRC is AE 42 60 82.
        Assert.Equal(0xAE426082u, PngWriter.Crc32(0xFFFFFFFFu, "IEND"u8) ^ 0xFFFFFFFFu);
    }

    [Fact]
    public void A_written_image_has_the_signature_its_size_and_its_pixels()
    {
        string path = Path.Combine(Path.GetTempPath(), $"png-test-{Guid.NewGuid():N}.png");
        try
        {
            var canvas = new RgbCanvas(3, 2);
            canvas.Set(1, 1, (10, 20, 30));
            PngWriter.Write(path, 3, 2, canvas.Pixels);
            byte[] file = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, file[..8]);
            Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(16)));
            Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(20)));

            int idatLength = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(33));
            using var zlib = new ZLibStream(new MemoryStream(file, 41, idatLength), CompressionMode.Decompress);
            using var raw = new MemoryStream();
            zlib.CopyTo(raw);
            byte[] rows = raw.ToArray();
            Assert.Equal(2 * (1 + 3 * 3), rows.Length);
            Assert.Equal(new byte[] { 0, 255, 255, 255, 10, 20, 30, 255, 255, 255 }, rows[10..]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
