"""Exchange: resource directories in and out (HSDS, GeoJSON, CSV, GeoPackage, OSM POIs).

Readers return a :class:`navigator.model.Bundle`; writers take records or GeoDataFrames.
:mod:`~navigator.exchange.formats` picks the format from a file name.
"""
