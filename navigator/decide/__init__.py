"""Decisions: pure functions on travel-time arrays, returning frozen result dataclasses.

:mod:`~navigator.decide.matching` (a client's needs against open resources),
:mod:`~navigator.decide.dispatch` (rank and assign teams), :mod:`~navigator.decide.coverage`,
:mod:`~navigator.decide.allocation` (location-allocation: every model, re-exported from
:mod:`~navigator.decide.pmedian`, :mod:`~navigator.decide.pcenter` and
:mod:`~navigator.decide.busy`),
:mod:`~navigator.decide.population` (demand units), :mod:`~navigator.decide.parallel` (Dask
scale-out of the above) and
:mod:`~navigator.decide.results` (what results share: JSON form, routes, response targets).
None of them reads the store or the settings.
"""
