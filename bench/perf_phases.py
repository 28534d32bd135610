#!/usr/bin/env python3
"""Summarise `perf script --no-inline -F tid,ip,sym` output by pipeline phase and by kind of work.

Each sample's call stack is assigned
  - a phase: the outermost frame of the classify loop it runs under (read + parse, rules,
    guidance, row rendering, encoding, writing), and
  - a kind: what the innermost recognisable frame does (allocation, page faults, formatting,
    memcpy, polars/zstd, serde_json, csv, write syscalls, or the engine's own code).

Prints a Markdown table of the share of all samples (all threads) per phase and kind, and the
share of the busiest threads. Used by bench/profile.sh; standard library only.
"""

import collections
import sys

PHASES = [
    ("read + parse rows", ("::next_batch",)),
    ("rules", ("anemia_engine::rules::evaluate",)),
    ("guidance", ("anemia_engine::guidance::attach",)),
    ("render row", ("anemia_engine::report::render_row",)),
    ("encode row", ("encode_row", "Encoder>::encode", "Encoder::encode")),
    (
        "write (writer)",
        ("RowWriter>::write_row", "RowWriter>::write_encoded", "RowWriter>::finish",
         "ParquetRows::flush", "RejectsWriter"),
    ),
    ("free rows", ("drop_in_place<anemia_engine::ingest::RowOutcome", "drop_in_place<alloc::vec::Vec<anemia_engine::ingest::RowOutcome")),
    ("summary counts", ("count_classified", "count_reject")),
    ("startup (ruleset)", ("ruleset::", "Ruleset")),
]

KINDS = [
    ("page faults", ("clear_page", "page_fault", "do_anonymous_page", "folio_zero")),
    ("write syscalls", ("vfs_write", "ksys_write", "__libc_write", "ext4_")),
    ("allocator", ("mi_", "_mi_", "malloc", "cfree", "_int_free", "realloc", "__rust_alloc",
                   "__rust_dealloc", "__rust_realloc")),
    ("formatting", ("core::fmt", "alloc::fmt", "flt2dec", "write_str", "write_fmt", "Formatter",
                    "to_string", "fmt::num")),
    ("memcpy/memcmp", ("memmove", "memcpy", "memcmp", "memset")),
    ("polars + zstd", ("polars", "ZSTD", "zstd")),
    ("serde_json", ("serde_json", "serde_core", "indexmap", "hash::sip", "BuildHasher")),
    ("csv crate", ("csv_core", "csv::")),
]


def phase_of(frames):
    # Outermost first: the stage of the classify loop the sample runs under.
    for sym in reversed(frames):
        for name, pats in PHASES:
            if any(p in sym for p in pats):
                return name
    if any("anemia_engine" in s or "pipeline" in s for s in frames):
        return "pipeline (threads, channel)"
    if any("polars" in s or "ZSTD" in s for s in frames):
        # polars' own pool compressing and writing Parquet pages for the writer.
        return "write (writer)"
    return "other (kernel, runtime)"


def kind_of(frames):
    for sym in frames:
        for name, pats in KINDS:
            if any(p in sym for p in pats):
                return name
        if "anemia_engine" in sym:
            return "engine code"
    return "other"


def samples(stream):
    tid, frames = None, []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if tid is not None:
                yield tid, frames
            tid, frames = None, []
        elif not line.startswith(("\t", " " * 8)) or tid is None and line.strip().isdigit():
            tid, frames = line.split()[0], []
        else:
            parts = line.strip().split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else "?")
    if tid is not None:
        yield tid, frames


def main():
    table = collections.Counter()
    by_phase = collections.Counter()
    by_kind = collections.Counter()
    by_tid = collections.Counter()
    total = 0
    for tid, frames in samples(sys.stdin):
        p, k = phase_of(frames), kind_of(frames)
        table[p, k] += 1
        by_phase[p] += 1
        by_kind[k] += 1
        by_tid[tid] += 1
        total += 1
    if not total:
        print("no samples")
        return
    kinds = [k for k, _ in by_kind.most_common()]
    pct = lambda n: f"{100.0 * n / total:.1f}"
    print("| phase | all | " + " | ".join(kinds) + " |")
    print("|---|---:|" + "---:|" * len(kinds))
    for p, n in by_phase.most_common():
        cells = [pct(table[p, k]) if table[p, k] else "" for k in kinds]
        print(f"| {p} | **{pct(n)}** | " + " | ".join(cells) + " |")
    print("| **all** | 100 | " + " | ".join(pct(by_kind[k]) for k in kinds) + " |")
    print()
    busiest = ", ".join(f"{pct(n)} %" for _, n in by_tid.most_common(4))
    print(f"{total} samples; {len(by_tid)} threads; busiest threads: {busiest} of the samples.")


if __name__ == "__main__":
    main()
