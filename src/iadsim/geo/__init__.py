"""Geodesy: WGS84 frames, effective-Earth line of sight, DEMs, countries and cities."""
