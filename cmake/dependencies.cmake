# SPDX-License-Identifier: Apache-2.0
# Every dependency comes from the system (Debian packages) or PyPI: nothing is downloaded here.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Boost 1.74 REQUIRED CONFIG COMPONENTS graph)  # header-only use; for the rules area
