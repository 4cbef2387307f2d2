"""Places by address: the offline geocoder over the region's own OSM extract (address box)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.demo.city import demo_city
from navigator.errors import ValidationError

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.exchange.geocode import GeocodeMatch, Geocoder

__all__ = ["MAX_QUERY_CHARS", "find_places"]

#: Longest address text looked up (a street address is far shorter).
MAX_QUERY_CHARS = 200
#: Most candidates returned.
MAX_CANDIDATES = 10


@lru_cache(maxsize=4)
def _geocoder(path: str, cache_dir: str, size: int, mtime_ns: int) -> Geocoder:
    """Return the geocoder of an OSM file; kept per process while the file is unchanged."""
    from navigator.exchange.geocode import Geocoder

    return Geocoder.from_osm(path, cache_dir=cache_dir)


def region_geocoder(settings: Settings) -> Geocoder:
    """Return the geocoder of the region's OSM extract (the store's region, else shipped)."""
    path = Path(demo_city(settings).osm_file)
    try:
        stat = path.stat()
    except OSError as e:
        msg = f"the region's OSM file {path} cannot be read: {e}"
        raise ValidationError(msg) from e
    return _geocoder(str(path), str(settings.cache_dir), stat.st_size, stat.st_mtime_ns)


def find_places(settings: Settings, query: str, *, limit: int = 5) -> list[GeocodeMatch]:
    """Return candidate points for a street address typed by a user, best first.

    Lookups use only the region's OSM extract (address points and named streets; see
    :mod:`navigator.exchange.geocode`), offline. Candidates below the import's acceptance
    score are returned too (a "street only" match says so in ``matched`` and has a low
    ``score``): the user picks one. Nothing is recorded: the text may be a client's home.

    Parameters
    ----------
    settings
        Whose region's extract to search.
    query
        ``"77 S High St"``: house number and street, optionally followed by ``, city``.
    limit
        Most candidates to return (1 to :data:`MAX_CANDIDATES`).

    Returns
    -------
    list of GeocodeMatch
        EPSG:4326 points with a 0-1 ``score``; empty when nothing matches.

    Raises
    ------
    ValidationError
        If ``query`` is empty, too long or has no house number and street.
    """
    if not isinstance(query, str) or not query.strip():
        msg = "type an address: house number and street, e.g. 77 S High St"
        raise ValidationError(msg)
    if len(query) > MAX_QUERY_CHARS:
        msg = f"the address is longer than {MAX_QUERY_CHARS} characters"
        raise ValidationError(msg)
    if isinstance(limit, bool) or not isinstance(limit, int) or not (
            1 <= limit <= MAX_CANDIDATES):
        msg = f"limit must be a whole number from 1 to {MAX_CANDIDATES}, got {limit!r}"
        raise ValidationError(msg)
    from navigator.exchange.geocode import parse_address

    if parse_address(query) is None:
        msg = (f"{query.strip()[:60]!r} has no house number and street: type e.g. "
               "77 S High St")
        raise ValidationError(msg)
    return region_geocoder(settings).candidates(query)[:limit]
