"""Drug spectra: array-valued columns, two targets at once, and combined predictions.

RAMP's ``drug_spectra`` kit asks for a class and a concentration per Raman
spectrum. This plugin adds what such a problem needs and keeps it reusable:

* the ``typed_csv`` reader: a CSV reader whose ``array_columns`` hold arrays
  written as strings (``"[0.1, 0.2, ...]"``), parsed into 1-D float arrays
  (:func:`rampconf_tabular.arrays.parse_array_strings`, shared with other readers);
* the ``combined`` prediction type: several prediction types side by side,
  one target column each (e.g. class probabilities then a regression column),
  checked and bagged part by part;
* the ``combined`` score (weighted sum of part scores, all of one direction)
  and the ``part`` score (any score applied to one part, by index);
* the ``drug_spectra`` workflow: feature extractor + classifier, then feature
  extractor + regressor fed with the class probabilities.
"""
