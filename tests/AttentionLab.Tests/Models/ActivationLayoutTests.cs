using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>The one activation layout of the CPU and GPU models: slots tile the arena without gaps or overlaps, and
/// an arena too large for one CPU array is laid out (the GPU's) but refused by the CPU's allocation.</summary>
public class ActivationLayoutTests
{
    private static IEnumerable<Slot> SlotsOf(ActivationLayout a)
    {
        foreach (var p in typeof(ActivationLayout).GetProperties().Where(p => p.PropertyType == typeof(Slot)))
            yield return (Slot)p.GetValue(a)!;
        foreach (var b in a.Blocks)
            foreach (var p in typeof(DecoderBlockActivations).GetProperties().Where(p => p.PropertyType == typeof(Slot) && p.CanWrite))
                yield return (Slot)p.GetValue(b)!;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_slots_tile_the_arena_exactly(bool training)
    {
        var config = DecoderConfig.Tiny with { KeyValueHeads = 2, QkNorm = true };
        var a = new ActivationLayout(config, 2, 8, savedPerBlock: training ? 2 * 4 * 8 * 8 : 0, training);
        var slots = SlotsOf(a).Where(s => s.Count > 0).OrderBy(s => s.Start).ToList();
        long next = 0;
        foreach (var s in slots)
        {
            Assert.Equal(next, s.Start);                                  // no gap, no overlap
            next = s.Start + s.Count;
        }
        Assert.Equal(a.Count, next);
    }

    [Fact]
    public void A_GPU_sized_arena_has_long_offsets_and_the_CPU_refuses_to_allocate_it()
    {
        var config = DecoderConfig.Gpt2_124M;
        long saved = 8L * config.Heads * 1024 * 1024;                       // the weights a naive kernel saves per block
        var layout = new ActivationLayout(config, 8, 1024, saved, training: true);
        Assert.True(layout.Count > int.MaxValue);
        Assert.True(layout.Blocks[^1].Residual3.Start > int.MaxValue);
        var e = Assert.Throws<OutOfMemoryException>(() => new DecoderActivations(config, 8, 1024, saved, training: true, reuse: null));
        Assert.Contains("do not fit one array", e.Message);
    }
}
