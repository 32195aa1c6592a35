"""The protocol between the student's process and the verdict's (``nndl_grading.rpc``): what crosses by
value, what by reference, and what the verdict's side refuses. Run in one process through
``loopback_pair`` (the same encoding) and, for the framing, over a real pipe."""

import os

import numpy as np
import paddle
import pytest

from nndl_grading import rpc
from nndl_grading.rpc import ProtocolError, RemoteError, Session, build, describe, loopback_pair


class Counter:
    def __init__(self):
        self.count, self._secret = 0, "hidden"
        self.history = []

    def bump(self, by=1):
        self.count += by
        self.history.append(by)
        return self


class StudentsOwnError(Exception):
    pass


def student_namespace():
    def fails():
        raise StudentsOwnError("broken")

    def not_done(x):
        raise NotImplementedError("Linear.forward 尚未实现")

    def call_back(recorder, value):
        recorder.record(value)
        return recorder

    def mutate(model):
        model.params["w"] = paddle.to_tensor([5.0])
        model.layers.append("fc2")
        return model

    def steal(obj, name):
        return getattr(obj, name)

    def rebind(obj, name, value):
        setattr(obj, name, value)

    kept = []

    def keep(obj):
        kept.append(obj)

    def use_kept():
        return kept[0].bump()

    return {"Counter": Counter, "fails": fails, "not_done": not_done, "call_back": call_back, "mutate": mutate,
            "steal": steal, "rebind": rebind, "np": np, "keep": keep, "use_kept": use_kept}


def test_values_cross_by_value_with_their_dtype_and_shape():
    _, env = loopback_pair({"echo": lambda *values: values})
    tensor = paddle.to_tensor(np.arange(6, dtype="float32").reshape(2, 3), stop_gradient=False)
    scalar, array, label = np.float32(2.5), np.arange(4, dtype="int64"), paddle.to_tensor(3, dtype="int64")
    result = env["echo"](None, True, 3, 1.5, "文字", (1, (2,)), tensor, scalar, array, label, np.zeros((0, 2)))
    assert result[:6] == (None, True, 3, 1.5, "文字", (1, (2,)))
    assert isinstance(result[6], paddle.Tensor) and result[6].dtype == paddle.float32
    assert result[6].stop_gradient is False and result[6] is not tensor
    np.testing.assert_array_equal(result[6].numpy(), tensor.numpy())
    assert type(result[7]) is np.float32 and result[7] == 2.5
    assert result[8].dtype == np.int64 and list(result[8]) == [0, 1, 2, 3]
    assert result[9].shape == [] and result[9].dtype == paddle.int64 and int(result[9]) == 3
    assert result[10].shape == (0, 2)


def test_objects_cross_by_reference_and_come_back_as_themselves():
    _, env = loopback_pair(student_namespace())
    Counter_ = env["Counter"]
    assert describe(Counter_)["isclass"] and type(Counter_).__name__ == "type"
    counter = Counter_()
    assert type(counter).__name__ == "Counter" and not isinstance(counter, Counter)
    assert counter.bump(2) is counter and counter.count == 2
    assert counter.history == [2] and isinstance(counter.history, list)

    class Recorder:
        def __init__(self):
            self.seen = []

        def record(self, value):
            self.seen.append(value)

    recorder = Recorder()
    assert env["call_back"](recorder, paddle.to_tensor([1.0, 2.0])) is recorder
    assert recorder.seen[0].numpy().tolist() == [1.0, 2.0]


def test_copied_dicts_and_lists_mirror_mutations_to_the_original():
    class Model:
        def __init__(self):
            self.params, self.layers = {"w": paddle.to_tensor([1.0])}, ["fc1"]

    model = Model()
    _, env = loopback_pair(student_namespace())
    assert env["mutate"](model) is model
    assert model.params["w"].numpy().tolist() == [5.0] and model.layers == ["fc1", "fc2"]
    counter = env["Counter"]()
    counter.history.append(7)        # a copy, but the append reaches the student's list
    assert counter.history == [7]


def test_errors_keep_their_type_and_student_code_location():
    _, env = loopback_pair(student_namespace())
    with pytest.raises(NotImplementedError, match="尚未实现"):
        env["not_done"](1)
    with pytest.raises(RemoteError) as raised:
        env["fails"]()
    assert type(raised.value).__name__ == "StudentsOwnError" and str(raised.value) == "broken"
    with pytest.raises(AttributeError):
        env["Counter"]().no_such_attribute


def test_the_verdict_side_refuses_private_attributes_and_changes_to_its_classes():
    _, env = loopback_pair(student_namespace())

    def grader_function():
        return "ok"

    with pytest.raises(AttributeError, match="private"):
        env["steal"](Counter(), "_secret")
    with pytest.raises(AttributeError):      # dunders of a proxy are never even asked for
        env["steal"](grader_function, "__globals__")
    with pytest.raises(TypeError, match="read-only"):
        env["rebind"](Counter, "bump", None)
    with pytest.raises(TypeError, match="read-only"):
        env["rebind"](grader_function, "attribute", 1)
    with pytest.raises(TypeError, match="modules"):
        env["call_back"](Counter(), os)
    assert Counter.bump.__name__ == "bump"


def test_objects_handed_over_expire_after_the_test_case():
    verdict, env = loopback_pair(student_namespace())
    env["keep"](Counter())           # the student's side keeps a proxy of a grader object ...
    assert env["use_kept"]().count == 1
    verdict.call_student("release")
    verdict.release()
    with pytest.raises(LookupError, match="earlier test case"):
        env["use_kept"]()            # ... which is dead in the next test case


def test_the_verdict_uses_its_own_modules_for_the_students_module_names():
    fake_numpy = type("FakeNumpy", (), {"allclose": staticmethod(lambda *args, **kwargs: True)})()
    _, env = loopback_pair({**student_namespace(), "np": fake_numpy, "F": None})
    assert env["np"] is np and env.get("F") is paddle.nn.functional
    assert env.get("missing", "default") == "default" and "Counter" in env


def test_what_the_verdict_hands_over_is_a_plain_copy():
    """A check's own inputs cannot be changed by the student's code it passes them to."""
    _, env = loopback_pair({"spoil": lambda values, table: (values.append(float("nan")), table.clear())})
    values, table = [1.0, 2.0], {"w": 1.0}
    env["spoil"](values, table)
    assert values == [1.0, 2.0] and table == {"w": 1.0}


def test_every_in_place_change_of_a_copy_reaches_the_original_and_copies_pickle_plainly():
    import copy
    import pickle
    owner = {"params": {"w": 1.0}, "layers": ["fc1"]}
    _, env = loopback_pair({"owner": lambda: owner_object})
    owner_object = type("Owner", (), owner)()
    params, layers = env["owner"]().params, env["owner"]().layers
    params.setdefault("b", 0.5)
    params |= {"c": 2.0}
    layers.insert(0, "input")
    layers += ["fc2"]
    assert owner_object.params == {"w": 1.0, "b": 0.5, "c": 2.0}
    assert owner_object.layers == ["input", "fc1", "fc2"]
    assert type(copy.deepcopy(params)) is dict and pickle.loads(pickle.dumps(layers)) == ["input", "fc1", "fc2"]


def test_a_students_subclass_of_a_builtin_error_is_still_that_error():
    class ShapeError(ValueError):
        pass

    def refuse():
        raise ShapeError("cannot broadcast")

    _, env = loopback_pair({"refuse": refuse})
    with pytest.raises(ValueError, match="cannot broadcast") as raised:
        env["refuse"]()
    assert type(raised.value).__name__ == "ShapeError"


def test_build_runs_where_the_student_code_runs_and_only_allowed_constructors():
    verdict, env = loopback_pair({})
    holder = build(env, "nndl_grading.fixtures.ch02.LinearParameters", 3)
    assert rpc.session_of(holder) is verdict and holder.params["w"].shape == [3, 1]
    with pytest.raises(PermissionError):
        build(env, "os.system", "true")
    assert build({}, "numpy.zeros", 2).tolist() == [0.0, 0.0]     # a plain namespace builds here


def test_malformed_values_are_protocol_errors():
    session = Session("verdict")
    for data in ({"$": "array", "dtype": "|O", "shape": [1], "data": ""},
                 {"$": "array", "dtype": "<f4", "shape": [3], "data": "AAAA"},
                 {"$": "nonsense"}, [1, 2], {"$": "ref", "owner": "peer", "id": 99}):
        with pytest.raises((ProtocolError, LookupError)):
            session.decode(data)
    with pytest.raises(TypeError, match="numeric"):
        session.encode(np.array(["text"], dtype=object))


def test_pipes_carry_messages_and_refuse_oversized_ones():
    read_fd, write_fd = os.pipe()
    sender, receiver = Session("student").connect_pipes(os.dup(read_fd), write_fd), Session("verdict")
    receiver.connect_pipes(read_fd, os.dup(write_fd))
    sender.post({"ready": {"status": "ok"}})
    assert receiver.receive() == {"ready": {"status": "ok"}}
    os.write(write_fd, (rpc.MAX_MESSAGE_BYTES + 1).to_bytes(8, "big"))
    with pytest.raises(ProtocolError, match="too large"):
        receiver.receive()
