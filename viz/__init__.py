"""Drawings of graphs and networks (see issue: viz)."""
