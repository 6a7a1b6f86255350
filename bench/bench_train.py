"""Analysis time with --train against without (the goal: < 2x), best of N, alternating."""
import sys
import time

import cnncalc
from cnncalc import zoo


def best(fns, n=7):
    """Best time of each function, run in turns (a, b, a, b, ...): a slow moment of the machine hits both."""
    ts = [[] for _ in fns]
    for f in fns:
        f()                                    # warm (first-call imports, caches)
    for _ in range(n):
        for f, times in zip(fns, ts):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
    return [min(t) for t in ts]


def main():
    cases = [("zoo:resnet50", zoo.get("resnet50").text), ("zoo:resnet152", zoo.get("resnet152").text),
             ("10,000-layer chain", "input(64)\n" + "dense(64) | relu\n" * 5000)]
    try:
        import torch  # noqa: F401
        sys.path.insert(0, "tests")
        import reference_nets as R
        m = R.resnet50().eval()
        cases.append(("torch resnet50 16x3x224x224", (m, (16, 3, 224, 224))))
    except ImportError:
        pass
    print(f"{'case':32} {'inference':>10} {'--train':>10} {'ratio':>6}")
    for name, spec in cases:
        args = spec if isinstance(spec, tuple) else (spec,)
        a, b = best([lambda: cnncalc.analyze(*args), lambda: cnncalc.analyze(*args, train=True, optimizer="adam")])
        print(f"{name:32} {a * 1000:8.1f} ms {b * 1000:8.1f} ms {b / a:6.2f}")
        if b > 2 * a:
            print(f"  FAIL: --train is more than 2x slower on {name}")


if __name__ == "__main__":
    main()
