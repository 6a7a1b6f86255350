"""Reading an ONNX file without its weight bytes.

``onnx.load`` reads the whole file and parses it, so a 550 MB VGG-16 costs over 1 GB of memory before any
analysis starts, and most of the time goes into copying weights nobody reads.  cnncalc needs a weight's name,
element type and dims, never its values (except small integer tensors and tiny float ones: shapes, axes,
scales for constant folding).

This module walks the protobuf wire format of the file through ``mmap``: a weight (an initializer whose values
cnncalc never reads: see ``common.keeps_values``) keeps its name, type, dims and external-data fields, and its
data fields (``raw_data``, ``float_data``, ...) are skipped by their length, so their pages are never read.  Everything else (nodes, inputs, outputs, value_info,
opsets, functions) is copied byte for byte, and the light bytes are parsed by protobuf itself.  The field
numbers are those of onnx.proto (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.dims = 1, ...).
"""
from __future__ import annotations

import mmap
import os
from math import prod

from .common import keeps_values

_MODEL_GRAPH = 7
_GRAPH_INITIALIZER = 5
_TENSOR_DIMS, _TENSOR_DATA_TYPE, _TENSOR_DATA_LOCATION = 1, 2, 14
#: TensorProto fields kept for a large tensor: dims, data_type, name, doc_string, external_data, data_location,
#: metadata_props (segment and every data field are dropped)
_TENSOR_KEEP = frozenset({1, 2, 8, 12, 13, 14, 16})
_EXTERNAL = 1                   # TensorProto.DataLocation.EXTERNAL


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise WireError("truncated or malformed varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _key(buf, pos: int, end: int) -> tuple[int, int]:
    """(a field's key, the position after it): mostly one byte, read inline."""
    key = buf[pos]
    return (key, pos + 1) if key < 0x80 else _varint(buf, pos, end)


def _field_end(buf, pos: int, end: int, key: int) -> tuple[int, int]:
    """(start of the payload, end of the field) of the field whose key was read just before ``pos``."""
    wire = key & 7
    if wire == 2:
        if pos >= end:
            raise WireError("truncated or malformed varint")
        length = buf[pos]
        if length < 0x80:
            pos += 1
        else:
            length, pos = _varint(buf, pos, end)
        nxt = pos + length
    elif wire == 0:
        nxt = pos + 1 if pos < end and buf[pos] < 0x80 else _varint(buf, pos, end)[1]
    elif wire == 1:
        nxt = pos + 8
    elif wire == 5:
        nxt = pos + 4
    else:                                              # groups (3, 4) do not occur in onnx.proto
        raise WireError(f"unsupported wire type {wire} in field {key >> 3}")
    if nxt > end or key < 8:
        raise WireError("a field runs past the end of its message")
    return pos, nxt


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _delimited(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def _light_tensor(buf, start: int, end: int):
    """The TensorProto at buf[start:end] without its data, or None when it is kept as it is: its values are read
    (:func:`keeps_values`), or they are stored outside the file.

    One pass over its fields (a model has a tensor per weight: this loop is written out, keys, varints and
    lengths of one byte read inline); the dropped fields' bytes are never read, only skipped by their length."""
    dims: list[int] = []
    data_type = 0
    pieces, run = [], start                            # kept bytes: runs of fields between dropped ones
    pos = start
    keep = _TENSOR_KEEP
    while pos < end:
        key_at = pos
        key = buf[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _varint(buf, pos, end)
        if key < 8:
            raise WireError("a field runs past the end of its message")
        number = key >> 3
        wire = key & 7
        if wire == 0:                                  # a varint: dims (unpacked), data_type, data_location
            if pos < end and buf[pos] < 0x80:
                value, nxt = buf[pos], pos + 1
            else:
                value, nxt = _varint(buf, pos, end)
            if number == _TENSOR_DIMS:
                dims.append(value)
            elif number == _TENSOR_DATA_TYPE:
                data_type = value
            elif number == _TENSOR_DATA_LOCATION and value == _EXTERNAL:
                return None
        else:
            if wire == 2 and pos < end and buf[pos] < 0x80:
                at, nxt = pos + 1, pos + 1 + buf[pos]
                if nxt > end:
                    raise WireError("a field runs past the end of its message")
            else:
                at, nxt = _field_end(buf, pos, end, key)
            if number == _TENSOR_DIMS and wire == 2:   # packed dims
                while at < nxt:
                    value, at = _varint(buf, at, nxt)
                    dims.append(value)
        if number not in keep:
            if key_at > run:
                pieces.append(buf[run:key_at])
            run = nxt
        pos = nxt
    if keeps_values(prod(dims), data_type):
        return None
    if run < end:
        pieces.append(buf[run:end])
    return b"".join(pieces)


def _light_message(buf, start: int, end: int, number_of_field: int, lighten) -> list | None:
    """The pieces (bytes) of the message at buf[start:end] with each field ``number_of_field`` replaced by
    ``lighten(buf, start, end)`` (None: kept); unchanged runs of fields are copied in one piece.  None when
    nothing changed.  (A graph has a field per node and per weight: keys and lengths of one or two bytes are
    read inline.)"""
    pieces, run = [], start
    pos = start
    wanted = number_of_field << 3 | 2
    while pos < end:
        key_at = pos
        key = buf[pos]
        if key < 0x80 and key & 7 == 2 and key >= 8 and pos + 2 < end:
            length = buf[pos + 1]
            if length < 0x80:
                at = pos + 2
            else:
                second = buf[pos + 2]
                if second < 0x80:
                    length = (length & 0x7F) | second << 7
                    at = pos + 3
                else:
                    length, at = _varint(buf, pos + 1, end)
            nxt = at + length
            if nxt > end:
                raise WireError("a field runs past the end of its message")
        else:
            key, pos = _key(buf, pos, end)
            at, nxt = _field_end(buf, pos, end, key)
        pos = nxt
        if key != wanted:
            continue
        light = lighten(buf, at, nxt)
        if light is None:
            continue
        if key_at > run:
            pieces.append(buf[run:key_at])
        if not isinstance(light, bytes):
            light = b"".join(light)
        pieces.append(_delimited(number_of_field, light))
        run = nxt
    if not pieces:
        return None
    if run < end:
        pieces.append(buf[run:end])
    return pieces


def light_model_bytes(buf) -> bytes:
    """The serialized ModelProto in ``buf`` (bytes, memoryview or mmap) with the data of in-file weights dropped
    (their name, type and dims stay; see :func:`keeps_values`).  Raises :class:`WireError` when ``buf`` is not
    a protobuf message."""
    graph = lambda b, s, e: _light_message(b, s, e, _GRAPH_INITIALIZER, _light_tensor)  # noqa: E731
    pieces = _light_message(buf, 0, len(buf), _MODEL_GRAPH, graph)
    return bytes(buf[:]) if pieces is None else b"".join(pieces)


def read_light(path: str) -> bytes:
    """:func:`light_model_bytes` of the file at ``path``, read through mmap (weight pages are never touched)."""
    fd = os.open(path, os.O_RDONLY)                   # (no buffered file object: only the mapping is read)
    try:
        if os.fstat(fd).st_size == 0:
            raise WireError("the file is empty")
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mm:
            return light_model_bytes(mm)
    finally:
        os.close(fd)
