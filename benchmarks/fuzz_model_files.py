"""The long fuzz of ``load_model``: mutated model files, where the only allowed exception is ``ModelFileError``.

The same mutations as CI's short run (``tests/model_file_mutations.py``: bit flips, truncations, members swapped,
dropped or duplicated, JSON values replaced anywhere, .npy headers edited, members recompressed), many more files.
Each load is also timed and the slowest are listed, and the peak RSS of the process is printed at the end.

    python benchmarks/fuzz_model_files.py [--examples 20000] [--seed 0]

Exits non-zero with the first file that raised anything else (written to fuzz-failure.zip).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from hypothesis import HealthCheck, given, seed, settings

    import learnloop
    from learnloop.errors import ModelFileError
    from model_file_mutations import mutated_files, seed_files

    seeds = seed_files()
    path = Path(tempfile.mkdtemp(prefix="learnloop-fuzz-")) / "model.zip"
    counts = {"loaded": 0, "refused": 0}
    slowest: list[tuple[float, str]] = []

    @seed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=mutated_files(seeds))
    def check(data: bytes) -> None:
        path.write_bytes(data)
        start = time.perf_counter()
        try:
            learnloop.load_model(path)
            counts["loaded"] += 1
            outcome = "loaded"
        except ModelFileError as exc:
            counts["refused"] += 1
            outcome = str(exc).split(": ", 1)[-1][:100]
        except BaseException:
            Path("fuzz-failure.zip").write_bytes(data)
            traceback.print_exc()
            raise
        slowest.append((time.perf_counter() - start, outcome))
        slowest.sort(reverse=True)
        del slowest[5:]

    start = time.perf_counter()
    try:
        check()
    except Exception:                                   # noqa: BLE001 - the file is kept, the error printed
        traceback.print_exc()
        print("FAILED: a file raised something other than ModelFileError (kept as fuzz-failure.zip), or the "
              "mutations could not be drawn (see the traceback)")
        return 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{sum(counts.values())} files in {time.perf_counter() - start:.0f} s: {counts['loaded']} loaded, "
          f"{counts['refused']} refused with ModelFileError, nothing else raised; peak RSS {peak:.0f} MB")
    for seconds, outcome in slowest:
        print(f"  slowest: {seconds * 1e3:.1f} ms  {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
