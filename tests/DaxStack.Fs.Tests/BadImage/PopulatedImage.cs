using DaxStack.Fs.Vfs;
using DaxStack.Fs.Xfs.Mkfs;
using DaxStack.Fs.Xfs.Super;

namespace DaxStack.Fs.Tests.BadImage;

/// <summary>
/// An image file holding a filesystem populated through the VFS and cleanly unmounted: a file
/// with data, short-form, block and leaf directories, a file whose block map is a B+tree, and a
/// reflinked pair. Records the inode numbers the bad-image targets start from.
/// </summary>
/// <remarks>Models the populated filesystem fstests' xfs/ fuzz tests build with <c>_scratch_populate</c> before corrupting it.</remarks>
internal sealed class PopulatedImage
{
    public const int Block = 4096;

    /// <summary>Entries in the leaf-format directory: more than one directory block holds.</summary>
    public const int LeafDirEntries = 200;

    /// <summary>Extents of the B+tree-format file: more than the inode's data fork holds.</summary>
    public const int BtreeExtents = 60;

    private PopulatedImage(string path) => Path = path;

    public string Path { get; }

    public long DataIno { get; private set; }

    public long ShortDirIno { get; private set; }

    public long BlockDirIno { get; private set; }

    public long LeafDirIno { get; private set; }

    public long BtreeIno { get; private set; }

    public long OrigIno { get; private set; }

    /// <summary>Makes the image at <paramref name="path"/> (<paramref name="size"/> bytes).</summary>
    public static PopulatedImage Create(string path, long size)
    {
        var image = new PopulatedImage(path);
        using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            f.SetLength(size);
        using var device = FsTestDevice.Image(path);
        XfsMkfs.Format(device.Device, new XfsMkfsOptions { AgCount = 2, Reflink = true });
        var vfs = new DaxStack.Fs.Vfs.Vfs(new XfsFileSystemType(device.Device));
        var p = vfs.CreateProcess(Credentials.Root);
        image.DataIno = WriteFile(p, "/data", Pattern(5 * Block + 123, 1));
        p.Mkdir("/sf", 0x1ed);
        for (int i = 0; i < 3; i++)
            WriteFile(p, $"/sf/s{i}", Pattern(10, i));
        p.Mkdir("/block", 0x1ed);
        for (int i = 0; i < 30; i++)
            WriteFile(p, $"/block/entry-{i:D3}", []);
        p.Mkdir("/leaf", 0x1ed);
        for (int i = 0; i < LeafDirEntries; i++)
            WriteFile(p, $"/leaf/a-long-directory-entry-name-{i:D4}", []);
        // Every other block written: each is its own extent.
        int fd = p.Open("/btree", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1a4);
        for (int i = 0; i < BtreeExtents; i++)
            p.Pwrite(fd, Pattern(Block, 100 + i), 2L * i * Block);
        p.Close(fd);
        image.OrigIno = WriteFile(p, "/orig", Pattern(8 * Block, 2));
        int src = p.Open("/orig", OpenFlags.O_RDONLY);
        int dst = p.Open("/clone", OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1a4);
        p.Ficlone(dst, src);
        p.Close(src);
        p.Close(dst);
        image.ShortDirIno = p.Stat("/sf").Ino;
        image.BlockDirIno = p.Stat("/block").Ino;
        image.LeafDirIno = p.Stat("/leaf").Ino;
        image.BtreeIno = p.Stat("/btree").Ino;
        vfs.RootMount.Sb.Operations.PutSuper();
        return image;
    }

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static long WriteFile(Process p, string path, byte[] data)
    {
        int fd = p.Open(path, OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1a4);
        if (data.Length > 0)
            p.Pwrite(fd, data, 0);
        long ino = p.Fstat(fd).Ino;
        p.Close(fd);
        return ino;
    }
}
