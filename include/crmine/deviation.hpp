// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the deviation area: deviation analysis: detectors, history baselines, churn alerts, explanations.
#pragma once

