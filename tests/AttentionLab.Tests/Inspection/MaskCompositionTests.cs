using AttentionLab.Attention;
using AttentionLab.Inspection;

namespace AttentionLab.Tests.Inspection;

public class MaskCompositionTests
{
    private static string Rows(bool[] v, int T) =>
        string.Join("|", Enumerable.Range(0, T).Select(i => string.Concat(Enumerable.Range(0, T).Select(j => v[i * T + j] ? '1' : '0'))));

    [Fact]
    public void Causal_with_a_prefix_sees_the_prefix_both_ways()
    {
        var m = new MaskComposition(4, IsCausal: true, Window: null, WindowAhead: 0, GlobalTokens: 0, PrefixLength: 2, Padded: [], TileSize: 2);
        Assert.Equal("1100|1100|1110|1111", Rows(m.Visible(), 4));
    }

    [Fact]
    public void A_window_with_a_global_token_and_padding()
    {
        var m = new MaskComposition(5, IsCausal: true, Window: 2, WindowAhead: 0, GlobalTokens: 1, PrefixLength: 0, Padded: [3], TileSize: 2);
        // each query sees itself and one key back, plus the global token 0; key 3 is padding (row 3 keeps key 2)
        Assert.Equal("10000|11000|11100|10100|10001", Rows(m.Visible(), 5));
    }

    [Fact]
    public void A_two_sided_window_without_causality()
    {
        var m = new MaskComposition(4, IsCausal: false, Window: 2, WindowAhead: 1, GlobalTokens: 0, PrefixLength: 0, Padded: [], TileSize: 2);
        // window 2 = the query and one key back (Mistral's sliding_window), plus one key ahead
        Assert.Equal("1100|1110|0111|0011", Rows(m.Visible(), 4));
    }

    [Fact]
    public void Row_ranges_and_tiles_cover_every_visible_cell_and_tiles_skip_empty_blocks()
    {
        int T = 8;
        var m = new MaskComposition(T, true, 2, 0, 0, 0, [], 2);
        var v = m.Visible();
        var rows = MaskComposition.RowRanges(v, T);
        var tiles = MaskComposition.Tiles(v, T, 2);
        for (int k = 0; k < v.Length; k++)
        {
            if (v[k]) { Assert.True(rows[k]); Assert.True(tiles[k]); }
        }
        // a band of width 2 under causal: 4 diagonal tiles + 3 sub-diagonal tiles of 16 are computed
        Assert.Equal(7 * 4, tiles.Count(b => b));
        Assert.Equal(v.Count(b => b), rows.Count(b => b));      // a contiguous band: row ranges waste nothing
    }
}
