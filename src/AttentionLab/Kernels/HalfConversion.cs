using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AttentionLab.Kernels;

/// <summary>
/// 16-bit weights to float32 and back, one value at a time (the reference) and in vector registers (what the
/// kernels use).
/// <code>
/// BF16 → F32: bits &lt;&lt; 16                                    exact (BF16 is the top half of a float32)
/// F16  → F32: sign &lt;&lt; 16 | ((bits &amp; 0x7FFF) &lt;&lt; 13) · 2^112      exact for every finite half, subnormals included
/// F32 → BF16: round to nearest, ties to even, on the dropped 16 bits
/// F32 → F16:  (Half)x, round to nearest even; |x| &gt; 65504 does not fit and is refused
/// </code>
/// .NET 10 exposes no F16C (vcvtph2ps) intrinsic, so the F16 widening is the integer form above: the 15 exponent and
/// mantissa bits moved into float32's places and the exponent bias (127 − 15 = 112) applied by one exact multiply,
/// which also normalizes half subnormals. Weights are finite (the loaders refuse NaN and ±∞), so the ±∞/NaN half
/// patterns are not special-cased in the vector form.
/// </summary>
public static class HalfConversion
{
    /// <summary>2^112: float32's exponent bias minus half's.</summary>
    internal const float HalfBiasScale = 5.192296858534828e33f;

    /// <summary>One stored weight as float32 (the reference every vector path is tested against).</summary>
    public static float ToSingle(ushort bits, WeightFormat format) => format switch
    {
        WeightFormat.BF16 => BitConverter.Int32BitsToSingle(bits << 16),
        WeightFormat.F16 => (float)BitConverter.UInt16BitsToHalf(bits),
        _ => throw new ArgumentException("float32 weights are not stored in 16 bits", nameof(format)),
    };

    /// <summary>float32 to the nearest 16-bit value (ties to even).</summary>
    /// <exception cref="OverflowException">not finite, or beyond F16's range (65504)</exception>
    public static ushort FromSingle(float value, WeightFormat format)
    {
        if (!float.IsFinite(value)) throw new OverflowException($"{value} is not a finite weight");
        switch (format)
        {
            case WeightFormat.BF16:
            {
                uint bits = BitConverter.SingleToUInt32Bits(value);
                bits += 0x7FFFu + ((bits >> 16) & 1u);                                      // round to nearest even
                ushort result = (ushort)(bits >> 16);
                if ((result & 0x7F80) == 0x7F80) throw new OverflowException($"{value} rounds beyond bfloat16's range");
                return result;
            }
            case WeightFormat.F16:
            {
                var half = (Half)value;
                if (Half.IsInfinity(half)) throw new OverflowException($"{value} is beyond float16's range (±65504)");
                return BitConverter.HalfToUInt16Bits(half);
            }
            default: throw new ArgumentException("float32 weights are not stored in 16 bits", nameof(format));
        }
    }

    /// <summary>destination[i] = ToSingle(source[i]), vectorized.</summary>
    public static void Widen(ReadOnlySpan<ushort> source, WeightFormat format, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source");
        if (format == WeightFormat.F32) throw new ArgumentException("float32 weights are not stored in 16 bits", nameof(format));
        int i = 0;
        ref ushort s = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
        ref float d = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= source.Length; i += 32)
            {
                var v = Vector512.LoadUnsafe(ref s, (nuint)i);
                Widen512(Vector512.WidenLower(v), format).StoreUnsafe(ref d, (nuint)i);
                Widen512(Vector512.WidenUpper(v), format).StoreUnsafe(ref d, (nuint)(i + 16));
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= source.Length; i += 16)
            {
                var v = Vector256.LoadUnsafe(ref s, (nuint)i);
                Widen256(Vector256.WidenLower(v), format).StoreUnsafe(ref d, (nuint)i);
                Widen256(Vector256.WidenUpper(v), format).StoreUnsafe(ref d, (nuint)(i + 8));
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + 8 <= source.Length; i += 8)
            {
                var v = Vector128.LoadUnsafe(ref s, (nuint)i);
                Widen128(Vector128.WidenLower(v), format).StoreUnsafe(ref d, (nuint)i);
                Widen128(Vector128.WidenUpper(v), format).StoreUnsafe(ref d, (nuint)(i + 4));
            }
        for (; i < source.Length; i++) destination[i] = ToSingle(source[i], format);
    }

    /// <summary>destination[i] = FromSingle(source[i]).</summary>
    /// <exception cref="OverflowException">a value that does not fit (named by index)</exception>
    public static void Narrow(ReadOnlySpan<float> source, WeightFormat format, Span<ushort> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source");
        for (int i = 0; i < source.Length; i++)
        {
            try { destination[i] = FromSingle(source[i], format); }
            catch (OverflowException e) { throw new OverflowException($"weight {i}: {e.Message}", e); }
        }
    }

    /// <summary>Sixteen zero-extended 16-bit values (one per 32-bit lane) as float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Widen512(Vector512<uint> bits, WeightFormat format)
    {
        if (format == WeightFormat.BF16) return Vector512.ShiftLeft(bits, 16).AsSingle();
        var sign = Vector512.ShiftLeft(bits & Vector512.Create(0x8000u), 16);
        var magnitude = Vector512.ShiftLeft(bits & Vector512.Create(0x7FFFu), 13).AsSingle() * Vector512.Create(HalfBiasScale);
        return (magnitude.AsUInt32() | sign).AsSingle();
    }

    /// <summary>Eight zero-extended 16-bit values as float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Widen256(Vector256<uint> bits, WeightFormat format)
    {
        if (format == WeightFormat.BF16) return Vector256.ShiftLeft(bits, 16).AsSingle();
        var sign = Vector256.ShiftLeft(bits & Vector256.Create(0x8000u), 16);
        var magnitude = Vector256.ShiftLeft(bits & Vector256.Create(0x7FFFu), 13).AsSingle() * Vector256.Create(HalfBiasScale);
        return (magnitude.AsUInt32() | sign).AsSingle();
    }

    /// <summary>Four zero-extended 16-bit values as float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Widen128(Vector128<uint> bits, WeightFormat format)
    {
        if (format == WeightFormat.BF16) return Vector128.ShiftLeft(bits, 16).AsSingle();
        var sign = Vector128.ShiftLeft(bits & Vector128.Create(0x8000u), 16);
        var magnitude = Vector128.ShiftLeft(bits & Vector128.Create(0x7FFFu), 13).AsSingle() * Vector128.Create(HalfBiasScale);
        return (magnitude.AsUInt32() | sign).AsSingle();
    }
}
