"""What crosses the boundary between the runner and a fold process, and how.

Runner -> fold: the task, pickled (the runner is trusted; the fold process
only reads what the runner chose to send). Read-only memory-mapped arrays
(e.g. images of the ``npy_images`` reader) are not copied: the fold gets a
read-only file descriptor of the file and maps it itself.

Fold -> runner: **plain data only**, never a pickle: a JSON document in which
NumPy arrays (any dtype but ``object``) are replaced by references to
``.npy`` blocks that follow it, read back with ``allow_pickle=False``. So
whatever a submission returns, the runner only ever receives numbers, strings,
lists, dicts and arrays, and checks them with the prediction type.

Frames are length-prefixed; :func:`recv_exact` reads one completely or raises
:class:`EOFError`.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import pickle
import socket
import struct
from typing import Any

import numpy as np

__all__ = ["decode", "dumps_task", "encode", "loads_task", "recv_exact", "to_plain"]

_LENGTH = struct.Struct("<Q")
MAX_DEPTH = 64


def to_plain(obj: Any, depth: int = 0) -> Any:
    """``obj`` as plain data: NumPy arrays, lists, tuples, str-keyed dicts, scalars.

    Containers keep their type (a list stays a list, a tuple a tuple, an
    object array an object array of plain items), so the runner checks
    exactly what the submission returned. Anything with ``__array__``
    (pandas, ...) is converted through NumPy.

    Raises
    ------
    TypeError
        For objects that are none of these (with their type).
    """
    if depth > MAX_DEPTH:
        raise TypeError(f"nested more than {MAX_DEPTH} levels deep")
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {str(key): to_plain(value, depth + 1) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_plain(item, depth + 1) for item in obj) \
            if type(obj) in (list, tuple) else [to_plain(item, depth + 1) for item in obj]
    if isinstance(obj, np.ndarray) or hasattr(obj, "__array__"):
        array = np.asarray(obj)
        if array.dtype.kind == "V":
            raise TypeError("a structured array is not plain data")
        if array.dtype.hasobject:
            plain = np.empty(array.shape, dtype=object)
            for index, item in np.ndenumerate(array):
                plain[index] = to_plain(item, depth + 1)
            return plain
        return array
    raise TypeError(f"a {type(obj).__name__} is not plain data (NumPy arrays, lists, numbers "
                    "or strings)")


def encode(obj: Any) -> bytes:
    """Plain data (see :func:`to_plain`) as bytes: tagged JSON with ``.npy`` blocks after it.

    Every JSON object is a tag: ``{"d": dict}``, ``{"t": tuple items}``,
    ``{"a": index of an array block}``, ``{"o": [shape, items]}`` (object array).
    """
    arrays: list[np.ndarray] = []

    def swap(node: Any) -> Any:
        if isinstance(node, np.ndarray):
            if node.dtype.hasobject:
                return {"o": [list(node.shape), [swap(item) for item in node.ravel()]]}
            arrays.append(node)
            return {"a": len(arrays) - 1}
        if isinstance(node, dict):
            return {"d": {key: swap(value) for key, value in node.items()}}
        if isinstance(node, tuple):
            return {"t": [swap(item) for item in node]}
        if isinstance(node, list):
            return [swap(item) for item in node]
        return node

    header = json.dumps(swap(obj)).encode()
    buffer = io.BytesIO()
    buffer.write(_LENGTH.pack(len(header)))
    buffer.write(header)
    for array in arrays:
        np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def decode(data: bytes) -> Any:
    """The plain data of :func:`encode`'s bytes; never unpickles anything.

    Raises
    ------
    ValueError
        When the bytes are not a well-formed message.
    """
    stream = io.BytesIO(data)
    try:
        (size,) = _LENGTH.unpack(stream.read(_LENGTH.size))
        tree = json.loads(stream.read(size))
        arrays: list[np.ndarray] = []

        def load(node: Any) -> Any:
            if isinstance(node, list):
                return [load(item) for item in node]
            if not isinstance(node, dict):
                return node
            ((tag, value),) = node.items()
            if tag == "a":
                while len(arrays) <= value:
                    arrays.append(np.lib.format.read_array(stream, allow_pickle=False))
                return arrays[value]
            if tag == "d":
                return {str(key): load(item) for key, item in value.items()}
            if tag == "t":
                return tuple(load(item) for item in value)
            if tag == "o":
                shape, items = value
                array = np.empty(len(items), dtype=object)
                for i, item in enumerate(items):
                    array[i] = load(item)
                return array.reshape([int(n) for n in shape])
            raise ValueError(f"unknown tag {tag!r}")

        return load(tree)
    except (struct.error, json.JSONDecodeError, UnicodeDecodeError, ValueError, TypeError,
            KeyError, IndexError, AttributeError, RecursionError) as exc:
        raise ValueError(f"not a well-formed message from the fold process: {exc}") from None


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes from a blocking socket (``EOFError`` if it closes first)."""
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            raise EOFError(f"connection closed after {got} of {size} bytes")
        got += n
    return bytes(buffer)


def _memmap_location(array: np.memmap) -> tuple[str, int] | None:
    """``(file, byte offset)`` of a C-contiguous, read-only, file-backed memory map."""
    mapped = getattr(array, "_mmap", None)
    filename = getattr(array, "filename", None)
    if mapped is None or not filename or array.mode != "r" or not array.flags.c_contiguous:
        return None
    base = np.frombuffer(mapped, dtype=np.uint8)
    start = array.offset - array.offset % mmap.ALLOCATIONGRANULARITY
    return str(filename), start + array.ctypes.data - base.ctypes.data


class _TaskPickler(pickle.Pickler):
    """Pickles a task; read-only memory maps travel as file descriptors, not bytes."""

    def __init__(self, file: io.BytesIO, share_files: bool) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.share_files = share_files
        self.fds: list[int] = []
        self._fd_of: dict[str, int] = {}

    def persistent_id(self, obj: Any) -> Any:
        if not self.share_files or type(obj) is not np.memmap:
            return None
        location = _memmap_location(obj)
        if location is None:
            return None
        filename, offset = location
        if filename not in self._fd_of:
            self.fds.append(os.open(filename, os.O_RDONLY | os.O_CLOEXEC))
            self._fd_of[filename] = len(self.fds) - 1
        return ("memmap", self._fd_of[filename], offset, obj.dtype.str, obj.shape)


class _TaskUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, fds: list[int]) -> None:
        super().__init__(file)
        self.fds = fds

    def persistent_load(self, pid: Any) -> Any:
        kind, index, offset, dtype, shape = pid
        if kind != "memmap":
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        with os.fdopen(os.dup(self.fds[index]), "rb") as handle:
            return np.memmap(handle, mode="r", dtype=np.dtype(dtype), shape=tuple(shape),
                             offset=offset)


def dumps_task(obj: Any, share_files: bool = True) -> tuple[bytes, list[int]]:
    """Pickle ``obj``; returns the bytes and the file descriptors to send with them.

    With ``share_files``, read-only memory maps are sent as descriptors of
    their files (the caller closes them once sent); otherwise they are copied.
    """
    buffer = io.BytesIO()
    pickler = _TaskPickler(buffer, share_files)
    pickler.dump(obj)
    return buffer.getvalue(), pickler.fds


def loads_task(data: bytes, fds: list[int]) -> Any:
    """The object of :func:`dumps_task`, memory maps opened from ``fds``."""
    return _TaskUnpickler(io.BytesIO(data), fds).load()
