using AttentionLab.Attention;
using AttentionLab.Hooks;
using AttentionLab.Inspection;
using AttentionLab.Models;
using AttentionLab.Ops;
using AttentionLab.Tests.Generation;

namespace AttentionLab.Tests.Hooks;

/// <summary>Hooks per call: canonical names, a cache that holds only what was asked, values that agree with the
/// definitions, editors that change the pass and only that pass.</summary>
public class HookTests
{
    private static readonly int[] Ids = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7];

    public static TheoryData<string> Kernels => new() { "fast", "naive", "flash,tile:4", "window:3,global:1", "performer:16,seed:2" };

    [Fact]
    public void Names_are_TransformerLens_names_and_read_back()
    {
        var c = DecoderConfig.Tiny;
        var all = HookNames.For(c);
        Assert.Equal(2 + 16 * c.Layers + 2, all.Count);                  // embed, pos_embed, 16 per block, ln_final's scale and output
        Assert.Contains(all, h => h.Name == "blocks.1.attn.hook_result" && h.Shape == "(B, T, H, C)");
        Assert.Equal("ln_final.hook_scale", all[^2].Name);
        Assert.Equal(all.Count, all.Select(h => h.Name).Distinct().Count());
        Assert.Contains(all, h => h.Name == "hook_embed");
        Assert.Contains(all, h => h.Name == "hook_pos_embed");
        Assert.Contains(all, h => h.Name == "blocks.1.attn.hook_pattern" && h.Shape == "(B, H, Tq, Tk)");
        Assert.Contains(all, h => h.Name == "blocks.0.ln1.hook_normalized");
        Assert.Contains(all, h => h.Name == "blocks.0.mlp.hook_post");
        Assert.Equal("ln_final.hook_normalized", all[^1].Name);
        foreach (var h in all)
        {
            Assert.True(HookNames.TryParse(h.Name, out var point, out int layer), h.Name);
            Assert.Equal(h.Point, point);
            Assert.Equal(h.Layer, layer);
        }
        Assert.False(HookNames.TryParse("blocks.x.attn.hook_pattern", out _, out _));
        Assert.False(HookNames.TryParse("blocks.0.attn.pattern", out _, out _));
        Assert.DoesNotContain(HookNames.For(c with { Positions = PositionEncoding.None }), h => h.Point == HookPoint.PosEmbed);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void A_cache_changes_nothing_and_holds_only_what_was_asked(string kernel)
    {
        var model = TinyGpt2.Random(4, AttentionKernels.Parse(kernel));
        int T = Ids.Length, H = model.Config.Heads;
        model.Forward(Ids, 1, T);
        var plain = model.Logits.ToArray();

        var (_, everything) = model.RunWithCache(Ids, _ => true);
        Assert.Equal(plain, model.Logits.ToArray());                           // bit-identical with every hook reading
        Assert.Equal(HookNames.For(model.Config).Select(h => h.Name), everything.Names);

        var (_, one) = model.RunWithCache(Ids, n => n == "blocks.1.attn.hook_pattern");
        Assert.Equal(["blocks.1.attn.hook_pattern"], one.Names);
        Assert.Equal((long)H * T * T, one.Floats);                             // one layer's pattern, nothing else
        Assert.Equal([1, H, T, T], one["blocks.1.attn.hook_pattern"].Shape);
        Assert.Equal(plain, model.Logits.ToArray());
        Assert.Throws<KeyNotFoundException>(() => one["blocks.0.attn.hook_pattern"]);
    }

    /// <summary>The pattern is the kernel's own: for kernels that never materialize weights (flash, window,
    /// performer) it is what <see cref="IAttentionKernel.Weights"/> gives from the same q and k.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void The_pattern_is_what_the_kernel_applies(string kernel)
    {
        var model = TinyGpt2.Random(6, AttentionKernels.Parse(kernel));
        var (_, cache) = model.RunWithCache(Ids, n => n.EndsWith("hook_pattern", StringComparison.Ordinal));
        for (int l = 0; l < model.Config.Layers; l++)
            Assert.Equal(model.AttentionWeights(l), cache[$"blocks.{l}.attn.hook_pattern"].Data);
    }

    [Fact]
    public void Flash_gives_the_same_pattern_as_fast_to_rounding()
    {
        var fast = TinyGpt2.Random(8, AttentionKernels.Fast);
        var flash = TinyGpt2.Random(8, AttentionKernels.Parse("flash,tile:4"));
        var (_, a) = fast.RunWithCache(Ids, n => n.EndsWith("hook_pattern", StringComparison.Ordinal));
        var (_, b) = flash.RunWithCache(Ids, n => n.EndsWith("hook_pattern", StringComparison.Ordinal));
        foreach (var name in a.Names)
            for (int i = 0; i < a[name].Length; i++) Assert.Equal(a[name].Data[i], b[name].Data[i], 1e-6f);
    }

    /// <summary>Every cached activation agrees with its definition, computed here from the others.</summary>
    [Fact]
    public void Cached_values_agree_with_their_definitions()
    {
        var model = TinyGpt2.Random(5);
        var c = model.Config;
        int T = Ids.Length, C = c.Channels, H = c.Heads, D = c.HeadDim;
        var (_, x) = model.RunWithCache(Ids, _ => true);
        float[] A(string n) => x[n].Data;

        // resid_pre of block 0 = token embedding + position embedding, the same float sum
        var sum = new float[T * C];
        System.Numerics.Tensors.TensorPrimitives.Add(A("hook_embed"), A("hook_pos_embed"), sum);
        Assert.Equal(sum, A("blocks.0.hook_resid_pre"));
        for (int t = 0; t < T; t++)
            Assert.Equal(model.Parameters[model.Layout.TokenEmbedding].Slice(Ids[t] * C, C).ToArray(), A("hook_embed").AsSpan(t * C, C).ToArray());

        for (int l = 0; l < c.Layers; l++)
        {
            string b = $"blocks.{l}.";
            // the residual stream: resid_mid = resid_pre + attn_out, resid_post = resid_mid + mlp_out (rounding: the
            // forward folds the residual into the GEMM's accumulator)
            Close(Add(A(b + "hook_resid_pre"), A(b + "hook_attn_out")), A(b + "hook_resid_mid"), 1e-5f);
            Close(Add(A(b + "hook_resid_mid"), A(b + "hook_mlp_out")), A(b + "hook_resid_post"), 1e-5f);
            Assert.Equal(model.BlockOutput(l).ToArray(), A(b + "hook_resid_post"));
            if (l + 1 < c.Layers) Assert.Equal(A(b + "hook_resid_post"), A($"blocks.{l + 1}.hook_resid_pre"));

            // mlp_post = gelu(mlp_pre), the same op
            var gelu = new float[A(b + "mlp.hook_pre").Length];
            Gelu.Forward(A(b + "mlp.hook_pre"), gelu);
            Assert.Equal(gelu, A(b + "mlp.hook_post"));

            // scores = q·k/√D (−∞ above the diagonal), pattern = softmax(scores), z = pattern·v; q, k, v are (1, T, H, D)
            var q = A(b + "attn.hook_q"); var k = A(b + "attn.hook_k"); var v = A(b + "attn.hook_v");
            var scores = A(b + "attn.hook_attn_scores"); var pattern = A(b + "attn.hook_pattern"); var z = A(b + "attn.hook_z");
            Assert.Equal([1, T, H, D], x[b + "attn.hook_q"].Shape);
            Assert.Equal([1, T, H, D], x[b + "attn.hook_z"].Shape);
            for (int h = 0; h < H; h++)
                for (int i = 0; i < T; i++)
                {
                    double max = double.NegativeInfinity;
                    var row = new double[T];
                    for (int j = 0; j < T; j++)
                    {
                        double s = 0;
                        for (int d = 0; d < D; d++) s += q[(i * H + h) * D + d] * k[(j * H + h) * D + d];
                        row[j] = j <= i ? s / Math.Sqrt(D) : double.NegativeInfinity;
                        float got = scores[(h * T + i) * T + j];
                        if (j > i) Assert.Equal(float.NegativeInfinity, got);
                        else Assert.Equal(row[j], got, 1e-5);
                        max = Math.Max(max, row[j]);
                    }
                    double total = row.Sum(r => Math.Exp(r - max));
                    for (int j = 0; j < T; j++) Assert.Equal(Math.Exp(row[j] - max) / total, pattern[(h * T + i) * T + j], 1e-6);
                    for (int d = 0; d < D; d++)
                    {
                        double mixed = 0;
                        for (int j = 0; j < T; j++) mixed += pattern[(h * T + i) * T + j] * v[(j * H + h) * D + d];
                        Assert.Equal(mixed, z[(i * H + h) * D + d], 1e-5);
                    }
                }
        }
        // ln_final.hook_normalized is what the unembedding reads: its product with wteᵀ is the logits
        var final = A("ln_final.hook_normalized");
        var wte = model.Parameters[model.Layout.TokenEmbedding];
        var logits = model.Logits;
        for (int t = 0; t < T; t++)
            for (int tok = 0; tok < c.VocabSize; tok += 7)
                Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(final.AsSpan(t * C, C), wte.Slice(tok * C, C)), logits[t * c.VocabSize + tok], 1e-4f);
    }

    [Fact]
    public void Zeroing_a_head_with_a_hook_is_the_head_gate_and_lasts_one_call()
    {
        var model = TinyGpt2.Random(3);
        var c = model.Config;
        float plain = model.RunWithHooks(Ids, new HookSet());
        var plainLogits = model.Logits.ToArray();
        float ablated = model.RunWithHooks(Ids, new HookSet().ZeroHead(layer: 0, head: 1));
        var ablatedLogits = model.Logits.ToArray();
        Assert.NotEqual(plain, ablated);
        var gates = Enumerable.Repeat(1f, c.Layers * c.Heads).ToArray();
        gates[1] = 0;
        var report = DecoderInspector.Inspect(model, null, Ids, new InspectionOptions { HeadGates = gates });
        Assert.Equal(ablatedLogits, report.Logits);
        Assert.Equal(ablated, report.Loss);
        // the zeroed head's z is 0 in the pass that zeroed it, and the next call is the plain model again
        var (_, cache) = model.RunWithCache(Ids, n => n == "blocks.0.attn.hook_z", new ForwardOptions { Hooks = new HookSet().ZeroHead(0, 1) });
        var z = cache["blocks.0.attn.hook_z"].Data;
        for (int t = 0; t < Ids.Length; t++)
            Assert.All(z.AsSpan((t * c.Heads + 1) * c.HeadDim, c.HeadDim).ToArray(), value => Assert.Equal(0f, value));
        model.Forward(Ids, 1, Ids.Length);
        Assert.Equal(plainLogits, model.Logits.ToArray());
    }

    /// <summary>An editor on the scores makes the layer run softmax(scores)·v from what it wrote: hiding key 0 with
    /// −∞ equals the key-padding mask that hides it, and an editor that writes nothing back leaves the pass as it was
    /// (to rounding: the written-out reference replaces the kernel).</summary>
    [Fact]
    public void Editing_the_scores_is_masking()
    {
        var model = TinyGpt2.Random(7);
        int T = Ids.Length;
        model.Forward(Ids, 1, T);
        var plain = model.Logits.ToArray();
        model.RunWithHooks(Ids, new HookSet().Edit(n => n.EndsWith("hook_attn_scores", StringComparison.Ordinal), (_, s) => { }));
        Close(plain, model.Logits.ToArray(), 1e-5f);

        var hideFirst = new HookSet().Edit(n => n.EndsWith("hook_attn_scores", StringComparison.Ordinal), (ctx, memory) =>
        {
            var s = memory.Span;
            int tk = ctx.Shape[3];
            for (int r = 0; r < s.Length / tk; r++) s[r * tk] = float.NegativeInfinity;
        });
        model.RunWithHooks(Ids, hideFirst);
        var edited = model.Logits.ToArray();
        var keep = Enumerable.Repeat(true, T).ToArray();
        keep[0] = false;
        model.Forward(Ids, 1, T, default, new ForwardOptions { AttentionOptions = model.AttentionOptions with { KeyPaddingMask = keep } });
        Close(model.Logits.ToArray(), edited, 1e-5f);
        Assert.NotEqual(plain, edited);
    }

    [Fact]
    public void Editing_the_pattern_changes_what_mixes_the_values()
    {
        var model = TinyGpt2.Random(2);
        int T = Ids.Length;
        model.Forward(Ids, 1, T);
        var plain = model.Logits.ToArray();
        // every query attends to itself only: z = v at the same position
        var self = new HookSet().Edit("blocks.0.attn.hook_pattern", (ctx, memory) =>
        {
            var p = memory.Span;
            p.Clear();
            for (int r = 0; r < p.Length / T; r++) p[r * T + r % T] = 1;
        });
        var (_, cache) = model.RunWithCache(Ids, n => n.StartsWith("blocks.0.attn.hook_", StringComparison.Ordinal), new ForwardOptions { Hooks = self });
        Assert.Equal(cache["blocks.0.attn.hook_v"].Data, cache["blocks.0.attn.hook_z"].Data);
        Assert.NotEqual(plain, model.Logits.ToArray());
    }

    [Fact]
    public void Editing_the_residual_stream_carries_through()
    {
        var model = TinyGpt2.Random(9);
        var c = model.Config;
        // doubling resid_pre of block 1 is what block 1 sees
        var (_, cache) = model.RunWithCache(Ids, n => n == "blocks.0.hook_resid_post" || n == "blocks.1.hook_resid_pre",
            new ForwardOptions { Hooks = new HookSet().Edit("blocks.1.hook_resid_pre", (_, m) => System.Numerics.Tensors.TensorPrimitives.Multiply(m.Span, 2f, m.Span)) });
        var doubled = cache["blocks.0.hook_resid_post"].Data.Select(v => 2 * v).ToArray();
        Assert.Equal(doubled, cache["blocks.1.hook_resid_pre"].Data);
        Assert.Equal(c.Channels, cache["blocks.1.hook_resid_pre"].Shape[2]);
    }

    [Fact]
    public void A_training_forward_with_editors_has_no_backward_and_readers_change_no_gradient()
    {
        var model = new DecoderModel(DecoderConfig.Tiny);
        model.InitializeWeights(1);
        int T = Ids.Length;
        var targets = Ids[1..].Append(0).ToArray();
        model.ZeroGrad();
        float loss = model.Forward(Ids, 1, T, targets);
        model.Backward();
        var gradients = model.Gradients.Data.ToArray();

        model.ZeroGrad();
        var (recorder, cache) = ActivationCache.Recorder(_ => true);
        Assert.Equal(loss, model.Forward(Ids, 1, T, targets, new ForwardOptions { Hooks = recorder }));
        model.Backward();
        Assert.Equal(gradients, model.Gradients.Data);
        Assert.NotEmpty(cache.Names);

        model.Forward(Ids, 1, T, targets, new ForwardOptions { Hooks = new HookSet().ZeroHead(0, 0) });
        Assert.Contains("edit", Assert.Throws<InvalidOperationException>(() => model.Backward()).Message);
    }

    [Fact]
    public void Hooks_run_in_the_cached_forward_too()
    {
        var model = TinyGpt2.Random(11);
        var c = model.Config;
        var cache = model.CreateCache();
        model.ForwardCached(Ids.AsSpan(0, 6), cache);
        float[]? seen = null;
        int[]? shape = null;
        var read = new HookSet().Read("blocks.1.attn.hook_pattern", (ctx, w) => { seen = w.ToArray(); shape = ctx.Shape; });
        model.ForwardCached(Ids.AsSpan(6, 2), cache, new ForwardOptions { Hooks = read });
        Assert.Equal([1, c.Heads, 2, 8], shape!);
        Assert.Equal(model.AttentionWeights(1), seen);
    }

    private static float[] Add(float[] a, float[] b)
    {
        var s = new float[a.Length];
        System.Numerics.Tensors.TensorPrimitives.Add(a, b, s);
        return s;
    }

    private static void Close(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] {expected[i]} vs {actual[i]}");
    }
}
