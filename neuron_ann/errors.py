"""Domain exceptions, each subclassing the built-in a caller would naturally catch, and
:func:`check_setting`, the range check of a command's numeric settings."""

__all__ = ["NeuronAnnError", "MechanismError", "BundleError", "SwapError", "DatasetError", "SettingError", "check_setting"]


class NeuronAnnError(Exception):
    """Base class of every error neuron_ann raises on purpose."""


class MechanismError(NeuronAnnError, RuntimeError):
    """NMODL compilation or loading failed."""


class BundleError(NeuronAnnError, ValueError):
    """A model bundle is missing, corrupted, or inconsistent with its metadata."""


class SwapError(NeuronAnnError, ValueError):
    """``swap_to_ann`` cannot honour the network as built; raised before any simulation time is spent."""


class DatasetError(NeuronAnnError, ValueError):
    """A dataset is missing, corrupted, or asks for something the cell does not have."""


class SettingError(NeuronAnnError, ValueError):
    """A numeric setting (a count, a duration, a fraction, a seed) outside the values it can take."""


def check_setting(name: str, value, *, integer: bool = False, minimum=None, above=None, maximum=None):
    """Return ``value`` if it is a number in range, else raise :class:`SettingError` naming the setting.

    ``minimum``/``maximum`` bound it inclusively, ``above`` exclusively; ``integer`` asks for a
    whole number. Commands call this before any simulation or training starts, so that a bad value
    is refused instead of falling back to a default or failing halfway.
    """
    import numbers

    kind = "an integer" if integer else "a number"
    bounds = []
    if minimum is not None:
        bounds.append(f"at least {minimum:g}")
    if above is not None:
        bounds.append(f"above {above:g}")
    if maximum is not None:
        bounds.append(f"at most {maximum:g}")
    wanted = kind + (" of " if minimum is not None else " ") + " and ".join(bounds) if bounds else kind
    ok = isinstance(value, numbers.Integral if integer else numbers.Real) and not isinstance(value, bool)
    if ok and not integer:
        ok = value == value and abs(value) != float("inf")  # not NaN, finite
    if ok:
        ok = ((minimum is None or value >= minimum) and (above is None or value > above)
              and (maximum is None or value <= maximum))
    if not ok:
        raise SettingError(f"{name} must be {wanted}, got {value!r}.")
    return value
