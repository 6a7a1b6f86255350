"""cnncalc practice: seed-style problems whose answers are cnncalc's own analysis of the same network, whose
worked solutions end on the answer, and which come back the same from the same seed."""
import subprocess
import sys

import pytest

import cnncalc
from cnncalc.practice import TOPICS, final_number, make_problem, read_number, session


@pytest.mark.parametrize("topic", TOPICS)
def test_200_problems_answers_are_the_analysis(topic):
    for seed in range(40):                      # 5 topics x 40 seeds = 200 problems
        p = make_problem(topic, seed)
        report = cnncalc.analyze(p.spec)
        layer = report[p.layer - 1]
        assert layer.index == p.layer
        expected = {"size": tuple(layer.output_shape[1:]), "params": layer.params, "macs": layer.macs,
                    "rf": None if layer.rf is None else layer.rf.size[0], "memory": layer.activation_bytes}[topic]
        assert p.answer == expected, (topic, seed, p.spec)
        assert final_number(p.solution[-1]) == p.answer, (topic, seed, p.solution)
        assert p.check(p.answer_text.split(" ")[0]) is True
        assert topic == "size" or p.check(str(p.answer + 1)) is False


def test_reproducible_from_the_seed_and_varied():
    assert make_problem("size", 7) == make_problem("size", 7)
    assert make_problem("size", 7, "zh").spec == make_problem("size", 7).spec
    assert len({make_problem("params", s).spec for s in range(30)}) > 20


def test_chinese_problems():
    p = make_problem("params", 5, "zh")
    assert "参数量是多少" in p.question and p.solution[0] == "解题过程："
    assert "参数量 = (" in "\n".join(p.solution)
    q = make_problem("size", 3, "zh")
    assert "输出尺寸" in q.question and "向下取整" in "\n".join(q.solution)


def test_answers_are_read_leniently():
    p = make_problem("size", 1)
    c, h, w = p.answer
    for text in (f"{c}x{h}x{w}", f"({c}, {h}, {w})", f"1 x {c} x {h} x {w}", f"{c}，{h}，{w}"):
        assert p.check(text) is True, text
    assert p.check("none") is None and p.check(f"{c}x{h}") is False
    assert read_number("1,792") == 1792 and read_number("72 KiB") == 73728 and read_number("1.5K") == 1500
    assert read_number("abc") is None and read_number("1.5") is None


def test_session_scores():
    out = []
    answers = iter([str(make_problem("params", 10).answer), "0", None])
    right, total = session("params", 10, 3, "en", lambda: next(answers), out.append)
    text = "".join(out)
    assert (right, total) == (1, 3) and "Right!" in text and "Not quite" in text and "No answer given" in text
    assert "Score: 1 of 3" in text and "--seed 10" in text


def test_cli_practice():
    p = make_problem("macs", 4)
    out = subprocess.run([sys.executable, "-m", "cnncalc", "practice", "--topic", "macs", "--seed", "4"],
                         input=f"{p.answer}\n", capture_output=True, text=True)
    assert out.returncode == 0 and "Right!" in out.stdout and "Worked solution:" in out.stdout
    out = subprocess.run([sys.executable, "-m", "cnncalc", "practice", "--topic", "rf", "--seed", "4", "--lang", "zh",
                          "--answer", "1"], capture_output=True, text=True)
    assert "解题过程" in out.stdout and ("答对了" in out.stdout or "不对" in out.stdout)
    out = subprocess.run([sys.executable, "-m", "cnncalc", "practice", "--topic", "size", "--seed", "2", "--json"],
                         capture_output=True, text=True)
    import json
    data = json.loads(out.stdout)
    assert data["answer"] == list(make_problem("size", 2).answer) and data["solution"]


def test_web_practice_endpoint():
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from cnncalc.web.app import create_app
    client = TestClient(create_app())
    r = client.get("/api/practice", params={"topic": "params", "seed": 5, "lang": "zh"}, headers={"host": "127.0.0.1"})
    assert r.status_code == 200
    data = r.json()
    assert data == make_problem("params", 5, "zh").to_dict()
    assert client.get("/api/practice", params={"topic": "nope"}, headers={"host": "127.0.0.1"}).status_code == 400
    assert client.get("/api/practice", params={"seed": -1}, headers={"host": "127.0.0.1"}).status_code == 422
