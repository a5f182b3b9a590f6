#include "api/route_table.h"

#include <algorithm>

namespace isvc::api {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path == "/") return out;
  if (path.front() == '/') path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}
bool is_rest(std::string_view seg) {
  return is_param(seg) && seg[seg.size() - 2] == '+';
}

bool is_json(std::string_view content_type) {
  return content_type.substr(0, 16) == "application/json";
}

// Matches `path` against the pattern's segments; on success fills `params`.
bool match_segments(const std::vector<std::string>& pattern, std::string_view path,
                    std::vector<std::string>& params) {
  auto parts = split_path(path);
  params.clear();
  std::size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const auto& seg = pattern[i];
    if (is_rest(seg)) {
      if (i >= parts.size()) return false;
      std::string rest;
      for (std::size_t j = i; j < parts.size(); ++j) {
        if (parts[j].empty()) return false;
        if (j > i) rest += '/';
        rest += parts[j];
      }
      params.push_back(std::move(rest));
      return true;
    }
    if (i >= parts.size()) return false;
    if (is_param(seg)) {
      if (parts[i].empty()) return false;
      params.emplace_back(parts[i]);
    } else if (parts[i] != seg) {
      return false;
    }
  }
  return i == parts.size();
}

}  // namespace

void RouteTable::add(Route r) {
  Entry e;
  for (auto seg : split_path(r.pattern)) {
    e.segments.emplace_back(seg);
    if (!is_param(seg)) ++e.literals;
  }
  if (r.label.empty()) {
    r.label = r.pattern;
    r.label.erase(std::remove(r.label.begin(), r.label.end(), '+'), r.label.end());
  }
  e.route = std::move(r);
  routes_.push_back(std::move(e));
}

RouteMatch RouteTable::match(std::string_view method, std::string_view path,
                             std::string_view content_type) const {
  // The most specific patterns that match the path (most literal segments) own it: a path that
  // one of them matches never falls through to a more general pattern with another method.
  int best = -1;
  std::vector<std::string> params;
  for (const auto& e : routes_)
    if (e.literals > best && match_segments(e.segments, path, params)) best = e.literals;
  RouteMatch out;
  if (best < 0) return out;
  std::vector<std::string> methods;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& e = routes_[i];
    if (e.literals != best || !match_segments(e.segments, path, params)) continue;
    const auto& r = e.route;
    if (std::find(methods.begin(), methods.end(), r.method) == methods.end())
      methods.push_back(r.method);
    bool method_ok = r.method == method || (r.method == "GET" && method == "HEAD");
    bool content_ok =
        r.content == ContentRule::Any || (r.content == ContentRule::Json) == is_json(content_type);
    if (method_ok && content_ok) {
      out.index = int(i);
      out.params = std::move(params);
      return out;
    }
  }
  for (const auto& m : methods) {
    out.allow += m + ", ";
    if (m == "GET") out.allow += "HEAD, ";
  }
  out.allow += "OPTIONS";
  return out;
}

}  // namespace isvc::api
