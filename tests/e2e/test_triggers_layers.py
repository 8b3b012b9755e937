"""Lambda layers through boto3: PublishLayerVersion, GetLayerVersion(ByArn), ListLayers,
ListLayerVersions, DeleteLayerVersion with Lambda's shapes and errors (as recorded from Lambda by
LocalStack's validated suite), and functions importing layer code: from python/ and
python/lib/python3.x/site-packages, in layer order, after an update, after the version is deleted and
after a restart."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import re
import textwrap
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.triggers_support import ROLE, start_server, unique, zip_of
from tests.server import Server

ACCOUNT_REGION = "us-east-1:000000000000"
VERSION_ARN_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:"
    r"[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
)
NAME_PATTERN = r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+"
HANDLER = """
import json, os, sys

def handler(event, context):
    import shared, common
    out = {"shared": shared.WHO, "common": common.WHO}
    try:
        import sitepkg
        out["sitepkg"] = sitepkg.WHO
    except ImportError:
        out["sitepkg"] = None
    try:
        import pthmod
        out["pth"] = pthmod.WHO
    except ImportError:
        out["pth"] = None
    out["path_has_bin"] = os.environ["PATH"].endswith("/bin")
    return out
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("layers"))
    yield server
    if server.process is not None:
        server.stop()


@pytest.fixture(scope="module")
def lam(srv: Server) -> Any:
    return srv.client("lambda")


@pytest.fixture(scope="module")
def raw(srv: Server) -> Any:
    """A Lambda client that sends what it is given (no client-side validation)."""
    return srv.client("lambda", parameter_validation=False)


def layer_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, textwrap.dedent(text))
    return buffer.getvalue()


def publish(lam: Any, name: str, files: dict[str, str], **extra: Any) -> dict[str, Any]:
    published: dict[str, Any] = lam.publish_layer_version(
        LayerName=name, Content={"ZipFile": layer_zip(files)}, **extra
    )
    return published


def function_with(lam: Any, layers: list[str], code: str = HANDLER) -> str:
    name = unique("lf")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(code)},
        Layers=layers,
    )
    return name


def call(lam: Any, name: str) -> Any:
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def failure(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_publish_get_list_and_delete_with_lambdas_shapes(lam: Any) -> None:
    name = unique("layer")
    content = layer_zip({"python/shared.py": "WHO = 'v1'"})
    first = lam.publish_layer_version(
        LayerName=name,
        Content={"ZipFile": content},
        Description="shared code",
        LicenseInfo="MIT",
        CompatibleRuntimes=["python3.12", "python3.13"],
        CompatibleArchitectures=["x86_64"],
    )
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    layer_arn = f"arn:aws:lambda:{ACCOUNT_REGION}:layer:{name}"
    assert first["LayerArn"] == layer_arn
    assert first["LayerVersionArn"] == layer_arn + ":1"
    assert first["Version"] == 1
    assert first["Description"] == "shared code" and first["LicenseInfo"] == "MIT"
    assert first["CompatibleRuntimes"] == ["python3.12", "python3.13"]
    assert first["CompatibleArchitectures"] == ["x86_64"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", first["CreatedDate"])
    assert first["Content"]["CodeSize"] == len(content)
    assert base64.b64decode(first["Content"]["CodeSha256"]) == hashlib.sha256(content).digest()
    assert "Location" not in first["Content"]  # Lambda's presigned URL; here it would be a host path
    bare = publish(lam, name, {"python/shared.py": "WHO = 'v2'"})
    assert bare["Version"] == 2
    assert (bare["Description"], bare["CompatibleRuntimes"], bare["CompatibleArchitectures"]) == ("", [], [])
    assert "LicenseInfo" not in bare

    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        k: v for k, v in first.items() if k != "ResponseMetadata"
    }
    assert lam.get_layer_version(LayerName=layer_arn, VersionNumber=2)["Version"] == 2  # by layer ARN
    assert lam.get_layer_version_by_arn(Arn=layer_arn + ":2")["LayerVersionArn"] == layer_arn + ":2"

    versions = lam.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]  # newest first
    assert set(versions[1]) == {
        "LayerVersionArn",
        "Version",
        "Description",
        "CreatedDate",
        "CompatibleRuntimes",
        "CompatibleArchitectures",
        "LicenseInfo",
    }
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.13")[
        "LayerVersions"
    ]] == [1]  # fmt: skip
    paged = lam.list_layer_versions(LayerName=name, MaxItems=1)
    assert [v["Version"] for v in paged["LayerVersions"]] == [2]
    rest = lam.list_layer_versions(LayerName=name, Marker=paged["NextMarker"])
    assert [v["Version"] for v in rest["LayerVersions"]] == [1] and "NextMarker" not in rest

    (listed,) = [item for item in lam.list_layers()["Layers"] if item["LayerName"] == name]
    assert listed["LayerArn"] == layer_arn
    assert listed["LatestMatchingVersion"]["Version"] == 2
    (matching,) = [
        item
        for item in lam.list_layers(CompatibleRuntime="python3.12")["Layers"]
        if item["LayerName"] == name
    ]
    assert matching["LatestMatchingVersion"]["Version"] == 1

    assert (
        lam.delete_layer_version(LayerName=name, VersionNumber=2)["ResponseMetadata"]["HTTPStatusCode"] == 204
    )
    assert (
        lam.delete_layer_version(LayerName=name, VersionNumber=2)["ResponseMetadata"]["HTTPStatusCode"] == 204
    )
    assert publish(lam, name, {"python/shared.py": "WHO = 'v3'"})["Version"] == 3  # numbers are not reused
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]] == [3, 1]


def test_layer_api_errors(lam: Any, raw: Any) -> None:
    name = unique("layer")
    publish(lam, name, {"python/shared.py": "WHO = 1"})
    not_found = ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    with pytest.raises(ClientError) as info:
        lam.get_layer_version(LayerName="layerdoesnotexist", VersionNumber=1)
    assert failure(info) == not_found
    with pytest.raises(ClientError) as info:
        lam.get_layer_version(LayerName=name, VersionNumber=2)
    assert failure(info) == not_found
    for number in (0, -1):
        with pytest.raises(ClientError) as info:
            lam.get_layer_version(LayerName=name, VersionNumber=number)
        assert failure(info) == ("InvalidParameterValueException", "Layer Version Cannot be less than 1", 400)
        with pytest.raises(ClientError) as info:
            lam.delete_layer_version(LayerName=name, VersionNumber=number)
        assert failure(info)[1] == "Layer Version Cannot be less than 1"
    with pytest.raises(ClientError) as info:
        lam.get_layer_version_by_arn(Arn=f"arn:aws:lambda:{ACCOUNT_REGION}:layer:{name}:9")
    assert failure(info) == not_found
    unversioned = f"arn:aws:lambda:{ACCOUNT_REGION}:layer:{name}"
    with pytest.raises(ClientError) as info:
        raw.get_layer_version_by_arn(Arn=unversioned)
    assert failure(info)[:2] == (
        "ValidationException",
        f"1 validation error detected: Value '{unversioned}' at 'arn' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {VERSION_ARN_PATTERN}",
    )
    assert lam.list_layer_versions(LayerName="layerdoesnotexist")["LayerVersions"] == []
    assert lam.delete_layer_version(LayerName="layerdoesnotexist", VersionNumber=1)["ResponseMetadata"][
        "HTTPStatusCode"
    ] == 204  # fmt: skip
    with pytest.raises(ClientError) as info:
        raw.list_layers(CompatibleArchitecture="archdoesnotexist")
    assert failure(info)[:2] == (
        "ValidationException",
        "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed to satisfy "
        "constraint: Member must satisfy enum value set: [x86_64, arm64]",
    )
    with pytest.raises(ClientError) as info:
        raw.list_layers(CompatibleRuntime="runtimedoesnotexist")
    assert failure(info)[1].startswith(
        "1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ruby3.5, ruby2.6, "
    )
    with pytest.raises(ClientError) as info:
        raw.publish_layer_version(
            LayerName=name,
            Content={"ZipFile": layer_zip({"a": "b"})},
            CompatibleRuntimes=["invalidruntime"],
            CompatibleArchitectures=["invalidarch", "x86_64"],
        )
    code, message, _ = failure(info)
    assert code == "ValidationException"
    assert message.startswith(
        "2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes' failed to satisfy "
        "constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, "
    )
    assert message.endswith(
        "; Value '[invalidarch, x86_64]' at 'compatibleArchitectures' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], "
        "Member must not be null]"
    )
    with pytest.raises(ClientError) as info:
        raw.publish_layer_version(
            LayerName=name, Content={"ZipFile": layer_zip({"a": "b"})}, Description="d" * 257
        )
    assert failure(info)[1] == (
        f"1 validation error detected: Value '{'d' * 257}' at 'description' failed to satisfy constraint: "
        "Member must have length less than or equal to 256"
    )
    with pytest.raises(ClientError) as info:
        raw.publish_layer_version(LayerName="bad name", Content={"ZipFile": layer_zip({"a": "b"})})
    assert failure(info)[:2] == (
        "ValidationException",
        "1 validation error detected: Value 'bad name' at 'layerName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {NAME_PATTERN}",
    )
    with pytest.raises(ClientError) as info:
        raw.publish_layer_version(LayerName=name)
    assert failure(info)[1] == (
        "1 validation error detected: Value null at 'content' failed to satisfy constraint: "
        "Member must not be null"
    )
    with pytest.raises(ClientError) as info:
        raw.publish_layer_version(LayerName=name, Content={"ZipFile": b"not a zip"})
    assert failure(info)[:2] == (
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    )
    with pytest.raises(ClientError) as info:
        raw.publish_layer_version(LayerName=name, Content={"S3Bucket": "b", "S3Key": "k"})
    assert failure(info)[0] == "InvalidParameterValueException"


def test_functions_refuse_layers_lambda_would_refuse(lam: Any, raw: Any) -> None:
    name = unique("layer")
    v1 = publish(lam, name, {"python/shared.py": "WHO = 1"})["LayerVersionArn"]
    v2 = publish(lam, name, {"python/shared.py": "WHO = 2"})["LayerVersionArn"]
    others = [publish(lam, unique("layer"), {"python/x.py": ""})["LayerVersionArn"] for _ in range(5)]

    def refused(layers: Any) -> tuple[str, str, int]:
        with pytest.raises(ClientError) as info:
            function_with(raw, layers)
        return failure(info)

    invalid = "InvalidParameterValueException"
    assert refused([v1, *others]) == (invalid, "Cannot reference more than 5 layers.", 400)
    same = "Two different versions of the same layer are not allowed to be referenced in the same function. "
    assert refused([v1, v2]) == (invalid, same + f"{v1} and {v2} are versions of the same layer.", 400)
    assert refused([v1, v1]) == (invalid, same + f"{v1} and {v1} are versions of the same layer.", 400)
    missing = v1.rsplit(":", 1)[0] + ":9"
    assert refused([missing]) == (invalid, f"Layer version {missing} does not exist.", 400)
    elsewhere = v1.replace("us-east-1", "eu-west-1")
    assert refused([elsewhere]) == (
        invalid,
        "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.",
        400,
    )
    unversioned = v1.rsplit(":", 1)[0]
    code, message, _ = refused([unversioned])
    assert code == "ValidationException"
    assert message == (
        f"1 validation error detected: Value '[{unversioned}]' at 'layers' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must have length less than or equal to 2048, "
        "Member must have length greater than or equal to 1, "
        f"Member must satisfy regular expression pattern: {VERSION_ARN_PATTERN}, Member must not be null]"
    )
    fn = function_with(lam, [])
    with pytest.raises(ClientError) as info:
        raw.update_function_configuration(FunctionName=fn, Layers=[v1, v2])
    assert failure(info)[0] == invalid
    assert "Layers" not in lam.get_function_configuration(FunctionName=fn)


def test_a_handler_imports_layer_code_in_layer_order(srv: Server, lam: Any) -> None:
    base = publish(
        lam,
        unique("base"),
        {
            "python/shared.py": "WHO = 'base'",
            "python/common.py": "WHO = 'base'",
            "python/lib/python3.12/site-packages/sitepkg/__init__.py": "WHO = 'site-packages'",
            "python/lib/python3.12/site-packages/extra.pth": "extra_dir",
            "python/lib/python3.12/site-packages/extra_dir/pthmod.py": "WHO = 'pth'",
            "bin/tool": "#!/bin/sh\n",
        },
    )
    name = unique("over")
    over_v1 = publish(lam, name, {"python/common.py": "WHO = 'override v1'"})
    fn = function_with(lam, [base["LayerVersionArn"], over_v1["LayerVersionArn"]])
    config = lam.get_function_configuration(FunctionName=fn)
    assert config["Layers"] == [
        {"Arn": base["LayerVersionArn"], "CodeSize": base["Content"]["CodeSize"]},
        {"Arn": over_v1["LayerVersionArn"], "CodeSize": over_v1["Content"]["CodeSize"]},
    ]
    assert lam.get_function(FunctionName=fn)["Configuration"]["Layers"] == config["Layers"]
    assert call(lam, fn) == {
        "shared": "base",
        "common": "override v1",  # the later layer's file wins
        "sitepkg": "site-packages",
        "pth": "pth",
        "path_has_bin": True,
    }

    # the function's own code comes before its layers
    own = HANDLER.replace(
        "import shared, common", "import shared, common\n    shared = type('m', (), {'WHO': 'own'})"
    )
    mine = function_with(lam, [base["LayerVersionArn"]], own)
    assert call(lam, mine)["shared"] == "own"

    # a new version, then updating the function's layers, takes effect
    over_v2 = publish(lam, name, {"python/common.py": "WHO = 'override v2'"})
    updated = lam.update_function_configuration(
        FunctionName=fn, Layers=[over_v2["LayerVersionArn"], base["LayerVersionArn"]]
    )
    assert [layer["Arn"] for layer in updated["Layers"]] == [
        over_v2["LayerVersionArn"],
        base["LayerVersionArn"],
    ]
    assert call(lam, fn)["common"] == "base"  # now base is the later layer

    # deleting a version a function uses: the function keeps working; new references are refused
    lam.delete_layer_version(LayerName=name, VersionNumber=2)
    assert call(lam, fn)["common"] == "base"
    lam.update_function_configuration(FunctionName=fn, Timeout=10)  # other changes keep the layers
    assert call(lam, fn)["shared"] == "base"
    assert [layer["Arn"] for layer in lam.get_function_configuration(FunctionName=fn)["Layers"]] == [
        over_v2["LayerVersionArn"],
        base["LayerVersionArn"],
    ]
    with pytest.raises(ClientError) as info:
        function_with(lam, [over_v2["LayerVersionArn"]])
    assert failure(info)[1] == f"Layer version {over_v2['LayerVersionArn']} does not exist."

    # and after a restart
    srv.stop()
    srv.start()
    again: Any = srv.client("lambda")
    assert call(again, fn)["common"] == "base"
    assert [v["Version"] for v in again.list_layer_versions(LayerName=name)["LayerVersions"]] == [1]
    assert again.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip({"python/c.py": ""})})[
        "Version"
    ] == 3  # fmt: skip

    # no layers any more
    removed = again.update_function_configuration(FunctionName=fn, Layers=[])
    assert "Layers" not in removed
    response = again.invoke(FunctionName=fn, Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "ModuleNotFoundError"


def test_layers_are_not_open_to_cross_site_requests(srv: Server) -> None:
    """The layer routes belong to the Lambda API: no CORS preflight succeeds there."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    conn.request(
        "OPTIONS",
        "/2018-10-31/layers",
        headers={"Origin": "http://example.com", "Access-Control-Request-Method": "GET"},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.getheader("access-control-allow-origin") is None
