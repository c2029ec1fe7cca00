# The Unicode data AttentionLab's NFC/NFD (src/AttentionLab/Text/UnicodeNormalization.cs) needs, from Python's
# `unicodedata`, so the app can normalize without ICU (it runs with InvariantGlobalization, where .NET's
# string.Normalize does nothing). Run: python3 data/make_unicode_nfc.py  (writes data/unicode_nfc.txt, embedded in the
# library as a resource). Python 3.11's unicodedata is Unicode 14.0.0; the file's first line says which version it is.
#
# Format, one record a line, code points in hex:
#   # comment                      the first line: "# unicode_nfc.txt: Unicode <version> ..."
#   D cp m1 [m2]                   cp's canonical decomposition mapping (one step, not recursive; no <compat> tags),
#                                  for every cp except the Hangul syllables (decomposed algorithmically)
#   X cp                           cp (which has a D line) never composes: Full_Composition_Exclusion, i.e. the
#                                  CompositionExclusions.txt list, singletons and non-starter decompositions. Derived
#                                  as "NFC(cp) != cp", which holds exactly for those.
#   C first last ccc               Canonical_Combining_Class ccc (non-zero) for every cp in first..last
#
# Also checked here (asserts), the fast path the C# side takes: a string whose characters are all below U+0300 is
# already NFC (no pair of them composes, none decomposes under NFC).
import os
import sys
import unicodedata

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unicode_nfc.txt")
    lines = [f"# unicode_nfc.txt: Unicode {unicodedata.unidata_version} canonical decompositions (D), composition exclusions (X) "
             f"and combining classes (C), made by data/make_unicode_nfc.py from Python {sys.version.split()[0]}'s unicodedata"]
    decompositions = exclusions = 0
    for cp in range(0x110000):
        if HANGUL_FIRST <= cp <= HANGUL_LAST or 0xD800 <= cp <= 0xDFFF:
            continue
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        parts = d.split()
        assert 1 <= len(parts) <= 2, (hex(cp), d)
        lines.append("D %X %s" % (cp, " ".join(parts)))
        decompositions += 1
        if unicodedata.normalize("NFC", chr(cp)) != chr(cp):
            lines.append("X %X" % cp)
            exclusions += 1
    run = None  # (first, last, ccc)
    for cp in range(0x110000):
        ccc = 0 if 0xD800 <= cp <= 0xDFFF else unicodedata.combining(chr(cp))
        if run and ccc == run[2] and cp == run[1] + 1:
            run = (run[0], cp, ccc)
            continue
        if run and run[2] != 0:
            lines.append("C %X %X %d" % run)
        run = (cp, cp, ccc)
    if run and run[2] != 0:
        lines.append("C %X %X %d" % run)

    # the fast path: below U+0300 nothing changes under NFC, alone or in pairs
    low = [chr(c) for c in range(0x300)]
    assert all(unicodedata.normalize("NFC", a) == a for a in low)
    assert all(unicodedata.normalize("NFC", a + b) == a + b for a in low for b in low)

    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: Unicode {unicodedata.unidata_version}, {decompositions} decompositions, {exclusions} exclusions, "
          f"{sum(1 for l in lines if l.startswith('C '))} combining-class ranges, {os.path.getsize(out):,} bytes")


if __name__ == "__main__":
    main()
