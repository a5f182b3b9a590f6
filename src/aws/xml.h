// The little XML the AWS REST APIs need (S3 answers, CloudFront and S3 request bodies): the
// decoded text of an element, and escaping for text content. Not a general XML parser.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace isvc::aws {

// The decoded text of each <tag>…</tag> in `xml` (entities and numeric references decoded).
std::vector<std::string> xml_texts(std::string_view xml, std::string_view tag);
// `text` escaped for element content or a quoted attribute.
std::string xml_escape(std::string_view text);

}  // namespace isvc::aws
