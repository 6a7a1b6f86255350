"""ONNX's own backend node tests against the ONNX front-end: cnncalc never states a wrong shape.

The cases are regenerated at test time from ``onnx.backend.test.case.node`` (each case's model, inputs and
expected outputs, as ``onnx/backend/test/data/node`` once shipped them).  Every case is analysed twice with its
inputs' sizes:

* ``onnx``: as a user gets it (ONNX shape inference, the shapes the file declares, cnncalc's own rules);
* ``own``: cnncalc's own rules and constant folding alone (no ONNX inference, the declared output shapes
  removed), the rules that fill ONNX's gaps in real models.

Every node output cnncalc states is compared with the truth: the case's expected outputs, and for the
intermediate tensors of the expanded (function body) cases what ONNX's reference evaluator computes.  A shape may
be unknown (and said); it may never be wrong.  Every failure must be a SpecError: the only ones expected are
models whose inputs are sequences or optional values, which a size cannot describe (counted, with the message
checked).  MACs of single-node cases whose op has a formula are checked against hand arithmetic on the case's
own shapes.
"""
from __future__ import annotations

import collections
import warnings

import pytest

import cnncalc
from cnncalc import SpecError

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
node_cases = pytest.importorskip("onnx.backend.test.case.node")
from onnx.reference import ReferenceEvaluator  # noqa: E402

from cnncalc.frontends.onnx import node_shapes  # noqa: E402


@pytest.fixture(scope="module")
def cases():
    # generated once per process: onnx refuses to register a case name twice
    out = list(getattr(node_cases, "_NodeTestCases", None) or ())
    if not out:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = list(node_cases.collect_testcases())
    if len(out) < 1000:
        pytest.skip(f"this onnx wheel generates only {len(out)} backend node cases")
    return out


def shape_of(v):
    """The shape of an expected value, or None for a sequence, an optional or a map."""
    if isinstance(v, np.ndarray) or np.isscalar(v):
        return tuple(np.shape(v))
    if isinstance(v, onnx.TensorProto):
        return tuple(v.dims)
    return None


def without_declared_shapes(model):
    """A copy whose outputs declare no shape and which has no value_info: cnncalc must find every shape itself."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    del m.graph.value_info[:]
    for vi in m.graph.output:
        if vi.type.HasField("tensor_type"):
            vi.type.tensor_type.ClearField("shape")
    return m


def truth(case):
    """{tensor: shape} of the graph outputs (expected values) and of every intermediate tensor of the main graph
    (the reference evaluator), as far as it runs; (shapes, whether the intermediates were checked)."""
    model = case.model
    ins, outs = case.data_sets[0]
    known = {vi.name: shape_of(v) for vi, v in zip(model.graph.output, outs)}
    inter = [o for n in model.graph.node for o in n.output if o and o not in known]
    if not inter:
        return known, True
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ev = ReferenceEvaluator(model)
            vals = ev.run(inter, {vi.name: v for vi, v in zip(model.graph.input, ins)})
    except Exception:  # noqa: BLE001 -- the reference evaluator lacks some ops: graph outputs only then
        return known, False
    known.update({o: shape_of(v) for o, v in zip(inter, vals)})
    return known, True


# --------------------------------------------------------------------------- MACs by hand

def _macs_by_hand(node, shapes):
    """MACs of a single node by the op's definition, from the case's own shapes; None when no formula here."""
    op, ins, outs = node.op_type, list(node.input), list(node.output)
    s = [shapes.get(i) if i else None for i in ins]
    y = shapes.get(outs[0])
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if node.domain not in ("", "ai.onnx"):
        return None
    if op in ("LSTM", "GRU", "RNN"):
        x, r = s[0], s[2]                                     # R: (directions, gates * H, H)
        steps = x[0] * x[1]                                   # sequence x batch (either layout)
        return steps * r[0] * r[1] * (x[2] + r[2])            # per step: gates x H x (input + hidden) products
    if y is None:
        return None
    if op in ("Conv", "ConvInteger", "QLinearConv"):
        w = s[3 if op == "QLinearConv" else 1]
        return int(np.prod(y)) * int(np.prod(w[1:]))          # each output: C/groups x kernel products
    if op == "ConvTranspose":
        return int(np.prod(s[0])) * int(np.prod(s[1][1:]))    # each input element: (M/groups) x kernel products
    if op in ("MatMul", "MatMulInteger", "QLinearMatMul"):
        a = s[0]
        return int(np.prod(y)) * a[-1]                        # each output: a row of A times a column of B
    if op == "Gemm":
        a = s[0]
        k = a[0] if attrs.get("transA", 0) else a[1]
        return y[0] * y[1] * k
    if op == "Einsum" and len(ins) == 2:
        eq = attrs["equation"].decode().replace(" ", "")
        if "..." in eq:
            return None
        sizes = {}
        for term, sh in zip(eq.split("->")[0].split(","), s):
            sizes.update(zip(term, sh))
        return int(np.prod(list(sizes.values())))             # one product per combination of all letters
    if op == "Attention":
        q, k, v = s[0], s[1], s[2]
        if len(q) == 3:                                       # (batch, sequence, heads * head size)
            hq, hkv = attrs["q_num_heads"], attrs["kv_num_heads"]
            q, k, v = (q[0], hq, q[1], q[2] // hq), (k[0], hkv, k[1], k[2] // hkv), (v[0], hkv, v[1], v[2] // hkv)
        keys = k[2] + (s[4][2] if len(ins) > 4 and ins[4] else 0)   # the past keys, then the new ones
        return q[0] * q[1] * q[2] * keys * (q[3] + v[3])      # scores Q K^T, then weights times V
    return None


# --------------------------------------------------------------------------- the run

def _run_case(case, mode, tally, problems, macs_checked):
    model = without_declared_shapes(case.model) if mode == "own" else case.model
    ins, _ = case.data_sets[0]
    sizes = [shape_of(v) for v in ins]
    graph_inputs = [vi.name for vi in case.model.graph.input]
    tensor_sizes = {n: s for n, s in zip(graph_inputs, sizes) if s is not None}
    # onnx: ONNX's inference first; own: cnncalc's rules alone; auto (what analyze does): cnncalc's rules alone
    # for graphs of kinds they know exactly (OWN_RULES_EXACT), ONNX's inference as soon as a gap shows
    inference = {"onnx": True, "own": False, "auto": None}[mode]
    try:
        report = cnncalc.analyze(model, tensor_sizes, depth=10**6) if mode != "own" else None
        stated = node_shapes(model, tensor_sizes, _onnx_inference=inference)
        if report is not None:
            report.to_dict()                             # what the CLI, the page and the exports read
            _ = report.batch, report.totals
    except SpecError as e:
        if "not a tensor" in str(e) or any(s is None for s in sizes):
            assert "not a tensor" in str(e), f"{case.name}: unclear message for a non-tensor input: {e}"
            tally["skipped (sequence / optional input)"] += 1
            return
        tally["errors"] += 1
        problems.append(f"{mode} {case.name}: SpecError {e}")
        return
    except Exception as e:  # noqa: BLE001 -- an internal error: the test's failure
        tally["internal errors"] += 1
        problems.append(f"{mode} {case.name}: {type(e).__name__}: {e}")
        return
    if any(s is None for s in sizes):
        tally["errors"] += 1
        problems.append(f"{mode} {case.name}: a sequence / optional input was analysed without a SpecError")
        return
    known, checked = truth(case)
    tally["intermediates unchecked (reference evaluator failed)"] += not checked
    wrong = unknown = 0
    for n in case.model.graph.node:
        for o in n.output:
            if not o or known.get(o) is None:
                continue
            got = stated.get(o)
            if got is None:
                unknown += 1
            elif tuple(got) != tuple(known[o]):
                wrong += 1
                problems.append(f"{mode} {case.name}: '{o}' ({n.op_type}) stated {tuple(got)}, is {known[o]}")
    tally["cases"] += 1
    tally["wrong" if wrong else "unknown" if unknown else "exact"] += 1
    tally["tensors"] += sum(1 for n in case.model.graph.node for o in n.output if o and known.get(o) is not None)
    tally["unknown tensors"] += unknown
    if report is not None and len(case.model.graph.node) == 1:
        node = case.model.graph.node[0]
        allshapes = dict(zip(graph_inputs, sizes))
        allshapes.update(known)
        want = _macs_by_hand(node, allshapes)
        if want is not None:
            macs_checked[node.op_type] += 1
            if report.totals.macs != want:
                problems.append(f"{case.name}: {node.op_type} MACs {report.totals.macs:,}, by hand {want:,} "
                                f"(uncounted: {report.uncounted_ops})")


@pytest.mark.parametrize("mode", ["onnx", "own", "auto"])
def test_backend_node_cases_never_a_wrong_shape(cases, mode, capsys):
    tally, problems, macs_checked = collections.Counter(), [], collections.Counter()
    for case in cases:
        _run_case(case, mode, tally, problems, macs_checked)
    with capsys.disabled():
        print(f"\n[{mode}] {len(cases)} backend node cases: {tally['cases']} analysed ({tally['exact']} exact, "
              f"{tally['unknown']} with an unknown shape, {tally['wrong']} wrong; of {tally['tensors']} node outputs "
              f"{tally['unknown tensors']} unknown), {tally['errors']} SpecErrors, "
              f"{tally['internal errors']} internal errors, {tally['skipped (sequence / optional input)']} skipped "
              f"with a clear SpecError (sequence / optional inputs), "
              f"{tally['intermediates unchecked (reference evaluator failed)']} with graph outputs only checked; "
              f"MACs by hand: {dict(macs_checked)}")
    assert not problems, f"{len(problems)} problems, e.g.\n" + "\n".join(problems[:25])
    assert tally["wrong"] == tally["internal errors"] == tally["errors"] == 0
    assert tally["skipped (sequence / optional input)"] <= 30
    # a floor against regressions: most cases are known exactly
    assert tally["exact"] >= (1300 if mode == "own" else 1800)
    if mode == "onnx":
        assert sum(macs_checked.values()) >= 100 and {"Conv", "ConvTranspose", "MatMul", "Gemm", "Einsum",
                                                      "Attention"} <= set(macs_checked)


def test_own_rules_type_every_tensor_as_onnx_does(cases):
    """The element types cnncalc's rules give (what a graph of OWN_RULES_EXACT kinds is analysed with, without
    ONNX's inference) are ONNX inference's, on every backend case made of those kinds only: a wrong type would
    state wrong activation bytes."""
    from cnncalc.frontends.onnx.analyze import OWN_RULES_EXACT, _analyze
    checked = 0
    wrong = []
    for case in cases:
        if not {n.op_type for n in case.model.graph.node} <= OWN_RULES_EXACT:
            continue
        ins, _ = case.data_sets[0]
        sizes = [shape_of(v) for v in ins]
        if any(s is None for s in sizes):
            continue
        names = [vi.name for vi in case.model.graph.input]
        sizes = dict(zip(names, sizes))
        model = without_declared_shapes(case.model)
        try:
            _, own = _analyze(model, sizes, 10**6, False)
            _, onnx_ = _analyze(model, sizes, 10**6, True)
        except SpecError:
            continue
        for n in case.model.graph.node:
            for o in n.output:
                if o and onnx_.dtypes.get(o) is not None and own.shapes.get(o) is not None:
                    checked += 1
                    if own.dtypes.get(o) != onnx_.dtypes[o]:
                        wrong.append((case.name, n.op_type, o, own.dtypes.get(o), onnx_.dtypes[o]))
    assert not wrong, wrong[:10]
    assert checked >= 500, checked
