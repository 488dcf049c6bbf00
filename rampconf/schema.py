"""The pydantic models of a run's configuration: the only schema.

Hydra composes ``conf/``; :func:`validate_config` turns the composed, resolved
config into a frozen :class:`RunConfig` once, before anything runs. Plugin
parameters (``problem.data``, ``problem.scores.*``, ``cv``, ...) are kept as
open mappings here and validated by each plugin's own ``Params`` model when
the run is prepared (:func:`rampconf.runner.prepare`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rampconf.errors import ConfigError
from rampconf.plugin import StrictModel, format_validation_error
from rampconf.trial import TrialConfig

__all__ = [
    "CVSpec",
    "DataSpec",
    "PredictionSpec",
    "ProblemConfig",
    "RunConfig",
    "ScoreSpec",
    "SubmissionConfig",
    "WorkflowSpec",
    "validate_config",
]

NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"


class _PluginSpec(BaseModel):
    """A plugin choice: its registered name plus the plugin's own parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def plugin_params(self) -> dict[str, Any]:
        """The keys that belong to the plugin's ``Params`` model."""
        return dict(self.model_extra or {})


class DataSpec(_PluginSpec):
    """``problem.data``: the reader and its parameters (files, target, ...)."""

    reader: str


class PredictionSpec(_PluginSpec):
    """``problem.prediction``: the prediction type and its parameters (labels, ...)."""

    type: str


class CVSpec(_PluginSpec):
    """A CV scheme and its parameters."""

    type: str


class WorkflowSpec(_PluginSpec):
    """A workflow and its parameters."""

    type: str


class ScoreSpec(_PluginSpec):
    """One entry of ``problem.scores``: score type, display name, precision, parameters."""

    type: str = Field(description="the score's registered name (see --describe score)")
    name: str | None = Field(None, description="name in tables and files (null: the "
                             "score's own default name)")
    precision: int | None = Field(None, ge=0, le=15, description="decimals shown in tables "
                                  "(null: the score's default)")


class ProblemConfig(StrictModel):
    """A problem: data, prediction type, scores (the first is official), default workflow and CV."""

    name: str = Field(pattern=NAME_PATTERN, description="name in tables, run directories "
                      "and the submissions folder")
    title: str = Field("", description="a one-line description")
    data: DataSpec = Field(description="the reader (data.reader: NAME) and its parameters: "
                           "files relative to data_root, target, ...")
    prediction: PredictionSpec = Field(description="the prediction type (prediction.type: "
                                       "NAME) and its parameters (labels, ...)")
    scores: dict[str, ScoreSpec] = Field(min_length=1, description="KEY -> score; the first "
                                         "is the official score (filled from conf/score "
                                         "through the defaults list)")
    workflow: WorkflowSpec = Field(description="the default workflow: a name, or type: NAME "
                                   "and its parameters (workflow=NAME replaces it)")
    cv: CVSpec = Field(description="the default CV scheme: type: NAME and its parameters "
                       "(cv=NAME replaces it)")
    submissions: str | None = Field(None, pattern=NAME_PATTERN, description="folder of "
                                    "submissions/ to use (null: the problem's name)")
    dataset: str | None = Field(None, description="the data set plugin that downloads or "
                                "generates the files (named when they are missing)")

    @field_validator("workflow", mode="before")
    @classmethod
    def _workflow_name(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @property
    def submissions_folder(self) -> str:
        """Folder under ``submissions/`` that holds this problem's submissions."""
        return self.submissions or self.name


class SubmissionConfig(StrictModel):
    """The submission to run and its hyperparameter overrides."""

    name: str = Field(pattern=NAME_PATTERN, description="a folder of "
                      "submissions/<problem>/ (yours in ./submissions first)")
    path: str | None = Field(None, description="the submission's folder anywhere (then name "
                             "is only its name in tables)")
    params: dict[str, Any] = Field(default_factory=dict, description="hyperparameters: "
                                   "keyword arguments of the submission's callables")


class RunConfig(StrictModel):
    """The whole validated configuration of one run."""

    problem: ProblemConfig
    workflow: WorkflowSpec | None = Field(None, description="workflow=NAME (conf/workflow): "
                                          "replaces the problem's workflow (null: the problem's)")
    cv: CVSpec | None = Field(None, description="cv=NAME (conf/cv): replaces the problem's CV "
                              "scheme (null: the problem's)")
    submission: SubmissionConfig
    data_root: str
    n_jobs: int = 1
    seed: int = Field(42, ge=0)
    retrain: bool = False
    save_predictions: bool = True
    progress: bool = True
    n_figures: int = Field(4, ge=0)
    debug: bool = False
    quick: bool = Field(False, description="a smoke run on the first quick_rows rows of the "
                                           "training and test data (as the kits' RAMP_TEST_MODE)")
    quick_rows: int = Field(100, ge=1, description="rows of each split kept by quick=true")
    trial: TrialConfig | None = None
    compat: Literal["ramp"] | None = Field(
        None, description="ramp: every behaviour that reproduces ramp-workflow 0.7.0's numbers "
                          "where rampconf's default differs (docs/ramp-workflow.md); "
                          "null: rampconf's defaults")
    fold_timeout: float | None = Field(
        None, gt=0, description="seconds (wall) a fold may run; then it is killed and "
        "recorded with status timeout (null: no limit)")
    fold_memory: int | str | None = Field(
        None, description="resident memory a fold may use, e.g. 2GB or 512MB; above it the "
        "fold is killed and recorded with status out_of_memory (null: no limit)")
    sandbox: Literal["bwrap"] | None = Field(
        None, description="run every fold process inside bubblewrap: no network, read-only "
        "file system, no data file visible (null: no OS sandbox)")
    backend: Literal["local", "dask"] = Field(
        "local", description="where folds run: local (fork server on this machine) or dask "
        "(the Dask cluster of dask_address, each fold isolated on its worker)")
    dask_address: str | None = Field(
        None, description="the Dask scheduler of backend=dask, e.g. tcp://127.0.0.1:8786")
    allow_outside_data_root: bool = Field(
        False, description="accept data paths that leave data_root (absolute paths, '..', "
        "symbolic links out of it)")
    unsafe_in_process: bool = Field(
        False, description="run submission code in this process, without isolation or limits "
        "(debugging with pdb only: a submission can then forge its scores)")

    @field_validator("n_jobs")
    @classmethod
    def _n_jobs_not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("n_jobs must be a positive number of workers or -1 for all cores")
        return value

    @field_validator("fold_memory")
    @classmethod
    def _memory_size(cls, value: int | str | None) -> int | str | None:
        from rampconf.limits import parse_memory

        if value is not None:
            parse_memory(value)
        return value

    @model_validator(mode="after")
    def _isolation_for_limits(self) -> RunConfig:
        if self.unsafe_in_process:
            asked = [f"{name}={getattr(self, name)}" for name in
                     ("fold_timeout", "fold_memory", "sandbox") if getattr(self, name)]
            if asked:
                raise ValueError(f"{', '.join(asked)} needs isolated folds; "
                                 "unsafe_in_process=true runs them in this process")
        if self.backend == "dask" and not self.dask_address:
            raise ValueError("backend=dask needs dask_address, the Dask scheduler "
                             "(e.g. dask_address=tcp://127.0.0.1:8786), got none")
        if self.backend == "dask" and self.unsafe_in_process:
            raise ValueError("backend=dask runs folds isolated on the Dask workers; "
                             "unsafe_in_process=true runs them in this process: choose one")
        return self

    @property
    def fold_memory_bytes(self) -> int | None:
        """``fold_memory`` in bytes."""
        from rampconf.limits import parse_memory

        return None if self.fold_memory is None else parse_memory(self.fold_memory)

    @property
    def workflow_spec(self) -> WorkflowSpec:
        """The workflow in force: the command line's ``workflow=`` or the problem's default."""
        return self.workflow or self.problem.workflow

    @property
    def cv_spec(self) -> CVSpec:
        """The CV scheme in force: the command line's ``cv=`` or the problem's default."""
        return self.cv or self.problem.cv


def validate_config(raw: dict[str, Any]) -> RunConfig:
    """Validate a composed, resolved configuration.

    Raises
    ------
    ConfigError
        One line per problem, each naming its key path, what is allowed and what was given.
    """
    raw = {k: v for k, v in raw.items() if k != "hydra"}
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as exc:
        lines = format_validation_error(exc, "", raw)
        raise ConfigError(lines[0], lines=lines) from None
