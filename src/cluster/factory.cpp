// SPDX-License-Identifier: Apache-2.0
// load_clusterer: dispatch on the model tag of a saved record.
#include <crmine/cluster/factory.hpp>
#include <crmine/cluster/gaussian_mixture.hpp>
#include <crmine/cluster/kmeans.hpp>
#include <crmine/core/serialize.hpp>

#include <istream>
#include <string>

namespace crmine {

std::unique_ptr<Clusterer> load_clusterer(std::istream& in) {
  const ModelTag tag = peek_model_tag(in);
  if (tag == model_tag("KMNS")) return std::make_unique<KMeans>(KMeans::load(in));
  if (tag == model_tag("MBKM")) return std::make_unique<MiniBatchKMeans>(MiniBatchKMeans::load(in));
  if (tag == model_tag("GMIX")) return std::make_unique<GaussianMixture>(GaussianMixture::load(in));
  throw ModelFormatError("load_clusterer: the record holds a '" + std::string(tag.data(), tag.size()) +
                         "' model, which is not a dense-input Clusterer");
}

}  // namespace crmine
