namespace AttentionLab.Kernels;

/// <summary>
/// How a model's streamed matrices are stored for inference. Activations, the KV cache and softmax are float32 in
/// every case; only the weights a token streams (the block linears and the token table / output head) change width.
/// <list type="bullet">
/// <item><see cref="F32"/>: IEEE single, 4 bytes, what training uses.</item>
/// <item><see cref="BF16"/>: bfloat16, the top 16 bits of a float32 (8 exponent bits, 7 mantissa bits): the same range
/// as float32, 3 significant decimal digits; what Llama-family checkpoints ship as.</item>
/// <item><see cref="F16"/>: IEEE half (5 exponent bits, 10 mantissa bits): finer than BF16 but largest finite 65504.</item>
/// <item><see cref="Q8_0"/>: GGUF's 8-bit blocks: each run of 32 weights along a row is one scale d (an F16 value,
/// max |w| / 127) and 32 signed bytes q = round(w / d), the weight being q·d (<see cref="Q8Matrix"/>). Inference only,
/// quantized when a model is loaded or converted; it has no safetensors dtype, so it is never saved.</item>
/// </list>
/// </summary>
public enum WeightFormat { F32, BF16, F16, Q8_0 }

/// <summary>Names, sizes and the safetensors dtype of each <see cref="WeightFormat"/>.</summary>
public static class WeightFormats
{
    /// <summary>The names <c>--dtype</c> takes.</summary>
    public static readonly string[] Names = ["f32", "bf16", "f16", "q8_0"];

    /// <summary>"f32", "bf16", "f16" or "q8_0" (case-insensitive; also "float32", "bfloat16", "float16", "q8").</summary>
    /// <exception cref="ArgumentException">another name</exception>
    public static WeightFormat Parse(string name) => name.ToLowerInvariant() switch
    {
        "f32" or "float32" or "fp32" => WeightFormat.F32,
        "bf16" or "bfloat16" => WeightFormat.BF16,
        "f16" or "float16" or "fp16" or "half" => WeightFormat.F16,
        "q8_0" or "q8" => WeightFormat.Q8_0,
        _ => throw new ArgumentException($"unknown dtype '{name}' (known: {string.Join(", ", Names)})"),
    };

    public static string Name(this WeightFormat format) => format switch
    {
        WeightFormat.BF16 => "bf16",
        WeightFormat.F16 => "f16",
        WeightFormat.Q8_0 => "q8_0",
        _ => "f32",
    };

    /// <summary>Bytes per stored weight: 4, 2, or 36/32 for Q8_0 (32 bytes and a float32 scale per 32 weights).</summary>
    public static double Bytes(this WeightFormat format) => format switch
    {
        WeightFormat.F32 => 4,
        WeightFormat.Q8_0 => Q8Matrix.BytesPerBlock / (double)Q8Matrix.BlockSize,
        _ => 2,
    };

    /// <summary>The safetensors dtype string: F32, BF16, F16.</summary>
    public static string SafeTensorsDType(this WeightFormat format) => format switch
    {
        WeightFormat.BF16 => "BF16",
        WeightFormat.F16 => "F16",
        WeightFormat.F32 => "F32",
        _ => throw new ArgumentException($"{format.Name()} has no safetensors dtype"),
    };

    /// <summary>config.json's <c>torch_dtype</c>: float32, bfloat16, float16.</summary>
    public static string TorchDType(this WeightFormat format) => format switch
    {
        WeightFormat.BF16 => "bfloat16",
        WeightFormat.F16 => "float16",
        WeightFormat.F32 => "float32",
        _ => throw new ArgumentException($"{format.Name()} has no torch dtype"),
    };

    /// <summary>The format of a safetensors dtype string (F32, BF16, F16).</summary>
    public static WeightFormat FromSafeTensors(string dtype) => dtype switch
    {
        "BF16" => WeightFormat.BF16,
        "F16" => WeightFormat.F16,
        "F32" => WeightFormat.F32,
        _ => throw new ArgumentException($"dtype '{dtype}' is not F32, BF16 or F16"),
    };
}
