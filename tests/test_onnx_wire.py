"""Reading ONNX files without their weight bytes (frontends/onnx/wire.py).

Oracles: protobuf itself (the light model read from the file equals ``light_copy`` of ``onnx.load`` of the same
file, message for message), onnx's own serializer for every field kind, and the operating system's count of
the memory the process holds (peak RSS growth while a file of 200 MB of weights is analysed).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import cnncalc
from cnncalc import SpecError

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from cnncalc.frontends.onnx.load import light_copy  # noqa: E402
from cnncalc.frontends.onnx.wire import WireError, light_model_bytes, read_light  # noqa: E402


def _model(weight_elems=(128, 3, 15, 15), *, external=False, with_doc=True):
    """A conv + a matmul with a big and a small initializer, value_info, metadata and a function-free opset."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal(weight_elems).astype(np.float32), "w")
    b = numpy_helper.from_array(np.arange(weight_elems[0], dtype=np.float32), "b")     # small: kept with values
    shape = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape")
    if external:
        w.ClearField("raw_data")
        w.data_location = TensorProto.EXTERNAL
        w.external_data.add(key="location", value="weights.bin")
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[7, 7, 7, 7], strides=[2, 2], name="conv"),
             helper.make_node("Reshape", ["y", "shape"], ["z"], name="flat")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)], [w, b, shape],
                          doc_string="graph doc" if with_doc else None,
                          value_info=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 128, 16, 16])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="test")
    helper.set_model_props(m, {"author": "cnncalc tests"})
    return m


def test_the_light_model_equals_light_copy_of_the_loaded_model(tmp_path):
    m = _model()
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    light = onnx.ModelProto()
    light.ParseFromString(read_light(str(path)))
    assert light == light_copy(onnx, onnx.load(path))
    w = next(t for t in light.graph.initializer if t.name == "w")
    assert list(w.dims) == [128, 3, 15, 15] and w.data_type == TensorProto.FLOAT
    assert not w.raw_data and not w.float_data                   # 86,400 floats dropped ...
    b = next(t for t in light.graph.initializer if t.name == "b")
    assert list(b.dims) == [128] and not b.raw_data                # a bias: 128 floats, never read
    shape = next(t for t in light.graph.initializer if t.name == "shape")
    assert numpy_helper.to_array(shape).tolist() == [1, -1]        # an int64 shape: kept (constant folding)
    assert light.metadata_props[0].value == "cnncalc tests" and light.graph.doc_string == "graph doc"


def test_weights_lose_only_their_data(tmp_path):
    m = _model((300, 300, 1, 1))
    full = m.SerializeToString()
    light = onnx.ModelProto()
    light.ParseFromString(light_model_bytes(full))
    assert len(light.SerializeToString()) < len(full) - 300 * 300 * 4 + 1000
    w = light.graph.initializer[0]
    assert (w.name, list(w.dims), w.HasField("raw_data")) == ("w", [300, 300, 1, 1], False)
    assert light.graph.node == m.graph.node and light.graph.value_info == m.graph.value_info


def test_float_data_and_external_data_fields(tmp_path):
    m = _model()
    t = m.graph.initializer[0]                                     # the same values as float_data, not raw_data
    t.float_data.extend(numpy_helper.to_array(t).ravel().tolist())
    t.ClearField("raw_data")
    light = onnx.ModelProto()
    light.ParseFromString(light_model_bytes(m.SerializeToString()))
    assert not light.graph.initializer[0].float_data and list(light.graph.initializer[0].dims) == [128, 3, 15, 15]
    ext = _model(external=True)
    light = onnx.ModelProto()
    light.ParseFromString(light_model_bytes(ext.SerializeToString()))
    assert light.graph.initializer[0] == ext.graph.initializer[0]    # external: kept as it is (no bytes inside)


def test_the_analysis_of_a_file_is_unchanged(tmp_path):
    m = _model()
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    from_file, from_proto = cnncalc.analyze(str(path)), cnncalc.analyze(m)
    assert from_file.totals == from_proto.totals
    # hand arithmetic: conv 3->128, 15x15, stride 2, pad 7 on 32x32 -> (32 + 14 - 15) // 2 + 1 = 16;
    # params 128*3*225 + 128 = 86,528; MACs 128*16*16 outputs x 3*225
    assert from_file.totals.params == 86_528
    assert from_file.totals.macs == 128 * 16 * 16 * 3 * 225


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"\x3a\x80\x80\x80\x80\x10abc", b"\x0b\x0c", b"\x08"])
def test_bytes_that_are_not_a_model_are_a_wire_error(data):
    with pytest.raises(WireError):
        light_model_bytes(data)


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"not an onnx file at all\n" * 10, b""])
def test_a_corrupt_file_is_a_spec_error(tmp_path, data):
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    with pytest.raises(SpecError, match="ONNX"):
        cnncalc.analyze(str(path))


def test_a_truncated_file_is_a_spec_error(tmp_path):
    full = _model().SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(SpecError, match="cannot read the ONNX model"):
        cnncalc.analyze(str(path))


def test_memory_of_a_200_mb_file_stays_under_its_size(tmp_path):
    """Peak RSS growth while analysing a file with 200 MB of weights, in a fresh process, after a warm-up
    analysis of a small model (imports done): the weight pages are never read."""
    n = 50 * 1024 * 1024                                           # 50 M floats = 200 MiB
    w = helper.make_tensor("w", TensorProto.FLOAT, [n // 1024, 1024], vals=np.zeros(n, np.float32).tobytes(),
                           raw=True)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "big",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n // 1024])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1024])], [w])
    path = tmp_path / "big.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    del w, g
    small = tmp_path / "small.onnx"
    onnx.save(_model(), small)
    code = textwrap.dedent(f"""
        import cnncalc
        cnncalc.analyze({str(small)!r})
        def status(key):           # VmHWM is this process's own peak (ru_maxrss survives exec from pytest)
            return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(key)) * 1024
        base = status('VmRSS')
        r = cnncalc.analyze({str(path)!r})
        print(r.totals.params, r.totals.macs, max(0, status('VmHWM') - base))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    params, macs, grown = map(int, out.stdout.split())
    size = path.stat().st_size
    assert params == n and macs == n                               # 1 x 51,200 @ 51,200 x 1,024: n MACs
    assert grown < 1.2 * size, f"RSS grew by {grown:,} B for a {size:,} B file"
    assert grown < 0.1 * size, f"RSS grew by {grown:,} B: the weight bytes were read"


@pytest.mark.parametrize("numel, data_type, kept", [
    (64, TensorProto.FLOAT, True), (65, TensorProto.FLOAT, False),            # Resize scales vs. a bias
    (65_536, TensorProto.INT64, True), (65_537, TensorProto.INT64, False),    # shapes / indices up to FOLD_LIMIT
    (10, TensorProto.FLOAT16, True), (1000, TensorProto.BFLOAT16, False)])
def test_which_tensors_keep_their_values(numel, data_type, kept):
    from cnncalc.frontends.onnx.common import keeps_values
    arr = np.ones(numel, dtype=helper.tensor_dtype_to_np_dtype(data_type))
    t = numpy_helper.from_array(arr, "t")
    m = helper.make_model(helper.make_graph([], "g", [], [], [t]))
    light = onnx.ModelProto()
    light.ParseFromString(light_model_bytes(m.SerializeToString()))
    assert keeps_values(numel, data_type) is kept
    assert light.graph.initializer[0].HasField("raw_data") is kept
    assert list(light.graph.initializer[0].dims) == [numel]
    assert light == light_copy(onnx, m)


def test_a_model_without_weights_is_returned_unchanged():
    m = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                                            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                                            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]))
    data = m.SerializeToString()
    assert light_model_bytes(data) == data


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.int64, np.int8, np.uint8,
                                   np.bool_, np.int16, np.uint16])
@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3)])
def test_small_tensors_read_as_numpy_helper_reads_them(dtype, shape):
    """Small tensors' values (shapes, axes, scales) are read from raw_data directly where numpy can: the oracle
    is onnx's own numpy_helper.to_array, on raw_data and on the typed fields (int64_data, float_data, ...)."""
    from cnncalc.frontends.onnx.fold import _in_file_array
    arr = (np.arange(int(np.prod(shape))) % 3 - 1).astype(dtype).reshape(shape)
    raw = numpy_helper.from_array(arr)                              # raw_data
    typed = helper.make_tensor("t", raw.data_type, shape, arr.reshape(-1).tolist())   # the typed field
    for t in (raw, typed):
        got, want = _in_file_array(t), numpy_helper.to_array(t)
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)
