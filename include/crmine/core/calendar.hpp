// SPDX-License-Identifier: Apache-2.0
// Day numbers (days since 1970-01-01) and the calendar periods reports group them by.
#pragma once

#include <cstdint>

namespace crmine {

/// Calendar periods used to bucket days (cohorts, reports).
enum class Period { day, week, month, quarter, year };

/// A civil (proleptic Gregorian) date.
struct CivilDate {
  int year;
  unsigned month;  ///< 1..12
  unsigned day;    ///< 1..31
};

namespace detail {
/// Floor division; C++ `/` truncates towards zero, which puts negative times in the wrong day.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
}  // namespace detail

/// The civil date of a day number (H. Hinnant's days-from-civil inverse, exact for all int32 days).
constexpr CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2)), m, d};
}

/// The day number of a civil date.
constexpr std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// A running index of the period containing `day`; consecutive periods have consecutive indices.
/// Weeks start on Monday (ISO 8601); 1970-01-01 was a Thursday, hence the offset of 3.
constexpr std::int64_t period_index(std::int64_t day, Period period) {
  switch (period) {
    case Period::day:
      return day;
    case Period::week:
      return detail::floor_div(day + 3, 7);
    case Period::month: {
      const CivilDate c = civil_from_days(day);
      return static_cast<std::int64_t>(c.year) * 12 + (c.month - 1);
    }
    case Period::quarter: {
      const CivilDate c = civil_from_days(day);
      return static_cast<std::int64_t>(c.year) * 4 + (c.month - 1) / 3;
    }
    case Period::year:
      return civil_from_days(day).year;
  }
  return day;
}

/// The first day of the period with the given index (inverse of period_index on period starts).
constexpr std::int64_t period_start_day(std::int64_t index, Period period) {
  switch (period) {
    case Period::day:
      return index;
    case Period::week:
      return index * 7 - 3;
    case Period::month:
      return days_from_civil(static_cast<int>(detail::floor_div(index, 12)),
                             static_cast<unsigned>(index - detail::floor_div(index, 12) * 12) + 1, 1);
    case Period::quarter:
      return days_from_civil(static_cast<int>(detail::floor_div(index, 4)),
                             static_cast<unsigned>(index - detail::floor_div(index, 4) * 4) * 3 + 1, 1);
    case Period::year:
      return days_from_civil(static_cast<int>(index), 1, 1);
  }
  return index;
}

}  // namespace crmine
