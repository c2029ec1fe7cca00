using System.Text;
using System.Text.Json;
using AttentionLab.IO;
using AttentionLab.Text.HuggingFace;
using Microsoft.ML.Tokenizers;

namespace AttentionLab.Text;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> with a BPE model, the two kinds the Llama family ships:
/// <list type="bullet">
/// <item>byte-level BPE (Qwen2/2.5/3, SmolLM2, Llama 3): a Split regex and/or ByteLevel pre-tokenizer, the pieces
///   written in <see cref="ByteLevelAlphabet"/>, merged by rank; Llama 3's <c>ignore_merges</c> takes a piece that is
///   itself in the vocabulary whole;</item>
/// <item>SentencePiece-style BPE (Llama 2, TinyLlama; Mistral v0.3 with a Metaspace pre-tokenizer instead): no
///   pre-tokenizer, the normalizer puts "▁" before the text and for every space, merges run over the whole stretch, and a character outside the vocabulary falls back to its
///   UTF-8 bytes as <c>&lt;0xXX&gt;</c> tokens (<c>byte_fallback</c>).</item>
/// </list>
/// The steps are tokenizer.json's own: added tokens (<c>&lt;|im_start|&gt;</c>, <c>&lt;s&gt;</c>, …) are cut out of
/// the raw text first (leftmost, longest), then each stretch between them is normalized, pre-tokenized and merged;
/// decoding runs the file's decoder. The byte-level merges run on Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>;
/// the SentencePiece-style ones on <see cref="BpeMerges"/>, the plain loop, because that BpeTokenizer has no
/// byte fallback (and its LlamaTokenizer reads only SentencePiece's .model protobuf, not tokenizer.json). The ids are
/// checked against an independent plain-Python BPE (fixtures/make_hf_tokenizers.py) on tiny files of each kind.
/// Not read: added tokens' <c>lstrip</c>/<c>rstrip</c>/<c>single_word</c> (false in these families); an added token
/// marked <c>normalized: true</c> is matched on the raw text like the others.
/// </summary>
public sealed class HfTokenizer : ITokenizer
{
    /// <summary>The tokenizer file of a Hugging Face folder.</summary>
    public const string FileName = "tokenizer.json";

    /// <summary>Its companion with the bos/eos tokens and add_bos_token.</summary>
    public const string ConfigFileName = "tokenizer_config.json";

    /// <summary>tokenizer.json files larger than this are refused (Llama 3's is 9 MB, Qwen2.5's 7 MB).</summary>
    public const long MaxFileBytes = 64 << 20;

    private readonly Dictionary<string, int> _vocab;
    private readonly string?[] _tokens;                 // id → token string (model vocabulary and added tokens)
    private readonly (string Content, int Id)[] _added; // longest first
    private readonly HashSet<int> _special;
    private readonly HfNormalizer? _normalizer;
    private readonly HfPreTokenizer? _preTokenizer;
    private readonly HfDecoder _decoder;
    private readonly BpeMerges _merges;
    private readonly BpeTokenizer? _library;            // byte-level merges on Microsoft.ML.Tokenizers
    private readonly bool _byteFallback, _ignoreMerges, _fuseUnknown;
    private readonly int? _unknownId;
    private readonly byte[] _json, _config;

    private static readonly RegexPreTokenizer WholePiece = new(new System.Text.RegularExpressions.Regex("(?s).+"), null);

    /// <summary>"hf": the model's own tokenizer.json.</summary>
    public string Name => "hf";

    /// <summary>The highest id + 1, the model vocabulary and the added tokens together (config.json's vocab_size may
    /// be larger: embedding rows padded past the last token).</summary>
    public int VocabSize => _tokens.Length;

    /// <summary>True for byte-level BPE, false for SentencePiece-style.</summary>
    public bool IsByteLevel { get; }

    /// <summary>The beginning-of-sequence id (tokenizer_config.json's bos_token), or null.</summary>
    public int? BosTokenId { get; }

    /// <summary>The end-of-sequence id (tokenizer_config.json's eos_token), or null.</summary>
    public int? EosTokenId { get; }

    /// <summary>Whether a prompt starts with <see cref="BosTokenId"/> (tokenizer_config.json's add_bos_token, else
    /// whether tokenizer.json's post-processor puts a special token before the text).</summary>
    public bool AddBosToken { get; }

    /// <summary>The ids of the added tokens marked special.</summary>
    public IReadOnlySet<int> SpecialTokenIds => _special;

    /// <summary>The number of merges (their rank order is the file's).</summary>
    public int MergeCount => _merges.Count;

    /// <summary>Reads <see cref="FileName"/> and, when present, <see cref="ConfigFileName"/> from a folder.</summary>
    /// <exception cref="InvalidDataException">a missing, damaged or unsupported file: one line that says which</exception>
    public static HfTokenizer Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new InvalidDataException($"{directory} has no {FileName}");
        var json = InputFile.ReadAllBytes(path, MaxFileBytes, FileName);
        var configPath = Path.Combine(directory, ConfigFileName);
        var config = File.Exists(configPath) ? InputFile.ReadAllBytes(configPath, DecoderFolder.MaxConfigBytes, ConfigFileName) : [];
        return new HfTokenizer(json, config, path);
    }

    /// <summary>True when the folder holds a tokenizer.json.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, FileName));

    /// <summary>Parses tokenizer.json (and tokenizer_config.json, empty for none); <paramref name="what"/> names it in
    /// messages. Total: any bytes give a tokenizer or one <see cref="InvalidDataException"/>.</summary>
    public HfTokenizer(byte[] tokenizerJson, byte[] tokenizerConfigJson, string what = FileName)
    {
        _json = tokenizerJson;
        _config = tokenizerConfigJson;
        try
        {
            using var doc = InputFile.ParseJson(tokenizerJson, what);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{what} is not a JSON object");
            var f = new JsonFields(root, what);
            if (f.Optional("model", JsonValueKind.Object) is not JsonElement model) throw new InvalidDataException($"{what} has no 'model' object");
            var m = new JsonFields(model, $"{what}: model");
            string type = m.OptionalString("type") ?? "BPE";
            if (type != "BPE") throw new InvalidDataException($"{what}: model type '{HfPattern.Short(type)}' is not supported (BPE is)");
            foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
                if (m.OptionalString(affix) is { Length: > 0 }) throw new InvalidDataException($"{what}: a BPE with '{affix}' is not supported");
            if (m.OptionalDouble("dropout") is > 0) throw new InvalidDataException($"{what}: BPE dropout is not supported");

            _vocab = ReadVocabulary(model, what);
            var merges = ReadMerges(model, what);
            foreach (var (l, r) in merges)
                if (!_vocab.ContainsKey(l) || !_vocab.ContainsKey(r) || !_vocab.ContainsKey(l + r))
                    throw new InvalidDataException($"{what}: merge '{HfPattern.Short(l)} {HfPattern.Short(r)}' uses or makes a token that is not in the vocabulary");
            _merges = new BpeMerges(merges);
            _byteFallback = m.OptionalBool("byte_fallback") ?? false;
            _ignoreMerges = m.OptionalBool("ignore_merges") ?? false;
            _fuseUnknown = m.OptionalBool("fuse_unk") ?? false;
            if (m.OptionalString("unk_token") is string unk)
                _unknownId = _vocab.TryGetValue(unk, out int u) ? u : throw new InvalidDataException($"{what}: unk_token '{HfPattern.Short(unk)}' is not in the vocabulary");

            var added = ReadAddedTokens(root, what);
            _special = [.. added.Where(a => a.Special).Select(a => a.Id)];
            _added = [.. added.Select(a => (a.Content, a.Id)).OrderByDescending(a => a.Content.Length)];
            int size = Math.Max(_vocab.Count == 0 ? 0 : _vocab.Values.Max() + 1, added.Count == 0 ? 0 : added.Max(a => a.Id) + 1);
            _tokens = new string?[size];
            foreach (var (t, id) in _vocab) _tokens[id] = t;
            foreach (var a in added) _tokens[a.Id] = a.Content;

            _normalizer = HfNormalizer.Parse(f.Get("normalizer"), what);
            _preTokenizer = HfPreTokenizer.Parse(f.Get("pre_tokenizer"), what);
            _decoder = HfDecoder.Parse(f.Get("decoder"), what);
            IsByteLevel = _preTokenizer?.IsByteLevel ?? false;
            if (IsByteLevel && _byteFallback) throw new InvalidDataException($"{what}: a byte-level BPE with byte_fallback is not supported");
            if (IsByteLevel)
                _library = BpeTokenizer.Create(new BpeOptions(_vocab)
                {
                    Merges = [.. merges.Select(p => $"{p.Left} {p.Right}")],
                    PreTokenizer = WholePiece,     // the pieces are already split; its default would split "'t" again
                });

            string? templateBos = PostProcessorFirstToken(f.Get("post_processor"));
            (BosTokenId, EosTokenId, AddBosToken) = ReadConfig(tokenizerConfigJson, templateBos, what);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{what}: malformed tokenizer ({e.GetType().Name}: {e.Message})", e);
        }
    }

    private static Dictionary<string, int> ReadVocabulary(JsonElement model, string what)
    {
        if (!model.TryGetProperty("vocab", out var v) || v.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{what}: model has no 'vocab' object");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var ids = new HashSet<int>();
        foreach (var p in v.EnumerateObject())
        {
            string token = InputFile.GetName(p, "vocabulary token");
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0 || id >= 1 << 24)
                throw new InvalidDataException($"{what}: token '{HfPattern.Short(token)}' has id {InputFile.Describe(p.Value)}, not an integer in [0, 2^24)");
            if (!vocab.TryAdd(token, id)) throw new InvalidDataException($"{what}: token '{HfPattern.Short(token)}' appears twice in the vocabulary");
            if (!ids.Add(id)) throw new InvalidDataException($"{what}: id {id} is given to two vocabulary tokens");
        }
        return vocab;
    }

    /// <summary>Merges as "left right" strings (the older format) or [left, right] pairs (tokenizers ≥ 0.20).</summary>
    private static List<(string Left, string Right)> ReadMerges(JsonElement model, string what)
    {
        var merges = new List<(string, string)>();
        if (!model.TryGetProperty("merges", out var a)) return merges;
        if (a.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{what}: model 'merges' is not a list");
        foreach (var e in a.EnumerateArray())
        {
            if (e.ValueKind == JsonValueKind.String)
            {
                string s = InputFile.GetText(e, $"{what}: merge");
                int space = s.IndexOf(' ');
                if (space <= 0 || space == s.Length - 1 || s.IndexOf(' ', space + 1) >= 0)
                    throw new InvalidDataException($"{what}: merge '{HfPattern.Short(s)}' is not two tokens separated by one space");
                merges.Add((s[..space], s[(space + 1)..]));
            }
            else if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2 && e[0].ValueKind == JsonValueKind.String && e[1].ValueKind == JsonValueKind.String)
                merges.Add((InputFile.GetText(e[0], $"{what}: merge"), InputFile.GetText(e[1], $"{what}: merge")));
            else throw new InvalidDataException($"{what}: merge {InputFile.Describe(e)} is neither \"a b\" nor [\"a\", \"b\"]");
        }
        return merges;
    }

    private static List<(string Content, int Id, bool Special)> ReadAddedTokens(JsonElement root, string what)
    {
        var list = new List<(string, int, bool)>();
        if (!root.TryGetProperty("added_tokens", out var a) || a.ValueKind == JsonValueKind.Null) return list;
        if (a.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{what}: 'added_tokens' is not a list");
        foreach (var e in a.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{what}: an added token is {InputFile.Describe(e)}, not an object");
            var t = new JsonFields(e, $"{what}: added token");
            string content = t.RequiredString("content");
            if (content.Length == 0) throw new InvalidDataException($"{what}: an added token is empty");
            list.Add((content, t.RequiredInt("id", 0, (1 << 24) - 1), t.OptionalBool("special") ?? false));
        }
        return list;
    }

    /// <summary>The special token tokenizer.json's post-processor puts before the text, or null: a TemplateProcessing
    /// (alone or in a Sequence, as Llama 3 has it after ByteLevel) whose single-sequence template starts with a
    /// SpecialToken (Llama's <c>&lt;s&gt; $A</c>, Llama 3's <c>&lt;|begin_of_text|&gt; $A</c>).</summary>
    private static string? PostProcessorFirstToken(JsonElement? e)
    {
        if (e is not JsonElement p || p.ValueKind != JsonValueKind.Object || !p.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            return null;
        if (type.GetString() == "Sequence")
            return p.TryGetProperty("processors", out var ps) && ps.ValueKind == JsonValueKind.Array
                ? ps.EnumerateArray().Select(x => PostProcessorFirstToken(x)).FirstOrDefault(t => t is not null) : null;
        if (type.GetString() != "TemplateProcessing" || !p.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array ||
            single.GetArrayLength() == 0 || single[0].ValueKind != JsonValueKind.Object || !single[0].TryGetProperty("SpecialToken", out var token) ||
            token.ValueKind != JsonValueKind.Object || !token.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
            return null;
        return id.GetString();
    }

    /// <summary>
    /// The bos rule, one for every caller (<see cref="EncodeForModel"/>): tokenizer_config.json's <c>add_bos_token</c>
    /// where it is given (transformers' LlamaTokenizerFast rebuilds its post-processor from it), else whether
    /// tokenizer.json's post-processor puts a special token first (what the Rust tokenizers do with
    /// <c>add_special_tokens=True</c>: Llama 3's template). The bos token is tokenizer_config.json's <c>bos_token</c>,
    /// else the template's.
    /// </summary>
    private (int? Bos, int? Eos, bool AddBos) ReadConfig(byte[] config, string? templateBos, string what)
    {
        int? template = templateBos is null ? null : TokenId(templateBos, "the post-processor's first token", what);
        if (config.Length == 0) return (template, null, template is not null);
        string where = $"{what}: {ConfigFileName}";
        using var doc = InputFile.ParseJson(config, where);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where} is not a JSON object");
        var f = new JsonFields(doc.RootElement, where);
        int? bos = TokenId(f, "bos_token", where) ?? template, eos = TokenId(f, "eos_token", where);
        bool addBos = (f.OptionalBool("add_bos_token") ?? template is not null) && bos is not null;
        return (bos, eos, addBos);
    }

    /// <summary>A token named by its text or by an AddedToken object <c>{"content": …}</c>; null when absent or null.</summary>
    private int? TokenId(JsonFields f, string name, string what)
    {
        if (f.Get(name) is not JsonElement e || e.ValueKind == JsonValueKind.Null) return null;
        string text = e.ValueKind == JsonValueKind.Object ? new JsonFields(e, $"{what}: '{name}'").RequiredString("content") : InputFile.GetText(e, $"{what}: '{name}'");
        return TokenId(text, name, what);
    }

    private int TokenId(string text, string name, string what)
    {
        var match = _added.FirstOrDefault(a => a.Content == text);
        if (match.Content is not null) return match.Id;
        return _vocab.TryGetValue(text, out int id) ? id : throw new InvalidDataException($"{what}: {name} '{HfPattern.Short(text)}' is not a token of tokenizer.json");
    }

    /// <summary>Text → ids, without a beginning-of-sequence token (see <see cref="EncodeForModel"/>). Added tokens
    /// written in the text (<c>&lt;|im_end|&gt;</c>) become their ids. A training corpus is tokenized so: one stream,
    /// cut into windows anywhere, with no bos at a window's start.</summary>
    public int[] Encode(string text) => Encode(text, useLibrary: true);

    /// <summary>Text → ids as the model reads an input (generate's prompt, inspect's and analyze's text, the
    /// Explorer's): <see cref="BosTokenId"/> first when <see cref="AddBosToken"/> (Llama 2, TinyLlama, Llama 3; not
    /// Qwen or SmolLM2).</summary>
    public int[] EncodeForModel(string text)
    {
        var ids = Encode(text);
        return AddBosToken && BosTokenId is int bos ? [bos, .. ids] : ids;
    }

    /// <summary>How many ids <see cref="EncodeForModel"/> puts before the text's own: 1 with a bos token, else 0.</summary>
    public int PrefixLength => AddBosToken && BosTokenId is not null ? 1 : 0;

    /// <summary>Text → ids with every merge on the plain <see cref="BpeMerges"/> loop (the reference the library
    /// path is tested against).</summary>
    public int[] EncodeReference(string text) => Encode(text, useLibrary: false);

    private int[] Encode(string text, bool useLibrary)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        int at = 0;
        while (at < text.Length)
        {
            var (start, content, id) = NextAdded(text, at);
            if (start > at) EncodeStretch(text[at..start], at == 0, ids, useLibrary);
            if (content is null) break;
            ids.Add(id);
            at = start + content.Length;
        }
        return [.. ids];
    }

    /// <summary>The leftmost added token at or after <paramref name="from"/> (the longest there), or (length, null).</summary>
    private (int Start, string? Content, int Id) NextAdded(string text, int from)
    {
        int best = text.Length; string? content = null; int id = -1;
        foreach (var (c, i) in _added)   // longest first, so a tie at the same start keeps the longest
        {
            int k = text.IndexOf(c, from, StringComparison.Ordinal);
            if (k >= 0 && k < best) { best = k; content = c; id = i; }
        }
        return (best, content, id);
    }

    private void EncodeStretch(string stretch, bool atTextStart, List<int> ids, bool useLibrary)
    {
        string normalized = _normalizer?.Apply(stretch) ?? stretch;
        if (normalized.Length == 0) return;
        var pieces = _preTokenizer?.Apply([normalized], atTextStart) ?? [normalized];
        foreach (var piece in pieces)
        {
            if (piece.Length == 0) continue;
            if (_ignoreMerges && _vocab.TryGetValue(piece, out int whole)) { ids.Add(whole); continue; }
            if (useLibrary && _library is not null) { ids.AddRange(_library.EncodeToIds(piece)); continue; }
            EncodeWord(piece, ids, queued: useLibrary);
        }
    }

    /// <summary>One piece through BPE: its characters (or their byte tokens), merged by rank, on the plain loop or
    /// (<paramref name="queued"/>) the priority queue, which a SentencePiece-style stretch of a whole corpus needs.</summary>
    private void EncodeWord(string piece, List<int> ids, bool queued)
    {
        var symbols = new List<string>();
        bool lastUnknown = false;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in piece.EnumerateRunes())
        {
            string c = rune.ToString();
            if (_vocab.ContainsKey(c)) { symbols.Add(c); lastUnknown = false; continue; }
            if (_byteFallback)
            {
                int n = rune.EncodeToUtf8(utf8);
                var bytes = new string[n];
                for (int k = 0; k < n; k++) bytes[k] = $"<0x{utf8[k]:X2}>";
                if (bytes.All(_vocab.ContainsKey)) { symbols.AddRange(bytes); lastUnknown = false; continue; }
            }
            if (_unknownId is not int unk) throw new ArgumentException($"character {CharTokenizer.Describe(rune)} is not in the tokenizer's vocabulary and it has no unk_token");
            if (!(lastUnknown && _fuseUnknown)) symbols.Add("\0unk");
            lastUnknown = true;
        }
        if (queued) _merges.ApplyQueued(symbols); else _merges.Apply(symbols);
        foreach (var s in symbols) ids.Add(s == "\0unk" ? _unknownId!.Value : _vocab[s]);
    }

    /// <summary>Ids → text through tokenizer.json's decoder (special tokens included, as their text).</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_tokens.Length || _tokens[id] is not string t)
                throw new ArgumentException($"token id {id} is not in the tokenizer's vocabulary [0, {VocabSize})");
            tokens.Add(t);
        }
        return _decoder.Decode(tokens);
    }

    /// <summary>The token's text as decoded alone; "#id" for an id the tokenizer has no token for (a model's
    /// embedding rows padded past the last token, as Qwen2.5's 151,936 rows are past its 151,665 ids), so a label of a
    /// prediction never fails.</summary>
    public string TokenText(int id) => (uint)id < (uint)_tokens.Length && _tokens[id] is not null ? Decode([id]) : $"#{id}";

    /// <summary>The token string as the vocabulary spells it ("Ġthe", "▁the", "&lt;0x0A&gt;").</summary>
    public string? RawToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;

    /// <summary>The tokenizer.json and (when there was one) tokenizer_config.json this was read from, byte for byte.</summary>
    public IReadOnlyList<(string Name, byte[] Bytes)> Files =>
        _config.Length > 0 ? [(FileName, _json), (ConfigFileName, _config)] : [(FileName, _json)];

    /// <summary>Writes <see cref="Files"/> into a folder.</summary>
    public void Save(string directory)
    {
        foreach (var (name, bytes) in Files) File.WriteAllBytes(Path.Combine(directory, name), bytes);
    }
}
