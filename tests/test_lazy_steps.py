"""Explanation steps made when first read, and ops.apply's shortcuts: each gives what the plain path gives."""
import pickle

import pytest

import cnncalc
from cnncalc import SpecError
from cnncalc.formulas import Step
from cnncalc.ops import apply
from cnncalc.ops.registry import LayerOut

CONV = dict(filters=8, kernel_size=3, stride=1, padding=1, dilation=1, groups=1, bias=True)


def test_steps_are_made_when_read_and_then_kept():
    out = apply.run("conv2d", (1, 3, 32, 32), **CONV)
    assert callable(out.__dict__["steps"])                      # nothing written yet
    steps = out.steps
    assert isinstance(steps, tuple) and all(isinstance(s, Step) for s in steps)
    assert out.steps is steps                                    # made once
    # hand arithmetic: 32x32 output, (3*3*3 + 1)*8 = 224 parameters, 8*32*32 outputs * 27 = 221,184 MACs
    shown = {s.quantity: s.value for s in steps}
    assert shown == {"H_out": 32, "W_out": 32, "params": 224, "macs": 221_184, "mults": 221_184, "adds": 221_184}
    assert (out.params, out.macs) == (224, 221_184)


def test_a_thunk_and_a_tuple_give_equal_records_and_pickle():
    lazy = apply.run("maxpool2d", (1, 4, 8, 8), kernel_size=2)
    eager = LayerOut(lazy.output_shape, flops=lazy.flops, rf=lazy.rf, steps=tuple(lazy.steps))
    assert LayerOut(lazy.output_shape, flops=lazy.flops, rf=lazy.rf, steps=lambda: lazy.steps) == eager
    fresh = apply.run("maxpool2d", (1, 4, 8, 8), kernel_size=2)
    back = pickle.loads(pickle.dumps(fresh))                     # the thunk is made before pickling
    assert back.steps == lazy.steps and back.call == fresh.call
    with pytest.raises(AttributeError):
        fresh.steps = ()


def test_report_rows_keep_steps_lazy_and_explain_the_same():
    text = "input(3, 32, 32)\nconv2d(8, 3, padding=1)\nrelu\nconv2d(8, 3, padding=1)\nrelu\nconv2d(8, 3, padding=1)\nmaxpool2d(2)"
    report = cnncalc.analyze(text)
    assert all(callable(layer.__dict__["steps"]) for layer in report.layers)
    copy = pickle.loads(pickle.dumps(report))
    assert copy.explain() == report.explain() == cnncalc.analyze(text).explain()
    assert copy.layers[0].steps == report.layers[0].steps


def test_memo_answers_a_repeated_call_once_and_tells_1_from_1_0_and_true():
    with apply.memo():
        a = apply.run("conv2d", (1, 3, 32, 32), **CONV)
        b = apply.run("conv2d", (1, 3, 32, 32), **CONV)
        c = apply.run("conv2d", (1, 3, 32, 32), **dict(CONV, bias=1))
        d = apply.run("conv2d", (1, 3, 32, 32), **dict(CONV, bias=True, filters=4))
        assert a is b and c is not a and d.params == (27 + 1) * 4
        with pytest.raises(SpecError):                           # 1.0 is not a whole number: never stored
            apply.run("conv2d", (1, 3, 32, 32), **dict(CONV, stride=1.0))
        with pytest.raises(SpecError):
            apply.run("conv2d", (1, 3, 32, 32), **dict(CONV, stride=1.0))
    assert apply.run("conv2d", (1, 3, 32, 32), **CONV) is not a  # outside the block: no store


def test_errors_show_the_call_written_out():
    with pytest.raises(SpecError) as e:
        apply.run("conv2d", (1, 3, 4, 4), filters=8, kernel_size=7)
    assert e.value.fragment == "conv2d(filters=8, kernel_size=7)"
    with pytest.raises(SpecError) as e:                          # an alias goes through the general binder
        apply.run("conv2d", (1, 3, 4, 4), out_channels=8, kernel_size=(7, 7))
    assert e.value.fragment == "conv2d(out_channels=8, kernel_size=(7, 7))"


def test_pads_given_as_pairs_are_keys_that_tell_1_from_true():
    pads = ((1, 1), (1, 1))
    with apply.memo():
        a = apply.run("conv2d", (1, 3, 32, 32), **dict(CONV, padding=pads))
        b = apply.run("conv2d", (1, 3, 32, 32), **dict(CONV, padding=((1, 1), (1, 1))))
        assert a is b and a.output_shape == (1, 8, 32, 32)       # 32 + 1 + 1 - 3 + 1
        with pytest.raises(SpecError):                           # True is not a pad: never stored, never equal
            apply.run("conv2d", (1, 3, 32, 32), **dict(CONV, padding=((True, 1), (1, 1))))
    # the shortcut's key is the general one's: each pair as a tuple of whole numbers
    assert apply._key(pads) == (tuple, ((tuple, (1, 1)), (tuple, (1, 1))))
    assert apply._key(((1.0, 1), (1, 1))) == (tuple, ((tuple, ((float, 1.0), 1)), (tuple, (1, 1))))


def test_bound_arguments_are_the_general_binders():
    """The shortcut binder (worked out once per op and set of names) gives what registry.bind gives."""
    from cnncalc.ops import registry
    op = registry.KINDS["conv2d"]
    for args in (CONV, dict(filters=4, kernel_size=(1, 1)), dict(kernel_size=3, filters=2, bias=False)):
        fast = apply._bind(op, args)
        call = apply.ModelCall("conv2d", args, None)
        general = registry.bind(op, call, lambda *a: pytest.fail(str(a)))
        assert list(fast.items()) == list(general.items())
        assert all(fast.given(k) for k in args) and not fast.given("in_channels")
    assert apply._bind(op, dict(out_channels=8, kernel_size=3)) is None      # an alias: the general binder
    assert apply._bind(op, dict(kernel_size=3)) is None                      # filters missing: its error
