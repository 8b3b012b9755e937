"""Lambda layers: immutable, numbered versions published from ZIP archives, and the /opt directory a
function sees: its layers merged in the order it lists them, a later layer's file replacing an earlier
one's, as Lambda extracts them.

Each function keeps its merged directory (hard links where the filesystem allows), so deleting a layer
version never breaks a function that uses it; as in Lambda, only new references to it are refused.
Handlers get `<opt>/python/lib/<runtime>/site-packages` and `<opt>/python` on their import path
(Lambda's /opt/python), `<opt>/bin` on PATH and `<opt>/lib` on LD_LIBRARY_PATH.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from . import code as code_store
from . import params
from .errors import InvalidParameterValueException, ResourceNotFoundException
from .model import FunctionLayer, lambda_timestamp
from .state import StateStore

Doc = dict[str, Any]

LAYER_KIND = "lambda.layer"  # key "<name>/<version, 12 digits>": a LayerVersion
LAYER_NUMBERS_KIND = "lambda.layer-number"  # key "<name>": {"last": n}; numbers are never reused
NOT_FOUND = "The resource you requested does not exist."


@dataclass(frozen=True, slots=True)
class LayerVersion:
    name: str
    version: int
    created: float
    code_sha256: str
    code_size: int
    unzipped_size: int
    path: str  # the extracted archive
    description: str = ""
    license_info: str | None = None
    compatible_runtimes: tuple[str, ...] = ()
    compatible_architectures: tuple[str, ...] = ()

    def to_doc(self) -> Doc:
        doc = asdict(self)
        doc["compatible_runtimes"] = list(self.compatible_runtimes)
        doc["compatible_architectures"] = list(self.compatible_architectures)
        return doc

    @classmethod
    def from_doc(cls, doc: Doc) -> LayerVersion:
        return cls(
            **{
                **doc,
                "compatible_runtimes": tuple(doc.get("compatible_runtimes", ())),
                "compatible_architectures": tuple(doc.get("compatible_architectures", ())),
            }
        )

    def layer_arn(self, region: str, account: str) -> str:
        return f"arn:aws:lambda:{region}:{account}:layer:{self.name}"

    def arn(self, region: str, account: str) -> str:
        return f"{self.layer_arn(region, account)}:{self.version}"

    def matches(self, runtime: str | None, architecture: str | None) -> bool:
        return (runtime is None or runtime in self.compatible_runtimes) and (
            architecture is None or architecture in self.compatible_architectures
        )

    def summary(self, region: str, account: str) -> Doc:
        """ListLayerVersions' item (and ListLayers' LatestMatchingVersion)."""
        out: Doc = {
            "LayerVersionArn": self.arn(region, account),
            "Version": self.version,
            "Description": self.description,
            "CreatedDate": lambda_timestamp(self.created),
            "CompatibleRuntimes": list(self.compatible_runtimes),
            "CompatibleArchitectures": list(self.compatible_architectures),
        }
        if self.license_info is not None:
            out["LicenseInfo"] = self.license_info
        return out

    def to_wire(self, region: str, account: str) -> Doc:
        """PublishLayerVersion's and GetLayerVersion's answer."""
        out = self.summary(region, account)
        out["LayerArn"] = self.layer_arn(region, account)
        # no Location: Lambda's is a presigned download URL; here it would be a path on the server's host
        out["Content"] = {"CodeSha256": self.code_sha256, "CodeSize": self.code_size}
        return out


class LayerStore:
    """Every layer version, in memory and in the StateStore; their files under `state_dir`/layers, the
    functions' merged directories under `state_dir`/opt."""

    def __init__(
        self,
        state: StateStore,
        state_dir: Path,
        region: str,
        account: str,
        packages: code_store.Packages | None = None,
    ) -> None:
        """`packages`: where published archives are kept for every node (several nodes on one database);
        a node unpacks a version the first time one of its functions needs it. They stay after
        DeleteLayerVersion: a function using the version keeps it, on whichever node it runs."""
        self._state = state
        self._packages = packages
        self._root = state_dir / "layers"
        self._opt_root = state_dir / "opt"
        self._region = region
        self._account = account
        self._versions: dict[str, dict[int, LayerVersion]] = {}
        self._lock = asyncio.Lock()
        self._merging = asyncio.Lock()  # one merged directory made at a time (they share .tmp names)

    async def load(self) -> None:
        """The versions as stored (again: another node may have published or deleted some)."""
        async with self._lock:
            versions: dict[str, dict[int, LayerVersion]] = {}
            for _, doc in await self._state.list(LAYER_KIND):
                layer = self._local(LayerVersion.from_doc(doc))
                versions.setdefault(layer.name, {})[layer.version] = layer
            self._versions = versions

    def _local(self, layer: LayerVersion) -> LayerVersion:
        """`layer` unpacked in this node's folder (the stored path is the publishing node's)."""
        folder = code_store.package_dir(self._root / layer.name, str(layer.version), layer.code_sha256)
        return replace(layer, path=str(folder))

    def _package_key(self, name: str, version: int) -> str:
        return f"{self._account}/{self._region}/layer/{name}/{version}"

    def wire(self, layer: LayerVersion) -> Doc:
        return layer.to_wire(self._region, self._account)

    def _name(self, name_or_arn: str) -> str | None:
        """The layer name a path names, or None for a layer ARN of another region or account."""
        params.layer_name(name_or_arn)
        if not name_or_arn.startswith("arn:"):
            return name_or_arn
        _, _, _, region, account, _, name = name_or_arn.split(":")
        return name if (region, account) == (self._region, self._account) else None

    # the API --------------------------------------------------------------------------------------

    async def publish(self, name_or_arn: str, request: Doc) -> LayerVersion:
        name = self._name(name_or_arn)
        fields = params.layer_publication(request)
        if name is None:
            raise ResourceNotFoundException(NOT_FOUND)
        data = _zip_content(fields.pop("content"))
        async with self._lock:
            numbers = await self._state.get(LAYER_NUMBERS_KIND, name)
            version = (numbers or {}).get("last", 0) + 1
            extracted = code_store.from_zip(self._root / name, str(version), data)
            layer = LayerVersion(
                name=name,
                version=version,
                created=time.time(),
                code_sha256=extracted.sha256,
                code_size=extracted.size,
                unzipped_size=code_store.tree_size(extracted.path),
                path=extracted.path,
                **fields,
            )
            if self._packages is not None:  # before any node can see the version
                await self._packages.put(self._package_key(name, version), data)
            await self._state.put(LAYER_NUMBERS_KIND, name, {"last": version})
            await self._state.put(LAYER_KIND, _key(name, version), layer.to_doc())
            self._versions.setdefault(name, {})[version] = layer
        return layer

    def get(self, name_or_arn: str, version: int) -> LayerVersion:
        name = self._name(name_or_arn)
        layer = self._versions.get(name or "", {}).get(version)
        if layer is None:
            raise ResourceNotFoundException(NOT_FOUND)
        return layer

    def get_by_arn(self, arn: str | None) -> LayerVersion:
        valid = params.layer_version_arn(arn)
        found = self._by_arn(valid)
        if found is None:
            raise ResourceNotFoundException(NOT_FOUND)
        return found

    def list_layers(self, runtime: str | None, architecture: str | None) -> list[Doc]:
        """ListLayers' items: each layer with its latest version matching the filters."""
        out: list[Doc] = []
        for name in sorted(self._versions):
            matching = [v for v in self._versions[name].values() if v.matches(runtime, architecture)]
            if matching:
                latest = max(matching, key=lambda v: v.version)
                out.append(
                    {
                        "LayerName": name,
                        "LayerArn": latest.layer_arn(self._region, self._account),
                        "LatestMatchingVersion": latest.summary(self._region, self._account),
                    }
                )
        return out

    def list_versions(self, name_or_arn: str, runtime: str | None, architecture: str | None) -> list[Doc]:
        """ListLayerVersions' items, newest first; none for a layer that does not exist."""
        versions = self._versions.get(self._name(name_or_arn) or "", {})
        return [
            versions[n].summary(self._region, self._account)
            for n in sorted(versions, reverse=True)
            if versions[n].matches(runtime, architecture)
        ]

    async def delete(self, name_or_arn: str, version: int) -> None:
        """Idempotent, as in Lambda; functions using the version keep their copy."""
        name = self._name(name_or_arn)
        async with self._lock:
            layer = self._versions.get(name or "", {}).pop(version, None)
            if layer is None:
                return
            await self._state.delete(LAYER_KIND, _key(layer.name, version))
            shutil.rmtree(self._root / layer.name / str(version), ignore_errors=True)

    # functions ------------------------------------------------------------------------------------

    def resolve(self, value: Any) -> tuple[FunctionLayer, ...]:
        """A function's Layers, checked in Lambda's order, as the function will keep them."""
        arns = params.function_layers(value)
        seen: dict[str, str] = {}
        out: list[FunctionLayer] = []
        for arn in arns:
            layer_arn = arn.rsplit(":", 1)[0]
            if arn.split(":")[3] != self._region:
                raise InvalidParameterValueException(
                    "Layers are not in the same region as the function. "
                    f"Layers are expected to be in region {self._region}."
                )
            layer = self._by_arn(arn)
            if layer is None:
                raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
            if layer_arn in seen:
                raise InvalidParameterValueException(
                    "Two different versions of the same layer are not allowed to be referenced in the same "
                    f"function. {seen[layer_arn]} and {arn} are versions of the same layer."
                )
            seen[layer_arn] = arn
            out.append(FunctionLayer(arn, layer.code_size, layer.unzipped_size))
        return tuple(out)

    def opt_path(self, layers: tuple[FunctionLayer, ...]) -> str:
        """Where this node keeps `layers` merged ("" for none)."""
        if not layers:
            return ""
        digest = hashlib.sha256("\n".join(layer.arn for layer in layers).encode()).hexdigest()[:16]
        return str(self._opt_root / digest)

    async def merged(self, layers: tuple[FunctionLayer, ...]) -> str:
        """The directory holding `layers` merged in order (made once per list of versions)."""
        path = self.opt_path(layers)
        if not path or os.path.isdir(path):
            return path
        async with self._merging:
            folder = Path(path)
            if folder.is_dir():
                return path
            sources = [await self._unpacked(ref) for ref in layers]
            tmp = folder.with_name(folder.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            code_store.traversable(self._opt_root, self._opt_root)  # handlers' user reads their /opt
            for source in sources:
                shutil.copytree(source, tmp, dirs_exist_ok=True, copy_function=_link_or_copy)
            tmp.rename(folder)
        return path

    async def _unpacked(self, ref: FunctionLayer) -> str:
        """A version's files on this node: unpacked here already, or from the package another node
        published (also once the version is deleted: functions keep the versions they use)."""
        layer = self._by_arn(ref.arn)
        if layer is not None and os.path.isdir(layer.path):
            return layer.path
        parts = ref.arn.split(":")
        data = None
        if self._packages is not None and len(parts) == 8:
            data = await self._packages.get(self._package_key(parts[6], int(parts[7])))
        if data is None:  # deleted since, and never unpacked here
            raise InvalidParameterValueException(f"Layer version {ref.arn} does not exist.")
        found = await asyncio.to_thread(code_store.from_zip, self._root / parts[6], parts[7], data)
        return found.path

    def sweep(self, in_use: set[str]) -> None:
        """Remove merged directories no function uses any more."""
        if not self._opt_root.is_dir():
            return
        for entry in self._opt_root.iterdir():
            if str(entry) not in in_use:
                shutil.rmtree(entry, ignore_errors=True)

    def _by_arn(self, arn: str) -> LayerVersion | None:
        parts = arn.split(":")
        if len(parts) != 8 or (parts[3], parts[4]) != (self._region, self._account):
            return None
        return self._versions.get(parts[6], {}).get(int(parts[7]))


def _key(name: str, version: int) -> str:
    return f"{name}/{version:012d}"


def _zip_content(content: Doc) -> bytes:
    if content.get("ZipFile") is None:
        raise InvalidParameterValueException(
            "Headwater takes layer content as a ZipFile (S3 locations are not available)."
        )
    try:
        return base64.b64decode(content["ZipFile"], validate=False)
    except (ValueError, TypeError):
        raise InvalidParameterValueException(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None


def _link_or_copy(source: str, target: str) -> None:
    """A later layer's file replaces an earlier one's; a hard link costs no space when it can be made."""
    if os.path.lexists(target):
        os.unlink(target)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def layer_environment(opt_path: str, runtime: str, base_path: str) -> dict[str, str]:
    """What a handler's worker gets for its layers, as Lambda sets it up for /opt: python/ (and its
    site-packages) on the import path after the function's own code, bin/ last on PATH, lib/ for the
    dynamic loader. The worker reads HEADWATER_LAYER_PATHS."""
    python = os.path.join(opt_path, "python")
    imports = [os.path.join(python, "lib", runtime, "site-packages"), python]
    return {
        "HEADWATER_LAYER_PATHS": os.pathsep.join(imports),
        "PATH": base_path + os.pathsep + os.path.join(opt_path, "bin"),
        "LD_LIBRARY_PATH": os.path.join(opt_path, "lib"),
    }


def check_total_size(code_kind: str, code_path: str, layers: tuple[FunctionLayer, ...]) -> None:
    """Lambda's 250 MB for a function's code and its layers, unzipped (local directories not counted)."""
    if not layers or code_kind != "zip":
        return
    total = code_store.tree_size(code_path) + sum(layer.unzipped_size for layer in layers)
    if total > code_store.MAX_UNZIPPED:
        raise InvalidParameterValueException(
            "Function code combined with layers exceeds the maximum allowed size of "
            f"{code_store.MAX_UNZIPPED} bytes. The actual size is {total} bytes."
        )
