"""Student code in one process, the checks in another: the small object protocol between them.

The grading worker (the *verdict* process: otter's test cases, the hidden checks, the reference) runs
the student's notebook in a second process (``probe.py``) and talks to it over two pipes, so nothing
the notebook does can change how its outputs are judged.

Values cross by value: None, bools, numbers, strings, tuples, numpy arrays and scalars, Paddle tensors,
and lists and dicts. Lists and dicts are copies whose in-place changes (item assignment, ``append``, …)
are also made to the original — except what the verdict hands over in its own requests: plain copies,
so the student's code cannot change a check's inputs. A change the owner makes later is not seen by an
earlier copy, so checks read such attributes again after calling the student's code. Everything else —
functions, classes, objects — crosses by reference: the other side holds a ``Remote`` proxy, and calling
it or reading or setting an attribute or item is a request. Requests nest, so the student's code can
call back an object a check handed it (a recording model, the reference ``Accuracy``), and an object
sent back to its owner is the original again (``returned is model`` holds).

The verdict side trusts nothing it receives: messages are length-prefixed JSON (never pickle) of bounded
size, arrays only of numeric dtypes; the student may only use objects the verdict exported during the
current test case, only through names that do not start with ``_``, and may not set attributes of
classes, functions or modules. Exported objects and proxies are dropped after every case.

``loopback_pair`` connects two sessions in one process through the same encoding, so the test suite
runs every hidden check through proxies as well as on plain objects.
"""

import base64
import collections
import inspect
import itertools
import json
import os
import struct
import sys
import traceback
import types

import numpy as np

MAX_MESSAGE_BYTES = 256 * 2 ** 20
MAX_DEPTH = 32
# Names the public tests ask for that always mean the verdict's own modules, whatever the notebook bound
# them to: never the student's, perhaps patched or faked, copy.
OWN_MODULES = {"np": "numpy", "numpy": "numpy", "math": "math", "os": "os", "paddle": "paddle",
               "nn": "paddle.nn", "F": "paddle.nn.functional"}
# What ``build`` may call on the student's side: library constructors and the kit's fixtures.
BUILDABLE = ("paddle.", "numpy.", "nndl_grading.fixtures.")
BUILTIN_ERRORS = {cls.__name__: cls for cls in (
    ArithmeticError, AssertionError, AttributeError, FileNotFoundError, ImportError, IndexError, KeyError,
    LookupError, MemoryError, NameError, NotImplementedError, OSError, OverflowError, PermissionError,
    RecursionError, RuntimeError, StopIteration, TypeError, UnboundLocalError, ValueError, ZeroDivisionError)}


class ProtocolError(Exception):
    """The other process sent something that is not a valid message, or ended."""


class RemoteError(Exception):
    """An exception of a non-built-in type raised on the other side; its subclass carries the type's name."""


_ERROR_CLASSES = {}


def _remote_error_class(name, base_name):
    """A class named like the remote exception's, derived from its nearest built-in base (``except
    ValueError`` still catches a student's ``ValueError`` subclass), else from ``RemoteError``."""
    if name in BUILTIN_ERRORS:
        return BUILTIN_ERRORS[name]
    name = name if isinstance(name, str) and name.isidentifier() else "RemoteError"
    base = BUILTIN_ERRORS.get(base_name, RemoteError)
    if (name, base) not in _ERROR_CLASSES:
        _ERROR_CLASSES[name, base] = type(name, (base,), {})
    return _ERROR_CLASSES[name, base]


def describe(value):
    """What the checks need to know of a value that may live in the other process: its type name, whether
    it is a class or callable, and the modules it (or, for a class, its bases) was defined in."""
    if isinstance(value, Remote):
        return dict(object.__getattribute__(value, "_description"))
    owners = inspect.getmro(value) if inspect.isclass(value) else (value,)
    return {"type": type(value).__name__, "isclass": inspect.isclass(value), "callable": callable(value),
            "module": value.__name__ if isinstance(value, types.ModuleType) else None,
            "origins": sorted({str(getattr(owner, "__module__", "") or "") for owner in owners})}


def session_of(value):
    """The session through which ``value`` (a proxy or a namespace of the other process) is reached."""
    if isinstance(value, (Remote, RemoteNamespace)):
        return object.__getattribute__(value, "_session")
    return None


class Remote:
    """A proxy for an object of the other process."""
    __slots__ = ("_session", "_handle", "_description")

    def __init__(self, session, handle, description):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_description", description)

    def _request(self, op, *args):
        return object.__getattribute__(self, "_session").request(op, self, *args)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):   # numpy, copy and pickle probing stays local
            raise AttributeError(name)
        return self._request("getattr", name)

    def __setattr__(self, name, value):
        self._request("setattr", name, value)

    def __call__(self, *args, **kwargs):
        return self._request("call", args, tuple(kwargs.items()))

    def __getitem__(self, key):
        return self._request("getitem", key)

    def __setitem__(self, key, value):
        self._request("setitem", key, value)

    def __len__(self):
        return self._request("len")

    def __iter__(self):
        return iter(self._request("list"))

    def __contains__(self, item):
        return self._request("contains", item)

    def __bool__(self):
        return self._request("bool")

    def __array__(self, dtype=None, copy=None):
        array = self._request("array")
        return array if dtype is None else array.astype(dtype)

    def __repr__(self):
        try:
            return self._request("repr")
        except Exception:
            return f"<{type(self).__name__} of the other process>"


_PROXY_CLASSES = {}


def _proxy_class(type_name):
    """Proxies are named after the remote type, so messages read ``实际是 Linear``, not ``Remote``."""
    name = type_name if isinstance(type_name, str) and type_name.isidentifier() else "Remote"
    if name not in _PROXY_CLASSES:
        _PROXY_CLASSES[name] = type(name, (Remote,), {"__slots__": ()})
    return _PROXY_CLASSES[name]


class _Mirrored:
    """Mixin of the copied lists and dicts: after any in-place change, the whole new content is also given
    to the original in the other process. Pickled or deep-copied, a copy is a plain list or dict."""

    def _sync(self):
        session, handle = self.__dict__.get("_rpc_session"), self.__dict__.get("_rpc_handle")
        if session is not None and handle is not None:
            session.request_on(handle, "replace", self._plain())

    def __reduce_ex__(self, protocol):
        plain = self._plain()
        return type(plain), (plain,)


def _synced(base, names):
    """``base``'s methods ``names``, each followed by ``_sync``."""
    def wrap(method):
        def synced(self, *args, **kwargs):
            result = method(self, *args, **kwargs)
            self._sync()
            return result
        synced.__name__ = method.__name__
        return synced
    return {name: wrap(getattr(base, name)) for name in names}


MirroredDict = type("MirroredDict", (_Mirrored, dict), {"_plain": lambda self: dict(self), **_synced(dict, (
    "__setitem__", "__delitem__", "__ior__", "clear", "pop", "popitem", "setdefault", "update"))})
MirroredList = type("MirroredList", (_Mirrored, list), {"_plain": lambda self: list(self), **_synced(list, (
    "__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert", "pop", "remove", "clear",
    "sort", "reverse"))})


def _encode_array(array):
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"只能传递数值数组 (only numeric arrays cross processes), not dtype {array.dtype}")
    data = base64.b64encode(array.tobytes(order="C")).decode()
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": data}


def _decode_array(data):
    dtype = np.dtype(str(data["dtype"]))
    shape = [int(d) for d in data["shape"]]
    raw = base64.b64decode(data["data"], validate=True)
    if dtype.kind not in "biuf" or dtype.hasobject or any(d < 0 for d in shape) or \
            len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise ProtocolError("malformed array")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _is_tensor(value):
    paddle = sys.modules.get("paddle")
    return paddle is not None and isinstance(value, paddle.Tensor)


class Session:
    """One end of the protocol. ``side`` is "student" (obeys every request) or "verdict" (guarded)."""

    def __init__(self, side, namespace=None):
        self.side, self.guarded, self.namespace = side, side == "verdict", namespace
        self._counter = itertools.count(1)
        self._exports, self._export_ids, self._proxies = {}, {}, {}
        self._peer = None                      # loopback only
        self._read = self._write = None        # pipes only

    # ---------------------------------------------------------------- transport
    def connect_pipes(self, read_fd, write_fd):
        self._read, self._write = os.fdopen(read_fd, "rb", buffering=0), os.fdopen(write_fd, "wb", buffering=0)
        return self

    def _send(self, message):
        payload = json.dumps(message, ensure_ascii=False).encode("utf-8")
        self._write.write(struct.pack(">Q", len(payload)) + payload)

    def _read_exactly(self, count):
        chunks, remaining = [], count
        while remaining:
            chunk = self._read.read(min(remaining, 1 << 20))
            if not chunk:
                raise ProtocolError("the other process ended")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def receive(self):
        (size,) = struct.unpack(">Q", self._read_exactly(8))
        if size > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"message of {size} bytes is too large")
        try:
            message = json.loads(self._read_exactly(size).decode("utf-8"))
        except ValueError as error:
            raise ProtocolError(f"not a message: {error}") from None
        if not isinstance(message, dict):
            raise ProtocolError("not a message")
        return message

    def post(self, message):
        """Send a message that expects no answer (the student's ``ready`` and its end)."""
        self._send(message)

    def _exchange(self, message):
        if self._peer is not None:          # loopback: the peer answers at once, through the same encoding
            answer = self._peer.answer(json.loads(json.dumps(message, ensure_ascii=False)))
            return json.loads(json.dumps(answer, ensure_ascii=False))
        self._send(message)
        while True:
            incoming = self.receive()
            if "op" not in incoming:
                return incoming
            self._send(self.answer(incoming))

    # ---------------------------------------------------------------- requests
    def request(self, op, target, *args):
        return self.request_on(self._handle_of(target), op, *args)

    def request_on(self, handle, op, *args):
        # What the verdict hands over in a request is a plain copy: nothing the student's code does to it comes
        # back (checks compute expected values from their own data).
        mirrored = not self.guarded
        reply = self._exchange({"op": op, "handle": handle,
                                "args": [self.encode(a, mirrored=mirrored) for a in args]})
        if "error" in reply:
            raise self._decode_error(reply["error"])
        if "reply" not in reply:
            raise ProtocolError("not a reply")
        return self.decode(reply["reply"])

    def call_student(self, op, *args):
        """Session-level requests of the verdict: namespace access, ``build``, ``release``."""
        return self.request_on(0, op, *args)

    def _handle_of(self, proxy):
        return object.__getattribute__(proxy, "_handle")

    def _decode_error(self, error):
        if not isinstance(error, dict):
            raise ProtocolError("malformed error")
        name, message = str(error.get("type", "RemoteError")), str(error.get("message", ""))[:2000]
        cls = _remote_error_class(name, str(error.get("base", "")))
        exception = cls(message)
        exception.where = str(error.get("where") or "")[:200]
        return exception

    # ---------------------------------------------------------------- answering
    def answer(self, message):
        """The reply to one request of the other side (an error reply if it fails or is refused)."""
        try:
            op, handle = message.get("op"), message.get("handle")
            args = [self.decode(a) for a in message.get("args", [])]
            result = self._perform(op, handle, args)
            return {"reply": self.encode(result)}
        except ProtocolError:
            raise
        except BaseException as error:   # SystemExit and KeyboardInterrupt of student code are answers too
            if self.guarded and not isinstance(error, Exception):
                raise                     # ... but Ctrl-C in the grader stops the grader
            where = ""
            for frame in traceback.extract_tb(error.__traceback__):
                if frame.filename.startswith("<cell"):
                    where = f"{frame.name}, code cell {frame.filename[6:-1]}"
            base = next((c.__name__ for c in type(error).__mro__ if BUILTIN_ERRORS.get(c.__name__) is c), "")
            return {"error": {"type": type(error).__name__, "base": base, "message": str(error)[:2000],
                              "where": where}}

    def _perform(self, op, handle, args):
        if handle == 0:
            return self._perform_session(op, args)
        if not isinstance(handle, int) or handle not in self._exports:
            raise LookupError("对象已失效 (this object belonged to an earlier test case)")
        target = self._exports[handle]
        if op == "call":
            call_args, call_kwargs = args
            return target(*call_args, **self._keywords(call_kwargs))
        if op == "getattr":
            return getattr(target, self._public(args[0]))
        if op == "setattr":
            if self.guarded and isinstance(target, (type, types.FunctionType, types.MethodType,
                                                    types.BuiltinFunctionType, types.ModuleType)):
                raise TypeError("不能修改评分程序的类或函数 "
                                "(the grader's classes and functions are read-only)")
            return setattr(target, self._public(args[0]), args[1])
        if op == "getitem":
            return target[args[0]]
        if op == "setitem":
            target[args[0]] = args[1]
            return None
        if op == "delitem":
            del target[args[0]]
            return None
        if op == "replace" and isinstance(target, (list, dict)):
            if isinstance(target, list):
                target[:] = list(args[0])
            else:
                target.clear()
                target.update(args[0])
            return None
        simple = {"len": len, "list": tuple, "contains": lambda t: args[0] in t, "bool": bool,
                  "array": np.asarray, "repr": lambda t: repr(t)[:300]}
        if op in simple:
            return simple[op](target)
        raise ProtocolError(f"unknown request {op!r}")

    def _perform_session(self, op, args):
        if self.guarded:
            raise PermissionError("只有评分程序能发出这个请求 (not a request the student's side may make)")
        if op == "ns_get":
            return (True, self.namespace[args[0]]) if args[0] in self.namespace else (False, None)
        if op == "ns_set":
            self.namespace[args[0]] = args[1]
            return None
        if op == "ns_del":
            self.namespace.pop(args[0], None)
            return None
        if op == "ns_names":
            return tuple(self.namespace)
        if op == "build":
            dotted, call_args, call_kwargs = args
            return _resolve(dotted)(*call_args, **self._keywords(call_kwargs))
        if op == "release":
            self.release()
            return None
        raise ProtocolError(f"unknown request {op!r}")

    def _public(self, name):
        if not isinstance(name, str) or (self.guarded and name.startswith("_")):
            raise AttributeError(f"不能访问评分程序对象的属性 {name!r} "
                                 "(private attribute of the grader's object)")
        return name

    @staticmethod
    def _keywords(pairs):
        if not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in pairs):
            raise ProtocolError("malformed keyword arguments")
        return dict(pairs)

    def release(self):
        """Forget every exported object and proxy: nothing survives the test case it was made for."""
        self._exports.clear()
        self._export_ids.clear()
        self._proxies.clear()

    # ---------------------------------------------------------------- encoding
    def encode(self, value, depth=0, mirrored=True):
        if depth > MAX_DEPTH:
            raise ValueError("数据嵌套过深 (nested too deeply)")
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, np.generic):
            return {"$": "scalar", **_encode_array(np.asarray(value))}
        if isinstance(value, (bool, int, float, str)):
            base = next(t for t in (bool, int, float, str) if isinstance(value, t))
            return base(value)
        if type(value) is tuple:
            return {"$": "tuple", "items": [self.encode(v, depth + 1, mirrored) for v in value]}
        if isinstance(value, np.ndarray):
            return {"$": "array", **_encode_array(value)}
        if _is_tensor(value):
            return {"$": "tensor", "stop_gradient": bool(value.stop_gradient), **_encode_array(value.numpy())}
        if isinstance(value, Remote) and object.__getattribute__(value, "_session") is self:
            return {"$": "ref", "owner": "peer", "id": object.__getattribute__(value, "_handle")}
        if isinstance(value, _Mirrored) and value.__dict__.get("_rpc_session") is self:
            return {"$": "ref", "owner": "peer", "id": value.__dict__["_rpc_handle"]}
        if type(value) in (dict, list, collections.OrderedDict) or isinstance(value, _Mirrored):
            kind = "dict" if isinstance(value, dict) else "list"
            if kind == "dict":
                items = [[self.encode(k, depth + 1, mirrored), self.encode(v, depth + 1, mirrored)]
                         for k, v in value.items()]
            else:
                items = [self.encode(v, depth + 1, mirrored) for v in value]
            return {"$": kind, "id": self._export(value) if mirrored else None, "items": items}
        if self.guarded and isinstance(value, types.ModuleType):
            raise TypeError("评分程序不向学生代码提供模块 (modules are not handed to the student's code)")
        return {"$": "ref", "owner": "sender", "id": self._export(value), "describe": describe(value)}

    def _export(self, value):
        handle = self._export_ids.get(id(value))
        if handle is None:
            handle = next(self._counter)
            self._exports[handle], self._export_ids[id(value)] = value, handle
        return handle

    def decode(self, data, depth=0):
        if data is None or type(data) in (bool, int, float, str):
            return data
        if type(data) is not dict or depth > MAX_DEPTH:
            raise ProtocolError("malformed value")
        tag = data.get("$")
        try:
            if tag == "tuple":
                return tuple(self.decode(v, depth + 1) for v in data["items"])
            if tag == "array":
                return _decode_array(data)
            if tag == "scalar":
                return _decode_array(data)[()]
            if tag == "tensor":
                import paddle
                return paddle.to_tensor(_decode_array(data), stop_gradient=bool(data["stop_gradient"]))
            if tag in ("dict", "list"):
                return self._decode_container(tag, data, depth)
            if tag == "ref":
                return self._decode_ref(data)
        except (KeyError, TypeError, ValueError) as error:
            raise ProtocolError(f"malformed value: {error}") from None
        raise ProtocolError(f"unknown value tag {tag!r}")

    def _decode_container(self, tag, data, depth):
        mirrored = data["id"] is not None
        if tag == "dict":
            copy = MirroredDict() if mirrored else {}
            for key, value in data["items"]:
                dict.__setitem__(copy, self.decode(key, depth + 1), self.decode(value, depth + 1))
        else:
            copy = (MirroredList if mirrored else list)(self.decode(v, depth + 1) for v in data["items"])
        if mirrored:
            copy.__dict__.update(_rpc_session=self, _rpc_handle=int(data["id"]))
        return copy

    def _decode_ref(self, data):
        handle = int(data["id"])
        if data["owner"] == "peer":          # one of ours, coming back
            if handle not in self._exports:
                raise LookupError("对象已失效 (this object belonged to an earlier test case)")
            return self._exports[handle]
        description = data["describe"]
        proxy = self._proxies.get(handle)
        if proxy is None:
            description = {key: description.get(key) for key in ("type", "isclass", "callable", "module", "origins")}
            description["origins"] = [str(o) for o in description["origins"] or []]
            proxy = self._proxies[handle] = _proxy_class(description["type"])(self, handle, description)
        return proxy


def _resolve(dotted):
    if not isinstance(dotted, str) or not dotted.startswith(BUILDABLE):
        raise PermissionError(f"不能在学生进程中构造 {dotted!r}")
    import importlib
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def build(env, dotted, *args, **kwargs):
    """Call ``dotted`` (a constructor of Paddle, numpy or ``nndl_grading.fixtures``) where the student's code
    runs: in the student's process when grading, here when ``env`` is a plain namespace (the test suite)."""
    session = session_of(env)
    if session is None:
        return _resolve(dotted)(*args, **kwargs)
    return session.call_student("build", dotted, args, tuple(kwargs.items()))


class RemoteNamespace:
    """The globals of the student's notebook, seen from the verdict process: what otter's test cases and
    the checks read names from (``env.get``) and ``substituted`` binds names in."""

    def __init__(self, session):
        object.__setattr__(self, "_session", session)

    def _lookup(self, name):
        if name in OWN_MODULES:
            import importlib
            return True, importlib.import_module(OWN_MODULES[name])
        return self._session.call_student("ns_get", name)

    def get(self, name, default=None):
        found, value = self._lookup(name)
        return value if found else default

    def __getitem__(self, name):
        found, value = self._lookup(name)
        if not found:
            raise KeyError(name)
        return value

    def __setitem__(self, name, value):
        self._session.call_student("ns_set", name, value)

    def __contains__(self, name):
        return self._lookup(name)[0]

    def update(self, names):
        for name, value in dict(names).items():
            self[name] = value

    def pop(self, name, default=None):
        value = self.get(name, default)
        self._session.call_student("ns_del", name)
        return value

    def keys(self):
        return list(self._session.call_student("ns_names"))

    def items(self):
        return [(name, self.get(name)) for name in self.keys()]


def loopback_pair(namespace):
    """(verdict session, the namespace as the verdict sees it): both ends in this process, every value
    through the encoding — what the test suite uses to run the checks through proxies."""
    student, verdict = Session("student", namespace), Session("verdict")
    student._peer, verdict._peer = verdict, student
    return verdict, RemoteNamespace(verdict)
