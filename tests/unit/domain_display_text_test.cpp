// Display text: invisible format characters stripped (bidi controls, zero-width spaces …) while
// what scripts and emoji need is kept; line separators treated as line breaks; the migration's
// normalisation of control characters in legacy text.
#include <gtest/gtest.h>

#include "domain/model/error.h"
#include "domain/validation.h"

namespace isvc::domain {
namespace {

bool refused(const std::string& field, const std::string& v, bool multiline = false) {
  try {
    validate_text(field, v, 255, multiline);
    return false;
  } catch (const Error& e) {
    EXPECT_EQ(e.details().at("field"), field);
    return true;
  }
}

TEST(StripInvisible, RemovesBidiControlsAndInvisibleSeparators) {
  // "photo\u202Egpj.exe" displays as "photoexe.jpg"; stripped, it reads as what it is.
  EXPECT_EQ(strip_invisible("photo\u202Egpj.exe"), "photogpj.exe");
  const char* invisible[] = {"\u061C", "\u200B", "\u200E",     "\u200F",     "\u202A",    "\u202B",
                             "\u202C", "\u202D", "\u202E",     "\u2060",     "\u2061",    "\u2062",
                             "\u2063", "\u2064", "\u2066",     "\u2067",     "\u2068",    "\u2069",
                             "\u206A", "\u206F", "\uFEFF",     "\uFFF9",     "\uFFFA",    "\uFFFB",
                             "\u180E", "\u00AD", "\U000E0001", "\U0001D173", "\U0001D17A"};
  for (const char* c : invisible)
    EXPECT_EQ(strip_invisible(std::string("a") + c + "b" + c), "ab") << c;
}

TEST(StripInvisible, KeepsJoinersVariationSelectorsAndFlagTags) {
  const std::string family = "\U0001F468\u200D\U0001F469\u200D\U0001F467";         // ZWJ sequence
  const std::string persian = "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645";  // ZWNJ
  const std::string scotland =
      "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F";  // tag sequence
  const std::string heart = "\u2764\uFE0F";  // variation selector
  for (const auto& s : {family, persian, scotland, heart, std::string("Château ✓ 漢字")})
    EXPECT_EQ(strip_invisible(s), s);
}

TEST(StripInvisible, LeavesInvalidUtf8AndControlsForValidation) {
  EXPECT_EQ(strip_invisible("bad\xC3"), "bad\xC3");
  EXPECT_EQ(strip_invisible("a\x01\u200B"), "a\x01");
  EXPECT_TRUE(refused("title", strip_invisible("bad\xC3")));
  EXPECT_TRUE(refused("title", strip_invisible("a\x07\u202E")));
}

TEST(ValidateText, LineSeparatorsAreLineBreaks) {
  EXPECT_TRUE(refused("title", "a\u2028b"));
  EXPECT_TRUE(refused("altText", "a\u2029b"));
  EXPECT_FALSE(refused("description", "a\u2028b\u2029c\nd", true));
  EXPECT_TRUE(refused("description", "a\x07", true));
}

TEST(Filename, LosesInvisibleCharacters) {
  EXPECT_EQ(sanitize_filename("photo\u202Egpj.exe"), "photogpj.exe");
  EXPECT_EQ(sanitize_filename("\u200B\u2066"), "upload");
  EXPECT_EQ(sanitize_filename("dir/\u200Fname\u2028.png"), "name.png");
}

TEST(CollapseControls, EachRunBecomesOneSpaceTrimmed) {
  EXPECT_EQ(collapse_controls("Title\nsecond line", false), "Title second line");
  EXPECT_EQ(collapse_controls("a\t\t\r\nb", false), "a b");
  EXPECT_EQ(collapse_controls("\tlead and trail\n", false), "lead and trail");
  EXPECT_EQ(collapse_controls("c1\xC2\x85x\x7Fy\u2028z", false), "c1 x y z");
  EXPECT_EQ(collapse_controls("\n\t", false), "");
  // Nothing to replace: the value is kept as it is, spaces included.
  EXPECT_EQ(collapse_controls("  as it was  ", false), "  as it was  ");
  EXPECT_EQ(collapse_controls("bad\xC3\n", false), "bad\xC3");
}

TEST(CollapseControls, DescriptionsKeepLineBreaksAndTabs) {
  EXPECT_EQ(collapse_controls("line 1\nline 2\r\n\tindented\u2028", true),
            "line 1\nline 2\r\n\tindented\u2028");
  EXPECT_EQ(collapse_controls("bell\x07\x07here\x01", true), "bell here ");
}

}  // namespace
}  // namespace isvc::domain
