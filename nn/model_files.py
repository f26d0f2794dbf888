"""Model files: safetensors (the default) and the legacy ``.npz``, every size checked first.

``Module.save`` and ``Module.load`` call :func:`write_model` and :func:`read_model`. A
file holds the parameters and buffers (named as ``state_dict()`` names them) and the model's
description (``model_config``): safetensors keeps it as metadata, ``.npz`` as a
``__meta__`` member.

Reading a file never runs code and never allocates more than the limits allow: the
number of tensors, their element count, the header and the config are checked against
each other and against the limits *before* the model is built or a tensor read.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
import zlib
from typing import IO, Any

import numpy as np

from .atomic import atomic_write
from .model_config import (
    MAX_ELEMENTS,
    MAX_META_BYTES,
    MAX_TENSORS,
    build_checked,
    describe,
    parse_description,
)

MAX_HEADER_BYTES = 16 * 2**20  # a safetensors header; 10,000 entries take about 1 MB
SUFFIXES = (".safetensors", ".npz")

_ST_DTYPES: dict[str, np.dtype] = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4")}
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# What zipfile and numpy's .npy reader raise on a damaged, encrypted or exotic archive.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    SyntaxError,
    RuntimeError,
    NotImplementedError,
)


# ------------------------------------------------------------------ writing
def write_model(module: Any, path: str | os.PathLike) -> None:
    """Write ``module``'s parameters and description to ``path`` atomically; the suffix
    (``.safetensors`` or ``.npz``) picks the format.

    >>> from nn import Linear
    >>> write_model(Linear(2, 1), "weights.bin")
    Traceback (most recent call last):
    ...
    ValueError: weights.bin: cannot tell the format; model files end in .safetensors or .npz
    """
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{path}: cannot tell the format; model files end in {' or '.join(SUFFIXES)}"
        )
    meta = json.dumps(describe(module))
    state = module.state_dict()
    if suffix == ".safetensors":
        from safetensors.numpy import save

        data = save(state, metadata={"backproplab": meta})
        atomic_write(path, lambda f: f.write(data))
    else:
        atomic_write(path, lambda f: np.savez(f, __meta__=np.array(meta), **state))


# ------------------------------------------------------------------ reading
def read_model(path: str | os.PathLike, registry: dict[str, type], expected: type) -> Any:
    """Rebuild the model in ``path``; the format is read from the file's first bytes.

    Every problem with the file is one ``ValueError`` that names it.

    >>> import tempfile, pathlib
    >>> from nn import Linear, Module
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lin.safetensors"
    >>> write_model(Linear(2, 1), path)
    >>> read_model(path, {"Linear": Linear}, Module)
    Linear(nin=2, nout=1, bias=True, init_activation='linear', dtype='float64')
    """
    kind = os.stat(path).st_mode  # a missing file: FileNotFoundError, naming it
    if not stat.S_ISREG(kind):  # a directory, or a pipe that open() would wait on forever
        what = "a directory" if stat.S_ISDIR(kind) else "not a regular file"
        raise ValueError(f"{path}: {what}, not a model file")
    with open(path, "rb") as f:
        head = f.read(9)
        try:
            if head.startswith(_ZIP_MAGICS):
                return _read_npz(f, registry, expected)
            if head.startswith(_NPY_MAGIC):
                raise ValueError("a plain .npy array, not a model file (use np.load for arrays)")
            if len(head) == 9 and head[8:9] == b"{":
                return _read_safetensors(f, registry, expected)
            raise ValueError("not a model file: neither safetensors nor .npz")
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None


def _read_safetensors(f: IO[bytes], registry: dict[str, type], expected: type) -> Any:
    size = os.fstat(f.fileno()).st_size
    f.seek(0)
    n = int.from_bytes(f.read(8), "little")
    if n > MAX_HEADER_BYTES or 8 + n > size:
        raise ValueError(f"safetensors header of {n:,} bytes is too large or longer than the file")
    try:
        header = json.loads(f.read(n))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"unreadable safetensors header ({err})") from None
    if not isinstance(header, dict):
        raise ValueError("unreadable safetensors header (not a JSON object)")
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or not isinstance(meta.get("backproplab"), str):
        raise ValueError("has no backproplab model description; was it written by Module.save()?")
    if len(header) > MAX_TENSORS:
        raise ValueError(f"holds {len(header):,} tensors, more than the limit of {MAX_TENSORS:,}")
    shapes, ranges, data_size = {}, {}, size - 8 - n
    for name, info in header.items():
        shapes[name], ranges[name] = _tensor_entry(name, info, data_size)
    _check_layout(ranges, data_size)
    description = parse_description(meta["backproplab"])
    model = build_checked(description, registry, expected, shapes, exact=True)
    _match_shapes(model, shapes)
    # Read from the handle that was checked, never by path again: the file at that path
    # may have been replaced since it was opened.
    state = {}
    for name, shape in shapes.items():
        start, stop = ranges[name]
        f.seek(8 + n + start)
        data = f.read(stop - start)
        if len(data) != stop - start:
            raise ValueError(f"tensor {name!r}: the file ends inside its data")
        dtype = _ST_DTYPES[header[name]["dtype"]]
        state[name] = np.frombuffer(data, dtype).reshape(shape)
    model.load_state_dict(state)
    return model


def _check_layout(ranges: dict[str, tuple[int, int]], data_size: int) -> None:
    """The byte ranges tile the data exactly, no gaps or overlaps (as safetensors requires)."""
    end = 0
    for name, (start, stop) in sorted(ranges.items(), key=lambda item: item[1]):
        if start != end:
            raise ValueError(f"tensor {name!r}: its data overlaps another or leaves a gap")
        end = stop
    if end != data_size:
        raise ValueError(f"its tensors hold {end:,} bytes, the file's data has {data_size:,}")


def _tensor_entry(name: str, info: Any, data_size: int) -> tuple[tuple, tuple[int, int]]:
    """The shape and byte range of one safetensors entry, after checking its dtype, size
    and byte range."""
    try:
        dtype = _ST_DTYPES[info["dtype"]]
        shape = tuple(info["shape"])
        start, stop = info["data_offsets"]
        if not all(type(d) is int and 0 <= d <= MAX_ELEMENTS for d in shape) or len(shape) > 8:
            raise ValueError
        if not (type(start) is int and type(stop) is int and 0 <= start <= stop <= data_size):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise ValueError(
            f"tensor {name!r} has a bad entry (float32/float64 only, shape within limits, "
            f"data inside the file): {str(info)[:200]}"
        ) from None
    if stop - start != int(np.prod(shape, dtype=object)) * dtype.itemsize:
        raise ValueError(f"tensor {name!r}: its shape {shape} does not match its byte range")
    return shape, (start, stop)


MAX_DIRECTORY_BYTES = 16 * 2**20  # the zip's list of members (10,000 names take ~1 MB)
MAX_DEFLATE_RATIO = 1100  # deflate cannot shrink data by more than about 1032:1


def _zip_directory(f: IO[bytes]) -> tuple[int, int]:
    """(members, directory bytes) as the zip's end record states them, read before
    ``zipfile`` parses the directory (which would take minutes for millions of members)."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    tail_len = min(size, 22 + 65535)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or i + 22 > len(tail):
        return 0, 0  # not a zip's end: zipfile says so below
    count = int.from_bytes(tail[i + 10 : i + 12], "little")
    length = int.from_bytes(tail[i + 12 : i + 16], "little")
    if (
        (count == 0xFFFF or length == 0xFFFFFFFF)
        and i >= 20
        and tail[i - 20 : i - 16] == b"PK\x06\x07"
    ):
        f.seek(int.from_bytes(tail[i - 12 : i - 4], "little"))
        record = f.read(56)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            count = int.from_bytes(record[32:40], "little")
            length = int.from_bytes(record[40:48], "little")
    return count, length


def _read_npz(f: IO[bytes], registry: dict[str, type], expected: type) -> Any:
    count, length = _zip_directory(f)
    if count > MAX_TENSORS + 1 or length > MAX_DIRECTORY_BYTES:
        raise ValueError(
            f"holds {count:,} members in a {length:,}-byte directory, more than the limits "
            f"of {MAX_TENSORS:,} members and {MAX_DIRECTORY_BYTES:,} bytes"
        )
    f.seek(0, os.SEEK_END)
    file_bytes = f.tell()
    f.seek(0)
    try:
        archive = zipfile.ZipFile(f)
    except _ZIP_ERRORS as err:
        raise ValueError(f"damaged .npz archive ({err})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_TENSORS + 1:
            raise ValueError(
                f"holds {len(infos):,} members, more than the limit of {MAX_TENSORS:,}"
            )
        members = {}
        for info in infos:
            if not info.filename.endswith(".npy") or info.filename[:-4] in members:
                raise ValueError(f"unexpected archive member {info.filename!r}")
            members[info.filename[:-4]] = info
        if "__meta__" not in members:
            raise ValueError("has no __meta__ entry; was it written by Module.save()?")
        if members["__meta__"].file_size > MAX_META_BYTES:
            raise ValueError(f"its __meta__ entry is larger than {MAX_META_BYTES:,} bytes")
        meta = _read_member(archive, members.pop("__meta__"), None)
        if meta.dtype.kind != "U" or meta.shape != ():
            raise ValueError("its __meta__ entry is not a text")
        description = parse_description(str(meta))
        for info in members.values():  # sizes the data itself could really unpack to
            most = info.compress_size * (
                1 if info.compress_type == zipfile.ZIP_STORED else MAX_DEFLATE_RATIO
            )
            if info.file_size > most + 1024:
                raise ValueError(
                    f"member {info.filename!r} claims {info.file_size:,} bytes from "
                    f"{info.compress_size:,} stored: not what a saved model looks like"
                )
        if sum(info.compress_size for info in members.values()) > file_bytes:
            raise ValueError("its members claim more bytes than the file has")
        declared = sum(info.file_size for info in members.values())
        model = build_checked(
            description, registry, expected, members, exact=False, declared=declared
        )
        shapes = _state_shapes(model)
        _match_names(shapes, members)
        state = {name: _read_member(archive, members[name], s) for name, s in shapes.items()}
    model.load_state_dict(state)
    return model


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, shape: tuple | None
) -> np.ndarray:
    """One ``.npy`` member, its header checked (no objects, the expected shape) before
    its data is read, so a member that claims or inflates to gigabytes is never read."""
    name = info.filename[:-4]
    try:
        with archive.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            read_header = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }.get(version)
            if read_header is None:
                raise ValueError(f"unsupported .npy version {version}")
            got, fortran, dtype = read_header(fp)
            if dtype.hasobject or dtype.kind != ("U" if shape is None else "f"):
                raise ValueError(f"holds {dtype} data")
            if shape is not None and tuple(got) != tuple(shape):
                raise ValueError(f"has shape {tuple(got)}, the model needs {tuple(shape)}")
            count = int(np.prod(got, dtype=object))
            nbytes = count * dtype.itemsize
            if nbytes > info.file_size:
                raise ValueError("is shorter than its header says")
            data = fp.read(nbytes)
            if len(data) != nbytes:
                raise ValueError("is shorter than its header says")
    except _ZIP_ERRORS as err:
        raise ValueError(f"member {name!r}: {err}") from None
    return np.frombuffer(data, dtype).reshape(got, order="F" if fortran else "C")


def _match_names(params: dict, tensors: dict) -> None:
    missing = [k for k in params if k not in tensors]
    unexpected = [k for k in tensors if k not in params]
    if missing or unexpected:
        raise ValueError(
            f"missing parameters {missing[:10]}, unexpected parameters {unexpected[:10]}"
        )


def _state_shapes(model: Any) -> dict[str, tuple]:
    """The shape of every tensor a file of ``model`` holds: parameters, then buffers."""
    return {name: np.shape(data) for name, data in model._state()}


def _match_shapes(model: Any, shapes: dict) -> None:
    needed = _state_shapes(model)
    _match_names(needed, shapes)
    for name, shape in needed.items():
        if tuple(shapes[name]) != shape:
            raise ValueError(f"tensor {name!r} has shape {shapes[name]}, the model needs {shape}")
