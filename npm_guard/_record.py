"""`dataclass`, `field` and `replace` that cost nothing at start-up.

The hooks must start within 1.5x of a bare `python -c "import yaml"` (DESIGN.md,
"Targets"). The standard `dataclasses` does not fit: importing it pulls in `inspect`,
`ast`, `dis` and `tokenize` (about 8 ms), and decorating one frozen class costs about
0.6 ms (it builds a signature for the docstring and `exec`s five methods), so the two
dozen classes on a hook's import path cost more than the whole of `import yaml`.

For the type checker this module *is* `dataclasses` (the `TYPE_CHECKING` branch), so
mypy checks every class exactly as before. At run time `dataclass` makes the same
`__init__` (positional or keyword, defaults, default factories), `__repr__`, `__eq__`
and, for frozen classes, `__hash__` and the refusal to assign. The first instances of a
class are made field by field; `__init__` is compiled (an `exec`, about 0.2 ms) only
for a class that goes on to make more, so the classes a run instantiates a few times,
or never, cost almost nothing. Only what
npm-guard uses is supported: `frozen=`, `eq=`, `repr=`, `field(default=...)`,
`field(default_factory=...)`, `field(compare=False)`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import FrozenInstanceError as FrozenInstanceError
    from dataclasses import dataclass as dataclass
    from dataclasses import field as field
    from dataclasses import replace as replace
else:
    _MISSING = object()
    _FIELDS = "__record_fields__"

    class FrozenInstanceError(AttributeError):
        """Assignment to a field of a frozen record."""

    _UNCOMPARED = "__record_uncompared__"

    class _Field:
        __slots__ = ("compare", "default", "default_factory")

        def __init__(self, default, default_factory, compare):
            self.default = default
            self.default_factory = default_factory
            self.compare = compare

    def field(*, default=_MISSING, default_factory=_MISSING, compare=True):
        """A field with a default value or a factory for one; `compare=False` leaves it
        out of `==` and the hash."""
        if default is not _MISSING and default_factory is not _MISSING:
            raise ValueError("cannot specify both default and default_factory")
        return _Field(default, default_factory, compare)

    def dataclass(cls=None, /, *, frozen=False, eq=True, repr=True):
        """The `dataclasses.dataclass` decorator, for the options npm-guard uses."""

        def wrap(cls):
            return _process(cls, frozen, eq, repr)

        return wrap if cls is None else wrap(cls)

    def replace(obj, /, **changes):
        """A copy of `obj` with some fields changed (`dataclasses.replace`)."""
        values = {name: getattr(obj, name) for name, _, _ in getattr(obj, _FIELDS)}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(obj).__name__} has no field(s) {sorted(unknown)}")
        values.update(changes)
        return type(obj)(**values)

    def _process(cls, frozen, eq=True, with_repr=True):
        fields = []
        uncompared = set()
        for base in reversed(cls.__mro__[1:]):
            fields.extend(base.__dict__.get(_FIELDS, ()))
            uncompared.update(base.__dict__.get(_UNCOMPARED, ()))
        inherited = {name for name, _, _ in fields}
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
            if "ClassVar" in str(annotation):
                continue
            default, factory = cls.__dict__.get(name, _MISSING), _MISSING
            if isinstance(default, _Field):
                if not default.compare:
                    uncompared.add(name)
                default, factory = default.default, default.default_factory
                if default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, default)
            entry = (name, default, factory)
            if name in inherited:
                fields = [entry if f[0] == name else f for f in fields]
            else:
                fields.append(entry)
        seen_default = False
        for name, default, factory in fields:
            has_default = default is not _MISSING or factory is not _MISSING
            if seen_default and not has_default:
                raise TypeError(f"non-default argument {name!r} follows default argument")
            seen_default = seen_default or has_default
        fields = tuple(fields)
        setattr(cls, _FIELDS, fields)
        setattr(cls, _UNCOMPARED, frozenset(uncompared))
        names = tuple(name for name, _, _ in fields)
        compared = tuple(name for name in names if name not in uncompared)

        made = [0]

        def __init__(self, *args, **kwargs):
            # The first instances are made field by field; a class that has many gets
            # its __init__ compiled, installed in place of this stub.
            made[0] += 1
            if made[0] <= _COMPILE_AFTER:
                _init_fields(self, cls, fields, args, kwargs)
                return
            init = _compile_init(cls, fields)
            cls.__init__ = init
            init(self, *args, **kwargs)

        def __repr__(self):
            inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
            return f"{type(self).__qualname__}({inner})"

        def __eq__(self, other):
            if other.__class__ is not self.__class__:
                return NotImplemented
            return all(getattr(self, n) == getattr(other, n) for n in compared)

        cls.__init__ = __init__
        if with_repr:  # eq=False/repr=False: graphs with cycles (the workflow model)
            cls.__repr__ = __repr__
        if eq:
            cls.__eq__ = __eq__
        if frozen:

            def __hash__(self):
                return hash(tuple(getattr(self, n) for n in compared))

            def __setattr__(self, name, value):
                raise FrozenInstanceError(f"cannot assign to field {name!r}")

            def __delattr__(self, name):
                raise FrozenInstanceError(f"cannot delete field {name!r}")

            cls.__hash__ = __hash__
            cls.__setattr__ = __setattr__
            cls.__delattr__ = __delattr__
        elif eq:
            cls.__hash__ = None
        return cls

    # Compiling an __init__ (exec) costs about 0.2 ms; most classes on a hook's path make
    # only a few instances, which the generic path below makes for less than that.
    _COMPILE_AFTER = 16

    def _init_fields(self, cls, fields, args, kwargs):
        """What the compiled __init__ does, for any record, without compiling one."""
        name = f"{cls.__qualname__}.__init__()"
        if len(args) > len(fields):
            raise TypeError(
                f"{name} takes {len(fields) + 1} positional arguments but "
                f"{len(args) + 1} were given"
            )
        values = {field_name: value for (field_name, _, _), value in zip(fields, args)}
        known = {field_name for field_name, _, _ in fields}
        for key, value in kwargs.items():
            if key not in known:
                raise TypeError(f"{name} got an unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"{name} got multiple values for argument {key!r}")
            values[key] = value
        missing = [
            n
            for n, default, factory in fields
            if n not in values and default is _MISSING and factory is _MISSING
        ]
        if missing:
            raise TypeError(f"{name} missing required argument(s): {', '.join(missing)}")
        for field_name, default, factory in fields:
            if field_name in values:
                value = values[field_name]
            elif factory is not _MISSING:
                value = factory()
            else:
                value = default
            object.__setattr__(self, field_name, value)

    def _compile_init(cls, fields):
        params, body = [], []
        namespace = {"_MISSING": _MISSING, "_set": object.__setattr__}
        # A class that assigns as `object` does (not frozen) is given plain assignments,
        # about twice as fast as calling object.__setattr__ (the workflow model makes
        # tens of thousands of records in a large scan).
        plain = cls.__setattr__ is object.__setattr__

        def assign(name, value):
            return f"  self.{name} = {value}" if plain else f"  _set(self, {name!r}, {value})"

        for name, default, factory in fields:
            if factory is not _MISSING:
                namespace[f"_factory_{name}"] = factory
                params.append(f"{name}=_MISSING")
                body.append(assign(name, f"_factory_{name}() if {name} is _MISSING else {name}"))
            else:
                if default is not _MISSING:
                    namespace[f"_default_{name}"] = default
                    params.append(f"{name}=_default_{name}")
                else:
                    params.append(name)
                body.append(assign(name, name))
        source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass")
        exec(source, namespace)
        init = namespace["__init__"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        return init
