# SPDX-License-Identifier: Apache-2.0
"""crmine: data mining for customer relationship management.

Areas are submodules: ``crmine.value`` (RFM, customer value, contribution, cohorts),
``crmine.clv`` (BG/NBD, Pareto/NBD, Gamma-Gamma, CLV), ``crmine.classify``, ``crmine.metrics`` and
``crmine.campaign`` (propensity models, lift, contact selection), ``crmine.cluster`` (segmentation),
``crmine.rules`` (cross-sell mining), ``crmine.datasets`` (a seeded sample of realistic CRM data).
Start with::

    import crmine as cm
    sample = cm.datasets.load_sample()
    table = cm.value.rfm(sample.transactions, customer="customer_id", time="date", amount="amount")
"""

from . import _core
from .exceptions import LimitExceededError, ModelFormatError, NotFittedError

_core._register_exceptions(NotFittedError, ModelFormatError, LimitExceededError)

from . import (campaign, classify, cluster, clv, datasets, deviation, metrics, plot, profile, prospect,  # noqa: E402
               report, rules, satisfaction, uplift, value)
from .transactions import TransactionLog  # noqa: E402

__version__ = _core.__version__
__all__ = ["TransactionLog", "campaign", "classify", "cluster", "clv", "datasets", "deviation", "metrics", "plot",
           "profile", "prospect", "report", "rules", "satisfaction", "uplift", "value",
           "NotFittedError", "ModelFormatError", "LimitExceededError", "__version__"]
