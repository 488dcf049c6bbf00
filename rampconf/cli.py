"""The command line: ``python -m rampconf [overrides]`` (and the ``rampconf`` script).

Hydra composes ``conf/`` and the overrides; the task validates, runs and
prints. Errors are printed as one line each (``debug=true`` or
``RAMPCONF_DEBUG=1`` shows the traceback), Hydra's own composition errors
too (:mod:`rampconf.hydra_errors`), and an error found before the run starts
leaves no run directory behind. Exit codes: 0 success, 1 a submission failed
(a fold raised, crashed, exited, predicted badly or went over a limit: the
other folds are kept) or a sweep ended without a complete trial, 2 bad
configuration or data, or a run directory that cannot be written, 130 / 143
a run or sweep interrupted by SIGINT / SIGTERM (a run saves the folds that
finished, its ``summary.json`` says ``interrupted``). Inside a multirun a
failing job raises, so the sweeper records it and goes on; nothing calls
``sys.exit`` inside a job or the sweeper (errors found in Hydra's machinery
reach :func:`main` as :class:`~rampconf.errors.ErrorExit`).
"""

from __future__ import annotations

import gc
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from rampconf import registry
from rampconf.errors import ConfigError, ErrorExit, RampconfError, RunInterrupted
from rampconf.resources import packaged_conf_dir

__all__ = ["main", "run_and_report"]

#: Groups whose choice is checked before Hydra runs (a submission is checked against
#: its problem's folder when the run is prepared, which can say how to create one).
GROUPS = ("problem", "workflow", "cv")
_state: dict[str, Any] = {"exit_code": 0, "runner": None}


def _plugins_help() -> str:
    from rampconf.local_plugins import loaded_files

    lines = []
    try:
        for kind in registry.KINDS:
            lines.append(f"{kind}: {', '.join(registry.available(kind))}")
    except ConfigError as exc:  # a local plugin file that does not load: say so, list the rest
        lines = [f"{kind}: {', '.join(sorted(registry._entry_points(kind)))}"
                 for kind in registry.KINDS] + [f"not loaded: {exc}"]
    for loaded in loaded_files():
        names = "; ".join(f"{kind} {', '.join(names)}" for kind, names in loaded.plugins.items())
        lines.append(f"local plugins of {loaded.path} (sha256 {loaded.sha256[:12]}): "
                     f"{names or 'none registered'}")
    return "\n".join(lines)


def _register_resolver() -> None:
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("rampconf_plugins"):
        OmegaConf.register_new_resolver("rampconf_plugins", _plugins_help)


def group_options(group: str) -> list[str]:
    """Options of a config group: ``./conf/<group>`` and the packaged conf."""
    names: set[str] = set()
    for root in (Path.cwd() / "conf", packaged_conf_dir()):
        folder = root / group
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.yaml"))
    return sorted(names)


def precheck(argv: list[str]) -> list[str]:
    """Errors in group choices that Hydra would report less helpfully; one line each."""
    errors = []
    chosen = set()
    for arg in argv:
        match = re.fullmatch(r"([a-z_]+)=([^,()\[\]]+)", arg)
        if match and match.group(1) in GROUPS:
            group, value = match.groups()
            chosen.add(group)
            if value == "null":
                continue
            options = group_options(group)
            if value not in options:
                errors.append(f"{group}={value}: " + registry.unknown_name_message(
                    f"{group} option", value, options))
    errors.extend(syntax_errors(argv))
    for arg in argv:
        match = re.match(r"(cv|workflow)\.([A-Za-z_]+)=", arg)
        if match and match.group(1) not in chosen:
            group, key = match.groups()
            errors.append(
                f"{arg}: no {group} option is chosen, so the problem's own {group} is used; "
                f"write problem.{group}.{key}=... to change it, or choose one first "
                f"({group}=NAME {arg})")
    return errors


def syntax_errors(argv: list[str]) -> list[str]:
    """One line per command-line override that Hydra's grammar cannot parse."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create()
    errors = []
    for arg in argv:
        if "=" not in arg or arg.startswith("-"):
            continue
        try:
            parser.parse_overrides([arg])
        except OverrideParseException as exc:
            detail = " ".join(line for line in str(exc).splitlines()
                              if line and not line.startswith(("See https://", "Error parsing")))
            errors.append(f"{arg}: bad override syntax: {detail}")
    return errors


def print_error(exc: RampconfError, debug: bool) -> None:
    """Print an error as one line per problem (the traceback too when ``debug``)."""
    if debug:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    for line in exc.lines:
        if line == "full traceback:":
            break  # the debug switch prints it above
        print(f"{exc.label}: {line}" if not line.startswith(" ") else line, file=sys.stderr)


def saved_folds(summary: dict[str, Any]) -> str:
    """What a failed run kept, as the end of its error line (nothing when no fold succeeded)."""
    n_ok, n_folds = int(summary["n_folds_ok"]), int(summary["n_folds"])
    if n_ok == 0:
        return "; no fold succeeded"
    if n_ok == n_folds:
        return f"; the {n_folds} folds are saved"
    return "; the other fold is saved" if n_ok == 1 else f"; the other {n_ok} folds are saved"


def _debug_requested(argv: list[str]) -> bool:
    return os.environ.get("RAMPCONF_DEBUG", "") not in ("", "0") or "debug=true" in argv


def _task(cfg: Any) -> float | None:
    """The Hydra task: returns the official mean valid score, for sweepers.

    A single run from the command line is run by the pre-warmed runner
    process when there is one (:mod:`rampconf.prewarm`), once its config is
    validated here; otherwise, and in a multirun, in this process.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from rampconf.configguard import env_interpolations

    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    debug = _debug_requested(sys.argv[1:])
    runner, _state["runner"] = _state.get("runner"), None
    try:
        raw = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        from rampconf.hydra_errors import composition_error

        error = ConfigError(composition_error(exc))
        if multirun:
            raise error from None
        answer = _error_answer(error, debug)
    else:
        assert isinstance(raw, dict)
        kwargs: dict[str, Any] = {
            "raw": {str(key): value for key, value in raw.items()},
            "run_dir": Path(hydra_cfg.runtime.output_dir),
            "overrides": list(hydra_cfg.overrides.task),
            "quiet": raw.get("trial") is not None,  # the sweeper prints a line
            "masked": env_interpolations(cfg)}
        if runner is not None and not multirun:
            from rampconf.prewarm import verdict, verdict_error

            found = runner.validate(kwargs["raw"]) or verdict(kwargs["raw"])
            if found["ok"]:
                answer = runner.run({"kwargs": kwargs, "debug": debug})
            else:  # found by the runner: printed here, as the command's own errors are
                answer = _error_answer(verdict_error(found), debug=False)
        else:
            answer = run_and_report(kwargs, multirun, debug)
    if answer["discard"]:
        _discard_hydra_run_dir(hydra_cfg)  # found before the run started: leave nothing
    _state["exit_code"] = answer["exit_code"]
    return answer["objective"]


def _error_answer(exc: RampconfError, debug: bool) -> dict[str, Any]:
    print_error(exc, debug)
    return {"exit_code": exc.exit_code, "objective": None, "discard": True}


def run_and_report(kwargs: dict[str, Any], multirun: bool, debug: bool) -> dict[str, Any]:
    """Run :func:`rampconf.api.run_config` with ``kwargs``, print its errors; what the task returns.

    The answer: ``exit_code``, ``objective`` (the official mean valid score,
    or None) and ``discard`` (the run stopped before it started: Hydra's run
    directory is to be removed). In a multirun, errors and failed folds are
    raised instead, for the sweeper to record.
    """
    from rampconf.api import run_config

    if not gc.isenabled():  # the command's imports are done (see main)
        gc.freeze()
        gc.enable()
    try:
        result = run_config(**kwargs)
    except RampconfError as exc:
        if multirun:
            raise
        return _error_answer(exc, debug)
    except RunInterrupted as exc:
        if multirun:
            raise
        partial = exc.partial
        done = len(partial.get("folds", []))
        saved = f"; {done} of {partial.get('n_folds', '?')} folds finished, saved in " \
                f"{exc.run_dir} (summary.json: status interrupted)" if exc.run_dir else ""
        print(f"interrupted by {signal.Signals(exc.signal).name}{saved}", file=sys.stderr)
        return {"exit_code": exc.exit_code, "objective": None, "discard": False}
    if result.status == "ok":
        return {"exit_code": 0, "objective": result.objective, "discard": False}
    failed = ", ".join(map(str, result.summary["failed_folds"]))
    first = result.folds[result.folds["status"] != "ok"]["error"].iloc[0] \
        if (result.folds["status"] != "ok").any() else "the retrain failed"
    message = (f"the submission failed in fold(s) {failed}: {first} "
               f"(tracebacks in {result.run_dir}/errors/{saved_folds(result.summary)})")
    if multirun:
        raise RuntimeError(message)
    print(f"error: {message}", file=sys.stderr)
    return {"exit_code": 1, "objective": result.objective, "discard": False}


def _discard_hydra_run_dir(hydra_cfg: Any) -> None:
    """Remove the run directory Hydra made, if it holds only Hydra's own files."""
    from omegaconf import OmegaConf

    from rampconf.hydra_errors import discard_run_dir

    try:
        log_file = OmegaConf.select(hydra_cfg, "job_logging.handlers.file.filename")
    except Exception:  # an unresolvable custom logging config: keep only Hydra's defaults
        log_file = None
    discard_run_dir(Path(hydra_cfg.runtime.output_dir), hydra_cfg.output_subdir,
                    None if log_file is None else str(log_file))


def _terminate(signum: int, frame: Any) -> None:
    raise RunInterrupted(signum)


def main() -> None:
    """Entry point of ``python -m rampconf`` and of the ``rampconf`` script.

    A command that is not a multirun ends, once its exit handlers have run and
    its streams are flushed, without the interpreter's teardown (which took
    40-70 ms of every ``--help``, config error and run: a last garbage
    collection and the destruction of Hydra's and OmegaConf's modules); a
    multirun, or a command with a thread still running, ends as usual.
    """
    argv = sys.argv[1:]
    multirun = any(arg in ("-m", "--multirun") for arg in argv)
    if not multirun:
        # A single run (or --help, --cfg...): no garbage collection while the command
        # imports and composes (Hydra, OmegaConf, pydantic), whose young collections took
        # ~15 ms of --help; back on, over the frozen imports, when a run starts in this
        # process (run_and_report, or the sweeper if the config itself asks a multirun).
        # A multirun keeps it on: its launcher may run no job here.
        gc.disable()
    try:
        _command(argv)
    except SystemExit as stop:
        if multirun or threading.active_count() > 1:
            raise
        from rampconf.prewarm import exit_now

        exit_now(_exit_status(stop.code))


def _exit_status(code: Any) -> int:
    """The status ``sys.exit(code)`` ends with (a message is printed to stderr, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _command(argv: list[str]) -> None:
    if argv[:1] == ["--describe"]:  # plugin help, generated from the plugins' Params models
        from rampconf.describe import main as describe

        sys.exit(describe(argv[1:]))
    from rampconf import prewarm

    runner = _state["runner"] = prewarm.start(argv)  # its imports overlap what follows
    try:
        _main(argv, runner is None)
    finally:
        if _state.get("runner") is not None:  # the command ended before the run
            _state["runner"].close()


def _main(argv: list[str], warm: bool) -> None:
    errors = precheck(argv)
    if errors:
        for line in errors:
            print(f"config error: {line}", file=sys.stderr)
        sys.exit(2)
    if warm and not any(arg.startswith("-") and arg not in ("-m", "--multirun") for arg in argv):
        from rampconf.execution import warm_up

        warm_up(argv)
    import hydra

    from rampconf.api import register_submissions

    register_submissions(argv)
    from rampconf.hydra_errors import composition_error, hydra_raises, is_composition_error

    # SIGTERM ends a run as Ctrl-C does: folds stopped, what finished saved, exit 143
    signal.signal(signal.SIGTERM, _terminate)
    from rampconf.hydra_once import compose_once

    _register_resolver()
    task = hydra.main(version_base="1.3", config_path=str(packaged_conf_dir()),
                      config_name="config")(_task)
    with hydra_raises() as full_error_asked, compose_once(argv):
        try:
            task()
        except ErrorExit as stop:  # an error found in Hydra's machinery (sweeper, config source)
            print_error(stop.error, _debug_requested(argv))
            sys.exit(stop.error.exit_code)
        except KeyboardInterrupt as exc:  # before or after the run (in Hydra): nothing to save
            signum = exc.signal if isinstance(exc, RunInterrupted) else signal.SIGINT
            print(f"interrupted by {signal.Signals(signum).name}", file=sys.stderr)
            sys.exit(128 + signum)
        except Exception as exc:  # Hydra could not compose the config
            if full_error_asked or not is_composition_error(exc):
                raise
            if _debug_requested(argv):
                import traceback

                traceback.print_exception(type(exc), exc, exc.__traceback__)
            error = ConfigError(composition_error(exc))
            print_error(error, debug=False)
            sys.exit(error.exit_code)
    sys.exit(_state["exit_code"])
