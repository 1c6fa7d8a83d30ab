"""The one validation path for the pack's settings: pairlists, protections, FreqAI members.

Every pack plugin declares its parameters once, as a mapping ``name -> Setting``, and calls
:func:`validate_settings` in its constructor *before* anything reads the values (including
freqtrade's own base classes, which convert ``stop_duration_candles`` and friends with a bare
``int()`` and would otherwise crash with a traceback on ``"one day"``). Checked, in order:

1. unknown keys: a typo such as ``"max_drawdwn"`` is rejected with the closest valid name
   (``difflib.get_close_matches``) instead of silently running on the default;
2. the type of every given value (``True`` is not a number; ``"48"`` is not an integer);
3. its range or its allowed options.

A problem raises freqtrade's ``OperationalException`` with one line (owner, key, what was
expected, what was given, where to fix it): freqtrade's ``main`` logs it as a single ERROR line
and exits with code 2. (``ConfigurationError`` is not used: freqtrade's ``main`` prints it on two
lines and exits with code 0, see ``freqtrade/main.py``.)

Pairlists: the source of truth is the pairlist's own ``available_parameters()`` (what FreqUI's
pairlist editor shows); :func:`pairlist_settings` turns it into settings and adds the ranges that
``PairlistParameter`` cannot express.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

from freqtrade.exceptions import OperationalException


KINDS = ("integer", "number", "string", "boolean", "option", "list", "timeframe")
PAIRLISTS_SECTION = 'the "pairlists" section of your config'
PROTECTIONS_SECTION = 'the "pack_protections" section of your config (or the strategy\'s protections)'
FREQAI_SECTION = 'the "freqai" section of your config'
_UNSET = object()


def _number_text(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Setting:
    """One parameter: its kind, default and allowed values.

    ``minimum``/``maximum`` bound numbers (``exclusive_*`` makes a bound open); ``options`` lists
    the values of an ``option`` (and, when given, the allowed items of a ``list``); ``nullable``
    accepts ``null`` (a rule switched off); ``hint`` is appended to the expectation, e.g.
    ``"(0.2 = 20%)"``.
    """

    kind: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    options: tuple = ()
    nullable: bool = False
    hint: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Setting kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "option" and not self.options:
            raise ValueError("an option Setting needs options")

    def expectation(self) -> str:
        """What a valid value looks like, in words ("an integer >= 1", "one of ['up', 'any']")."""
        text = {
            "integer": "an integer",
            "number": "a number",
            "string": "a string",
            "boolean": "true or false",
            "option": f"one of {list(self.options)}",
            "list": "a list" + (f" of {list(self.options)}" if self.options else ""),
            "timeframe": "a timeframe like '1h' or '4h'",
        }[self.kind]
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            left = "(" if self.exclusive_minimum else "["
            right = ")" if self.exclusive_maximum else "]"
            text += f" in {left}{_number_text(low)}, {_number_text(high)}{right}"
        elif low is not None:
            text += f" {'>' if self.exclusive_minimum else '>='} {_number_text(low)}"
        elif high is not None:
            text += f" {'<' if self.exclusive_maximum else '<='} {_number_text(high)}"
        if self.hint:
            text += f" {self.hint}"
        if self.nullable:
            text += " or null to switch it off"
        return text

    def is_valid(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        if self.kind in ("integer", "number"):
            kind = int if self.kind == "integer" else (int, float)
            return (
                not isinstance(value, bool) and isinstance(value, kind) and self._in_range(value)
            )
        if self.kind == "string":
            return isinstance(value, str)
        if self.kind == "boolean":
            return isinstance(value, bool)
        if self.kind == "option":
            return isinstance(value, str) and value in self.options
        if self.kind == "list":
            return isinstance(value, list) and (
                not self.options or all(item in self.options for item in value)
            )
        return _is_timeframe(value)

    def _in_range(self, value: float) -> bool:
        if value != value:  # NaN compares false with every bound
            return False
        if self.minimum is not None and (
            value <= self.minimum if self.exclusive_minimum else value < self.minimum
        ):
            return False
        if self.maximum is not None and (
            value >= self.maximum if self.exclusive_maximum else value > self.maximum
        ):
            return False
        return True


def _is_timeframe(value: Any) -> bool:
    from freqtrade.exchange import timeframe_to_minutes

    if not isinstance(value, str):
        return False
    try:
        return timeframe_to_minutes(value) > 0
    except Exception:  # ccxt raises plain Exception / ValueError / NotSupported on "7x"
        return False


def closest_name(key: str, valid: Iterable[str]) -> str | None:
    """The valid name closest to a mistyped ``key`` (None when nothing is close)."""
    matches = get_close_matches(str(key), list(valid), n=1, cutoff=0.6)
    return matches[0] if matches else None


def setting_error(owner: str, message: str, where: str) -> OperationalException:
    """The pack's one-line settings error (``owner: message. Fix it in <where>.``)."""
    return OperationalException(f"{owner}: {message}. Fix it in {where}.")


def check_known_keys(
    owner: str, values: Mapping[str, Any], valid: Iterable[str], *, where: str
) -> None:
    """Reject keys not in ``valid``, naming the closest valid one."""
    valid = sorted(set(valid))
    for key in values:
        if key in valid:
            continue
        close = closest_name(key, valid)
        hint = f" (did you mean {close!r}?)" if close else ""
        raise setting_error(
            owner, f"unknown parameter {key!r}{hint}; valid: {', '.join(valid)}", where
        )


def check_value(owner: str, name: str, setting: Setting, value: Any, *, where: str) -> Any:
    """``value`` if ``setting`` accepts it, else the one-line error."""
    if not setting.is_valid(value):
        raise setting_error(owner, f"{name} must be {setting.expectation()}, got {value!r}", where)
    return value


def validate_settings(
    owner: str,
    values: Mapping[str, Any],
    schema: Mapping[str, Setting],
    *,
    where: str,
    passthrough: Iterable[str] = ("method",),
) -> dict[str, Any]:
    """Check ``values`` against ``schema``; returns every setting's value (defaults filled in).

    ``passthrough``: keys that are valid but not settings of the owner (the ``method`` that
    named it). Raises ``OperationalException`` (one line) on the first problem found.
    """
    if not isinstance(values, Mapping):
        raise setting_error(owner, f"its configuration must be an object, got {values!r}", where)
    check_known_keys(owner, values, [*schema, *passthrough], where=where)
    resolved = {}
    for name, setting in schema.items():
        value = values.get(name, _UNSET)
        if value is _UNSET:
            resolved[name] = setting.default
        else:
            resolved[name] = check_value(owner, name, setting, value, where=where)
    return resolved


# --- pairlists -------------------------------------------------------------------------------

_PAIRLIST_KINDS = {"number": "number", "string": "string", "option": "option", "list": "list",
                   "boolean": "boolean"}


def pairlist_settings(
    parameters: Mapping[str, Mapping[str, Any]], refine: Mapping[str, Mapping[str, Any]]
) -> dict[str, Setting]:
    """Settings from a pairlist's ``available_parameters()`` (the FreqUI source of truth).

    ``refine`` adds what ``PairlistParameter`` cannot say, per key: ``kind`` ("integer",
    "timeframe"), ``minimum``/``maximum``, ``nullable``, ``hint``. Every refined key must exist
    in ``parameters`` (the two cannot drift apart).
    """
    if unknown := set(refine) - set(parameters):
        raise ValueError(f"refine names keys missing from available_parameters: {sorted(unknown)}")
    settings = {}
    for name, parameter in parameters.items():
        fields = {
            "kind": _PAIRLIST_KINDS[parameter["type"]],
            "default": parameter.get("default"),
            "options": tuple(parameter.get("options", ())),
            **refine.get(name, {}),
        }
        settings[name] = Setting(**fields)
    return settings


def validate_pairlist(owner: str, pairlistconfig: Mapping[str, Any], parameters, refine):
    """A pairlist's config checked against its ``available_parameters()`` plus ``refine``."""
    return validate_settings(
        owner, pairlistconfig, pairlist_settings(parameters, refine), where=PAIRLISTS_SECTION
    )


# --- protections -----------------------------------------------------------------------------


def lock_settings(*, lookback: bool) -> dict[str, Setting]:
    """The keys freqtrade's ``IProtection.__init__`` reads (and converts with a bare ``int()``).

    ``lookback``: the protection uses a lookback window; without it ``lookback_period*`` are
    unknown keys (rejected) rather than silently ignored.
    """
    settings = {
        "stop_duration": Setting("integer", minimum=0, hint="(minutes)"),
        "stop_duration_candles": Setting("integer", minimum=1, hint="(candles)"),
        "unlock_at": Setting("string", hint='("HH:MM", UTC)'),
    }
    if lookback:
        settings["lookback_period"] = Setting("integer", minimum=1, hint="(minutes)")
        settings["lookback_period_candles"] = Setting("integer", minimum=1, hint="(candles)")
    return settings


def validate_protection(
    owner: str, protection_config: Mapping[str, Any], schema: Mapping[str, Setting]
) -> dict[str, Any]:
    """A protection's config checked against ``schema`` (its own keys + ``lock_settings``).

    The rules between the lock keys (unlock_at format, stop_duration with
    stop_duration_candles) are freqtrade's own ``ProtectionManager.validate_protections``, which
    runs first (see :func:`install_protection_checks`).
    """
    return validate_settings(owner, protection_config, schema, where=PROTECTIONS_SECTION)


# Ranges of the lookback/refresh keys every pack pairlist shares (``pairlist_data.lookback_parameters``
# and freqtrade's ``IPairList.refresh_period_parameter``).
PAIRLIST_LOOKBACK_REFINE: dict[str, dict[str, Any]] = {
    "lookback_timeframe": {"kind": "timeframe"},
    "lookback_period": {"kind": "integer", "minimum": 1, "hint": "(candles)"},
    "refresh_period": {"kind": "integer", "minimum": 0, "hint": "(seconds)"},
}


def install_protection_checks(manager_cls) -> None:
    """Freqtrade's own protection checks (``ProtectionManager.validate_protections``: unlock_at
    format, stop_duration with stop_duration_candles, ...) raise ``ConfigurationError``, which
    freqtrade's ``main`` prints on two lines and exits with code 0. Re-raise them as one-line
    ``OperationalException`` (exit code 2), like the pack's own setting errors."""
    from freqtrade.exceptions import ConfigurationError

    original = manager_cls.validate_protections
    if getattr(original, "_pack_one_line", False):
        return

    def validate_protections(protections):
        try:
            original(protections)
        except ConfigurationError as err:
            raise OperationalException(
                f"{' '.join(str(err).split())} Fix it in {PROTECTIONS_SECTION}."
            ) from None

    validate_protections._pack_one_line = True
    manager_cls.validate_protections = staticmethod(validate_protections)
