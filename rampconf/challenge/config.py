"""``challenge.yaml``: the pydantic model of a class challenge, read with one-line errors.

A challenge names a problem (a packaged one, or the teacher's own in ``conf/problem/``
beside ``challenge.yaml``), the data with the whole test set (labels of the private
part included: the teacher's copy), how that test set splits into a public and a
private part, the limits of every fold and what counts per student::

    name: ml_class_2026
    problem: titanic
    data_root: /data/kits          # relative paths: from the folder of challenge.yaml
    overrides: [problem.cv.n_splits=4]
    split: {public_fraction: 0.5, seed: 0}
    limits: {fold_timeout: 60, fold_memory: 2GB, sandbox: bwrap}
    select: best_public
    results: results
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from rampconf.errors import ConfigError
from rampconf.plugin import StrictModel, format_validation_error

__all__ = ["RESERVED", "Challenge", "ChallengeConfig", "LimitsConfig", "SplitConfig",
           "load_challenge"]

NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
#: Keys a challenge sets for every evaluation itself: its overrides may not set them.
RESERVED = ("data_root", "submission", "fold_timeout", "fold_memory", "sandbox",
            "save_predictions", "unsafe_in_process", "allow_outside_data_root", "trial",
            "quick", "problem", "hydra")


class SplitConfig(StrictModel):
    """How the problem's test set splits: a public part (given to students), a private one."""

    public_fraction: float | None = Field(
        None, gt=0, lt=1, description="fraction of the test rows that are public, drawn at "
        "random with seed (null: use column)")
    seed: int = Field(0, ge=0, description="seed of the random public/private draw")
    column: str | None = Field(
        None, description="a column of the test file that marks public rows (true, 1, yes, "
        "public) and private rows (false, 0, no, private); the problem must ignore it "
        "(problem.data.ignore)")

    @model_validator(mode="after")
    def _one_way(self) -> SplitConfig:
        if (self.public_fraction is None) == (self.column is None):
            raise ValueError("give either public_fraction (with seed) or column, not "
                             f"{'both' if self.column else 'neither'}")
        return self


class LimitsConfig(StrictModel):
    """What every evaluation may use: the run options of trusted execution, and a wall limit."""

    fold_timeout: float | None = Field(
        600, gt=0, description="seconds (wall) each fold may run; then status timeout")
    fold_memory: int | str | None = Field(
        "4GB", description="memory each fold may use (e.g. 2GB); then status out_of_memory")
    sandbox: Literal["bwrap"] | None = Field(
        "bwrap", description="bwrap: folds run in bubblewrap (no network, no data file "
        "visible); null: isolated processes without an OS sandbox")
    submission_timeout: float | None = Field(
        3600, gt=0, description="seconds (wall) a whole evaluation may run, check and "
        "every fold included; then it is stopped and recorded as timeout")

    @field_validator("fold_memory")
    @classmethod
    def _memory(cls, value: int | str | None) -> int | str | None:
        from rampconf.limits import parse_memory

        if value is not None:
            parse_memory(value)
        return value


class ChallengeConfig(StrictModel):
    """The validated ``challenge.yaml``."""

    name: str = Field(pattern=NAME_PATTERN, description="the challenge's name (its identity "
                      "with problem, data, overrides, split and limits)")
    problem: str = Field(pattern=NAME_PATTERN, description="a problem option: packaged, or "
                         "conf/problem/NAME.yaml beside challenge.yaml")
    data_root: str = Field(description="folder of the problem's data files, whole test set "
                           "included (relative: to the folder of challenge.yaml)")
    overrides: list[str] = Field(default_factory=list, description="Hydra overrides of every "
                                 "evaluation and of the kit's problem (e.g. "
                                 "problem.cv.n_splits=4)")
    split: SplitConfig
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    select: Literal["newest", "best_public", "all"] = Field(
        "newest", description="the submissions of a student that count: the newest (files' "
        "latest change), the best public score, or all")
    rank_public_by: Literal["public", "valid"] = Field(
        "public", description="the public leaderboard ranks by the bagged public test score "
        "or by the mean CV valid score")
    starting_kit: str = Field("starting_kit", description="the submission copied into the "
                              "kit: a submission name of the problem or a folder")
    n_jobs: int = Field(1, ge=1, description="submissions evaluated at a time")
    results: str = Field("results", description="where evaluations and leaderboards go "
                         "(relative: to the folder of challenge.yaml)")

    @field_validator("overrides")
    @classmethod
    def _not_reserved(cls, value: list[str]) -> list[str]:
        for item in value:
            key = item.lstrip("+~").split("=", 1)[0].split("@", 1)[0]
            root = key.split(".", 1)[0].split("/", 1)[0]
            if root in RESERVED and not key.startswith("problem."):
                raise ValueError(f"{item!r} sets a key the challenge sets itself ("
                                 f"{', '.join(RESERVED)}); use data_root, limits or the "
                                 "problem's keys (problem.*) instead")
        return value


class Challenge:
    """A challenge read from its file: the validated config and the paths it resolves."""

    def __init__(self, config: ChallengeConfig, path: Path) -> None:
        self.config = config
        self.path = path.resolve()
        self.folder = self.path.parent

    def resolve(self, value: str) -> Path:
        """A path of the challenge file, relative ones taken from its folder."""
        path = Path(os.path.expanduser(value))
        return path if path.is_absolute() else (self.folder / path)

    @property
    def data_root(self) -> Path:
        return self.resolve(self.config.data_root).resolve()

    @property
    def results(self) -> Path:
        return self.resolve(self.config.results)

    @property
    def identity(self) -> str:
        """A hash of what decides an evaluation's result: a change re-evaluates every submission."""
        c = self.config
        text = json.dumps({"name": c.name, "problem": c.problem, "data_root": str(self.data_root),
                           "overrides": c.overrides, "split": c.split.model_dump(),
                           "limits": c.limits.model_dump()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def run_overrides(self) -> list[str]:
        """Hydra overrides of every evaluation (the submission's are added per submission)."""
        limits = self.config.limits
        items = [f"problem={self.config.problem}", f"data_root={self.data_root}",
                 "save_predictions=true", "progress=false", "n_figures=0", "n_jobs=1"]
        for key in ("fold_timeout", "fold_memory", "sandbox"):
            value = getattr(limits, key)
            items.append(f"{key}={'null' if value is None else value}")
        return [*items, *self.config.overrides]


def load_challenge(path: str | os.PathLike[str]) -> Challenge:
    """Read and validate ``challenge.yaml``.

    Raises
    ------
    ConfigError
        A missing or unreadable file, bad YAML, or invalid keys: one line each,
        ``FILE: key.path: what is wrong, got VALUE``.
    """
    import yaml

    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{file}: no such challenge file (a challenge.yaml with name, "
                          "problem, data_root and split)")
    try:
        raw = yaml.safe_load(file.read_text())
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{file}: not a readable YAML file: "
                          f"{str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping of keys (name, problem, data_root, "
                          f"split, ...), got {type(raw).__name__}")
    try:
        config = ChallengeConfig.model_validate(raw)
    except ValidationError as exc:
        allowed = ", ".join(ChallengeConfig.model_fields)
        lines = [f"{file}: {line}" + (f" (keys of a challenge: {allowed})"
                                      if ": unknown key" in line and "." not in
                                      line.split(":", 1)[0] else "")
                 for line in format_validation_error(exc, "", raw)]
        raise ConfigError(lines[0], lines=lines) from None
    return Challenge(config, file)


def challenge_summary(challenge: Challenge) -> dict[str, Any]:
    """The challenge as plain data (for records)."""
    return {"name": challenge.config.name, "problem": challenge.config.problem,
            "identity": challenge.identity[:12]}
