namespace DaxStack.Fs.Xfs.Btree;

/// <summary>B+tree height arithmetic shared by the AG trees.</summary>
/// <remarks>Models the kernel's <c>xfs_btree_compute_maxlevels</c>.</remarks>
public static class XfsBtreeGeometry
{
    /// <summary>
    /// The tallest a tree holding <paramref name="records"/> records can be when every leaf holds
    /// only <paramref name="leafMin"/> records and every node <paramref name="nodeMin"/> keys.
    /// </summary>
    public static int ComputeMaxLevels(int leafMin, int nodeMin, ulong records)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(leafMin, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(nodeMin, 2);
        ulong blocks = (records + (ulong)leafMin - 1) / (ulong)leafMin;
        int height = 1;
        while (blocks > 1)
        {
            blocks = (blocks + (ulong)nodeMin - 1) / (ulong)nodeMin;
            height++;
        }
        return height;
    }
}
