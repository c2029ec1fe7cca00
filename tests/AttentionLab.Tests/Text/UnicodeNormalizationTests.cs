using AttentionLab.Text;

namespace AttentionLab.Tests.Text;

/// <summary>
/// <see cref="UnicodeNormalization"/> (NFC and NFD from the embedded Unicode data, no ICU) against Python's
/// <c>unicodedata.normalize</c> on fixtures/nfc_cases.json (make_nfc_fixture.py): Latin with combining marks in and
/// out of canonical order, Vietnamese, Hangul jamo and syllables, CJK compatibility ideographs, composition
/// exclusions, two-starter and astral compositions, already-NFC text, and 400 random mixtures. Every string must be
/// equal, code point for code point.
/// </summary>
public class UnicodeNormalizationTests
{
    private static readonly System.Text.Json.JsonElement Fixture = Fixtures.Load("nfc_cases.json");

    [Fact]
    public void NfcAndNfdMatchPythonsUnicodedata()
    {
        Assert.Equal(Fixture.GetProperty("unicode").GetString(), UnicodeNormalization.UnicodeVersion);   // the same Unicode version
        int changed = 0;
        foreach (var c in Fixture.GetProperty("cases").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!, text = c.GetProperty("text").GetString()!;
            string nfc = c.GetProperty("nfc").GetString()!, nfd = c.GetProperty("nfd").GetString()!;
            Assert.True(nfc == UnicodeNormalization.Nfc(text), $"NFC of {name}: expected {Hex(nfc)}, got {Hex(UnicodeNormalization.Nfc(text))}");
            Assert.True(nfd == UnicodeNormalization.Nfd(text), $"NFD of {name}: expected {Hex(nfd)}, got {Hex(UnicodeNormalization.Nfd(text))}");
            Assert.Equal(nfc, UnicodeNormalization.Nfc(nfd));                // NFC of the decomposed text is the same
            if (nfc != text) changed++;
        }
        Assert.True(changed > 200, $"only {changed} cases change under NFC");   // the fixture exercises composition
    }

    [Fact]
    public void WellKnownCompositions()
    {
        Assert.Equal("\u00E9", UnicodeNormalization.Nfc("e\u0301"));
        Assert.Equal("\uD55C", UnicodeNormalization.Nfc("\u1112\u1161\u11AB"));         // 한 from its jamo
        Assert.Equal("\u1112\u1161\u11AB", UnicodeNormalization.Nfd("\uD55C"));
        Assert.Equal("\u8C48", UnicodeNormalization.Nfc("\uF900"));                      // a singleton never comes back
        Assert.Equal("\u0915\u093C", UnicodeNormalization.Nfc("\u0958"));                // an exclusion stays decomposed
        Assert.Equal(230, UnicodeNormalization.CombiningClass(0x301));
        Assert.Equal(0, UnicodeNormalization.CombiningClass('a'));
    }

    [Fact]
    public void QwenTokenizesDecomposedTextAsItsComposedForm()
    {
        // Qwen2's tokenizer.json normalizes to NFC: decomposed accents and jamo tokenize as the composed text does
        var qwen = HfTokenizer.Load(Path.Combine(Fixtures.Directory, "hf_tokenizers", "qwen2"));
        Assert.Equal(qwen.Encode("café Việt 한국"), qwen.Encode("cafe\u0301 Vie\u0323\u0302t \u1112\u1161\u11AB\u1100\u116E\u11A8"));
    }

    private static string Hex(string s) => string.Join(" ", s.EnumerateRunes().Select(r => $"U+{r.Value:X4}"));
}
