"""Functions and event source mappings as values, with their stored and wire forms."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

Doc = dict[str, Any]


def lambda_timestamp(epoch: float) -> str:
    """Lambda's LastModified text, e.g. 2024-01-02T03:04:05.678+0000."""
    millis = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}+0000"


def iso_millis(epoch: float) -> str:
    millis = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}Z"


@dataclass(frozen=True, slots=True)
class FunctionLayer:
    """A layer version a function uses, as the function keeps it (even once the version is deleted)."""

    arn: str
    code_size: int
    unzipped_size: int


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    name: str
    runtime: str
    handler: str
    role: str
    code_kind: str  # "zip" (extracted under the state dir) or "dir" (a local directory, hot reload)
    code_path: str  # the directory the handler module is imported from
    code_sha256: str
    code_size: int
    revision_id: str
    last_modified: float
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    architectures: tuple[str, ...] = ("x86_64",)
    ephemeral_storage: int = 512
    layers: tuple[FunctionLayer, ...] = ()
    opt_path: str = ""  # the function's layers merged, in order (Lambda's /opt); "" without layers
    reserved_concurrency: int | None = None  # PutFunctionConcurrency

    def to_doc(self) -> Doc:
        doc = asdict(self)
        doc["architectures"] = list(self.architectures)
        doc["layers"] = [asdict(layer) for layer in self.layers]
        return doc

    @classmethod
    def from_doc(cls, doc: Doc) -> FunctionConfig:
        return cls(
            **{
                **doc,
                "architectures": tuple(doc.get("architectures", ("x86_64",))),
                "layers": tuple(FunctionLayer(**layer) for layer in doc.get("layers", ())),
            }
        )

    def with_changes(self, **changes: Any) -> FunctionConfig:
        return replace(self, **changes)

    def arn(self, region: str, account: str) -> str:
        return f"arn:aws:lambda:{region}:{account}:function:{self.name}"

    def to_wire(self, region: str, account: str) -> Doc:
        out: Doc = {
            "FunctionName": self.name,
            "FunctionArn": self.arn(region, account),
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": lambda_timestamp(self.last_modified),
            "CodeSha256": self.code_sha256,
            "Version": "$LATEST",
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": list(self.architectures),
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.name}"},
        }
        if self.environment:
            out["Environment"] = {"Variables": dict(self.environment)}
        if self.layers:
            out["Layers"] = [{"Arn": layer.arn, "CodeSize": layer.code_size} for layer in self.layers]
        return out


@dataclass(frozen=True, slots=True)
class MappingConfig:
    uuid: str
    function_name: str
    event_source_arn: str
    starting_position: str
    batch_size: int = 100
    maximum_batching_window: int = 0
    enabled: bool = True
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect_on_error: bool = False
    parallelization_factor: int = 1
    report_batch_item_failures: bool = False
    tumbling_window: int = 0
    filters: tuple[str, ...] = ()
    on_failure: str | None = None
    last_modified: float = 0.0
    last_processing_result: str = "No records processed"

    def to_doc(self) -> Doc:
        doc = asdict(self)
        doc["filters"] = list(self.filters)
        return doc

    @classmethod
    def from_doc(cls, doc: Doc) -> MappingConfig:
        return cls(**{**doc, "filters": tuple(doc.get("filters", ()))})

    def with_changes(self, **changes: Any) -> MappingConfig:
        return replace(self, **changes)

    @property
    def state(self) -> str:
        return "Enabled" if self.enabled else "Disabled"

    def to_wire(self, region: str, account: str, state: str | None = None) -> Doc:
        out: Doc = {
            "UUID": self.uuid,
            "StartingPosition": self.starting_position,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.maximum_batching_window,
            "ParallelizationFactor": self.parallelization_factor,
            "EventSourceArn": self.event_source_arn,
            "FunctionArn": f"arn:aws:lambda:{region}:{account}:function:{self.function_name}",
            "LastModified": self.last_modified,
            "LastProcessingResult": self.last_processing_result,
            "State": state or self.state,
            "StateTransitionReason": "User action",
            "DestinationConfig": {"OnFailure": {"Destination": self.on_failure} if self.on_failure else {}},
            "MaximumRecordAgeInSeconds": self.maximum_record_age,
            "BisectBatchOnFunctionError": self.bisect_on_error,
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "TumblingWindowInSeconds": self.tumbling_window,
            "FunctionResponseTypes": ["ReportBatchItemFailures"] if self.report_batch_item_failures else [],
            "EventSourceMappingArn": f"arn:aws:lambda:{region}:{account}:event-source-mapping:{self.uuid}",
        }
        if self.filters:
            out["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in self.filters]}
        return out
