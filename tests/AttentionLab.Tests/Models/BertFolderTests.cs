using System.Text.Json;
using AttentionLab.IO;
using AttentionLab.Models;

namespace AttentionLab.Tests.Models;

/// <summary>
/// BERT's folder format across the move onto the one stack: a folder saved by the Tensor-module BERT
/// (fixtures/bert_tensor_module) loads, gives that code's logits, and holds exactly the weights the same seed draws
/// now; and a saved folder keeps its state-dict names and PyTorch (out, in) layout, q, k, v cut out of the fused c_attn.
/// Logits to 1e-5 relative + 1e-5 absolute: the same float32 weights through GEMMs that sum in another order.
/// </summary>
public class BertFolderTests
{
    private static string OldFolder => Path.Combine(Fixtures.Directory, "bert_tensor_module");

    [Fact]
    public void AFolderOfTheTensorModuleBertLoadsWithItsLogitsAndItsSeedsWeights()
    {
        var model = BertModel.Load(OldFolder);
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(OldFolder, "expected_logits.json")));
        var root = expected.RootElement;
        int[] input = root.GetProperty("input").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        bool[] padding = root.GetProperty("padding").EnumerateArray().Select(e => e.GetBoolean()).ToArray();
        float[] logits = root.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var actual = model.Logits(input, padding, root.GetProperty("batch").GetInt32(), root.GetProperty("length").GetInt32());
        Close.Assert(actual.Data, logits, 1e-5, 1e-5, "logits of the old folder");
        // the folder was saved right after construction: the same seed draws the same weights, bit for bit
        var fresh = new BertModel(model.Config);
        Assert.Equal(fresh.Parameters.Data, model.Parameters.Data);
    }

    [Fact]
    public void SavingKeepsTheStateDictNamesShapesAndLinearLayout()
    {
        var model = new BertModel(new BertConfig { Characters = "ab c", Channels = 8, Heads = 2, Layers = 1, MaxLength = 8, Seed = 11 });
        var dir = Path.Combine(Path.GetTempPath(), "attnlab-bert-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.Save(dir);
            var (saved, _) = SafeTensors.Read(Path.Combine(dir, ModelFolder.WeightsFile));
            var (old, _) = SafeTensors.Read(Path.Combine(OldFolder, ModelFolder.WeightsFile));
            Assert.Equal(old.Keys.Order(StringComparer.Ordinal), saved.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, t) in old) Assert.Equal(t.Shape, saved[name].Shape);
            // nn.Linear (out, in): key.weight[o, i] is c_attn[i, C + o]; fc.weight[o, i] is c_fc[i, o]
            int c = 8;
            var p = model.Parameters;
            var cAttn = p[model.Transformer.Layout.Blocks[0].AttentionWeight];
            var cFc = p[model.Transformer.Layout.Blocks[0].MlpWeight];
            var key = saved["h.0.attn.key.weight"].Data;
            var fc = saved["h.0.mlp.fc.weight"].Data;
            for (int o = 0; o < c; o++)
                for (int i = 0; i < c; i++)
                {
                    Assert.Equal(cAttn[i * 3 * c + c + o], key[o * c + i]);
                    Assert.Equal(cFc[i * 4 * c + o], fc[o * c + i]);
                }
            Assert.Equal(p[model.Transformer.Layout.OutputBias!].ToArray(), saved["mlm_head.bias"].Data);
            var loaded = BertModel.Load(dir);
            Assert.Equal(model.Parameters.Data, loaded.Parameters.Data);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }
}
