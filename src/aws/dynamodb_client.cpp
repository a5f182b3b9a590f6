#include "aws/dynamodb_client.h"

#include <boost/json.hpp>

#include "domain/model/error.h"

namespace isvc::aws {

DynamoResult DynamoDbClient::call(std::string_view operation, const boost::json::value& request) {
  std::string body = boost::json::serialize(request);
  AwsRequest req;
  req.action = operation;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"content-type", "application/x-amz-json-1.0"},
                 {"x-amz-target", "DynamoDB_20120810." + std::string(operation)}};
  req.body = body;
  HttpResponse resp = aws_.send(req);
  DynamoResult out;
  boost::system::error_code ec;
  out.body = boost::json::parse(resp.body, ec);
  if (ec || !out.body.is_object())
    throw domain::Error(domain::ErrorCode::StorageFailed,
                        "dynamodb " + std::string(operation) + " returned " + describe_error(resp));
  out.ok = resp.status == 200;
  if (!out.ok) {
    const auto& o = out.body.as_object();
    if (auto* t = o.if_contains("__type"); t && t->is_string()) {
      std::string type(t->as_string());
      auto hash = type.rfind('#');
      out.error_type = hash == std::string::npos ? type : type.substr(hash + 1);
    }
    for (const char* k : {"message", "Message"})
      if (auto* m = o.if_contains(k); m && m->is_string()) out.message = m->as_string();
  }
  return out;
}

boost::json::value DynamoDbClient::must(std::string_view operation,
                                        const boost::json::value& request) {
  auto r = call(operation, request);
  if (!r.ok)
    throw domain::Error(
        domain::ErrorCode::StorageFailed,
        "dynamodb " + std::string(operation) + " failed: " + r.error_type + " " + r.message);
  return std::move(r.body);
}

}  // namespace isvc::aws
