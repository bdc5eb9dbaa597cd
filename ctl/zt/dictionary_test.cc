// Dictionary encode/decode: escapes of every byte value, integers and booleans, the
// limits, and hostile input (refused, never a crash). Seeds are printed.
#include "ctl/zt/dictionary.h"

#include <random>
#include <string>

#include "ctl/zt/limits.h"
#include "gtest/gtest.h"

namespace almanac::zt {
namespace {

TEST(DictionaryTest, EveryByteValueRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  Dictionary d;
  ASSERT_TRUE(d.Set("C", all).ok());
  ASSERT_TRUE(d.Set("n", "vectors-private").ok());
  const std::string encoded = d.Encode();
  EXPECT_EQ(encoded.size(), d.encoded_bytes());
  EXPECT_EQ(encoded.find('\0'), std::string::npos);
  EXPECT_EQ(std::count(encoded.begin(), encoded.end(), '\n'), 1);
  absl::StatusOr<Dictionary> back = Dictionary::Parse(encoded);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->Get("C"), std::optional<std::string_view>(all));
  EXPECT_EQ(back->Get("n"), std::optional<std::string_view>("vectors-private"));
  EXPECT_EQ(back->Encode(), encoded);
}

TEST(DictionaryTest, EscapesAreZeroTiers) {
  Dictionary d;
  ASSERT_TRUE(d.Set("k", std::string("a\0b\rc\nd\\e=f", 11)).ok());
  EXPECT_EQ(d.Encode(), "k=a\\0b\\rc\\nd\\\\e\\ef");
  absl::StatusOr<Dictionary> p = Dictionary::Parse("k=\\q\\e\r\nj=1\n\n");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Get("k"), std::optional<std::string_view>("q="));
  EXPECT_EQ(p->size(), 2u);
  // A raw NUL ends the dictionary, as in ZeroTier's C-string parser.
  p = Dictionary::Parse(std::string("a=1\nb=2\0c=3", 11));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->Get("c").has_value());
  EXPECT_TRUE(p->Get("b").has_value());
}

TEST(DictionaryTest, IntegersAndBooleans) {
  Dictionary d;
  ASSERT_TRUE(d.SetUint64("v", 7).ok());
  ASSERT_TRUE(d.SetUint64("nwid", 0x949cb95e9d7ceef9).ok());
  ASSERT_TRUE(d.SetBool("b", true).ok());
  EXPECT_EQ(d.Encode(), "v=0000000000000007\nnwid=949cb95e9d7ceef9\nb=1");
  EXPECT_EQ(*d.GetUint64("nwid"), 0x949cb95e9d7ceef9u);
  EXPECT_TRUE(*d.GetBool("b"));
  ASSERT_TRUE(d.SetUint64("v", 8).ok());  // Replace keeps the position.
  EXPECT_EQ(d.entries().front().second, "0000000000000008");
  EXPECT_EQ(d.size(), 3u);
  absl::StatusOr<Dictionary> p =
      Dictionary::Parse("a=c\nb=\nc=12345678901234567\nd=-1\ne=0x1\nf=AbC\ng=2");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->GetUint64("a"), 12u);
  EXPECT_EQ(*p->GetUint64("f"), 0xabcu);
  for (const char* key : {"b", "c", "d", "e"}) {
    EXPECT_EQ(p->GetUint64(key).status().code(), absl::StatusCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(p->GetUint64("zz").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(p->GetBool("g").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DictionaryTest, MalformedInputIsRefused) {
  for (const char* text : {"novalue", "=1", "a=1\na=2", "a=1\\", "k y=1", "a=1\nb"}) {
    EXPECT_EQ(Dictionary::Parse(text).status().code(), absl::StatusCode::kInvalidArgument)
        << text;
  }
  Dictionary d;
  EXPECT_FALSE(d.Set("", "x").ok());
  EXPECT_FALSE(d.Set("a=b", "x").ok());
  EXPECT_FALSE(d.Set("a\\", "x").ok());
  EXPECT_FALSE(d.Set("a\n", "x").ok());
  EXPECT_EQ(d.size(), 0u);
}

TEST(DictionaryTest, LimitsHold) {
  EXPECT_EQ(Dictionary::Parse(std::string(kDictionaryBytesMax + 1, 'a')).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Dictionary::Parse(std::string(kDictionaryKeyBytesMax + 1, 'k') + "=1")
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  std::string many;
  for (size_t i = 0; i <= kDictionaryKeysMax; ++i) many += "k" + std::to_string(i) + "=1\n";
  EXPECT_EQ(Dictionary::Parse(many).status().code(), absl::StatusCode::kResourceExhausted);

  Dictionary d;
  for (size_t i = 0; i < kDictionaryKeysMax; ++i) {
    ASSERT_TRUE(d.Set("k" + std::to_string(i), "1").ok());
  }
  EXPECT_EQ(d.Set("one-more", "1").code(), absl::StatusCode::kResourceExhausted);
  Dictionary big;
  // Escaped, '=' takes two bytes: half the limit of them overflows by the key.
  EXPECT_EQ(big.Set("x", std::string(kDictionaryBytesMax / 2, '=')).code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(big.Set("x", std::string(kDictionaryBytesMax / 2 - 2, '=')).ok());
  EXPECT_EQ(big.Encode().size(), big.encoded_bytes());
  EXPECT_LE(big.encoded_bytes(), kDictionaryBytesMax);
}

TEST(DictionaryTest, GarbageNeverCrashes) {
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  const char alphabet[] = "ab=\\\n\r\0e0nr";
  for (int i = 0; i < 5000; ++i) {
    std::string bytes(rng() % 80, '\0');
    for (char& c : bytes) {
      c = rng() % 3 ? alphabet[rng() % (sizeof(alphabet) - 1)] : static_cast<char>(rng());
    }
    absl::StatusOr<Dictionary> d = Dictionary::Parse(bytes);
    if (!d.ok()) continue;
    // Whatever parses re-encodes to something that parses to the same entries.
    absl::StatusOr<Dictionary> again = Dictionary::Parse(d->Encode());
    ASSERT_TRUE(again.ok()) << "seed " << seed;
    EXPECT_EQ(again->entries(), d->entries()) << "seed " << seed;
  }
}

}  // namespace
}  // namespace almanac::zt
