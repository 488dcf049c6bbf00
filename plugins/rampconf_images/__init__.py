"""Image classification: image files in a folder plus a labels CSV, read lazily in batches.

* the ``image_folder`` reader returns ``X`` as an :class:`~.readers.ImageCollection`
  (file paths only; nothing is decoded until a batch is asked for) and ``y``
  as the class labels of the labels CSV (columns ``id``, the file name, and
  ``class``);
* the ``image_classifier`` workflow hands the submission's ``ImageClassifier``
  a :class:`~.workflows.ImageBatches` iterator (re-iterable, one decoded
  uint8 batch at a time) for ``fit`` and ``predict_proba``;
* the ``digits_images`` data set (``rampconf-data digits_images generate``)
  writes scikit-learn's digits as seeded, upscaled, jittered PNG files.
"""
