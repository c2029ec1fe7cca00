using System.Diagnostics;
using System.Text;

namespace AttentionLab.Diagnostics;

/// <summary>
/// A file reader under test: valid example files (the seeds), how to read one, and which exceptions count as a
/// clean refusal (by default only <see cref="InvalidDataException"/>: "one clear line").
/// </summary>
/// <param name="Name">For reports ("safetensors", "config.json", …).</param>
/// <param name="Seeds">Valid files the mutations start from.</param>
/// <param name="Read">Reads one candidate file's bytes (writing them wherever the reader needs them).</param>
/// <param name="IsRefusal">True for an exception that is a clean, one-line refusal.</param>
/// <param name="JsonAware">Also apply JSON-shaped mutations (swap values for null, strings, huge numbers…).</param>
/// <param name="FixSafetensorsLength">Re-write the 8-byte header length after a mutation, most of the time, so
/// mutations reach the header's fields instead of dying at the length check.</param>
public sealed record FuzzTarget(string Name, IReadOnlyList<byte[]> Seeds, Action<byte[]> Read, Func<Exception, bool>? IsRefusal = null,
    bool JsonAware = true, bool FixSafetensorsLength = false);

/// <summary>What a fuzz run found. A crash is any exception that is not a refusal; a hang is a case over the time limit.</summary>
public sealed record FuzzReport(string Name, int Cases, int Accepted, int Refused, int Crashes, int Hangs, double Seconds,
    double SlowestCaseMilliseconds, string? FirstCrash, byte[]? FirstCrashInput);

/// <summary>
/// A seeded mutation fuzzer for file readers (in the spirit of AFL's havoc stage, without coverage feedback): each
/// case takes a seed file and applies 1–4 random edits — bit flips, interesting bytes, deleted, duplicated or
/// spliced ranges, truncation and, for JSON, values replaced by null, strings, negative, huge or fractional numbers,
/// lone surrogates and invalid UTF-8. The reader must return or refuse cleanly; anything else is a crash. The same
/// seed gives the same cases, so a crash is reproducible from (target, seed, case).
/// </summary>
public static class ReaderFuzzer
{
    private static readonly string[] JsonValues =
    [
        "null", "true", "false", "0", "-1", "1", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
        "99999999999999999999999", "1e308", "1e309", "-1e309", "0.5", "1e-320", "\"\"", "\"x\"", "\"\\ud800\"", "\"\\udc00x\"",
        "[]", "{}", "[0]", "[1,2]", "[null,null]", "[\"0\",\"4\"]", "{\"a\":1}", "\"F32\"", "\"gpt2\"", "\"char\"", "NaN", "Infinity",
    ];

    private static readonly byte[] InterestingBytes = [0, 0xFF, 0x7F, 0x80, 0xC0, 0xED, 0xF4, (byte)'"', (byte)'\\', (byte)'[', (byte)']',
        (byte)'{', (byte)'}', (byte)',', (byte)':', (byte)'-', (byte)'9', (byte)'e', (byte)'\n'];

    /// <summary>Runs <paramref name="cases"/> cases; stops early only on a hang (the reader thread cannot be stopped).</summary>
    /// <param name="hangLimit">A single case running longer than this is a hang.</param>
    public static FuzzReport Run(FuzzTarget target, int cases, ulong seed, TimeSpan hangLimit)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Seeds.Count == 0) throw new ArgumentException("a fuzz target needs at least one seed file");
        int accepted = 0, refused = 0, crashes = 0, done = 0;
        string? firstCrash = null;
        byte[]? firstCrashInput = null;
        double slowest = 0;
        long caseStarted = 0; // Stopwatch ticks of the running case, 0 between cases
        var total = Stopwatch.StartNew();
        var worker = new Thread(() =>
        {
            var random = new Random(unchecked((int)(seed ^ (seed >> 32)) ^ StableHash(target.Name)));
            for (int i = 0; i < cases; i++)
            {
                var input = Mutate(target, target.Seeds[random.Next(target.Seeds.Count)], random);
                long start = Stopwatch.GetTimestamp();
                Interlocked.Exchange(ref caseStarted, start);
                try { target.Read(input); accepted++; }
                catch (Exception e) when ((target.IsRefusal ?? (x => x is InvalidDataException))(e)) { refused++; }
                catch (Exception e)
                {
                    crashes++;
                    if (firstCrash is null) { firstCrash = $"case {i}: {e.GetType().Name}: {e.Message}"; firstCrashInput = input; }
                }
                slowest = Math.Max(slowest, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                Interlocked.Exchange(ref caseStarted, 0);
                Interlocked.Increment(ref done);
            }
        }, maxStackSize: 16 << 20) { IsBackground = true, Name = $"fuzz {target.Name}" };
        worker.Start();
        int hangs = 0;
        while (!worker.Join(50))
        {
            long started = Interlocked.Read(ref caseStarted);
            if (started != 0 && Stopwatch.GetElapsedTime(started) > hangLimit) { hangs = 1; break; }
        }
        return new FuzzReport(target.Name, Volatile.Read(ref done), accepted, refused, crashes, hangs, total.Elapsed.TotalSeconds, slowest, firstCrash, firstCrashInput);
    }

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (char c in s) h = unchecked(h * 31 + c);
        return h;
    }

    /// <summary>One mutated copy of <paramref name="seed"/>.</summary>
    public static byte[] Mutate(FuzzTarget target, byte[] seed, Random random)
    {
        var b = new List<byte>(seed);
        int edits = 1 + random.Next(4);
        bool safetensors = target.FixSafetensorsLength && seed.Length >= 8;
        int headerEnd = safetensors ? 8 + (int)Math.Min(BitConverter.ToUInt64(seed, 0), (ulong)seed.Length - 8) : b.Count;
        for (int e = 0; e < edits; e++)
        {
            // safetensors: most edits go to the header JSON, some to the data (NaN/∞ patterns) or the length itself
            int lo = 0, hi = b.Count;
            if (safetensors)
            {
                int r = random.Next(10);
                if (r < 7) { lo = 8; hi = Math.Min(headerEnd, b.Count); }
                else if (r < 9) { lo = Math.Min(headerEnd, b.Count); hi = b.Count; }
                else { lo = 0; hi = Math.Min(8, b.Count); }
                if (lo >= hi) { lo = 0; hi = b.Count; }
            }
            int before = b.Count;
            MutateOnce(b, lo, hi, random, target.JsonAware && (!safetensors || lo >= 8 && hi <= headerEnd), safetensors && lo >= headerEnd);
            if (safetensors && lo >= 8 && hi <= headerEnd) headerEnd += b.Count - before;
        }
        if (safetensors && b.Count >= 8 && random.Next(10) < 8)
        {
            // keep the length prefix consistent with the (edited) header most of the time
            var len = BitConverter.GetBytes((ulong)Math.Clamp(headerEnd - 8, 0, b.Count - 8));
            for (int i = 0; i < 8; i++) b[i] = len[i];
        }
        return b.ToArray();
    }

    private static void MutateOnce(List<byte> b, int lo, int hi, Random random, bool json, bool floats)
    {
        hi = Math.Min(hi, b.Count);
        lo = Math.Clamp(lo, 0, hi);
        int span = hi - lo;
        int choice = random.Next(json ? 10 : floats ? 8 : 7);
        if (span <= 0) choice = 3; // only insertion makes sense
        switch (choice)
        {
            case 0: { int i = lo + random.Next(span); b[i] ^= (byte)(1 << random.Next(8)); break; }
            case 1: { int i = lo + random.Next(span); b[i] = InterestingBytes[random.Next(InterestingBytes.Length)]; break; }
            case 2: { int i = lo + random.Next(span), n = Math.Min(1 + random.Next(16), hi - i); b.RemoveRange(i, n); break; }
            case 3:
            {
                // duplicate a range of the file at a random place (or a random byte when there is nothing to copy)
                int at = lo + random.Next(span + 1);
                if (b.Count == 0) { b.Insert(at, (byte)random.Next(256)); break; }
                int from = random.Next(b.Count), n = Math.Min(1 + random.Next(32), b.Count - from);
                b.InsertRange(at, b.GetRange(from, n));
                break;
            }
            case 4: { int cut = lo + random.Next(span + 1); b.RemoveRange(cut, b.Count - cut); break; }
            case 5: { int i = lo + random.Next(span); b.InsertRange(i, Encoding.UTF8.GetBytes(JsonValues[random.Next(JsonValues.Length)])); break; }
            case 6: { int i = lo + random.Next(span); b[i] = (byte)random.Next(256); break; }
            case 7 when floats:
            {
                // a NaN or ±∞ float32 (or a NaN/∞ bf16 pattern) at an aligned position of the data
                int i = lo + random.Next(span) / 4 * 4;
                uint bits = random.Next(3) switch { 0 => 0x7FC00000u, 1 => 0x7F800000u, _ => 0xFF800000u };
                var bytes = BitConverter.GetBytes(bits);
                for (int k = 0; k < 4 && i + k < hi; k++) b[i + k] = bytes[k];
                break;
            }
            default:
                ReplaceJsonValue(b, lo, hi, random);
                break;
        }
    }

    /// <summary>Replaces one JSON value (a number, string or literal starting near a random position) with another.</summary>
    private static void ReplaceJsonValue(List<byte> b, int lo, int hi, Random random)
    {
        int start = lo + random.Next(Math.Max(1, hi - lo));
        for (; start < hi; start++)
        {
            byte c = b[start];
            if (c == '"' || c == '-' || c is >= (byte)'0' and <= (byte)'9' || c == 't' || c == 'f' || c == 'n') break;
        }
        if (start >= hi || start >= b.Count) return;
        int end = start + 1;
        if (b[start] == '"') { while (end < b.Count && b[end] != '"') end += b[end] == '\\' ? 2 : 1; end = Math.Min(end + 1, b.Count); }
        else while (end < b.Count && b[end] is not ((byte)',' or (byte)'}' or (byte)']' or (byte)' ' or (byte)'\n')) end++;
        b.RemoveRange(start, end - start);
        b.InsertRange(start, Encoding.UTF8.GetBytes(JsonValues[random.Next(JsonValues.Length)]));
    }
}
