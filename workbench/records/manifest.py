"""The run manifest: everything needed to judge whether a comparison was fair, as one typed,
versioned record.

`RunManifest` is what a run records with its answers: the eval set, the stacks' recipes,
engine versions, model digests, what remote engines serve, prefix caching, tuning, the
host (hardware, load, idle CPU, engine builds), the judge, the traffic routes, the indexes,
engine counters and resources, and a matrix file's rules (choice, prices, load). The runner
writes it once per step through the `record_*` methods; the report reads it by attribute.

Stored manifests are JSON (`to_json`), in the shape every earlier version wrote: a manifest
keeps today's keys, and one of an older version (no `schema_version`: version 1) is read
through `upgrade` (`workbench.records.manifest_upgrade`). Keys this version does not know
(written by a newer workbench) are never dropped: top-level ones are kept in `extra`, and
a block's in its `model_extra`; both are written back where they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbench.records.manifest_parts import (
    ChoiceBlock,
    EngineBuild,
    EngineFacts,
    EngineMetrics,
    EvalsetRef,
    Hardware,
    HostLoad,
    IdleCpu,
    ImportedFrom,
    JudgeRecord,
    LoadBlock,
    ModelIdentity,
    Num,
    PrefixCaching,
    Price,
    ResourceUse,
    ServedIdentity,
    TrafficRoute,
    TuningRecord,
)
from workbench.records.manifest_upgrade import SCHEMA_VERSION, upgrade

__all__ = ["SCHEMA_VERSION", "ManifestError", "ManifestLike", "RunManifest", "read_manifest"]


class ManifestError(ValueError):
    """A stored manifest that cannot be read: names the run and the field."""


class RunManifest(BaseModel):
    """The manifest recorded with a run (see the module docstring). Per-stack maps are keyed
    by stack name (runs stored before N-stack runs are re-keyed by `upgrade`)."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    workbench_version: str | None = None
    evalset: EvalsetRef | None = None
    #: The eval set per stack, as runs stored before one eval set per run recorded it.
    evalsets: dict[str, Any] | None = None
    schedule: str | None = None
    schedule_note: str | None = None
    concurrency: int | None = None
    timeout_s: Num | None = None
    warmup_requests: int | None = None
    limit: int | None = None
    baseline: str | None = None
    #: Each stack's recipe (`Stack.model_dump`, secrets redacted), in run order.
    stacks: dict[str, dict[str, Any]] | None = None
    engine_versions: dict[str, str | None] | None = None
    models: dict[str, ModelIdentity] | None = None
    served: dict[str, ServedIdentity] | None = None
    prefix_caching: dict[str, PrefixCaching] | None = None
    tuning: dict[str, TuningRecord] | None = None
    hardware: Hardware | None = None
    engine_builds: dict[str, EngineBuild] | None = None
    judge: JudgeRecord | None = None
    # A matrix file's rules (`Matrix.manifest_extra`).
    matrix: str | None = None
    choice: ChoiceBlock | None = None
    prices: dict[str, Price] | None = None
    load: LoadBlock | None = None
    # Recorded as the run is created and executed.
    space_ids: dict[str, str | None] | None = None
    traffic: list[TrafficRoute] | None = None
    indexes: dict[str, str | None] | None = None
    engine_metrics: dict[str, EngineMetrics] | None = None
    host_load: HostLoad | None = None
    idle_cpu: dict[str, IdleCpu] | None = None
    resources: dict[str, ResourceUse] | None = None
    imported: ImportedFrom | None = None
    #: A run the store made up (`store.synthetic`: demos and benchmarks).
    synthetic: bool | None = None
    #: Top-level keys this version does not know (a newer workbench wrote them): kept and
    #: written back, never dropped.
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _unknown_to_extra(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        known = set(cls.model_fields) - {"extra"}
        unknown = {k: v for k, v in data.items() if k not in known and k != "extra"}
        if not unknown:
            return data
        kept = {k: v for k, v in data.items() if k in known}
        return {**kept, "extra": {**dict(data.get("extra") or {}), **unknown}}

    # --- reading ----------------------------------------------------------------------
    @classmethod
    def read(cls, data: Mapping[str, Any] | RunManifest | None,
             run_id: str | None = None) -> RunManifest:
        """A stored manifest (any version) as a `RunManifest`; None or `{}` reads as an
        empty one. `ManifestError` names the run and the field when it cannot be read."""
        if isinstance(data, RunManifest):
            return data
        try:
            return cls.model_validate(upgrade(dict(data or {})))
        except (ValidationError, ValueError) as exc:
            raise ManifestError(_explain(exc, run_id)) from exc

    def is_empty(self) -> bool:
        """Whether the run recorded nothing at all (a stored `{}`)."""
        return not (self.model_fields_set - {"schema_version", "extra"}) and not self.extra

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict stored and exported: only the keys the run recorded (a key
        never set stays absent, as older readers expect), unknown keys where they were."""
        data = self.model_dump(mode="json", by_alias=True, exclude_unset=True,
                               exclude={"extra"})
        data["schema_version"] = self.schema_version
        return {**data, **self.extra}

    def recipes(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(key, stack name, recipe) in run order, the baseline first."""
        entries = [(k, str(v.get("name", k)), v) for k, v in (self.stacks or {}).items()
                   if isinstance(v, dict)]
        entries.sort(key=lambda e: e[0] != self.baseline and e[1] != self.baseline)
        return entries

    def recipe_of(self, stack: str) -> dict[str, Any]:
        """A stack's recipe by its name or its key ({} when not recorded)."""
        for key, name, recipe in self.recipes():
            if stack in (key, name):
                return recipe
        return {}

    def engine_facts(self, stack: str) -> EngineFacts:
        """What the manifest records of a stack's engine, gathered in one object."""
        return EngineFacts(
            version=(self.engine_versions or {}).get(stack),
            prefix_caching=(self.prefix_caching or {}).get(stack),
            build=(self.engine_builds or {}).get(stack))

    # --- writing: one method per step --------------------------------------------------
    def record_engine_facts(self, stack: str, facts: EngineFacts) -> None:
        """A stack's engine facts (an adapter's answer), into their three maps."""
        self.engine_versions = {**(self.engine_versions or {}), stack: facts.version}
        if facts.prefix_caching is not None:
            self.prefix_caching = {**(self.prefix_caching or {}), stack: facts.prefix_caching}
        if facts.build is not None:
            self.engine_builds = {**(self.engine_builds or {}), stack: facts.build}

    def record_matrix(self, extra: Mapping[str, Any]) -> None:
        """A matrix file's rules (`Matrix.manifest_extra`: name, choice, prices, load)."""
        for key, value in extra.items():
            if key in type(self).model_fields and key != "extra":
                setattr(self, key, value)
            else:
                self.extra = {**self.extra, key: value}

    def record_routes(self, space_ids: Mapping[str, str | None],
                      traffic: list[dict[str, Any]]) -> None:
        """The space id each stack is asked under, and where the run's traffic goes."""
        self.space_ids = dict(space_ids)
        self.traffic = [TrafficRoute.model_validate(t) for t in traffic]

    def record_indexes(self, indexes: Mapping[str, str | None]) -> None:
        """Which index each stack answered from (equal keys: one shared index)."""
        self.indexes = dict(indexes)

    def record_engine_metrics(self, stack: str, url: str, counted: Mapping[str, float],
                              note: str) -> None:
        """A stack's `/metrics` counter differences of this session, added to earlier
        sessions' (a resumed run)."""
        kept = dict(self.engine_metrics or {})
        prev = kept[stack].counters if stack in kept else {}
        total = {k: float(prev.get(k, 0.0)) + v for k, v in counted.items()}
        kept[stack] = EngineMetrics(url=url, counters=total, note=note)
        self.engine_metrics = kept

    def record_host_load(self, summary: Mapping[str, Any],
                         idle: Mapping[str, Mapping[str, Any]]) -> None:
        """This session's load summary and idle CPU (`host.record` merges sessions)."""
        self.host_load = HostLoad.model_validate(summary)
        self.idle_cpu = {k: IdleCpu.model_validate(v) for k, v in idle.items()}

    def record_resources(self, resources: Mapping[str, ResourceUse]) -> None:
        """Each local stack's CPU-seconds, answers and peak RSS (sessions summed)."""
        self.resources = dict(resources)

    def record_judge(self, judge: Mapping[str, Any] | None) -> None:
        """The judge that graded the answers (model, prompt, sample; never its key)."""
        self.judge = None if judge is None else JudgeRecord.model_validate(judge)

    def record_import(self, file: str, sha256: str, rows: int, from_runs: list[str],
                      run_file: str | None) -> None:
        """Where an imported run came from."""
        self.imported = ImportedFrom(file=file, sha256=sha256, rows=rows,
                                     from_runs=from_runs, run_file=run_file)


def _explain(exc: Exception, run_id: str | None) -> str:
    """`run X: manifest field a.b: why` for the first error."""
    where = f"run {run_id}: " if run_id else ""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(the manifest itself)"
        return (f"{where}manifest field {field}: {first['msg']} (got {first['input']!r:.80})"
                + (f" and {exc.error_count() - 1} more" if exc.error_count() > 1 else ""))
    return f"{where}manifest: {exc}"


#: What the report's readers accept: a typed manifest, a stored one (any version), or none.
ManifestLike = RunManifest | Mapping[str, Any] | None


def read_manifest(data: Mapping[str, Any] | RunManifest | None,
                  run_id: str | None = None) -> RunManifest:
    """`RunManifest.read`, as a function."""
    return RunManifest.read(data, run_id)
