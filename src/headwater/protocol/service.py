"""botocore's bundled service models (DynamoDB, DynamoDB Streams, Kinesis, DAX), loaded once per process."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from headwater.protocol import extra_rules
from headwater.protocol.compiler import Checker, compile_shapes

API_VERSION: Final = "2012-08-10"
DYNAMODB: Final = "dynamodb"
STREAMS: Final = "dynamodbstreams"
KINESIS: Final = "kinesis"
DAX: Final = "dax"
SERVICES: Final = (DYNAMODB, STREAMS, KINESIS, DAX)
API_VERSIONS: Final = {
    DYNAMODB: API_VERSION,
    STREAMS: API_VERSION,
    KINESIS: "2013-12-02",
    DAX: "2017-04-19",
}


@dataclass(frozen=True, slots=True)
class ServiceModel:
    """One service's operations, their input shapes and a precompiled checker per operation."""

    name: str
    target_prefix: str
    shapes: Mapping[str, Mapping[str, Any]]
    inputs: Mapping[str, str]  # operation -> input shape name
    checkers: Mapping[str, Checker]  # operation -> compiled input checker

    @property
    def operation_names(self) -> frozenset[str]:
        return frozenset(self.inputs)

    def has_operation(self, operation: str) -> bool:
        return operation in self.inputs

    def input_shape(self, operation: str) -> Mapping[str, Any]:
        return self.shapes[self.inputs[operation]]

    def input_shape_name(self, operation: str) -> str:
        return self.inputs[operation]

    def checker(self, operation: str) -> Checker:
        return self.checkers[operation]


def _load_raw(service: str) -> dict[str, Any]:
    import botocore.loaders  # imported lazily: only the first call pays for it

    model: dict[str, Any] = botocore.loaders.Loader().load_service_model(
        service, "service-2", API_VERSIONS[service]
    )
    return model


@functools.cache
def load_service(service: str) -> ServiceModel:
    """The model of one of SERVICES; only the first call reads botocore's file."""
    if service not in SERVICES:
        raise KeyError(service)
    raw = _load_raw(service)
    shapes = raw["shapes"]
    inputs: dict[str, str] = {}
    for op_name, op in raw["operations"].items():
        if "input" in op:
            inputs[op_name] = op["input"]["shape"]
        else:
            # An operation without input still takes a (possibly empty) JSON object.
            synthetic = f"{op_name}Input"
            shapes = {**shapes, synthetic: {"type": "structure", "members": {}}}
            inputs[op_name] = synthetic
    shapes = extra_rules.with_service_rules(shapes)
    compiled = compile_shapes(shapes, sorted(set(inputs.values())))
    checkers = {op: compiled[shape] for op, shape in inputs.items()}
    return ServiceModel(
        name=service,
        target_prefix=raw["metadata"]["targetPrefix"],
        shapes=MappingProxyType(shapes),
        inputs=MappingProxyType(inputs),
        checkers=MappingProxyType(checkers),
    )
