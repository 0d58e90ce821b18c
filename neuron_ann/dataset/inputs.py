"""Randomised input for one simulation: synaptic event trains and a somatic current.

Every simulation draws its own rates, weights and E/I balance from wide ranges, then
modulates the rates over time with quiet periods and bursts, so the surrogate sees rest,
subthreshold fluctuations, sparse and dense firing. The somatic current is piecewise
constant on the surrogate's step grid: steps of random amplitude and duration plus noise.

Two further regimes, each drawn for a whole simulation with its own probability:

- ``steady_current_probability``: no synaptic input, long constant current steps over the
  f-I range (``steady_current_na``, ``steady_segment_ms``) with little noise, which is how
  f-I curves are measured (1 s steps);
- ``stationary_probability``: Poisson input at constant rates (``stationary_exc_rate_hz``,
  ``stationary_inh_rate_hz`` per site) with no modulation, like the NetStim-driven networks
  of :mod:`neuron_ann.network`, at an overall level drawn per simulation
  (``stationary_exc_scale``, ``stationary_inh_scale``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["InputRanges", "SimulationInput", "draw_input"]


@dataclass
class InputRanges:
    """Ranges the per-simulation input parameters are drawn from (log-uniform for rates and weights)."""

    exc_rate_hz: tuple = (0.5, 40.0)  # mean event rate per excitatory site
    inh_rate_hz: tuple = (0.5, 40.0)
    exc_weight_us: tuple = (0.0005, 0.004)  # NetCon weight (peak AMPA conductance)
    inh_weight_us: tuple = (0.0005, 0.004)
    ei_balance: tuple = (0.3, 3.0)  # extra factor on every inhibitory rate
    netcons_per_site: int = 3  # each with its own weight, events assigned at random
    segment_ms: tuple = (50.0, 600.0)  # rate-modulation segments
    quiet_probability: float = 0.2  # segment with (almost) no input
    burst_probability: float = 0.15
    burst_factor: tuple = (2.0, 6.0)
    current_na: tuple = (-0.1, 0.4)  # somatic current step amplitude
    current_step_probability: float = 0.4  # a current segment carries a step
    current_segment_ms: tuple = (50.0, 1000.0)
    current_noise_na: tuple = (0.0, 0.05)  # s.d. of per-step noise, drawn per simulation
    input_probability: float = 0.85  # a simulation has synaptic input (else current only)
    steady_current_probability: float = 0.0  # a simulation is long constant current steps only
    steady_current_na: tuple = (0.0, 0.5)
    steady_segment_ms: tuple = (500.0, 2000.0)
    stationary_probability: float = 0.0  # a simulation has constant-rate Poisson input
    stationary_exc_rate_hz: tuple = (5.0, 40.0)
    stationary_inh_rate_hz: tuple = (5.0, 30.0)
    # per-simulation factors (log-uniform) on every site's rate of that kind in the stationary
    # regime: each site draws its own rate, and over many sites those draws average out, so
    # without these every stationary simulation of a 200-site cell gets nearly the same total
    # drive (one operating point); (1, 1) draws nothing
    stationary_exc_scale: tuple = (1.0, 1.0)
    stationary_inh_scale: tuple = (1.0, 1.0)

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "InputRanges":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def replace(self, **changes) -> "InputRanges":
        return InputRanges(**{**asdict(self), **changes})

    def scaled(self, weight: float = 1.0, current: float = 1.0) -> "InputRanges":
        d = asdict(self)
        for k in ("exc_weight_us", "inh_weight_us"):
            d[k] = tuple(w * weight for w in d[k])
        for k in ("current_na", "current_noise_na", "steady_current_na"):
            d[k] = tuple(c * current for c in d[k])
        return InputRanges(**d)


@dataclass
class SimulationInput:
    """Events as integer NEURON ticks per site and NetCon, plus the current per surrogate step."""

    event_ticks: list  # per site: int array of ticks (relative to t = 0)
    event_netcon: list  # per site: int array, which of the site's NetCons carries each event
    weights_us: np.ndarray  # [n_sites, netcons_per_site]
    current_na: np.ndarray  # [n_steps] current during [t_k, t_{k+1})
    summary: dict  # drawn parameters, for the manifest


def _log_uniform(rng, lo_hi):
    lo, hi = lo_hi
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _segments(rng, n_steps, dt_ms, lo_hi):
    """Boundaries (in steps) of random-length segments covering n_steps."""
    edges = [0]
    while edges[-1] < n_steps:
        edges.append(edges[-1] + max(1, int(round(rng.uniform(*lo_hi) / dt_ms))))
    edges[-1] = n_steps
    return edges


def draw_input(rng, kinds, n_steps: int, dt_ms: float, ticks_per_step: int, ranges: InputRanges) -> SimulationInput:
    """Draw one simulation's input for sites of ``kinds`` ("exc"/"inh") over ``n_steps`` steps."""
    n_sites = len(kinds)
    # the regime draws come from a separate stream, so that with both probabilities 0 the
    # input is exactly what earlier versions drew
    regime_u = float(np.random.default_rng(rng.integers(0, 2**63)).uniform()) if (ranges.steady_current_probability or ranges.stationary_probability) else 1.0
    if regime_u < ranges.steady_current_probability:
        return _steady_current_input(rng, n_sites, n_steps, dt_ms, ranges)
    stationary = regime_u < ranges.steady_current_probability + ranges.stationary_probability
    scale = {"exc": 1.0, "inh": 1.0}
    if stationary:  # drawn only where a range is given, so that other inputs stay as they were
        for kind, lo_hi in (("exc", ranges.stationary_exc_scale), ("inh", ranges.stationary_inh_scale)):
            if tuple(lo_hi) != (1.0, 1.0):
                scale[kind] = _log_uniform(rng, lo_hi)
    has_synaptic = rng.uniform() < ranges.input_probability
    ei = _log_uniform(rng, ranges.ei_balance)
    exc_scale = _log_uniform(rng, ranges.exc_rate_hz)
    inh_scale = _log_uniform(rng, ranges.inh_rate_hz) * ei
    rates = np.empty(n_sites)
    weights = np.empty((n_sites, ranges.netcons_per_site))
    for i, kind in enumerate(kinds):
        base = exc_scale if kind == "exc" else inh_scale
        rates[i] = base * np.exp(rng.normal(0.0, 0.5))  # per-site spread around the simulation's rate
        if stationary:
            rates[i] = rng.uniform(*(ranges.stationary_exc_rate_hz if kind == "exc" else ranges.stationary_inh_rate_hz)) * scale[kind]
        w_range = ranges.exc_weight_us if kind == "exc" else ranges.inh_weight_us
        weights[i] = [_log_uniform(rng, w_range) for _ in range(ranges.netcons_per_site)]
    if stationary:
        has_synaptic = True
    if not has_synaptic:
        rates[:] = 0.0
    # rate modulation shared by all sites of a kind: quiet periods, bursts, smooth changes
    modulation = {}
    n_quiet = n_burst = 0
    for kind in ("exc", "inh"):
        m = np.empty(n_steps)
        edges = _segments(rng, n_steps, dt_ms, ranges.segment_ms)
        for a, b in zip(edges[:-1], edges[1:]):
            u = rng.uniform()
            if u < ranges.quiet_probability:
                m[a:b] = 0.0
                n_quiet += 1
            elif u < ranges.quiet_probability + ranges.burst_probability:
                m[a:b] = rng.uniform(*ranges.burst_factor)
                n_burst += 1
            else:
                m[a:b] = np.exp(rng.normal(0.0, 0.5))
        modulation[kind] = np.ones(n_steps) if stationary else m
    event_ticks, event_netcon = [], []
    n_events = 0
    for i, kind in enumerate(kinds):
        lam = rates[i] * modulation[kind] * dt_ms * 1e-3
        counts = rng.poisson(lam)
        steps = np.repeat(np.arange(n_steps), counts)
        ticks = steps * ticks_per_step + rng.integers(0, ticks_per_step, size=len(steps))
        event_ticks.append(np.sort(ticks).astype(np.int64))
        event_netcon.append(rng.integers(0, ranges.netcons_per_site, size=len(steps)).astype(np.int64))
        n_events += len(steps)
    # somatic current: piecewise-constant steps plus noise, constant over each surrogate step
    current = np.zeros(n_steps)
    for a, b in zip(*(lambda e: (e[:-1], e[1:]))(_segments(rng, n_steps, dt_ms, ranges.current_segment_ms))):
        if rng.uniform() < ranges.current_step_probability:
            current[a:b] = rng.uniform(*ranges.current_na)
    noise_sd = rng.uniform(*ranges.current_noise_na)
    current += rng.normal(0.0, noise_sd, size=n_steps)
    if stationary:
        current[:] = 0.0
        noise_sd = 0.0
    summary = {
        "regime": "stationary" if stationary else "modulated",
        "synaptic_input": bool(has_synaptic),
        "exc_rate_hz": float(exc_scale) if has_synaptic else 0.0,
        "inh_rate_hz": float(inh_scale) if has_synaptic else 0.0,
        "ei_balance": float(ei),
        **({"stationary_scale": {k: round(v, 4) for k, v in scale.items()}} if scale != {"exc": 1.0, "inh": 1.0} else {}),
        "site_rates_hz": [round(float(r), 4) for r in rates],
        "site_weights_us": [[round(float(w), 7) for w in row] for row in weights],
        "n_events": int(n_events),
        "quiet_segments": n_quiet,
        "burst_segments": n_burst,
        "current_noise_sd_na": float(noise_sd),
        "current_mean_na": float(current.mean()),
    }
    return SimulationInput(event_ticks, event_netcon, weights, current, summary)


def _steady_current_input(rng, n_sites, n_steps, dt_ms, ranges: InputRanges) -> SimulationInput:
    """No synaptic input; constant current steps of ``steady_segment_ms`` over ``steady_current_na``."""
    current = np.zeros(n_steps)
    levels = []
    for a, b in zip(*(lambda e: (e[:-1], e[1:]))(_segments(rng, n_steps, dt_ms, ranges.steady_segment_ms))):
        level = rng.uniform(*ranges.steady_current_na)
        current[a:b] = level
        levels.append(round(float(level), 4))
    noise_sd = rng.uniform(0.0, 0.2) * ranges.current_noise_na[1]
    current += rng.normal(0.0, noise_sd, size=n_steps)
    empty = np.zeros(0, np.int64)
    summary = {
        "regime": "steady_current",
        "synaptic_input": False,
        "current_levels_na": levels,
        "n_events": 0,
        "current_noise_sd_na": float(noise_sd),
        "current_mean_na": float(current.mean()),
    }
    return SimulationInput([empty] * n_sites, [empty] * n_sites, np.zeros((n_sites, ranges.netcons_per_site)), current, summary)


def concatenate_inputs(parts: list, n_steps_each: list, ticks_per_step: int) -> SimulationInput:
    """One continuous input from consecutive parts (each drawn for ``n_steps_each[i]`` steps)."""
    n_sites = len(parts[0].event_ticks)
    ticks, which = [[] for _ in range(n_sites)], [[] for _ in range(n_sites)]
    offset = 0
    for part, n in zip(parts, n_steps_each):
        for s in range(n_sites):
            ticks[s].append(np.asarray(part.event_ticks[s], np.int64) + offset * ticks_per_step)
            which[s].append(np.asarray(part.event_netcon[s], np.int64))
        offset += n
    # every part has its own NetCon weights: give each part its own NetCons on the site
    per = parts[0].weights_us.shape[1]
    weights = np.concatenate([p.weights_us for p in parts], axis=1)
    for s in range(n_sites):
        which[s] = [w + i * per for i, w in enumerate(which[s])]
    return SimulationInput(
        [np.concatenate(t) for t in ticks], [np.concatenate(w) for w in which], weights,
        np.concatenate([p.current_na for p in parts]),
        {"n_events": int(sum(p.summary["n_events"] for p in parts)), "parts": [p.summary for p in parts]},
    )
