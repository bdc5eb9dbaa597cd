#include "ctl/zt/wire_testing.h"

#include <cstring>

#include "base/testing.h"
#include "gtest/gtest.h"

namespace almanac::zt::testing {

std::string FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  if (hex.size() % 2 != 0) {
    ADD_FAILURE() << "odd hex length " << hex.size();
    return out;
  }
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      ADD_FAILURE() << "bad hex at " << i;
      return "";
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

nlohmann::json LoadVectorJson(const std::string& relative) {
  const std::string text =
      almanac::testing::ReadFileOrFail(almanac::testing::VectorsDir() + "/" + relative);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    ADD_FAILURE() << relative << " is not valid JSON";
    return nlohmann::json();
  }
  return j;
}

Key48 PairKey(const nlohmann::json& exchange, const std::string& a, const std::string& b) {
  Key48 key{};
  for (const auto& pair : exchange["pair_keys"]) {
    const std::string x = pair["addresses"][0];
    const std::string y = pair["addresses"][1];
    if ((x == a && y == b) || (x == b && y == a)) {
      const std::string bytes = FromHex(pair["key48_hex"].get<std::string>());
      if (bytes.size() != key.size()) break;
      std::memcpy(key.data(), bytes.data(), key.size());
      return key;
    }
  }
  ADD_FAILURE() << "no pair key for " << a << " and " << b;
  return key;
}

}  // namespace almanac::zt::testing
