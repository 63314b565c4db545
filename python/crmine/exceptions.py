# SPDX-License-Identifier: Apache-2.0
"""Exceptions raised by crmine besides the standard ValueError and TypeError."""


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (the bases are scikit-learn's)."""


class ModelFormatError(ValueError):
    """A saved model is corrupt, truncated, of another model type or from a newer version."""


class LimitExceededError(MemoryError):
    """A caller-given or built-in resource limit would be exceeded."""
