"""``learnloop run`` on a table larger than the first diagnosis sample: one pass to split and sample the rows, one to
encode them all, the diagnosis on a sample the learning curve justifies, the chosen model trained on every training
row with early stopping, and every J of the final model measured on whole parts (see
:mod:`learnloop.diagnostics.budget` for the rule and its constants).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learnloop.diagnostics import budget, progress
from learnloop.diagnostics.budget import Stage
from learnloop.errors import LearnloopError

STAGES = 5          # reading, encoding, the loop on a sample, the final training, saving: plus plots and errors


def is_large_table(source: str, sample) -> bool:
    """True when ``source`` is a table file with more rows than the first diagnosis sample (or than ``--sample``)."""
    from learnloop.data.datasets import BUNDLED
    from learnloop.data.sampling import estimated_rows, open_stream

    path = Path(source)
    if sample == "all" or source in BUNDLED or path.suffix.lower() == ".npz" or not path.is_file():
        return False
    try:
        stream = open_stream(path)
    except LearnloopError:
        return False                    # the classic reader says what is wrong with the file
    rows = estimated_rows(stream)
    if rows is None:
        return False
    threshold = sample if isinstance(sample, int) else budget.FIRST_SAMPLE
    if stream.num_rows is None and rows < 4 * threshold:
        rows = _count_lines(path) - stream.layout.skip_lines - (stream.layout.header is not None)
    return rows > threshold


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


@dataclass
class Outcome:
    """What the budgeted loop leaves for the report: the loop's findings about the final model, the rows kept in
    memory as a Dataset, and the stages."""

    found: dict
    data: object
    stages: list[Stage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_loop(args, say_stage, clock: budget.Clock, n_jobs) -> Outcome:
    """The loop on ``args.data`` (a large table) within ``args.time_budget``; ``say_stage`` prints ``[k/n] what``."""
    from learnloop.data.encode_pass import encode_parts
    from learnloop.data.sampling import estimated_rows, open_stream, sample_dataset, sample_table

    path = Path(args.data)
    fixed = isinstance(args.sample, int)
    names = args.names or open_stream(path, encoding=args.encoding, delimiter=args.delimiter).names
    keep = max(budget.kept_rows(len(names)), args.sample if fixed else 0)
    target = args.target if args.target is not None else names[-1]
    stages: list[Stage] = []

    say_stage(f"reading {path}: each row's part (60/20/20 by a hash of its number and the seed) and a uniform "
              f"sample of {keep:,} rows kept in memory")
    bar = progress.bar(estimated_rows(open_stream(path, encoding=args.encoding, delimiter=args.delimiter)), "row",
                       "reading")
    try:
        sample = sample_table(path, target, keep, args.seed, encoding=args.encoding, delimiter=args.delimiter,
                              names=args.names, bar=bar, task=args.task)
    finally:
        if bar is not None:
            bar.close()
    sd = sample_dataset(sample, target, args.task, args.missing, args.group, categorical=args.categorical,
                        numeric=args.numeric, drop=args.drop)
    data = sd.data
    stages.append(Stage("read", sample.n_rows, sample.seconds,
                        f"one pass over the file: {sample.part_rows[0]:,} / {sample.part_rows[1]:,} / "
                        f"{sample.part_rows[2]:,} rows train / cv / test, {len(sd.rows):,} rows kept"
                        + (f" ({sample.reserved} added so that every class is in the training rows)"
                           if sample.reserved else "")))
    data.notes.append(f"the columns are typed on the {len(sd.rows):,} rows kept")
    for note in data.notes:
        print(f"      note: {note}")
    for decision in data.decisions:
        print(f"      column {decision.name}: {decision.reason}")

    t = time.perf_counter()
    adapt_rows = np.flatnonzero(sd.parts == 0)
    data.fit_features(adapt_rows)
    n_adapt = len(adapt_rows)
    stages.append(Stage("features", n_adapt, time.perf_counter() - t,
                        f"the pipeline's statistics and vocabularies from the {n_adapt:,} training rows kept: each "
                        f"mean within {100 / np.sqrt(n_adapt):.2g}% of a standard deviation (one standard error), "
                        f"and every category at least 1 in {n_adapt // 6:,} rows seen with probability 99.7%; a "
                        f"category never seen takes the out-of-vocabulary slot"))
    if data.task == "classification":
        _check_classes(data, sd.parts)

    say_stage(f"encoding every row of {path.name} with the feature pipeline, into .npy files per part")
    folder = Path(tempfile.mkdtemp(prefix="learnloop-rows-"))
    try:
        _check_room(folder, sample.n_rows * (data.x.shape[1] + 2) * 4)
        bar = progress.bar(sample.n_rows, "row", "encoding")
        try:
            encoded = encode_parts(path, data.feature_space, target=target,
                                   classes=None if data.task == "regression" else list(data.classes),
                                   numeric=sd.numeric, dropped=sd.dropped, seed=args.seed, folder=folder,
                                   part_rows=sample.part_rows, read_options=sample.read_options,
                                   early_stop_rows=budget.EARLY_STOP_ROWS, bar=bar,
                                   target_parse=data.target_parse)
        finally:
            if bar is not None:
                bar.close()
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        skipped = "; ".join(f"{n:,} rows left out ({why})" for why, n in encoded.skipped.items())
        stages.append(Stage("encode", sample.n_rows, encoded.seconds,
                            f"every row through the pipeline once, {size_mb:,.0f} MB on disk (memory-mapped by the "
                            f"final training and the scoring)" + (f"; {skipped}" if skipped else "")))
        say_stage("the loop on a sample (split as the table is): baseline, network size, lambda, learning curve; "
                  "the sample doubles while the learning curve says J_cv still falls")
        n_scored = encoded.rows["cv"] + encoded.rows["test"]
        whole = len(data.y) if sample.table.num_rows >= sample.n_rows else sample.n_rows   # every row kept?
        found, size, rounds = _diagnose_rounds(args, data, sd.parts, fixed, clock, n_jobs, whole,
                                               encoded.rows["train"], n_scored)
        stages += rounds
        last = found["results"]["seconds"]
        n_train_sample = found["splits"].train.m
        for key, name in (("baseline", "baseline"), ("architecture", "architectures"), ("lambda", "lambda"),
                          ("learning_curve", "learning curve")):
            stages.append(Stage(name, n_train_sample, last.get(key, 0.0),
                                f"on the {n_train_sample:,} training rows of the last sample ({size:,} rows), "
                                f"J_cv on its {found['splits'].cv.m:,} cv rows"))

        say_stage(f"final training: the chosen network on all {encoded.rows['train']:,} training rows, early "
                  f"stopping on {len(encoded.early_stop[1]):,} cv rows")
        after = n_scored / budget.SCORE_ROWS_PER_SECOND + budget.REPORT_SECONDS
        final = budget.train_final(found, encoded, seed=args.seed, clock=clock,
                                   epochs=found["results"]["settings"]["epochs"], after_seconds=after)
        early = len(encoded.early_stop[1])
        stages.append(Stage("final training", encoded.rows["train"], final.seconds,
                            f"every training row, {final.epochs} epochs (best {final.best_epoch}), stopped by "
                            f"{final.stopped}; early stopping on "
                            + (f"all {early:,} cv rows" if early == encoded.rows["cv"] else
                               f"a uniform sample of {early:,} of the {encoded.rows['cv']:,} cv rows")))
        t = time.perf_counter()
        kind = found["results"]["kind"]
        bar = progress.bar(n_scored, "row", "scoring cv and test rows")
        try:
            cv_losses = budget.part_losses(final.model, encoded.x["cv"], encoded.y["cv"], kind, bar)
            test_losses = budget.part_losses(final.model, encoded.x["test"], encoded.y["test"], kind, bar)
        finally:
            if bar is not None:
                bar.close()
        from learnloop.diagnostics.measures import losses

        train = found["splits"].train
        train_losses = losses(final.model, train.x, train.y, kind)
        budget.conclude_final(found, final, train_losses, cv_losses, test_losses, data.x.shape[1])
        stages.append(Stage("J_cv and J_test", n_scored, time.perf_counter() - t,
                            f"the final model on every cv ({encoded.rows['cv']:,}) and test "
                            f"({encoded.rows['test']:,}) row; J_train on the {train.m:,} training rows of the "
                            f"diagnosis sample, where the baseline's held-out errors are (a paired comparison)"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    from learnloop.data.splits import splits_from_parts

    results = found["results"]
    results["diagnosis_sample"] = {"rows": size, "split_sizes": results["split_sizes"], "kept": len(sd.rows)}
    results["split_sizes"] = dict(encoded.rows)
    results["m"] = int(sum(encoded.rows.values()))
    found["splits"] = splits_from_parts(data.x, data.y, sd.parts, args.seed)
    notes = [f"the verdict and its intervals: J_train on the {train.m:,} training rows of the diagnosis sample, J_cv "
             f"on all {encoded.rows['cv']:,} cv rows; J_test on all {encoded.rows['test']:,} test rows; the curves "
             f"(network size, lambda, learning curve) on the sample of {size:,} rows"]
    return Outcome(found, data, stages, notes)


def _check_room(folder: Path, needed: int) -> None:
    """Refuse before the pass when the encoded rows would not fit on the temporary folder's disk."""
    free = shutil.disk_usage(folder).free
    if free < needed * 1.1:
        raise LearnloopError(f"the encoded rows need about {needed / 2**20:,.0f} MB in {folder.parent}, which has "
                             f"{free / 2**20:,.0f} MB free; set TMPDIR to a folder with more room.")


def _check_classes(data, parts) -> None:
    present = np.unique(data.y[parts == 0])
    if len(present) < data.n_classes:
        absent = [data.classes[i] for i in sorted(set(range(data.n_classes)) - set(present.tolist()))][:5]
        raise LearnloopError(f"{data.name}: classes {absent} of the target '{data.target_name}' have no row among the "
                             f"sampled training rows; pass --sample all to read every row, or merge rare classes.")


def _diagnose_rounds(args, data, parts, fixed: bool, clock: budget.Clock, n_jobs, whole: int, n_train: int,
                     n_scored: int):
    """Diagnose samples of growing size (the rule of :mod:`learnloop.diagnostics.budget`) among the rows kept, of
    a table of ``whole`` rows; (found, size, stages)."""
    from learnloop.diagnostics.loop import diagnose

    kept = len(data.y)
    size = min(args.sample if fixed else budget.FIRST_SAMPLE, kept)
    rounds = []

    def stage(what: str) -> None:
        progress.set_stage(what)
        print(f"      {what}", flush=True)

    while True:
        print(f"      sample of {size:,} rows", flush=True)
        t = time.perf_counter()
        found = diagnose(data.x[:size], data.y[:size], kind=data.task, baseline=args.baseline, seed=args.seed,
                         quick=args.quick, n_jobs=n_jobs, progress=stage, parts=parts[:size],
                         baseline_source=args.baseline_source if args.baseline is not None else None)
        seconds = time.perf_counter() - t
        estimate = budget.final_seconds(n_train, n_scored, budget.example_epoch_seconds(found))
        grown, why = budget.next_sample(size, whole, found, seconds, clock, estimate, fixed=fixed,
                                        max_sample=min(budget.MAX_SAMPLE, kept))
        rounds.append(Stage("diagnosis", size, seconds, why))
        print(f"      {why}", flush=True)
        if grown is None:
            return found, size, rounds
        size = grown


def classic_stages(found: dict, rows: int, load_seconds: float, why: str) -> list[Stage]:
    """The stages of a loop run on every row held in memory."""
    results = found["results"]
    seconds, sizes = results["seconds"], results["split_sizes"]
    on = f"on the {sizes['train']:,} training rows, J_cv on the {sizes['cv']:,} cv rows"
    stages = [Stage("read", rows, load_seconds, why)]
    for key, name in (("baseline", "baseline"), ("architecture", "architectures"), ("lambda", "lambda"),
                      ("learning_curve", "learning curve")):
        stages.append(Stage(name, sizes["train"], seconds.get(key, 0.0), on))
    stages.append(Stage("J_test", sizes["test"], seconds.get("intervals_and_findings", 0.0),
                        f"the chosen model on the {sizes['test']:,} test rows, once"))
    return stages
