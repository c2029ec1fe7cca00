using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AttentionLab.Kernels;

/// <summary>
/// How a kernel reads stored weights of one format as float32: sixteen consecutive weights into a Vector512, or one.
/// A kernel generic over the loader (<c>where TLoader : struct, IWeightLoader&lt;T&gt;</c>) is compiled once per format
/// with the load inlined, so float32, BF16 and F16 share one loop (<see cref="RowStream"/>) and differ only here.
/// Every widening is exact: the loaded values are the weights' values, bit for bit (<see cref="HalfConversion.ToSingle"/>).
/// </summary>
internal unsafe interface IWeightLoader<T> where T : unmanaged
{
    /// <summary>w[0..16) as float32 (Vector512 hardware only).</summary>
    static abstract Vector512<float> Load16(T* w);

    /// <summary>w[0] as float32.</summary>
    static abstract float Load1(T* w);
}

/// <summary>float32 weights: a plain load.</summary>
internal readonly unsafe struct Float32Loader : IWeightLoader<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(float* w) => Vector512.Load(w);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(float* w) => *w;
}

/// <summary>BF16 weights, the top halves of float32s: zero-extend each 16-bit value into a 32-bit lane (vpmovzxwd,
/// which takes its 32 bytes straight from memory) and shift it up 16.</summary>
internal readonly unsafe struct BFloat16Loader : IWeightLoader<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(ushort* w) =>
        Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(Vector256.Load(w)), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ushort* w) => BitConverter.Int32BitsToSingle(*w << 16);
}

/// <summary>
/// F16 weights (IEEE half). .NET 10 exposes no F16C conversion (vcvtph2ps), so the widening is integer work, here
/// in four instructions: sign-extend each 16-bit value into a 32-bit lane (vpmovsxwd from memory) and shift it up 13,
/// which puts the 5 exponent and 10 mantissa bits in float32's places and copies of the sign in bits 28..31; keep bit
/// 31 (mask 0x8FFFFFFF), and one exact multiply by 2¹¹² re-biases the exponent (and normalizes half subnormals) with
/// the sign carried through: the same value as <see cref="HalfConversion.Widen512"/>, two instructions shorter.
/// </summary>
internal readonly unsafe struct Float16Loader : IWeightLoader<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(ushort* w)
    {
        var bits = Vector512.ShiftLeft(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)w)), 13) & Vector512.Create(unchecked((int)0x8FFFFFFF));
        return bits.AsSingle() * Vector512.Create(HalfConversion.HalfBiasScale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ushort* w) => HalfConversion.ToSingle(*w, WeightFormat.F16);
}
