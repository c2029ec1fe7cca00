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

    /// <summary>Whether <see cref="Load32"/> is the fast load: 16-bit weights, read as sixteen 32-bit lanes and widened
    /// in place, without the cross-lane shuffle <see cref="Load16"/> needs.</summary>
    static abstract bool Paired { get; }

    /// <summary>w[0..32) as its even elements w[0], w[2], … w[30] and its odd ones w[1], … w[31] (16-bit formats only:
    /// the low and high halves of each 32-bit lane).</summary>
    static abstract void Load32(T* w, out Vector512<float> even, out Vector512<float> odd);
}

/// <summary>float32 weights: a plain load.</summary>
internal readonly unsafe struct Float32Loader : IWeightLoader<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(float* w) => Vector512.Load(w);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(float* w) => *w;

    public static bool Paired => false;

    public static void Load32(float* w, out Vector512<float> even, out Vector512<float> odd) =>
        throw new NotSupportedException("float32 weights load 16 at a time");
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

    public static bool Paired => true;

    /// <summary>The even elements are the low halves shifted up; the odd ones are already in place once the low half
    /// is cleared. Two single-cycle instructions for 32 weights (Zen 4 runs vpmovzxwd on zmm at half that rate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load32(ushort* w, out Vector512<float> even, out Vector512<float> odd)
    {
        var pairs = Vector512.Load((uint*)w);
        even = Vector512.ShiftLeft(pairs, 16).AsSingle();
        odd = (pairs & Vector512.Create(0xFFFF0000u)).AsSingle();
    }
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

    public static bool Paired => true;

    /// <summary>As <see cref="Load16"/>, with the sign extension done by an arithmetic shift: the even element is moved
    /// to the top half first (<c>lane &lt;&lt; 16 &gt;&gt; 3</c>), the odd one is already there (<c>lane &gt;&gt; 3</c>, then the
    /// even element's bits that slid below bit 13 are masked off with the copies of the sign).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load32(ushort* w, out Vector512<float> even, out Vector512<float> odd)
    {
        var pairs = Vector512.Load((int*)w);
        var scale = Vector512.Create(HalfConversion.HalfBiasScale);
        even = (Vector512.ShiftRightArithmetic(Vector512.ShiftLeft(pairs, 16), 3) & Vector512.Create(unchecked((int)0x8FFFFFFF))).AsSingle() * scale;
        odd = (Vector512.ShiftRightArithmetic(pairs, 3) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * scale;
    }
}
