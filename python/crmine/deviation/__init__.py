# SPDX-License-Identifier: Apache-2.0
"""Deviation analysis: customers and transactions that depart from their own history or their peers.

Detectors (``IsolationForest``, ``LocalOutlierFactor``, ``RobustZ``, ``Mahalanobis``, ``HBOS``) live in
``crmine.deviation.detectors``; history baselines, churn alerts and explanations in ``crmine.deviation.alerts``.
"""

from .alerts import *  # noqa: F401,F403
from .alerts import __all__ as _alerts_all
from .detectors import *  # noqa: F401,F403
from .detectors import __all__ as _detectors_all

__all__ = [*_detectors_all, *_alerts_all]
