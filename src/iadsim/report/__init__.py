"""Plots and reports: coverage maps, vertical coverage diagrams."""
