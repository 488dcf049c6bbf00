"""``rampconf-challenge``: a class challenge without a server.

Errors are one line on standard error; exit code 2 for a bad challenge file,
problem, data or arguments, as for a run.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rampconf.errors import RampconfError

if TYPE_CHECKING:
    from rampconf.challenge.boards import Entries

__all__ = ["main"]

EPILOG = """commands, in the order of a challenge:
  kit CHALLENGE OUT            the folder students receive (no private test label in it)
  evaluate CHALLENGE SUBS      evaluate SUBS/<student>/<name>/ folders not evaluated yet;
                               writes RESULTS/public_leaderboard.{csv,html}
  reveal CHALLENGE             add the private test scores: RESULTS/private_leaderboard.*
  publish CHALLENGE OUT        every submission's code beside its scores (OUT/index.html)
  blend CHALLENGE              blend the submissions; each one's contributivity

CHALLENGE is a challenge.yaml (tutorial: docs/tutorials/challenge.md) with the keys:
"""


def _keys_help() -> str:
    """The keys of ``challenge.yaml``, from the pydantic models' field descriptions."""
    import textwrap

    from pydantic import BaseModel

    from rampconf.challenge.config import ChallengeConfig

    lines = []

    def add(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            kind = info.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                add(kind, f"{prefix}{name}.")
                continue
            value = None if info.is_required() else info.get_default(call_default_factory=True)
            default = "required" if info.is_required() else \
                f"default {'null' if value is None else value}"
            text = f"{info.description or ''} ({default})"
            lines.append(textwrap.fill(text, width=88, initial_indent=f"  {prefix}{name}: ",
                                       subsequent_indent="      "))

    add(ChallengeConfig, "")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rampconf-challenge", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A class challenge offline: the students' kit, the evaluation of every "
                    "submission folder (isolated, under limits), public and private "
                    "leaderboards, published code and a blend.", epilog=EPILOG + _keys_help())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    kit = commands.add_parser("kit", help="write the students' kit")
    kit.add_argument("challenge")
    kit.add_argument("out", help="a new (or empty) folder")
    evaluate = commands.add_parser("evaluate", help="evaluate the submission folders")
    evaluate.add_argument("challenge")
    evaluate.add_argument("submissions", help="folder of <student>/<name>/ folders")
    evaluate.add_argument("--n-jobs", type=int, help="submissions at a time (default: the "
                                                     "challenge's n_jobs)")
    reveal = commands.add_parser("reveal", help="the final leaderboard on the private rows")
    reveal.add_argument("challenge")
    publish = commands.add_parser("publish", help="every submission's code and scores")
    publish.add_argument("challenge")
    publish.add_argument("out", help="a new (or empty) folder")
    blend = commands.add_parser("blend", help="blend the submissions that count")
    blend.add_argument("challenge")
    blend.add_argument("--output", help="the blend's run directory (default "
                                        "RESULTS/blend/<time>)")
    blend.add_argument("--max-size", type=int, default=80,
                       help="largest ensemble per fold, repeats counted (default 80)")
    return parser


def _print_board(entries: Entries, private: bool) -> None:
    from rampconf.leaderboard_format import print_leaderboards
    from rampconf.report import make_console

    board = entries.board(private)
    console = make_console()
    if board is not None:
        print_leaderboards([board], console)
    for record in entries.not_run():
        console.print(f"not run: {record['student']}/{record['submission']}: "
                      f"{record['status']}: {record.get('error', '')}", highlight=False)


def _run(args: argparse.Namespace) -> int:
    from rampconf.challenge import (
        blend_class,
        evaluate,
        load_challenge,
        load_entries,
        make_kit,
        publish,
        write_board,
    )

    challenge = load_challenge(args.challenge)
    if args.command == "kit":
        out = make_kit(challenge, args.out)
        print(f"kit: {out} (README.md, conf/, data/, submissions/)")
    elif args.command == "evaluate":
        records, skipped = evaluate(challenge, args.submissions, args.n_jobs)
        entries = load_entries(challenge)
        paths = write_board(entries, private=False)
        _print_board(entries, private=False)
        print(f"evaluated {len(records)}, skipped {skipped} (already evaluated); public "
              f"leaderboard: {paths['html']} and {paths['csv']}")
    elif args.command == "reveal":
        entries = load_entries(challenge)
        if not entries.records:
            raise RampconfError(f"{challenge.results}: no evaluation yet (run "
                                "rampconf-challenge evaluate first)")
        paths = write_board(entries, private=True)
        _print_board(entries, private=True)
        print(f"final leaderboard: {paths['html']} and {paths['csv']}")
    elif args.command == "publish":
        page = publish(challenge, args.out)
        print(f"published: {page} (and {page.parent / 'submissions'}/)")
    else:
        result, scored = blend_class(challenge, args.output, args.max_size)
        table = result.contributivity_table()
        official = result.run.summary["official_score"]
        print("contributivity (share of the blend, mean over folds):")
        for row in table.itertuples(index=False):
            print(f"  {row.submission:<30} {row.contributivity:5.1f} %")
        valid = result.run.summary["bagged"].get("valid", {}).get(official)
        parts = ", ".join(f"{part} {values[official]:.4f}"
                          for part, values in scored["bagged"].items())
        print(f"blend: bagged {official} valid {valid:.4f}, {parts}")
        print(f"blend run directory: {result.run.run_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rampconf-challenge``."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (RampconfError, FileNotFoundError, ValueError) as exc:
        for line in getattr(exc, "lines", None) or [str(exc)]:
            print(f"rampconf-challenge: error: {line}", file=sys.stderr)
        return getattr(exc, "exit_code", 2) if isinstance(exc, RampconfError) else 2


if __name__ == "__main__":
    sys.exit(main())
