"""A class challenge without a server: ``challenge.yaml``, the students' kit, evaluations,
public and private leaderboards, published code and a blend.

>>> from rampconf.challenge import load_challenge, make_kit, evaluate
>>> challenge = load_challenge("challenge.yaml")  # doctest: +SKIP
>>> make_kit(challenge, "kit")  # doctest: +SKIP
>>> evaluate(challenge, "submissions")  # doctest: +SKIP

The command line is ``rampconf-challenge`` (:mod:`rampconf.challenge.cli`);
the tutorial is ``docs/tutorials/challenge.md``.
"""

from rampconf.challenge.boards import Entries, part_scores, write_board
from rampconf.challenge.collab import blend_class, load_entries, publish
from rampconf.challenge.config import Challenge, ChallengeConfig, load_challenge
from rampconf.challenge.data import load_challenge_data
from rampconf.challenge.evaluate import evaluate, submission_hash
from rampconf.challenge.kit import make_kit

__all__ = ["Challenge", "ChallengeConfig", "Entries", "blend_class", "evaluate",
           "load_challenge", "load_challenge_data", "load_entries", "make_kit", "part_scores",
           "publish", "submission_hash", "write_board"]
