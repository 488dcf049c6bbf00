"""Functional, variable-length data: rows joined from several files, cells holding arrays.

A light curve (times and magnitudes of a star) has a different number of
points per star, so it cannot be a fixed set of columns. This plugin makes
such problems definable in YAML only:

* the ``joined_csv`` reader: per split, several CSV files (compressed too)
  joined on an index column (inner join, in the order of the first file);
  its ``array_columns`` hold arrays written as strings (``"[0.1, 0.2]"`` or
  ``sep``-separated), parsed into 1-D float NumPy arrays of any length per
  row, so the submission receives a DataFrame whose cells are arrays;
* the ``light_curves`` data set (``rampconf-data light_curves generate``): a
  seeded synthetic set of periodic light curves of four classes, written as a
  meta file and a curves file per split, which the ``light_curves`` problem
  joins.
"""
