namespace DaxStack.Fs.Xfs.Alloc;

/// <summary>Where an allocation may place its extent inside the AG.</summary>
/// <remarks>The kernel's allocation modes: <c>xfs_alloc_vextent_this_ag</c> (by size), <c>xfs_alloc_vextent_near_bno</c> and <c>xfs_alloc_vextent_exact_bno</c> (formerly XFS_ALLOCTYPE_THIS_AG, NEAR_BNO, THIS_BNO).</remarks>
public enum XfsAllocType
{
    /// <summary>Anywhere in the AG: the smallest free extent that holds the request (best fit by size).</summary>
    ThisAg,
    /// <summary>As close to the target block as possible, longer extents preferred.</summary>
    NearBno,
    /// <summary>Starting exactly at the target block.</summary>
    ThisBno,
}
