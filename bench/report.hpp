// What every benchmark program reports: medians of within-round ratios and
// the number formats of the tables. A result type R has `ok`, `note` and
// `other_load`; results are kept as [scenario][peer][round].
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace bench {

// "a,b,,c" -> {"a", "b", "c"}: the --only and --peers lists.
inline std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string t;
  while (std::getline(ss, t, ','))
    if (!t.empty()) out.push_back(t);
  return out;
}

// The 1, 5 and 15 minute load averages, printed at the start and end of a run.
inline std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

template <class R>
using Results = std::map<std::string, std::map<std::string, std::vector<R>>>;

// A metric of one result: deduced from the results, so lambdas convert.
template <class R>
struct MetricOf {
  using type = double (*)(const R&);
};

inline double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
inline double vmin(const std::vector<double>& v) { return v.empty() ? NAN : *std::min_element(v.begin(), v.end()); }
inline double vmax(const std::vector<double>& v) { return v.empty() ? NAN : *std::max_element(v.begin(), v.end()); }

// Per-round ratios base/peer of `metric`, over the rounds where both cells worked.
template <class R>
std::vector<double> ratios(const Results<R>& t, const std::string& sc, const std::string& base,
                           const std::string& peer, typename MetricOf<R>::type metric) {
  std::vector<double> out;
  auto s = t.find(sc);
  if (s == t.end()) return out;
  auto b = s->second.find(base), q = s->second.find(peer);
  if (b == s->second.end() || q == s->second.end()) return out;
  for (size_t i = 0; i < std::min(b->second.size(), q->second.size()); ++i)
    if (b->second[i].ok && q->second[i].ok && metric(q->second[i]) > 0)
      out.push_back(metric(b->second[i]) / metric(q->second[i]));
  return out;
}

// `metric` of the rounds that worked.
template <class R>
std::vector<double> collect(const std::vector<R>& rs, typename MetricOf<R>::type metric) {
  std::vector<double> v;
  for (auto& r : rs)
    if (r.ok) v.push_back(metric(r));
  return v;
}

// Why the first failed round failed, or "".
template <class R>
std::string first_note(const std::vector<R>& rs) {
  for (auto& r : rs)
    if (!r.ok) return r.note;
  return "";
}

// Median over rounds of the cores other processes used during the cell.
template <class R>
double others(const std::vector<R>& rs) {
  std::vector<double> v;
  for (auto& r : rs) v.push_back(r.other_load);
  return median(v);
}

inline std::string fmt(const char* f, double v) {
  if (std::isnan(v)) return "-";
  char b[64];
  snprintf(b, sizeof b, f, v);
  return b;
}

// "1.23x (1.01..1.50)": median (min..max) over rounds.
inline std::string ratio_str(const std::vector<double>& v) {
  if (v.empty()) return "-";
  char b[96];
  if (v.size() == 1) snprintf(b, sizeof b, "%.2fx", v[0]);
  else snprintf(b, sizeof b, "%.2fx (%.2f..%.2f)", median(v), vmin(v), vmax(v));
  return b;
}

// 1.23M, 45.6k ...
inline std::string si(double v, const char* unit = "") {
  char b[64];
  if (std::isnan(v)) return "-";
  if (v >= 1e9) snprintf(b, sizeof b, "%.2fG%s", v / 1e9, unit);
  else if (v >= 1e6) snprintf(b, sizeof b, "%.2fM%s", v / 1e6, unit);
  else if (v >= 1e3) snprintf(b, sizeof b, "%.1fk%s", v / 1e3, unit);
  else snprintf(b, sizeof b, "%.0f%s", v, unit);
  return b;
}

}  // namespace bench
