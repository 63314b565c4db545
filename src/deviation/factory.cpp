// SPDX-License-Identifier: Apache-2.0
// load_detector: dispatch on the model tag of a saved record.
#include <crmine/core/serialize.hpp>
#include <crmine/deviation/factory.hpp>
#include <crmine/deviation/hbos.hpp>
#include <crmine/deviation/isolation_forest.hpp>
#include <crmine/deviation/lof.hpp>
#include <crmine/deviation/mahalanobis.hpp>
#include <crmine/deviation/robust_z.hpp>

#include <istream>
#include <string>

namespace crmine {

std::unique_ptr<Detector> load_detector(std::istream& in) {
  const ModelTag tag = peek_model_tag(in);
  if (tag == model_tag("IFOR")) return std::make_unique<IsolationForest>(IsolationForest::load(in));
  if (tag == model_tag("LOF1")) return std::make_unique<LocalOutlierFactor>(LocalOutlierFactor::load(in));
  if (tag == model_tag("HBOS")) return std::make_unique<HBOS>(HBOS::load(in));
  if (tag == model_tag("RBZ1")) return std::make_unique<RobustZ>(RobustZ::load(in));
  if (tag == model_tag("MCDE")) return std::make_unique<Mahalanobis>(Mahalanobis::load(in));
  throw ModelFormatError("load_detector: the record holds a '" + std::string(tag.data(), tag.size()) +
                         "' model, which is not an outlier detector");
}

}  // namespace crmine
