using DaxStack.Driver.Block;
using DaxStack.Fs.Tests.Interop;
using DaxStack.Fs.Xfs;
using DaxStack.Fs.Xfs.Dir2;
using DaxStack.Fs.Xfs.OnDisk;

namespace DaxStack.Fs.Tests.Xfs.Dir2;

/// <summary>
/// An image made by real <c>mkfs.xfs -p PROTOFILE</c> with one directory per (name, entry count,
/// name pattern) under the root, and the means to read it: inodes through our metadata reader,
/// blocks raw from the device, and what <c>xfs_db ls</c> prints for a directory.
/// </summary>
internal sealed class MkfsXfsDirectoryImage : IDisposable
{
    private bool _closed;

    private MkfsXfsDirectoryImage(string dir, string image, FsTestDevice device)
    {
        Directory = dir;
        Image = image;
        Device = device;
        Reader = XfsMetadataReader.Open(device.Device);
    }

    public string Directory { get; }

    public string Image { get; }

    public FsTestDevice Device { get; }

    public XfsMetadataReader Reader { get; }

    public XfsGeometry Geometry => Reader.Geometry;

    public Guid Uuid => Reader.Superblock.MetadataUuid;

    /// <summary>mkfs.xfs with a protofile holding, under the root, each directory of <paramref name="dirs"/> with names from its pattern.</summary>
    public static MkfsXfsDirectoryImage Create(params (string Dir, int Count, Func<int, string> Name)[] dirs)
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("daxstack-dir2-").FullName;
        var proto = new List<string> { "/dev/null", "0 0", "d--755 0 0" };
        foreach (var (d, count, name) in dirs)
        {
            proto.Add($"{d} d--755 0 0");
            for (int i = 0; i < count; i++)
                proto.Add($"{name(i)} ---644 0 0 /dev/null");
            proto.Add("$");
        }
        proto.Add("$");
        string protoPath = Path.Combine(dir, "proto");
        File.WriteAllLines(protoPath, proto);
        string image = FsTestDevice.SparseImage(dir, "dirs.img", 128L << 20);
        var (status, _, error) = XfsProgs.Run("mkfs.xfs", "-q", "-f", "-m", "crc=1,finobt=1,reflink=1,rmapbt=0", "-i", "sparse=0", "--unsupported", "-p", protoPath, image);
        Assert.That(status, Is.Zero, $"mkfs.xfs -p failed: {error}");
        return new MkfsXfsDirectoryImage(dir, image, FsTestDevice.Image(image, readOnly: true));
    }

    /// <summary>The raw bytes of filesystem block <paramref name="fsb"/>.</summary>
    public byte[] ReadBlock(ulong fsb)
    {
        var b = new byte[Geometry.BlockSize];
        var status = Device.Device.Read(Geometry.FsbToOffset(fsb), b);
        if (status != BlkStatus.Ok)
            throw new XfsException(status.ToErrno(), $"read of block {fsb} failed");
        return b;
    }

    public XfsDinode Inode(ulong ino) => Reader.ReadInode(ino);

    public IReadOnlyList<XfsDirEntry> List(ulong ino) => XfsDirectoryReader.List(Inode(ino), Geometry, Uuid, ReadBlock);

    public XfsDirectorySource Source(ulong ino) => XfsDirectorySource.FromDinode(Inode(ino), Geometry, Uuid, ReadBlock);

    /// <summary>The inode of the directory <paramref name="name"/> under the root.</summary>
    public ulong DirIno(string name) => List(Reader.Superblock.RootIno).Single(e => e.NameText == name).Ino;

    /// <summary>(name, inode, type) for each line <c>xfs_db -r IMAGE -c "inode INO" -c ls</c> prints.</summary>
    public List<(string Name, ulong Ino, string Type, uint Hash)> XfsDbLs(ulong ino) =>
        [.. XfsProgs.Db(Image, $"inode {ino}", "ls")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6)
            .Select(f => (f[5], ulong.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), f[2], Convert.ToUInt32(f[3], 16)))];

    /// <summary>Closes the read-only device so another opener can change the image.</summary>
    public void CloseDevice()
    {
        if (_closed)
            return;
        _closed = true;
        Device.Dispose();
    }

    public void Dispose()
    {
        CloseDevice();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
