// `image-service provision` for the bucket: create it, then CORS, default encryption and the
// lifecycle rules of SPEC §7. Idempotent (every call is a PUT of the whole configuration), and a
// setting the endpoint does not implement is reported, not fatal (s3rver has no lifecycle API).
#include "aws/xml.h"
#include "base/crypto.h"
#include "base/encoding.h"
#include "domain/model/error.h"
#include "storage/s3_object_store.h"

namespace isvc::storage {

namespace {

std::string error_code(const aws::HttpResponse& r) {
  auto codes = aws::xml_texts(r.body, "Code");
  return codes.empty() ? "HTTP " + std::to_string(r.status) : codes[0];
}

bool not_implemented(const aws::HttpResponse& r) {
  auto code = error_code(r);
  return r.status == 501 || code == "NotImplemented" || code == "MethodNotAllowed";
}

}  // namespace

std::vector<std::string> S3ObjectStore::provision(const std::vector<std::string>& cors_origins) {
  std::vector<std::string> report;
  std::string bucket_path = s_.force_path_style ? "/" + s_.bucket : "/";
  auto config_put = [&](const char* what, const char* sub, const std::string& xml) {
    aws::AwsRequest r;
    r.action = std::string(sub) == "cors" ? "PutBucketCors" : "PutBucketEncryption";
    r.method = "PUT";
    r.path = bucket_path;
    r.query = {{sub, ""}};
    r.headers = {{"content-type", "application/xml"},
                 {"content-md5", base::base64_encode(base::md5(xml))}};
    r.body = xml;
    auto resp = send(r);
    std::string line = "s3 bucket " + s_.bucket + " " + what + ": ";
    if (resp.status == 200 || resp.status == 204)
      line += "set";
    else if (not_implemented(resp))
      line += "NOT SUPPORTED by this endpoint (" + error_code(resp) + ")";
    else
      line += "not set: " + aws::describe_error(resp);
    report.push_back(line);
  };

  aws::AwsRequest head;
  head.action = "HeadBucket";
  head.method = "HEAD";
  head.path = bucket_path;
  auto h = send(head);
  if (h.status == 200) {
    report.push_back("s3 bucket " + s_.bucket + ": exists");
  } else if (h.status == 404) {
    aws::AwsRequest create;
    create.action = "CreateBucket";
    create.method = "PUT";
    create.path = bucket_path;
    std::string body;
    if (s_.region != "us-east-1")
      body =
          "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
          "<LocationConstraint>" +
          aws::xml_escape(s_.region) +
          "</LocationConstraint>"
          "</CreateBucketConfiguration>";
    create.body = body;
    auto c = send(create);
    if (c.status != 200 && error_code(c) != "BucketAlreadyOwnedByYou")
      throw domain::Error(domain::ErrorCode::StorageFailed,
                          "creating bucket " + s_.bucket + " failed: " + aws::describe_error(c));
    report.push_back("s3 bucket " + s_.bucket + ": created");
  } else {
    throw domain::Error(domain::ErrorCode::StorageFailed,
                        "bucket " + s_.bucket + " is not usable: " + aws::describe_error(h));
  }

  std::string cors = "<CORSConfiguration><CORSRule>";
  for (const auto& o : cors_origins)
    cors += "<AllowedOrigin>" + aws::xml_escape(o) + "</AllowedOrigin>";
  cors +=
      "<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>"
      "<AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader>"
      "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds>"
      "</CORSRule></CORSConfiguration>";
  config_put("CORS (direct uploads from the allowed origins)", "cors", cors);

  config_put("default encryption (SSE-S3, AES256)", "encryption",
             "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
             "<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
             "</ServerSideEncryptionConfiguration>");

  config_put(
      "lifecycle (abort incomplete multipart uploads after 1 day, expire temp/ after 1 day, "
      "images/ to Intelligent-Tiering)",
      "lifecycle",
      "<LifecycleConfiguration>"
      "<Rule><ID>abort-incomplete-multipart</ID><Filter><Prefix></Prefix></Filter>"
      "<Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1"
      "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
      "<Rule><ID>expire-temp</ID><Filter><Prefix>temp/</Prefix></Filter><Status>Enabled</Status>"
      "<Expiration><Days>1</Days></Expiration></Rule>"
      "<Rule><ID>images-intelligent-tiering</ID><Filter><Prefix>images/</Prefix></Filter>"
      "<Status>Enabled</Status><Transition><Days>0</Days>"
      "<StorageClass>INTELLIGENT_TIERING</StorageClass></Transition></Rule>"
      "</LifecycleConfiguration>");
  return report;
}

}  // namespace isvc::storage
