"""DAX's error types (AWS JSON 1.1: a bare `__type`, no namespace). AWS publishes no message texts for
them; each says what was wrong and names the resource."""

from __future__ import annotations

from ..errors import DynamoDBError


class DaxError(DynamoDBError):
    namespace = ""


class ClusterNotFoundFault(DaxError):
    pass


class ClusterAlreadyExistsFault(DaxError):
    pass


class InvalidClusterStateFault(DaxError):
    pass


class NodeNotFoundFault(DaxError):
    pass


class ParameterGroupNotFoundFault(DaxError):
    pass


class ParameterGroupAlreadyExistsFault(DaxError):
    pass


class InvalidParameterGroupStateFault(DaxError):
    pass


class SubnetGroupNotFoundFault(DaxError):
    pass


class SubnetGroupAlreadyExistsFault(DaxError):
    pass


class SubnetGroupInUseFault(DaxError):
    pass


class InvalidParameterValueException(DaxError):
    pass


class InvalidParameterCombinationException(DaxError):
    pass


class InvalidARNFault(DaxError):
    pass


class TagNotFoundFault(DaxError):
    pass


class TagQuotaPerResourceExceeded(DaxError):
    pass


class ClusterQuotaForCustomerExceededFault(DaxError):
    pass


class NodeQuotaForClusterExceededFault(DaxError):
    pass


class AccessDeniedException(DaxError):
    pass
