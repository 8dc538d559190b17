namespace Ml.Normalization.Kernels;

/// <summary>
/// The fixed blocks of rows that the layers' reductions sum separately before adding the blocks' sums in block order:
/// they depend on the shape alone, so a result does not depend on how many threads computed the blocks, nor on which.
/// </summary>
/// <remarks>
/// A block holds about <see cref="TargetElements"/> values (a multiple of four rows, at least four), a quarter of a
/// megabyte of floats: enough blocks to share between threads at the shapes where threads pay, few enough that adding
/// their sums costs nothing measurable. A batch of up to one block (256 x 64, 128 x 256) is one block, summed exactly
/// as the unblocked kernels sum it.
/// </remarks>
internal readonly struct RowBlocks
{
    /// <summary>About how many values a block holds.</summary>
    public const int TargetElements = 65536;

    /// <summary>The blocks of a <paramref name="rows"/> x <paramref name="features"/> block.</summary>
    public RowBlocks(int rows, int features)
    {
        Rows = rows;
        BlockRows = Math.Max(4, (TargetElements / features) & ~3);
        Count = (int)(((long)rows + BlockRows - 1) / BlockRows);
    }

    /// <summary>Rows in all.</summary>
    public int Rows { get; }

    /// <summary>Rows per block (the last may hold fewer).</summary>
    public int BlockRows { get; }

    /// <summary>Number of blocks, at least 1 for at least one row.</summary>
    public int Count { get; }

    /// <summary>The first row of block <paramref name="block"/>.</summary>
    public int Start(int block) => block * BlockRows;

    /// <summary>One past the last row of block <paramref name="block"/>.</summary>
    public int End(int block) => Math.Min(Rows, (block + 1) * BlockRows);
}
