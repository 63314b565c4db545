// SPDX-License-Identifier: Apache-2.0
// The library version; kept equal to the project version in CMakeLists.txt and pyproject.toml.
#pragma once

#define CRMINE_VERSION_MAJOR 0
#define CRMINE_VERSION_MINOR 1
#define CRMINE_VERSION_PATCH 0

namespace crmine {
/// "major.minor.patch" of the headers in use.
inline constexpr const char* kVersion = "0.1.0";
}  // namespace crmine
